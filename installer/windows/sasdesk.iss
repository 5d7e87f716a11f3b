; Inno Setup script: the Windows installer of the sasdesk desk.
; Built by installer/windows/build.ps1 after PyInstaller (installer/windows/sasdesk.spec):
;   iscc /DAppVersion=0.1.0 /DSourceDir=..\..\build\windows\dist\sasdesk sasdesk.iss
; Installs the one-folder build under Program Files, a Start-menu shortcut to the desk
; (sasdesk-desk.exe, no console) and, on request, one on the desktop. Uninstalling
; removes the program; each user's settings and journal (%LOCALAPPDATA%\sasdesk) stay.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z
#endif
#ifndef SourceDir
  #define SourceDir "..\..\build\windows\dist\sasdesk"
#endif

[Setup]
AppId={{8E3F2C1A-6B7D-4C52-9A1E-5D0B7F3A9C21}
AppName=sasdesk
AppVersion={#AppVersion}
AppPublisher=sasdesk
AppComments=Poste de régulation SAS/SAMU
DefaultDirName={autopf}\sasdesk
DefaultGroupName=sasdesk
DisableProgramGroupPage=yes
OutputDir=..\..\dist
OutputBaseFilename=sasdesk_{#AppVersion}_setup
SetupIconFile=sasdesk.ico
UninstallDisplayIcon={app}\sasdesk-desk.exe
Compression=lzma2/max
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequired=admin
WizardStyle=modern
LicenseFile=..\..\LICENSE

[Languages]
Name: "french"; MessagesFile: "compiler:Languages\French.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\sasdesk"; Filename: "{app}\sasdesk-desk.exe"; WorkingDir: "{app}"
Name: "{group}\{cm:UninstallProgram,sasdesk}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\sasdesk"; Filename: "{app}\sasdesk-desk.exe"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\sasdesk-desk.exe"; Description: "{cm:LaunchProgram,sasdesk}"; Flags: nowait postinstall skipifsilent
