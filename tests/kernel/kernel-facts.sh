#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# kernel-facts.sh SRC BUILD
#
# The oracle's facts of a Linux tree, for tests/test_import_linux.py: configure BUILD out of tree
# from SRC (which is never written to) with every erratum option on (every ARM64_ERRATUM_*,
# CAVIUM_*, QCOM_*, HISILICON_*, FUJITSU_*, NVIDIA_*, AMPERE_*, ROCKCHIP_* and
# ARM64_WORKAROUND_* option of arch/arm64/Kconfig, and the CoreSight TRBE driver the TRBE errata
# depend on, as tests/kernel/prepare-proof.sh does), prepare it, preprocess
# arch/arm64/kernel/cpu_errata.c, and write what tests/kernel/extract_errata.py reads from it to
# BUILD/errata-facts.json; and preprocess proton-pack.c and cpufeature.c, and write the
# speculation lists tests/kernel/extract_speculation.py reads from them to
# BUILD/speculation-facts.json.
#
# BUILD may instead be the errata-on build directory tests/kernel/prepare-proof.sh prepared from a
# hard-link copy of SRC (DEST/o-errata-on, with SRC its DEST/pristine): configured the same way,
# it is used as it is, which saves configuring and preparing a second one. Its facts are those of
# SRC only if the copy it builds from (BUILD/source) is SRC as extracted: the script stops if
# the copy's cpu_errata.c differs from SRC's or kernel tables are installed in it.
#
# Idempotent: each step runs only if its result is missing. make's output goes to
# BUILD/kernel-facts.log; its tail is printed on failure.
# Environment: ARCH (arm64), CROSS_COMPILE (aarch64-linux-gnu-), JOBS (nproc), PYTHON (python3).
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 SRC BUILD" >&2
	exit 2
fi
SRC=$(cd "$1" && pwd)
mkdir -p "$2"
BUILD=$(cd "$2" && pwd)
ARCH=${ARCH:-arm64}
CROSS_COMPILE=${CROSS_COMPILE:-aarch64-linux-gnu-}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
PYTHON=${PYTHON:-python3}
HERE=$(cd "$(dirname "$0")" && pwd)
LOG=$BUILD/kernel-facts.log
FACTS=$BUILD/errata-facts.json
SPECULATION=$BUILD/speculation-facts.json

step() { echo "kernel-facts: $*"; }

if ! command -v "${CROSS_COMPILE}gcc" >/dev/null 2>&1; then
	echo "kernel-facts: ${CROSS_COMPILE}gcc not found (apt-get install gcc-aarch64-linux-gnu)" >&2
	exit 1
fi
if [ ! -f "$SRC/arch/arm64/kernel/cpu_errata.c" ]; then
	echo "kernel-facts: $SRC is not a Linux tree with arch/arm64" >&2
	exit 1
fi

run_make() {
	echo "=== make O=$BUILD $* ($(date)) ===" >>"$LOG"
	if ! make -C "$MAKESRC" O="$BUILD" -j"$JOBS" ARCH="$ARCH" CROSS_COMPILE="$CROSS_COMPILE" \
		"$@" >>"$LOG" 2>&1; then
		echo "kernel-facts: make $* failed; last lines of $LOG:" >&2
		tail -n 40 "$LOG" >&2
		exit 1
	fi
}

# The tree make builds BUILD from: SRC, or the proof's copy of it.
MAKESRC=$SRC
if [ -f "$BUILD/.proof-ready" ]; then
	config=$(cat "$BUILD/.proof-config" 2>/dev/null || :)
	if [ "$config" != errata-on ]; then
		echo "kernel-facts: $BUILD is a prepare-proof.sh build directory, but of ${config:-an unknown}" \
			"configuration, not errata-on" >&2
		exit 1
	fi
	if ! MAKESRC=$(cd "$BUILD/source" 2>/dev/null && pwd -P); then
		echo "kernel-facts: $BUILD has no source link to the tree it was prepared from" >&2
		exit 1
	fi
	for f in Makefile arch/arm64/Kconfig arch/arm64/tools/cpucaps arch/arm64/kernel/cpu_errata.c \
		arch/arm64/kernel/proton-pack.c arch/arm64/kernel/cpufeature.c; do
		[ -e "$SRC/$f" ] || [ -e "$MAKESRC/$f" ] || continue # no tools/cpucaps before 6.3
		if ! cmp -s "$SRC/$f" "$MAKESRC/$f"; then
			echo "kernel-facts: $MAKESRC/$f, which $BUILD builds from, is not $SRC's: not a copy" \
				"of SRC, or a changed one (prepare-proof.sh puts the pristine cpu_errata.c back)" >&2
			exit 1
		fi
	done
	if [ -e "$MAKESRC/arch/arm64/kernel/cpu_errata_table.h" ]; then
		echo "kernel-facts: $MAKESRC has kernel tables installed (prepare-proof.sh removes them)" >&2
		exit 1
	fi
	step "using $BUILD, prepared by prepare-proof.sh from $MAKESRC"
elif [ ! -f "$BUILD/.facts-configured" ]; then
	OPTIONS=$(sed -n -E 's/^config ((ARM64_ERRATUM|CAVIUM|QCOM|HISILICON|FUJITSU|NVIDIA|AMPERE|ROCKCHIP|ARM64_WORKAROUND)_[A-Za-z0-9_]+)$/\1/p' \
		"$SRC/arch/arm64/Kconfig")
	step "configuring $BUILD with every erratum option on"
	run_make defconfig
	for o in $OPTIONS CORESIGHT CORESIGHT_SOURCE_ETM4X CORESIGHT_TRBE; do
		"$SRC/scripts/config" --file "$BUILD/.config" --enable "$o"
	done
	run_make olddefconfig
	touch "$BUILD/.facts-configured"
fi

I=arch/arm64/kernel/cpu_errata.i
if [ ! -f "$BUILD/$I" ]; then
	step "preparing and preprocessing cpu_errata.c"
	run_make prepare
	run_make "$I"
fi
# The speculation lists' files, for tests/test_speculation_linux.py (a few seconds: the build is
# prepared by now).
PP=arch/arm64/kernel/proton-pack.i
CF=arch/arm64/kernel/cpufeature.i
if [ ! -f "$BUILD/$PP" ] || [ ! -f "$BUILD/$CF" ]; then
	step "preprocessing proton-pack.c and cpufeature.c"
	run_make "$PP" "$CF"
fi

# The cpucap numbers the build generated (cpucaps.h before Linux 6.3).
CAPS=$BUILD/arch/arm64/include/generated/asm/cpucap-defs.h
[ -f "$CAPS" ] || CAPS=$BUILD/arch/arm64/include/generated/asm/cpucaps.h
[ -f "$CAPS" ] || CAPS=$SRC/arch/arm64/include/asm/cpucaps.h
if [ ! -s "$FACTS" ]; then
	"$PYTHON" "$HERE/extract_errata.py" "$BUILD/$I" "$CAPS" >"$FACTS.tmp"
	mv "$FACTS.tmp" "$FACTS"
fi
if [ ! -s "$SPECULATION" ]; then
	"$PYTHON" "$HERE/extract_speculation.py" "$BUILD/$PP" "$BUILD/$CF" >"$SPECULATION.tmp"
	mv "$SPECULATION.tmp" "$SPECULATION"
fi
step "ready: $FACTS, $SPECULATION"
