#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# prepare-proof.sh DEST [TARBALL]
#
# Prepare what tests/test_kernel_tables_linux.py (ERRATA_DB_LINUX_PROOF_73=DEST, Linux 7.3) and
# tests/test_import_proof_linux.py (ERRATA_DB_LINUX_PROOF_61, ERRATA_DB_LINUX_PROOF for 6.12,
# ERRATA_DB_LINUX_PROOF_73) build with:
#
#   DEST/pristine   the Linux tree of TARBALL (default Debian's 6.12; /usr/src/linux-source-6.1.tar.xz
#                   is 6.1's, tests/kernel/fetch-linux-7.3.sh gives 7.3's) as extracted, never
#                   written to
#   DEST/src        a hard-link copy of it, where the test installs the kernel tables (writes
#                   are renames, so the pristine files are never changed) and puts them back
#   DEST/o-NAME     one out-of-tree build directory per configuration, prepared from DEST/src:
#                   defconfig; errata-on (every erratum option of arch/arm64/Kconfig, and the
#                   CoreSight TRBE driver the TRBE errata depend on); errata-off (none of them,
#                   nor ARCH_MXC, which selects two); DEST/o-NAME/.proof-config says NAME, and
#                   tests/kernel/kernel-facts.sh SRC DEST/o-errata-on takes its facts from that build
#
# The erratum options olddefconfig leaves off in errata-on (their dependencies cannot be met: 6.1
# and 6.12 mark ARM64_SME, which ARM64_ERRATUM_4193714 depends on, BROKEN) are printed and listed in
# DEST/o-errata-on/.proof-off; those it leaves on in errata-off (selected by an option left on)
# are printed.
#
# CONFIGS (default "defconfig errata-on errata-off") names the configurations to prepare: a tree
# whose only use is import's proof (tests/test_import_proof_linux.py builds errata-on alone, as
# for Linux 6.1) needs only CONFIGS=errata-on.
#
# Idempotent: each step runs only if its result is missing (a build directory prepared before
# .proof-off existed gets it from its .config); DEST/src gets its pristine cpu_errata.c back, and
# loses what a test that stopped half way left there (the kernel tables, the headers and test
# sources tests/test_kernel_tables_linux.py builds in arch/arm64/kvm). make's output goes to
# DEST/prepare-proof.log; its tail is printed on failure. Environment: ARCH (arm64), CROSS_COMPILE
# (aarch64-linux-gnu-), JOBS (nproc), CONFIGS.
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
CONFIGS=${CONFIGS:-defconfig errata-on errata-off}
KERNEL=arch/arm64/kernel
for NAME in $CONFIGS; do
	case $NAME in
	defconfig | errata-on | errata-off) ;;
	*)
		echo "prepare-proof: CONFIGS: unknown configuration '$NAME' (defconfig, errata-on, errata-off)" >&2
		exit 2 ;;
	esac
done

now() { date +%s; }
T0=$(now)
step() { echo "prepare-proof: $*"; }

if ! command -v "${CROSS_COMPILE}gcc" >/dev/null 2>&1; then
	echo "prepare-proof: ${CROSS_COMPILE}gcc not found (apt-get install gcc-aarch64-linux-gnu)" >&2
	exit 1
fi
mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)
LOG=$DEST/prepare-proof.log

if [ ! -f "$DEST/pristine/Makefile" ]; then
	if [ ! -f "$TARBALL" ]; then
		echo "prepare-proof: $TARBALL not found (apt-get install linux-source-6.12, or" \
			"tests/kernel/fetch-linux-7.3.sh DIR for DIR/linux-source-7.3.tar.xz)" >&2
		exit 1
	fi
	rm -rf "$DEST/pristine" "$DEST/src"
	TMP=$(mktemp -d "$DEST/extract.XXXXXX")
	trap 'rm -rf "$TMP"' EXIT
	T=$(now)
	step "extracting $TARBALL"
	tar -xf "$TARBALL" -C "$TMP" --strip-components=1
	mv "$TMP" "$DEST/pristine"
	trap - EXIT
	step "extracted in $(( $(now) - T ))s"
