#!/usr/bin/env bash
# Installs the build into a scratch prefix and checks what lands there: the binary runs; the man page renders
# without groff warnings and names every flag --help names; the systemd user units start the installed binary
# through the sockets of their socket unit.
#   tests/install/install_test.sh BUILD_DIR BINDIR MANDIR
set -euo pipefail
build=$1 bindir=$2 mandir=$3
prefix=$(mktemp -d /tmp/vznet-install.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
fail() { echo "install_test: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null
vznet=$prefix/$bindir/vznet
"$vznet" --version | grep -q '^vznet ' || fail "$vznet --version"

man_page=$prefix/$mandir/man1/vznet.1
[ -f "$man_page" ] || fail "no man page at $man_page"
warnings=$(groff -man -ww -z "$man_page" 2>&1)
[ -z "$warnings" ] || fail "groff warns about vznet.1: $warnings"
rendered=$(MANWIDTH=200 man -l "$man_page" 2>/dev/null)
for flag in $("$vznet" --help | grep -oE '^ +(-[a-z],)?--[a-z-]+' | sed -E 's/^ +(-[a-z],)?//'); do
  grep -qF -- "$flag" <<<"$rendered" || fail "the man page does not mention $flag"
done
grep -q 'EXAMPLES' <<<"$rendered" || fail "the man page has no examples"

units=$prefix/lib/systemd/user
[ -f "$units/vznet@.socket" ] || fail "no vznet@.socket"
grep -qx "ExecStart=$vznet --api %t/vznet/%i-api.sock" "$units/vznet@.service" ||
  fail "vznet@.service does not start $vznet: $(grep ExecStart= "$units/vznet@.service")"
grep -q '^Requires=vznet@%i.socket$' "$units/vznet@.service" || fail "vznet@.service does not require its socket"
grep -q '^ListenStream=%t/vznet/%i.sock$' "$units/vznet@.socket" || fail "vznet@.socket has no stream socket"
grep -q '^ListenDatagram=%t/vznet/%i-dgram.sock$' "$units/vznet@.socket" || fail "vznet@.socket has no datagram socket"
echo "install_test: binary, man page ($(wc -l <"$man_page") lines) and systemd units in place"
