#!/bin/sh
# Install the real peers the telephony tests and `sasdesk bench sip` drive:
# Kamailio (registrar/proxy), SIPp (callers, Debian package sip-tester) and
# PortAudio (the desk's headset; the line falls back to a null device without it).
# Idempotent: runs apt-get only when something is missing.
set -eu

missing=""
need() {
    # $1: package, $2: a file or command proving it is installed
    if [ -e "$2" ] || command -v "$2" >/dev/null 2>&1; then
        return 0
    fi
    missing="$missing $1"
}

need kamailio /usr/sbin/kamailio
need sip-tester sipp
need libportaudio2 /usr/lib/x86_64-linux-gnu/libportaudio.so.2
# SIP over TLS to the proxy (tests/telephony/test_sip_tls.py): Kamailio's tls module
need kamailio-tls-modules /usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so
# htable, auth, registrar, usrloc, tm, rr... ship in the main package; the extra
# modules are only needed on distributions that split them out.
if [ -e /usr/sbin/kamailio ] && ! ls /usr/lib/*/kamailio/modules/htable.so >/dev/null 2>&1; then
    missing="$missing kamailio-extra-modules"
fi

if [ -z "$missing" ]; then
    echo "install-peers: kamailio (+tls), sipp, libportaudio2 already installed"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
echo "install-peers: installing$missing"
$SUDO apt-get update
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $missing
# The Debian package enables a system-wide kamailio service; the tests start their
# own instance on random loopback ports, the service is not needed.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now kamailio >/dev/null 2>&1 || true
fi
