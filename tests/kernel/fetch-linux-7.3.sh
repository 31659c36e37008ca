#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# fetch-linux-7.3.sh DIR
#
# Put Debian's Linux 7.3 source tarball at DIR/linux-source-7.3.tar.xz, for
# tests/kernel/prepare-proof.sh DEST DIR/linux-source-7.3.tar.xz.
#
# A bookworm machine's apt sources do not have linux-source-7.3; Debian's
# trixie-backports suite does. Nothing from that suite is installed and the
# machine's apt state is left as it is: apt reads a private sources file with
# the one trixie-backports line and keeps its lists and caches under
# DIR/fetch.tmp; `apt-get download` fetches the .deb and `dpkg-deb -x`
# unpacks it there; the tarball is then moved to DIR and DIR/fetch.tmp removed.
# Root is not needed (as root, apt downloads as its _apt user).
#
# Idempotent: does nothing if DIR/linux-source-7.3.tar.xz exists. Prints the
# tarball's path on its last line. apt's output goes to DIR/fetch-linux-7.3.log;
# its tail is printed on failure.
# Environment: MIRROR (http://deb.debian.org/debian), SUITE (trixie-backports).
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
PACKAGE=linux-source-7.3
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SUITE=${SUITE:-trixie-backports}

now() { date +%s; }
T0=$(now)
step() { echo "fetch-linux-7.3: $*"; }
fail() {
	echo "fetch-linux-7.3: $*" >&2
	exit 1
}

mkdir -p "$1"
DIR=$(cd "$1" && pwd)
TARBALL=$DIR/$PACKAGE.tar.xz
if [ -f "$TARBALL" ]; then
	step "$TARBALL exists, not fetching"
	echo "$TARBALL"
	exit 0
fi
for tool in apt-get dpkg-deb; do
	command -v "$tool" >/dev/null 2>&1 || fail "$tool not found (a Debian machine is needed)"
done

LOG=$DIR/fetch-linux-7.3.log
WORK=$DIR/fetch.tmp
rm -rf "$WORK"
mkdir -p "$WORK/lists/partial" "$WORK/cache/archives/partial" "$WORK/deb"
trap 'rm -rf "$WORK"' EXIT
echo "deb $MIRROR $SUITE main" >"$WORK/sources.list"
# As root, apt drops to its _apt user to download, which must be able to write there.
if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
	chown _apt "$WORK/lists/partial" "$WORK/cache/archives/partial" "$WORK/deb"
fi
# The machine's own apt.conf.d still applies (proxies, the keyring), but not its hooks
# after an update, which expect the machine's lists.
cat >"$WORK/apt.conf" <<'EOF'
#clear APT::Update::Pre-Invoke;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
EOF

apt() {
	# apt COMMAND...: apt-get with the private sources, lists and caches.
	echo "=== apt-get $* ($(date)) ===" >>"$LOG"
	if ! apt-get -q -c "$WORK/apt.conf" \
		-o Dir::Etc::sourcelist="$WORK/sources.list" -o Dir::Etc::sourceparts=- \
		-o Dir::State::Lists="$WORK/lists" -o Dir::Cache="$WORK/cache" \
		-o Acquire::Languages=none "$@" >>"$LOG" 2>&1; then
		echo "fetch-linux-7.3: apt-get $* failed; last lines of $LOG:" >&2
		tail -n 20 "$LOG" >&2
		exit 1
	fi
}

T=$(now)
step "reading $SUITE's package list from $MIRROR (private apt lists)"
apt update
# apt-get update only warns about a suite it could not read; download then finds nothing.
if ! ls "$WORK/lists/" | grep -Eq "_dists_${SUITE}_(In)?Release\$"; then
	echo "fetch-linux-7.3: no package list of $SUITE from $MIRROR (unreachable, or not signed by a key of" >&2
	echo "fetch-linux-7.3: /usr/share/keyrings/debian-archive-keyring.gpg?); last lines of $LOG:" >&2
	tail -n 20 "$LOG" >&2
	exit 1
fi
step "downloading $PACKAGE"
(cd "$WORK/deb" && apt download "$PACKAGE")
set -- "$WORK"/deb/"${PACKAGE}"_*.deb
[ -f "$1" ] || fail "apt-get download $PACKAGE left no .deb in $WORK/deb"
DEB=$1
step "got $(basename "$DEB") ($(du -m "$DEB" | cut -f1) MB) in $(( $(now) - T ))s"

T=$(now)
dpkg-deb -x "$DEB" "$WORK/root"
[ -f "$WORK/root/usr/src/$PACKAGE.tar.xz" ] || fail "$(basename "$DEB") has no /usr/src/$PACKAGE.tar.xz"
mv "$WORK/root/usr/src/$PACKAGE.tar.xz" "$TARBALL"
step "unpacked in $(( $(now) - T ))s (total $(( $(now) - T0 ))s)"
echo "$TARBALL"
