#!/bin/sh
# Build the Debian package dist/sasdesk_<version>_amd64.deb: a self-contained
# PyInstaller one-folder build of sasdesk (desk and hub) under /opt/sasdesk, the
# /usr/bin/sasdesk command, a desktop entry, the sasdesk-hub systemd unit, the
# configuration in /etc/sasdesk and the maintainer scripts (installer/debian/).
#
#   installer/build-linux.sh
#
# Needs Python 3.11 (PYTHON, default python3), dpkg-deb and dpkg-shlibdeps (dpkg-dev)
# and PortAudio (libportaudio2, bundled into the build): scripts/setup.sh --test
# installs them. The build has its own virtual environment in build/linux/venv, made
# from pyproject.toml (runtime, postgres and build extras), so nothing from a
# developer's .venv leaks in.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD="$ROOT/build/linux"
PYTHON="${PYTHON:-python3}"

for tool in dpkg-deb dpkg-shlibdeps; do
    command -v "$tool" >/dev/null || {
        echo "build-linux: $tool manquant (paquet dpkg-dev) : sh scripts/setup.sh --test" >&2
        exit 1
    }
done

VERSION=$("$PYTHON" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
DEB="$ROOT/dist/sasdesk_${VERSION}_amd64.deb"
echo "build-linux: sasdesk $VERSION"

# 1. The build environment.
if [ ! -x "$BUILD/venv/bin/python" ]; then
    "$PYTHON" -m venv "$BUILD/venv"
fi
"$BUILD/venv/bin/python" -m pip install -q --upgrade pip
"$BUILD/venv/bin/python" -m pip install -q ".[postgres,build]"

# 2. The frozen program (one folder).
"$BUILD/venv/bin/pyinstaller" --noconfirm --log-level WARN \
    --distpath "$BUILD/dist" --workpath "$BUILD/work" installer/linux/sasdesk.spec

# 3. The package tree.
PKG="$BUILD/pkgroot"
rm -rf "$PKG"
install -d "$PKG/DEBIAN" "$PKG/opt" "$PKG/usr/bin" "$PKG/usr/share/applications" \
    "$PKG/usr/share/icons/hicolor/scalable/apps" "$PKG/usr/share/icons/hicolor/256x256/apps" \
    "$PKG/usr/share/doc/sasdesk" "$PKG/lib/systemd/system" "$PKG/etc/sasdesk"
cp -a "$BUILD/dist/sasdesk" "$PKG/opt/sasdesk"
ln -s /opt/sasdesk/sasdesk "$PKG/usr/bin/sasdesk"
install -m 0644 installer/debian/sasdesk.desktop "$PKG/usr/share/applications/"
install -m 0644 resources/icons/sasdesk.svg "$PKG/usr/share/icons/hicolor/scalable/apps/"
install -m 0644 resources/icons/sasdesk.png "$PKG/usr/share/icons/hicolor/256x256/apps/"
install -m 0644 installer/debian/sasdesk-hub.service "$PKG/lib/systemd/system/"
# The configuration: the documented example of the hub's file, installed as a conffile
# (an administrator's edits survive upgrades).
install -m 0640 resources/hub.toml.example "$PKG/etc/sasdesk/hub.toml"
install -m 0644 installer/debian/copyright "$PKG/usr/share/doc/sasdesk/copyright"
for doc in README.md docs/deploy.md; do
    [ -f "$doc" ] && install -m 0644 "$doc" "$PKG/usr/share/doc/sasdesk/"
done
for script in postinst prerm postrm; do
    install -m 0755 "installer/debian/$script" "$PKG/DEBIAN/$script"
done
install -m 0644 installer/debian/templates "$PKG/DEBIAN/templates"
echo /etc/sasdesk/hub.toml >"$PKG/DEBIAN/conffiles"

# 4. Depends: the system libraries the bundle links to and does not carry (libc,
# OpenGL/EGL, fontconfig...), computed by dpkg-shlibdeps over every ELF file in it;
# then what the maintainer scripts use.
SHLIB="$BUILD/shlibdeps"
rm -rf "$SHLIB"
install -d "$SHLIB/debian"
printf 'Source: sasdesk\n\nPackage: sasdesk\nArchitecture: amd64\n' >"$SHLIB/debian/control"
"$BUILD/venv/bin/python" - "$PKG/opt/sasdesk" >"$SHLIB/elf-files" <<'EOF'
import sys
from pathlib import Path

for path in sorted(Path(sys.argv[1]).rglob("*")):
    if path.is_file() and not path.is_symlink():
        with path.open("rb") as f:
            if f.read(4) == b"\x7fELF":
                print(path)
EOF
(
    cd "$SHLIB"
    # Libraries the bundle carries resolve inside it (-l: every directory holding one).
    libdirs=$(xargs -n1 dirname <elf-files | sort -u | sed 's/^/-l/')
    # shellcheck disable=SC2046,SC2086
    dpkg-shlibdeps -O --ignore-missing-info $libdirs $(cat elf-files) 2>warnings |
        sed -n 's/^shlibs:Depends=//p' >depends
)
DEPENDS="$(cat "$SHLIB/depends"), adduser, debconf (>= 0.5) | debconf-2.0, fonts-dejavu-core"
INSTALLED_SIZE=$(du -sk --exclude=DEBIAN "$PKG" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@INSTALLED_SIZE@/$INSTALLED_SIZE/" \
    -e "s/@DEPENDS@/$DEPENDS/" installer/debian/control.in >"$PKG/DEBIAN/control"

# 5. The package.
install -d "$ROOT/dist"
# zstd -9: measured here 19 s and 104 MiB for a 265 MiB tree (xz -6: over 4 min; zstd
# -19: 7.6 min for 94 MiB), on a loaded 2-core machine. dpkg >= 1.21.18 (Debian 12).
dpkg-deb --root-owner-group -Zzstd -z9 --build "$PKG" "$DEB" >/dev/null
echo "build-linux: $DEB ($(du -k "$DEB" | cut -f1) KiB, installé $INSTALLED_SIZE KiB)"
