# Build the Windows installer of sasdesk on a Windows build machine:
#   powershell -ExecutionPolicy Bypass -File installer\windows\build.ps1
# Needs Python 3.11 (py launcher) and Inno Setup 6 (ISCC.exe on PATH or in its default
# folder). Output: dist\sasdesk_<version>_setup.exe. The same shared list
# (installer\bundle.py) drives this build and the Linux one.
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")
$Root = Get-Location
$Build = Join-Path $Root "build\windows"

$Version = (py -3.11 -c "import tomllib; print(tomllib.load(open('pyproject.toml', 'rb'))['project']['version'])").Trim()
Write-Host "build-windows: sasdesk $Version"

if (-not (Test-Path "$Build\venv\Scripts\python.exe")) {
    py -3.11 -m venv "$Build\venv"
}
& "$Build\venv\Scripts\python.exe" -m pip install -q --upgrade pip
& "$Build\venv\Scripts\python.exe" -m pip install -q ".[postgres,build]"
if ($LASTEXITCODE -ne 0) { throw "pip install failed" }

& "$Build\venv\Scripts\pyinstaller.exe" --noconfirm --log-level WARN `
    --distpath "$Build\dist" --workpath "$Build\work" installer\windows\sasdesk.spec
if ($LASTEXITCODE -ne 0) { throw "pyinstaller failed" }

# Smoke test of the frozen program before packing it.
& "$Build\dist\sasdesk\sasdesk.exe" --version
if ($LASTEXITCODE -ne 0) { throw "sasdesk.exe --version failed" }

$Iscc = (Get-Command iscc.exe -ErrorAction SilentlyContinue).Source
if (-not $Iscc) { $Iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
& $Iscc /Qp "/DAppVersion=$Version" "/DSourceDir=$Build\dist\sasdesk" installer\windows\sasdesk.iss
if ($LASTEXITCODE -ne 0) { throw "Inno Setup failed" }
Write-Host "build-windows: dist\sasdesk_${Version}_setup.exe"
