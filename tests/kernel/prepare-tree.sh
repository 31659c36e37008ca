#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# prepare-tree.sh DEST [TARBALL]
#
# Make DEST a prepared Linux 6.12 arm64 tree (defconfig + `make prepare`),
# ready for tests/test_kernel_tree.py (ERRATA_DB_LINUX_TREE=DEST).
#
# Idempotent: the tarball (default /usr/src/linux-source-6.12.tar.xz, from
# Debian's linux-source-6.12 package) is extracted only if DEST/Makefile is
# missing; defconfig only if DEST/.config is missing; `make prepare` only if
# its outputs are missing.  make's output goes to DEST/prepare-tree.log; its
# tail is printed on failure.
#
# Environment: ARCH (arm64), CROSS_COMPILE (aarch64-linux-gnu-), JOBS (nproc).
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 DEST [TARBALL]" >&2
	exit 2
fi
DEST=$1
TARBALL=${2:-/usr/src/linux-source-6.12.tar.xz}
ARCH=${ARCH:-arm64}
CROSS_COMPILE=${CROSS_COMPILE:-aarch64-linux-gnu-}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

now() { date +%s; }
T0=$(now)
step() { echo "prepare-tree: $*"; }
elapsed() { echo "$(( $(now) - $1 ))s"; }

if ! command -v "${CROSS_COMPILE}gcc" >/dev/null 2>&1; then
	echo "prepare-tree: ${CROSS_COMPILE}gcc not found (apt-get install gcc-aarch64-linux-gnu)" >&2
	exit 1
fi

if [ -f "$DEST/Makefile" ]; then
	DEST=$(cd "$DEST" && pwd)
	step "$DEST/Makefile exists, not extracting"
else
	if [ -d "$DEST" ] && [ -n "$(ls -A "$DEST")" ]; then
		echo "prepare-tree: $DEST is neither empty nor a kernel tree; not extracting into it" >&2
		exit 1
	fi
	if [ ! -f "$TARBALL" ]; then
		echo "prepare-tree: $TARBALL not found (apt-get install linux-source-6.12)" >&2
		exit 1
	fi
	mkdir -p "$DEST"
	DEST=$(cd "$DEST" && pwd)
	# Extract beside DEST and move it in place: an interrupted run leaves no half tree.
	TMP=$(mktemp -d "$DEST.extract.XXXXXX")
	chmod 755 "$TMP"
	trap 'rm -rf "$TMP"' EXIT
	T=$(now)
	step "extracting $TARBALL into $DEST"
	tar -xf "$TARBALL" -C "$TMP" --strip-components=1
	rmdir "$DEST"
	mv "$TMP" "$DEST"
	trap - EXIT
	step "extracted in $(elapsed "$T")"
fi
LOG=$DEST/prepare-tree.log

run_make() {
	# run_make WHAT TARGET...: quiet make with output to the log.
	what=$1
	shift
	T=$(now)
	echo "=== make $* ($(date)) ===" >>"$LOG"
	if make -C "$DEST" -j"$JOBS" ARCH="$ARCH" CROSS_COMPILE="$CROSS_COMPILE" \
		"$@" >>"$LOG" 2>&1; then
		step "$what done in $(elapsed "$T")"
	else
		rc=$?
		echo "prepare-tree: make $* failed (exit $rc); last lines of $LOG:" >&2
		tail -n 40 "$LOG" >&2
		exit "$rc"
	fi
}

if [ -f "$DEST/.config" ] && grep -q '^CONFIG_ARM64=y' "$DEST/.config"; then
	step "$DEST/.config (arm64) exists, keeping it"
else
	run_make defconfig defconfig
fi

# `make prepare` is itself incremental, but skip it outright when its last
# outputs are in place and newer than .config.
STAMP=$DEST/include/generated/asm-offsets.h
if [ -f "$STAMP" ] && [ -f "$DEST/arch/arm64/include/generated/asm/cpucap-defs.h" ] &&
	[ -f "$DEST/include/config/auto.conf" ] &&
	[ ! "$DEST/.config" -nt "$STAMP" ]; then
	step "tree already prepared"
else
	run_make prepare prepare
fi

step "ready: $DEST (total $(elapsed "$T0"))"
echo "prepare-tree: export ERRATA_DB_LINUX_TREE=$DEST"
