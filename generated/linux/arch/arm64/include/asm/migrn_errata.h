/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Migration-safe errata bits: the guest's view of ARM_SMCCC_VENDOR_HYP_KVM_MIGRN_ERRATA.
 *
 * Generated from errata-db/ by errata-db, do not edit.
 *
 * KVM returns a bitmap of the errata of every CPU the VM may run on in
 * R0, R1, R2, R3: bit n is bit (n % 64) of register n / 64.
 * A bit, once given, never changes meaning, and a retired bit is never
 * given again.
 *
 * Call the hypercall only when KVM advertises it in the vendor hypervisor
 * service's feature bitmap: a hypervisor without it returns
 * SMCCC_RET_NOT_SUPPORTED (-1) in R0, which would read as bits 0-63 set.
 */
#ifndef __ASM_MIGRN_ERRATA_H
#define __ASM_MIGRN_ERRATA_H

#include <linux/bits.h>

#define MIGRN_SAFE_CAP_REG_BITS	64

/* The result register (0 for R0) that holds a bit, and the bit's mask in it. */
#define MIGRN_SAFE_CAP_REG(bit)		((bit) / MIGRN_SAFE_CAP_REG_BITS)
#define MIGRN_SAFE_CAP_REG_MASK(bit)	BIT_ULL((bit) % MIGRN_SAFE_CAP_REG_BITS)