fi
if [ ! -f "$DEST/src/Makefile" ]; then
	T=$(now)
	rm -rf "$DEST/src" "$DEST/src.tmp"
	cp -al "$DEST/pristine" "$DEST/src.tmp"
	mv "$DEST/src.tmp" "$DEST/src"
	step "hard-linked $DEST/src in $(( $(now) - T ))s"
fi
# A test that stopped half way may have left the kernel tables installed, or the headers it builds.
rm -f "$DEST/src/$KERNEL/cpu_errata_table.h" "$DEST/src/arch/arm64/include/asm/migrn_errata.h" \
	"$DEST"/src/arch/arm64/kvm/migrn_errata* "$DEST"/src/arch/arm64/kvm/.migrn_errata*
if ! cmp -s "$DEST/pristine/$KERNEL/cpu_errata.c" "$DEST/src/$KERNEL/cpu_errata.c"; then
	rm -f "$DEST/src/$KERNEL/cpu_errata.c"
	ln "$DEST/pristine/$KERNEL/cpu_errata.c" "$DEST/src/$KERNEL/cpu_errata.c"
fi

run_make() {
	out=$1
	shift
	echo "=== make O=$out $* ($(date)) ===" >>"$LOG"
	if ! make -C "$DEST/src" O="$out" -j"$JOBS" ARCH="$ARCH" CROSS_COMPILE="$CROSS_COMPILE" \
		"$@" >>"$LOG" 2>&1; then
		echo "prepare-proof: make O=$out $* failed; last lines of $LOG:" >&2
		tail -n 40 "$LOG" >&2
		exit 1
	fi
}

OPTIONS=$(sed -n -E 's/^config ((ARM64_ERRATUM|CAVIUM|QCOM|HISILICON|FUJITSU|NVIDIA|AMPERE|ROCKCHIP|ARM64_WORKAROUND)_[A-Za-z0-9_]+)$/\1/p' \
	"$DEST/pristine/arch/arm64/Kconfig")

list_off() { # the options of $OPTIONS (and CoreSight) that errata-on's .config leaves off
	: >"$1/.proof-off.tmp"
	for o in $OPTIONS CORESIGHT CORESIGHT_SOURCE_ETM4X CORESIGHT_TRBE; do
		grep -q "^CONFIG_$o=y\$" "$1/.config" || echo "$o" >>"$1/.proof-off.tmp"
	done
	mv "$1/.proof-off.tmp" "$1/.proof-off"
}

for NAME in $CONFIGS; do
	OUT=$DEST/o-$NAME
	if [ -f "$OUT/.proof-ready" ]; then
		[ -f "$OUT/.proof-config" ] || echo "$NAME" >"$OUT/.proof-config"
		if [ "$NAME" = errata-on ] && [ ! -f "$OUT/.proof-off" ]; then
			list_off "$OUT"
		fi
		step "$OUT is prepared"
		continue
	fi
	T=$(now)
	rm -rf "$OUT"
	mkdir -p "$OUT"
	run_make "$OUT" defconfig
	case $NAME in
	errata-on)
		for o in $OPTIONS CORESIGHT CORESIGHT_SOURCE_ETM4X CORESIGHT_TRBE; do
			"$DEST/src/scripts/config" --file "$OUT/.config" --enable "$o"
		done
		run_make "$OUT" olddefconfig
		list_off "$OUT"
		if [ -s "$OUT/.proof-off" ]; then
			step "errata-on: olddefconfig left off:" $(cat "$OUT/.proof-off")
		fi ;;
	errata-off)
		for o in $OPTIONS ARCH_MXC; do
			"$DEST/src/scripts/config" --file "$OUT/.config" --disable "$o"
		done
		run_make "$OUT" olddefconfig
		on=$(for o in $OPTIONS; do grep "^CONFIG_$o=" "$OUT/.config" || :; done)
		if [ -n "$on" ]; then
			step "errata-off: olddefconfig left on:" $on
		fi ;;
	esac
	run_make "$OUT" prepare
	echo "$OPTIONS" >"$OUT/.proof-options"
	echo "$NAME" >"$OUT/.proof-config"
	touch "$OUT/.proof-ready"
	step "$OUT prepared in $(( $(now) - T ))s"
done

step "ready: $DEST (total $(( $(now) - T0 ))s)"
echo "prepare-proof: export ERRATA_DB_LINUX_PROOF=$DEST"