/*
 * ARM errata 826319, 827319, 824069, 819472: Cortex-A53 cache clean and
 * store-exclusive problems; trap EL0 cache maintenance and upgrade clean to
 * clean and invalidate.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_CLEAN_CACHE			0
/*
 * ARM erratum 832075: Cortex-A57 may deadlock when exclusive accesses mix with
 * device loads; promote device loads to load-acquire.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_DEVICE_LOAD_ACQUIRE		1
/*
 * ARM erratum 834220: Cortex-A57 may report a Stage 2 fault instead of the
 * Stage 1 fault it should take.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_834220			2
/*
 * ARM erratum 843419: Cortex-A53 load or store after an ADRP at certain page
 * offsets may use a wrong address.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_843419			3
/*
 * ARM erratum 845719: Cortex-A53 AArch32 EL0 load may return stale data after
 * an EL1 load to an alias address.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_845719			4
/*
 * Cavium errata 23154, 38545: GICv3 CPU interface lacks synchronisation around
 * IAR reads and may present released interrupts; add barriers.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_CAVIUM_23154			5
/*
 * Cavium erratum 27456: Broadcast TLBI may corrupt the instruction cache for a
 * non-current ASID; invalidate the icache on context switch.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_CAVIUM_27456			6
/*
 * Cavium erratum 30115: A KVM guest may disable interrupts in the host; trap
 * guest GICv3 group 0 and group 1 accesses.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_CAVIUM_30115			7
/*
 * Qualcomm Tech. erratum E1003: Changing ASID and BADDR together in TTBRx_EL1
 * may cache a wrong ASID in the walk cache.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_QCOM_FALKOR_E1003		8
/*
 * ARM errata E1009, 1286807, 2441007, 2441009, 4118414, 4193780, 4193781,
 * 4193784, 4193786, 4193787, 4193788, 4193789, 4193790, 4193791, 4193792,
 * 4193793, 4193794, 4193798, 4193800, 4193801, T410-OLY-1029: Broadcast TLB
 * invalidation may complete before all affected memory accesses; repeat the
 * TLBI and DSB.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_REPEAT_TLBI			9
/*
 * ARM erratum 858921: Cortex-A73 generic timer counter reads may return a wrong
 * value; use the out-of-line counter read workaround.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_858921			10
/*
 * ARM errata 1188873, 1418040: AArch32 MRC read of the generic timer after an
 * MRRC read may give a corrupted result; trap EL0 counter access.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_1418040			11
/*
 * ARM errata 1165522, 1319367, 1319537, 1530923: Speculative AT instruction
 * using an out-of-context translation regime may corrupt the TLB across a guest
 * switch.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_SPECULATIVE_AT		12
/*
 * ARM erratum 1463225: Software step of an SVC may stop later interrupts from
 * being recognised; take a dummy step exception.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_1463225			13
/*
 * Cavium erratum 219: Access between a TTBR update and the following ISB may
 * raise a spurious abort; trap KVM guest TTBR writes to EL2.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_CAVIUM_TX2_219_TVM		14
/*
 * Cavium erratum 219: Prefetch between a TTBR update and the following ISB may
 * raise a spurious abort; drop that PRFM.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_CAVIUM_TX2_219_PRFM		15
/*
 * ARM erratum 1542419: Neoverse-N1 may execute a stale instruction after
 * another CPU modified it; hide DIC from EL0 and trap CTR_EL0.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_1542419			16
/*
 * ARM erratum 1508412: Cortex-A77 may deadlock on a store-exclusive or PAR_EL1
 * read combined with a device or non-cacheable load.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_1508412			17
/*
 * NVIDIA erratum N/A: With CNP enabled, a non-shareable TLBI on Carmel does not
 * remove shared entries installed by another core.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_NVIDIA_CARMEL_CNP		18
/*
 * ARM errata 2119858, 2139208: TRBE in fill mode may overwrite trace data at
 * the buffer base on a wrap event.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_TRBE_OVERWRITE_FILL_MODE	19
/*
 * ARM errata 2067961, 2054223: TSB CSYNC may fail to flush trace in a
 * trace-prohibited state; issue it twice.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_TSB_FLUSH_FAILURE		20
/*
 * ARM errata 2253138, 2224489: TRBE may write to the page just past the trace
 * buffer limit instead of wrapping.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_TRBE_WRITE_OUT_OF_RANGE	21
/*
 * ARM erratum 2645198: Cortex-A715 may corrupt ESR and FAR after a mapping
 * changes from executable to non-executable.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_2645198			22
/*
 * ARM erratum 2077057: Cortex-A510 may corrupt SPSR_EL2 when a pointer
 * authentication trap replaces an expected step exception.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_2077057			23
/*
 * ARM erratum 2064142: Cortex-A510 may ignore writes to TRBE registers after
 * the trace buffer has been disabled.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_2064142			24
/*
 * ARM errata 2457168, 3821522: AMU constant counter AMEVCNTR01 does not count
 * at the system counter rate; treat it as unavailable.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_BROKEN_AMU_CONSTCNT		25
/*
 * ARM erratum 2038923: Cortex-A510 may see an inconsistent trace-prohibited
 * state after enabling TRBE, corrupting trace.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_2038923			26
/*
 * ARM erratum 1902691: Cortex-A510 TRBE may corrupt trace data written to
 * memory; do not use TRBE.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_1902691			27
/*
 * ARM errata 1742098, 1655431: ELR may be recorded wrongly for an interrupt
 * between AArch32 AES instructions; hide the AArch32 AES hwcap.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_1742098			28
/*
 * ARM erratum 2658417: Cortex-A510 pairs sharing a NEON unit may compute wrong
 * BFMMLA or VMMLA results; hide BF16.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_2658417			29
/*
 * ARM errata 3194386, 3312417, 3324334, 3324335, 3324336, 3324338, 3324339,
 * 3324341, 3324344, 3324346, 3324347, 3324348, 3324349, 3456084, 3456091,
 * 3456106, 3456111: MSR SSBS is not self-synchronizing, so speculative store
 * bypass may still occur; add a barrier after it.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_SPECULATIVE_SSBS		30
/*
 * ARM errata 2966298, 3117295: A speculatively executed unprivileged load may
 * leak privileged data through the cache; TLBI before return to EL0.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_SPECULATIVE_UNPRIV_LOAD	31
/*
 * Ampere errata AC03_CPU_38, AC04_CPU_10: (V)TCR_ELx HA and HD bits are not
 * RES0 although HAFDBS is not advertised; KVM forces VTCR_EL2.HA to 0.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_AMPERE_AC03_CPU_38		32
/*
 * HiSilicon erratum 162100125: With CNP enabled, HIP09 may share TLB entries
 * between CPUs where the architecture does not, causing TLB conflicts and stale
 * mappings; CNP is disabled.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_162100125			33
/*
 * NVIDIA erratum T410-OLY-1027: On NVIDIA Olympus, a peripheral may observe a
 * Device-nGnR* store after a younger Device-nGnR* load; a DMB OSH goes before
 * raw MMIO loads.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_NVIDIA_OLYMPUS_1027		34
/*
 * ARM erratum 4193714: C1-Pro may acknowledge a DVMSync before its SME memory
 * accesses complete; TLB maintenance for SME processes also interrupts the
 * affected CPUs.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_4193714			35
/*
 * Ampere erratum AC04_CPU_23: On AmpereOne AC04, a write to HCR_EL2 may corrupt
 * simultaneous data address translations; a DSB before and an ISB after the
 * write close the window.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_AMPERE_AC04_CPU_23		36
/*
 * Qualcomm Tech. erratum N/A: Oryon X1 does not honour CNTVOFF_EL2; KVM works
 * around the broken virtual counter offset.
 */
#define MIGRN_SAFE_CAP_WORKAROUND_QCOM_ORYON_CNTVOFF		37

#ifndef __ASSEMBLY__

#include <asm/cpucaps.h>

struct migrn_safe_cap {
	unsigned int bit;
	unsigned int cpucap;
};

/* The cpucap a guest enables when KVM sets a bit; several bits may share one. */
static const struct migrn_safe_cap migrn_safe_caps[] __maybe_unused = {
	{ MIGRN_SAFE_CAP_WORKAROUND_CLEAN_CACHE, ARM64_WORKAROUND_CLEAN_CACHE },
	{ MIGRN_SAFE_CAP_WORKAROUND_DEVICE_LOAD_ACQUIRE, ARM64_WORKAROUND_DEVICE_LOAD_ACQUIRE },
	{ MIGRN_SAFE_CAP_WORKAROUND_834220, ARM64_WORKAROUND_834220 },
	{ MIGRN_SAFE_CAP_WORKAROUND_843419, ARM64_WORKAROUND_843419 },
	{ MIGRN_SAFE_CAP_WORKAROUND_845719, ARM64_WORKAROUND_845719 },
	{ MIGRN_SAFE_CAP_WORKAROUND_CAVIUM_23154, ARM64_WORKAROUND_CAVIUM_23154 },
	{ MIGRN_SAFE_CAP_WORKAROUND_CAVIUM_27456, ARM64_WORKAROUND_CAVIUM_27456 },
	{ MIGRN_SAFE_CAP_WORKAROUND_CAVIUM_30115, ARM64_WORKAROUND_CAVIUM_30115 },
	{ MIGRN_SAFE_CAP_WORKAROUND_QCOM_FALKOR_E1003, ARM64_WORKAROUND_QCOM_FALKOR_E1003 },
	{ MIGRN_SAFE_CAP_WORKAROUND_REPEAT_TLBI, ARM64_WORKAROUND_REPEAT_TLBI_SYNC },
	{ MIGRN_SAFE_CAP_WORKAROUND_858921, ARM64_WORKAROUND_858921 },
	{ MIGRN_SAFE_CAP_WORKAROUND_1418040, ARM64_WORKAROUND_1418040 },
	{ MIGRN_SAFE_CAP_WORKAROUND_SPECULATIVE_AT, ARM64_WORKAROUND_SPECULATIVE_AT },
	{ MIGRN_SAFE_CAP_WORKAROUND_1463225, ARM64_WORKAROUND_1463225 },
	{ MIGRN_SAFE_CAP_WORKAROUND_CAVIUM_TX2_219_TVM, ARM64_WORKAROUND_CAVIUM_TX2_219_TVM },
	{ MIGRN_SAFE_CAP_WORKAROUND_CAVIUM_TX2_219_PRFM, ARM64_WORKAROUND_CAVIUM_TX2_219_PRFM },
	{ MIGRN_SAFE_CAP_WORKAROUND_1542419, ARM64_WORKAROUND_1542419 },
	{ MIGRN_SAFE_CAP_WORKAROUND_1508412, ARM64_WORKAROUND_1508412 },
	{ MIGRN_SAFE_CAP_WORKAROUND_NVIDIA_CARMEL_CNP, ARM64_WORKAROUND_DISABLE_CNP },
	{ MIGRN_SAFE_CAP_WORKAROUND_TRBE_OVERWRITE_FILL_MODE,
	  ARM64_WORKAROUND_TRBE_OVERWRITE_FILL_MODE },
	{ MIGRN_SAFE_CAP_WORKAROUND_TSB_FLUSH_FAILURE, ARM64_WORKAROUND_TSB_FLUSH_FAILURE },
	{ MIGRN_SAFE_CAP_WORKAROUND_TRBE_WRITE_OUT_OF_RANGE,
	  ARM64_WORKAROUND_TRBE_WRITE_OUT_OF_RANGE },
	{ MIGRN_SAFE_CAP_WORKAROUND_2645198, ARM64_WORKAROUND_2645198 },
	{ MIGRN_SAFE_CAP_WORKAROUND_2077057, ARM64_WORKAROUND_2077057 },
	{ MIGRN_SAFE_CAP_WORKAROUND_2064142, ARM64_WORKAROUND_2064142 },
	{ MIGRN_SAFE_CAP_WORKAROUND_BROKEN_AMU_CONSTCNT, ARM64_WORKAROUND_BROKEN_AMU_CONSTCNT },
	{ MIGRN_SAFE_CAP_WORKAROUND_2038923, ARM64_WORKAROUND_2038923 },
	{ MIGRN_SAFE_CAP_WORKAROUND_1902691, ARM64_WORKAROUND_1902691 },
	{ MIGRN_SAFE_CAP_WORKAROUND_1742098, ARM64_WORKAROUND_1742098 },
	{ MIGRN_SAFE_CAP_WORKAROUND_2658417, ARM64_WORKAROUND_2658417 },
	{ MIGRN_SAFE_CAP_WORKAROUND_SPECULATIVE_SSBS, ARM64_WORKAROUND_SPECULATIVE_SSBS },
	{ MIGRN_SAFE_CAP_WORKAROUND_SPECULATIVE_UNPRIV_LOAD,
	  ARM64_WORKAROUND_SPECULATIVE_UNPRIV_LOAD },
	{ MIGRN_SAFE_CAP_WORKAROUND_AMPERE_AC03_CPU_38, ARM64_WORKAROUND_AMPERE_AC03_CPU_38 },
	{ MIGRN_SAFE_CAP_WORKAROUND_162100125, ARM64_WORKAROUND_DISABLE_CNP },
	{ MIGRN_SAFE_CAP_WORKAROUND_NVIDIA_OLYMPUS_1027, ARM64_WORKAROUND_NVIDIA_OLYMPUS_1027 },
	{ MIGRN_SAFE_CAP_WORKAROUND_4193714, ARM64_WORKAROUND_4193714 },
	{ MIGRN_SAFE_CAP_WORKAROUND_AMPERE_AC04_CPU_23, ARM64_WORKAROUND_AMPERE_AC04_CPU_23 },
	{ MIGRN_SAFE_CAP_WORKAROUND_QCOM_ORYON_CNTVOFF, ARM64_WORKAROUND_QCOM_ORYON_CNTVOFF },
};

#endif /* __ASSEMBLY__ */

#endif /* __ASM_MIGRN_ERRATA_H */
