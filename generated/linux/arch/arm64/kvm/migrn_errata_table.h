/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * MIDR/REVIDR match tables of the migration-safe errata bits, for
 * ARM_SMCCC_VENDOR_HYP_KVM_MIGRN_ERRATA: for every CPU the VMM says the VM may run
 * on, KVM sets the bit of each erratum that CPU has, in R0, R1, R2, R3.
 *
 * Generated from errata-db/ by errata-db, do not edit.
 *
 * It defines the tables, so include it from exactly one file. Retired errata
 * stay in them: an older guest may still work around one, and for it the bit
 * keeps its meaning.
 */
#ifndef __ARM64_KVM_MIGRN_ERRATA_TABLE_H
#define __ARM64_KVM_MIGRN_ERRATA_TABLE_H

#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/types.h>
#include <asm/cpufeature.h>
#include <asm/cputype.h>
#include <asm/migrn_errata.h>

/*
 * Define the CPU models an older <asm/cputype.h> lacks, and check the ones
 * it has against the registry.
 */
#ifndef MIDR_CORTEX_A53
#define MIDR_CORTEX_A53 MIDR_CPU_MODEL(0x41, 0xd03)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd03) == MIDR_CORTEX_A53);
#ifndef MIDR_CORTEX_A55
#define MIDR_CORTEX_A55 MIDR_CPU_MODEL(0x41, 0xd05)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd05) == MIDR_CORTEX_A55);
#ifndef MIDR_CORTEX_A57
#define MIDR_CORTEX_A57 MIDR_CPU_MODEL(0x41, 0xd07)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd07) == MIDR_CORTEX_A57);
#ifndef MIDR_CORTEX_A72
#define MIDR_CORTEX_A72 MIDR_CPU_MODEL(0x41, 0xd08)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd08) == MIDR_CORTEX_A72);
#ifndef MIDR_CORTEX_A73
#define MIDR_CORTEX_A73 MIDR_CPU_MODEL(0x41, 0xd09)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd09) == MIDR_CORTEX_A73);
#ifndef MIDR_CORTEX_A76
#define MIDR_CORTEX_A76 MIDR_CPU_MODEL(0x41, 0xd0b)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd0b) == MIDR_CORTEX_A76);
#ifndef MIDR_NEOVERSE_N1
#define MIDR_NEOVERSE_N1 MIDR_CPU_MODEL(0x41, 0xd0c)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd0c) == MIDR_NEOVERSE_N1);
#ifndef MIDR_CORTEX_A77
#define MIDR_CORTEX_A77 MIDR_CPU_MODEL(0x41, 0xd0d)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd0d) == MIDR_CORTEX_A77);
#ifndef MIDR_CORTEX_A76AE
#define MIDR_CORTEX_A76AE MIDR_CPU_MODEL(0x41, 0xd0e)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd0e) == MIDR_CORTEX_A76AE);
#ifndef MIDR_NEOVERSE_V1
#define MIDR_NEOVERSE_V1 MIDR_CPU_MODEL(0x41, 0xd40)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd40) == MIDR_NEOVERSE_V1);
#ifndef MIDR_CORTEX_A78
#define MIDR_CORTEX_A78 MIDR_CPU_MODEL(0x41, 0xd41)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd41) == MIDR_CORTEX_A78);
#ifndef MIDR_CORTEX_A78AE
#define MIDR_CORTEX_A78AE MIDR_CPU_MODEL(0x41, 0xd42)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd42) == MIDR_CORTEX_A78AE);
#ifndef MIDR_CORTEX_X1
#define MIDR_CORTEX_X1 MIDR_CPU_MODEL(0x41, 0xd44)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd44) == MIDR_CORTEX_X1);
#ifndef MIDR_CORTEX_A510
#define MIDR_CORTEX_A510 MIDR_CPU_MODEL(0x41, 0xd46)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd46) == MIDR_CORTEX_A510);
#ifndef MIDR_CORTEX_A710
#define MIDR_CORTEX_A710 MIDR_CPU_MODEL(0x41, 0xd47)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd47) == MIDR_CORTEX_A710);
#ifndef MIDR_CORTEX_X2
#define MIDR_CORTEX_X2 MIDR_CPU_MODEL(0x41, 0xd48)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd48) == MIDR_CORTEX_X2);
#ifndef MIDR_NEOVERSE_N2
#define MIDR_NEOVERSE_N2 MIDR_CPU_MODEL(0x41, 0xd49)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd49) == MIDR_NEOVERSE_N2);
#ifndef MIDR_CORTEX_A78C
#define MIDR_CORTEX_A78C MIDR_CPU_MODEL(0x41, 0xd4b)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd4b) == MIDR_CORTEX_A78C);
#ifndef MIDR_CORTEX_X1C
#define MIDR_CORTEX_X1C MIDR_CPU_MODEL(0x41, 0xd4c)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd4c) == MIDR_CORTEX_X1C);
#ifndef MIDR_CORTEX_A715
#define MIDR_CORTEX_A715 MIDR_CPU_MODEL(0x41, 0xd4d)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd4d) == MIDR_CORTEX_A715);
#ifndef MIDR_CORTEX_X3
#define MIDR_CORTEX_X3 MIDR_CPU_MODEL(0x41, 0xd4e)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd4e) == MIDR_CORTEX_X3);
#ifndef MIDR_NEOVERSE_V2
#define MIDR_NEOVERSE_V2 MIDR_CPU_MODEL(0x41, 0xd4f)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd4f) == MIDR_NEOVERSE_V2);
#ifndef MIDR_CORTEX_A520
#define MIDR_CORTEX_A520 MIDR_CPU_MODEL(0x41, 0xd80)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd80) == MIDR_CORTEX_A520);
#ifndef MIDR_CORTEX_A720
#define MIDR_CORTEX_A720 MIDR_CPU_MODEL(0x41, 0xd81)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd81) == MIDR_CORTEX_A720);
#ifndef MIDR_CORTEX_X4
#define MIDR_CORTEX_X4 MIDR_CPU_MODEL(0x41, 0xd82)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd82) == MIDR_CORTEX_X4);
#ifndef MIDR_NEOVERSE_V3AE
#define MIDR_NEOVERSE_V3AE MIDR_CPU_MODEL(0x41, 0xd83)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd83) == MIDR_NEOVERSE_V3AE);
#ifndef MIDR_NEOVERSE_V3
#define MIDR_NEOVERSE_V3 MIDR_CPU_MODEL(0x41, 0xd84)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd84) == MIDR_NEOVERSE_V3);
#ifndef MIDR_CORTEX_X925
#define MIDR_CORTEX_X925 MIDR_CPU_MODEL(0x41, 0xd85)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd85) == MIDR_CORTEX_X925);
#ifndef MIDR_CORTEX_A725
#define MIDR_CORTEX_A725 MIDR_CPU_MODEL(0x41, 0xd87)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd87) == MIDR_CORTEX_A725);
#ifndef MIDR_CORTEX_A720AE
#define MIDR_CORTEX_A720AE MIDR_CPU_MODEL(0x41, 0xd89)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd89) == MIDR_CORTEX_A720AE);
#ifndef MIDR_C1_PRO
#define MIDR_C1_PRO MIDR_CPU_MODEL(0x41, 0xd8b)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd8b) == MIDR_C1_PRO);
#ifndef MIDR_C1_ULTRA
#define MIDR_C1_ULTRA MIDR_CPU_MODEL(0x41, 0xd8c)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd8c) == MIDR_C1_ULTRA);
#ifndef MIDR_NEOVERSE_N3
#define MIDR_NEOVERSE_N3 MIDR_CPU_MODEL(0x41, 0xd8e)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd8e) == MIDR_NEOVERSE_N3);
#ifndef MIDR_C1_PREMIUM
#define MIDR_C1_PREMIUM MIDR_CPU_MODEL(0x41, 0xd90)
#endif
static_assert(MIDR_CPU_MODEL(0x41, 0xd90) == MIDR_C1_PREMIUM);
#ifndef MIDR_BRAHMA_B53
#define MIDR_BRAHMA_B53 MIDR_CPU_MODEL(0x42, 0x100)
#endif
static_assert(MIDR_CPU_MODEL(0x42, 0x100) == MIDR_BRAHMA_B53);
#ifndef MIDR_BRCM_VULCAN
#define MIDR_BRCM_VULCAN MIDR_CPU_MODEL(0x42, 0x516)
#endif
static_assert(MIDR_CPU_MODEL(0x42, 0x516) == MIDR_BRCM_VULCAN);
#ifndef MIDR_THUNDERX
#define MIDR_THUNDERX MIDR_CPU_MODEL(0x43, 0xa1)
#endif
static_assert(MIDR_CPU_MODEL(0x43, 0xa1) == MIDR_THUNDERX);
#ifndef MIDR_THUNDERX_81XX
#define MIDR_THUNDERX_81XX MIDR_CPU_MODEL(0x43, 0xa2)
#endif
static_assert(MIDR_CPU_MODEL(0x43, 0xa2) == MIDR_THUNDERX_81XX);
#ifndef MIDR_THUNDERX_83XX
#define MIDR_THUNDERX_83XX MIDR_CPU_MODEL(0x43, 0xa3)
#endif
static_assert(MIDR_CPU_MODEL(0x43, 0xa3) == MIDR_THUNDERX_83XX);
#ifndef MIDR_CAVIUM_THUNDERX2
#define MIDR_CAVIUM_THUNDERX2 MIDR_CPU_MODEL(0x43, 0xaf)
#endif
static_assert(MIDR_CPU_MODEL(0x43, 0xaf) == MIDR_CAVIUM_THUNDERX2);
#ifndef MIDR_OCTX2_98XX
#define MIDR_OCTX2_98XX MIDR_CPU_MODEL(0x43, 0xb1)
#endif
static_assert(MIDR_CPU_MODEL(0x43, 0xb1) == MIDR_OCTX2_98XX);
#ifndef MIDR_OCTX2_96XX
#define MIDR_OCTX2_96XX MIDR_CPU_MODEL(0x43, 0xb2)
#endif
static_assert(MIDR_CPU_MODEL(0x43, 0xb2) == MIDR_OCTX2_96XX);
#ifndef MIDR_OCTX2_95XX
#define MIDR_OCTX2_95XX MIDR_CPU_MODEL(0x43, 0xb3)
#endif
static_assert(MIDR_CPU_MODEL(0x43, 0xb3) == MIDR_OCTX2_95XX);
#ifndef MIDR_OCTX2_95XXN
#define MIDR_OCTX2_95XXN MIDR_CPU_MODEL(0x43, 0xb4)
#endif
static_assert(MIDR_CPU_MODEL(0x43, 0xb4) == MIDR_OCTX2_95XXN);
#ifndef MIDR_OCTX2_95XXMM
#define MIDR_OCTX2_95XXMM MIDR_CPU_MODEL(0x43, 0xb5)
#endif
static_assert(MIDR_CPU_MODEL(0x43, 0xb5) == MIDR_OCTX2_95XXMM);
#ifndef MIDR_OCTX2_95XXO
#define MIDR_OCTX2_95XXO MIDR_CPU_MODEL(0x43, 0xb6)
#endif
static_assert(MIDR_CPU_MODEL(0x43, 0xb6) == MIDR_OCTX2_95XXO);
#ifndef MIDR_HISI_HIP09
#define MIDR_HISI_HIP09 MIDR_CPU_MODEL(0x48, 0xd02)
#endif
static_assert(MIDR_CPU_MODEL(0x48, 0xd02) == MIDR_HISI_HIP09);
#ifndef MIDR_NVIDIA_CARMEL
#define MIDR_NVIDIA_CARMEL MIDR_CPU_MODEL(0x4e, 0x4)
#endif
static_assert(MIDR_CPU_MODEL(0x4e, 0x4) == MIDR_NVIDIA_CARMEL);
#ifndef MIDR_NVIDIA_OLYMPUS
#define MIDR_NVIDIA_OLYMPUS MIDR_CPU_MODEL(0x4e, 0x10)
#endif
static_assert(MIDR_CPU_MODEL(0x4e, 0x10) == MIDR_NVIDIA_OLYMPUS);
#ifndef MIDR_QCOM_ORYON_X1
#define MIDR_QCOM_ORYON_X1 MIDR_CPU_MODEL(0x51, 0x1)
#endif
static_assert(MIDR_CPU_MODEL(0x51, 0x1) == MIDR_QCOM_ORYON_X1);
#ifndef MIDR_QCOM_KRYO
#define MIDR_QCOM_KRYO MIDR_CPU_MODEL(0x51, 0x200)
#endif
static_assert(MIDR_CPU_MODEL(0x51, 0x200) == MIDR_QCOM_KRYO);
#ifndef MIDR_QCOM_FALKOR_V1
#define MIDR_QCOM_FALKOR_V1 MIDR_CPU_MODEL(0x51, 0x800)
#endif
static_assert(MIDR_CPU_MODEL(0x51, 0x800) == MIDR_QCOM_FALKOR_V1);
#ifndef MIDR_QCOM_KRYO_2XX_SILVER
#define MIDR_QCOM_KRYO_2XX_SILVER MIDR_CPU_MODEL(0x51, 0x801)
#endif
static_assert(MIDR_CPU_MODEL(0x51, 0x801) == MIDR_QCOM_KRYO_2XX_SILVER);
#ifndef MIDR_QCOM_KRYO_4XX_GOLD
#define MIDR_QCOM_KRYO_4XX_GOLD MIDR_CPU_MODEL(0x51, 0x804)
#endif
static_assert(MIDR_CPU_MODEL(0x51, 0x804) == MIDR_QCOM_KRYO_4XX_GOLD);
#ifndef MIDR_QCOM_KRYO_4XX_SILVER
#define MIDR_QCOM_KRYO_4XX_SILVER MIDR_CPU_MODEL(0x51, 0x805)
#endif
static_assert(MIDR_CPU_MODEL(0x51, 0x805) == MIDR_QCOM_KRYO_4XX_SILVER);
#ifndef MIDR_MICROSOFT_AZURE_COBALT_100
#define MIDR_MICROSOFT_AZURE_COBALT_100 MIDR_CPU_MODEL(0x6d, 0xd49)
#endif
static_assert(MIDR_CPU_MODEL(0x6d, 0xd49) == MIDR_MICROSOFT_AZURE_COBALT_100);
#ifndef MIDR_AMPERE1
#define MIDR_AMPERE1 MIDR_CPU_MODEL(0xc0, 0xac3)
#endif
static_assert(MIDR_CPU_MODEL(0xc0, 0xac3) == MIDR_AMPERE1);
#ifndef MIDR_AMPERE1A
#define MIDR_AMPERE1A MIDR_CPU_MODEL(0xc0, 0xac4)
#endif
static_assert(MIDR_CPU_MODEL(0xc0, 0xac4) == MIDR_AMPERE1A);

#define KVM_MIGRN_ERRATA_REGS		4
#define KVM_MIGRN_ERRATA_REG_BITS	64

/* A VMM's target CPU. */
struct kvm_migrn_cpu {
	u32 midr;
	u32 revidr;
};

/*
 * One MIDR range of an erratum. Only the part number bits in part_mask are
 * compared (all of them but for part-family matches). On the revision of a
 * fixed_revs entry, a CPU whose REVIDR has a bit of its mask is not affected.
 * A fixed_revs list ends with an empty entry.
 */
struct kvm_migrn_match {
	struct midr_range range;
	u32 part_mask;
	const struct arm64_midr_revidr *fixed_revs;
};

/* An erratum's bit and its ranges, which end with an empty entry. */
struct kvm_migrn_erratum {
	unsigned int bit;
	const struct kvm_migrn_match *matches;
};

/*
 * ARM errata 826319, 827319, 824069, 819472: Cortex-A53 cache clean and
 * store-exclusive problems; trap EL0 cache maintenance and upgrade clean to
 * clean and invalidate.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_clean_cache[] = {
	{
		.range = MIDR_REV_RANGE(MIDR_CORTEX_A53, 0, 0, 2),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_REV_RANGE(MIDR_CORTEX_A53, 0, 0, 1),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * ARM erratum 832075: Cortex-A57 may deadlock when exclusive accesses mix with
 * device loads; promote device loads to load-acquire.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_device_load_acquire[] = {
	{
		.range = MIDR_RANGE(MIDR_CORTEX_A57, 0, 0, 1, 2),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * ARM erratum 834220: Cortex-A57 may report a Stage 2 fault instead of the
 * Stage 1 fault it should take.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_834220[] = {
	{
		.range = MIDR_RANGE(MIDR_CORTEX_A57, 0, 0, 1, 2),
		.part_mask = 0xfff,
	},
	{},
};

static const struct arm64_midr_revidr kvm_migrn_workaround_843419_fixes0[] = {
	{ MIDR_CPU_VAR_REV(0, 4), 0x100 },
	{},
};

/*
 * ARM erratum 843419: Cortex-A53 load or store after an ADRP at certain page
 * offsets may use a wrong address.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_843419[] = {
	{
		.range = MIDR_REV_RANGE(MIDR_CORTEX_A53, 0, 0, 4),
		.part_mask = 0xfff,
		.fixed_revs = kvm_migrn_workaround_843419_fixes0,
	},
	{
		.range = MIDR_REV(MIDR_BRAHMA_B53, 0, 0),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * ARM erratum 845719: Cortex-A53 AArch32 EL0 load may return stale data after
 * an EL1 load to an alias address.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_845719[] = {
	{
		.range = MIDR_REV_RANGE(MIDR_CORTEX_A53, 0, 0, 4),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_REV(MIDR_BRAHMA_B53, 0, 0),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_REV(MIDR_QCOM_KRYO_2XX_SILVER, 10, 4),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * Cavium errata 23154, 38545: GICv3 CPU interface lacks synchronisation around
 * IAR reads and may present released interrupts; add barriers.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_cavium_23154[] = {
	{
		.range = MIDR_ALL_VERSIONS(MIDR_THUNDERX),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_THUNDERX_81XX),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_THUNDERX_83XX),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_OCTX2_98XX),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_OCTX2_96XX),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_OCTX2_95XX),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_OCTX2_95XXN),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_OCTX2_95XXMM),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_OCTX2_95XXO),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * Cavium erratum 27456: Broadcast TLBI may corrupt the instruction cache for a
 * non-current ASID; invalidate the icache on context switch.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_cavium_27456[] = {
	{
		.range = MIDR_RANGE(MIDR_THUNDERX, 0, 0, 1, 1),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_REV(MIDR_THUNDERX_81XX, 0, 0),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * Cavium erratum 30115: A KVM guest may disable interrupts in the host; trap
 * guest GICv3 group 0 and group 1 accesses.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_cavium_30115[] = {
	{
		.range = MIDR_RANGE(MIDR_THUNDERX, 0, 0, 1, 2),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_REV_RANGE(MIDR_THUNDERX_81XX, 0, 0, 2),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_REV(MIDR_THUNDERX_83XX, 0, 0),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * Qualcomm Tech. erratum E1003: Changing ASID and BADDR together in TTBRx_EL1
 * may cache a wrong ASID in the walk cache.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_qcom_falkor_e1003[] = {
	{
		.range = MIDR_REV(MIDR_QCOM_FALKOR_V1, 0, 0),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_QCOM_KRYO),
		.part_mask = 0xf00,
	},
	{},
};

/*
 * ARM errata E1009, 1286807, 2441007, 2441009, 4118414, 4193780, 4193781,
 * 4193784, 4193786, 4193787, 4193788, 4193789, 4193790, 4193791, 4193792,
 * 4193793, 4193794, 4193798, 4193800, 4193801, T410-OLY-1029: Broadcast TLB
 * invalidation may complete before all affected memory accesses; repeat the
 * TLBI and DSB.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_repeat_tlbi[] = {
	{
		.range = MIDR_REV(MIDR_QCOM_FALKOR_V1, 0, 0),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_QCOM_KRYO),
		.part_mask = 0xf00,
	},
	{
		.range = MIDR_RANGE(MIDR_CORTEX_A76, 0, 0, 3, 0),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_RANGE(MIDR_QCOM_KRYO_4XX_GOLD, 12, 14, 15, 14),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A55),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_RANGE(MIDR_CORTEX_A510, 0, 0, 1, 1),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_C1_PREMIUM),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_C1_ULTRA),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A76),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A76AE),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A77),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A78),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A78AE),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A78C),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A710),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_X1),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_X1C),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_X2),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_X3),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_X4),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_X925),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_NEOVERSE_N1),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_NEOVERSE_N2),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_NEOVERSE_V1),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_NEOVERSE_V2),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_NEOVERSE_V3),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_NEOVERSE_V3AE),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_NVIDIA_OLYMPUS),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_MICROSOFT_AZURE_COBALT_100),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * ARM erratum 858921: Cortex-A73 generic timer counter reads may return a wrong
 * value; use the out-of-line counter read workaround.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_858921[] = {
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A73),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * ARM errata 1188873, 1418040: AArch32 MRC read of the generic timer after an
 * MRRC read may give a corrupted result; trap EL0 counter access.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_1418040[] = {
	{
		.range = MIDR_RANGE(MIDR_CORTEX_A76, 0, 0, 3, 1),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_RANGE(MIDR_NEOVERSE_N1, 0, 0, 3, 1),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_RANGE(MIDR_QCOM_KRYO_4XX_GOLD, 12, 14, 15, 15),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * ARM errata 1165522, 1319367, 1319537, 1530923: Speculative AT instruction
 * using an out-of-context translation regime may corrupt the TLB across a guest
 * switch.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_speculative_at[] = {
	{
		.range = MIDR_RANGE(MIDR_CORTEX_A76, 0, 0, 2, 0),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A57),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A72),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_RANGE(MIDR_CORTEX_A55, 0, 0, 2, 0),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_REV(MIDR_QCOM_KRYO_4XX_SILVER, 13, 14),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * ARM erratum 1463225: Software step of an SVC may stop later interrupts from
 * being recognised; take a dummy step exception.
 */
/*
 * Matched on MIDR only; the guest kernel also checks that the kernel runs at
 * EL2 with VHE (is_kernel_in_hyp_mode); on a non-VHE kernel the cpucap is not
 * set.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_1463225[] = {
	{
		.range = MIDR_RANGE(MIDR_CORTEX_A76, 0, 0, 3, 1),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_RANGE(MIDR_QCOM_KRYO_4XX_GOLD, 12, 14, 15, 15),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * Cavium erratum 219: Access between a TTBR update and the following ISB may
 * raise a spurious abort; trap KVM guest TTBR writes to EL2.
 */
/*
 * Matched on MIDR only; the guest kernel also checks that hyp mode is available
 * and some possible CPU has a non-zero MPIDR Aff0 (SMT threads present).
 */
static const struct kvm_migrn_match kvm_migrn_workaround_cavium_tx2_219_tvm[] = {
	{
		.range = MIDR_ALL_VERSIONS(MIDR_BRCM_VULCAN),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CAVIUM_THUNDERX2),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * Cavium erratum 219: Prefetch between a TTBR update and the following ISB may
 * raise a spurious abort; drop that PRFM.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_cavium_tx2_219_prfm[] = {
	{
		.range = MIDR_ALL_VERSIONS(MIDR_BRCM_VULCAN),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CAVIUM_THUNDERX2),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * ARM erratum 1542419: Neoverse-N1 may execute a stale instruction after
 * another CPU modified it; hide DIC from EL0 and trap CTR_EL0.
 */
/*
 * Matched on MIDR only; the guest kernel also checks that CTR_EL0.DIC is set on
 * the CPU; without DIC the cpucap is not set.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_1542419[] = {
	{
		.range = MIDR_ALL_VERSIONS(MIDR_NEOVERSE_N1),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * ARM erratum 1508412: Cortex-A77 may deadlock on a store-exclusive or PAR_EL1
 * read combined with a device or non-cacheable load.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_1508412[] = {
	{
		.range = MIDR_RANGE(MIDR_CORTEX_A77, 0, 0, 1, 0),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * NVIDIA erratum N/A: With CNP enabled, a non-shareable TLBI on Carmel does not
 * remove shared entries installed by another core.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_nvidia_carmel_cnp[] = {
	{
		.range = MIDR_ALL_VERSIONS(MIDR_NVIDIA_CARMEL),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * ARM errata 2119858, 2139208: TRBE in fill mode may overwrite trace data at
 * the buffer base on a wrap event.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_trbe_overwrite_fill_mode[] = {
	{
		.range = MIDR_ALL_VERSIONS(MIDR_NEOVERSE_N2),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_MICROSOFT_AZURE_COBALT_100),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A710),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_RANGE(MIDR_CORTEX_X2, 0, 0, 2, 0),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * ARM errata 2067961, 2054223: TSB CSYNC may fail to flush trace in a
 * trace-prohibited state; issue it twice.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_tsb_flush_failure[] = {
	{
		.range = MIDR_ALL_VERSIONS(MIDR_NEOVERSE_N2),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_MICROSOFT_AZURE_COBALT_100),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A710),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * ARM errata 2253138, 2224489: TRBE may write to the page just past the trace
 * buffer limit instead of wrapping.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_trbe_write_out_of_range[] = {
	{
		.range = MIDR_ALL_VERSIONS(MIDR_NEOVERSE_N2),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_MICROSOFT_AZURE_COBALT_100),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A710),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_RANGE(MIDR_CORTEX_X2, 0, 0, 2, 0),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * ARM erratum 2645198: Cortex-A715 may corrupt ESR and FAR after a mapping
 * changes from executable to non-executable.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_2645198[] = {
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A715),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * ARM erratum 2077057: Cortex-A510 may corrupt SPSR_EL2 when a pointer
 * authentication trap replaces an expected step exception.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_2077057[] = {
	{
		.range = MIDR_REV_RANGE(MIDR_CORTEX_A510, 0, 0, 2),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * ARM erratum 2064142: Cortex-A510 may ignore writes to TRBE registers after
 * the trace buffer has been disabled.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_2064142[] = {
	{
		.range = MIDR_REV_RANGE(MIDR_CORTEX_A510, 0, 0, 2),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * ARM errata 2457168, 3821522: AMU constant counter AMEVCNTR01 does not count
 * at the system counter rate; treat it as unavailable.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_broken_amu_constcnt[] = {
	{
		.range = MIDR_RANGE(MIDR_CORTEX_A510, 0, 0, 1, 1),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_REV_RANGE(MIDR_CORTEX_A725, 0, 0, 2),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * ARM erratum 2038923: Cortex-A510 may see an inconsistent trace-prohibited
 * state after enabling TRBE, corrupting trace.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_2038923[] = {
	{
		.range = MIDR_REV_RANGE(MIDR_CORTEX_A510, 0, 0, 2),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * ARM erratum 1902691: Cortex-A510 TRBE may corrupt trace data written to
 * memory; do not use TRBE.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_1902691[] = {
	{
		.range = MIDR_REV_RANGE(MIDR_CORTEX_A510, 0, 0, 1),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * ARM errata 1742098, 1655431: ELR may be recorded wrongly for an interrupt
 * between AArch32 AES instructions; hide the AArch32 AES hwcap.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_1742098[] = {
	{
		.range = MIDR_RANGE(MIDR_CORTEX_A57, 0, 1, 15, 15),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A72),
		.part_mask = 0xfff,
	},
	{},
};

static const struct arm64_midr_revidr kvm_migrn_workaround_2658417_fixes0[] = {
	{ MIDR_CPU_VAR_REV(1, 1), 0x2000000 },
	{},
};

/*
 * ARM erratum 2658417: Cortex-A510 pairs sharing a NEON unit may compute wrong
 * BFMMLA or VMMLA results; hide BF16.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_2658417[] = {
	{
		.range = MIDR_RANGE(MIDR_CORTEX_A510, 0, 0, 1, 1),
		.part_mask = 0xfff,
		.fixed_revs = kvm_migrn_workaround_2658417_fixes0,
	},
	{},
};

/*
 * ARM errata 3194386, 3312417, 3324334, 3324335, 3324336, 3324338, 3324339,
 * 3324341, 3324344, 3324346, 3324347, 3324348, 3324349, 3456084, 3456091,
 * 3456106, 3456111: MSR SSBS is not self-synchronizing, so speculative store
 * bypass may still occur; add a barrier after it.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_speculative_ssbs[] = {
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A76),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A77),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A78),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A78C),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A710),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A715),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A720),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A720AE),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A725),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_X1),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_X1C),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_X2),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_X3),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_X4),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_X925),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_MICROSOFT_AZURE_COBALT_100),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_NEOVERSE_N1),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_NEOVERSE_N2),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_NEOVERSE_N3),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_NEOVERSE_V1),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_NEOVERSE_V2),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_NEOVERSE_V3),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_NEOVERSE_V3AE),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * ARM errata 2966298, 3117295: A speculatively executed unprivileged load may
 * leak privileged data through the cache; TLBI before return to EL0.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_speculative_unpriv_load[] = {
	{
		.range = MIDR_ALL_VERSIONS(MIDR_CORTEX_A510),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_REV_RANGE(MIDR_CORTEX_A520, 0, 0, 1),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * Ampere errata AC03_CPU_38, AC04_CPU_10: (V)TCR_ELx HA and HD bits are not
 * RES0 although HAFDBS is not advertised; KVM forces VTCR_EL2.HA to 0.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_ampere_ac03_cpu_38[] = {
	{
		.range = MIDR_ALL_VERSIONS(MIDR_AMPERE1),
		.part_mask = 0xfff,
	},
	{
		.range = MIDR_ALL_VERSIONS(MIDR_AMPERE1A),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * HiSilicon erratum 162100125: With CNP enabled, HIP09 may share TLB entries
 * between CPUs where the architecture does not, causing TLB conflicts and stale
 * mappings; CNP is disabled.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_162100125[] = {
	{
		.range = MIDR_ALL_VERSIONS(MIDR_HISI_HIP09),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * NVIDIA erratum T410-OLY-1027: On NVIDIA Olympus, a peripheral may observe a
 * Device-nGnR* store after a younger Device-nGnR* load; a DMB OSH goes before
 * raw MMIO loads.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_nvidia_olympus_1027[] = {
	{
		.range = MIDR_ALL_VERSIONS(MIDR_NVIDIA_OLYMPUS),
		.part_mask = 0xfff,
	},
	{},
};

static const struct arm64_midr_revidr kvm_migrn_workaround_4193714_fixes0[] = {
	{ MIDR_CPU_VAR_REV(1, 2), 0x1 },
	{},
};

/*
 * ARM erratum 4193714: C1-Pro may acknowledge a DVMSync before its SME memory
 * accesses complete; TLB maintenance for SME processes also interrupts the
 * affected CPUs.
 */
/*
 * Matched on MIDR only; the guest kernel also checks that the system implements
 * SME (ID_AA64PFR1_EL1.SME).
 */
static const struct kvm_migrn_match kvm_migrn_workaround_4193714[] = {
	{
		.range = MIDR_RANGE(MIDR_C1_PRO, 0, 0, 1, 2),
		.part_mask = 0xfff,
		.fixed_revs = kvm_migrn_workaround_4193714_fixes0,
	},
	{},
};

/*
 * Ampere erratum AC04_CPU_23: On AmpereOne AC04, a write to HCR_EL2 may corrupt
 * simultaneous data address translations; a DSB before and an ISB after the
 * write close the window.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_ampere_ac04_cpu_23[] = {
	{
		.range = MIDR_ALL_VERSIONS(MIDR_AMPERE1A),
		.part_mask = 0xfff,
	},
	{},
};

/*
 * Qualcomm Tech. erratum N/A: Oryon X1 does not honour CNTVOFF_EL2; KVM works
 * around the broken virtual counter offset.
 */
static const struct kvm_migrn_match kvm_migrn_workaround_qcom_oryon_cntvoff[] = {
	{
		.range = MIDR_ALL_VERSIONS(MIDR_QCOM_ORYON_X1),
		.part_mask = 0xfff,
	},
	{},
};

/* The table KVM walks; it ends with an empty entry. */
static const struct kvm_migrn_erratum kvm_migrn_errata[] __maybe_unused = {
	{ MIGRN_SAFE_CAP_WORKAROUND_CLEAN_CACHE, kvm_migrn_workaround_clean_cache },
	{ MIGRN_SAFE_CAP_WORKAROUND_DEVICE_LOAD_ACQUIRE, kvm_migrn_workaround_device_load_acquire },
	{ MIGRN_SAFE_CAP_WORKAROUND_834220, kvm_migrn_workaround_834220 },
	{ MIGRN_SAFE_CAP_WORKAROUND_843419, kvm_migrn_workaround_843419 },
	{ MIGRN_SAFE_CAP_WORKAROUND_845719, kvm_migrn_workaround_845719 },
	{ MIGRN_SAFE_CAP_WORKAROUND_CAVIUM_23154, kvm_migrn_workaround_cavium_23154 },
	{ MIGRN_SAFE_CAP_WORKAROUND_CAVIUM_27456, kvm_migrn_workaround_cavium_27456 },
	{ MIGRN_SAFE_CAP_WORKAROUND_CAVIUM_30115, kvm_migrn_workaround_cavium_30115 },
	{ MIGRN_SAFE_CAP_WORKAROUND_QCOM_FALKOR_E1003, kvm_migrn_workaround_qcom_falkor_e1003 },
	{ MIGRN_SAFE_CAP_WORKAROUND_REPEAT_TLBI, kvm_migrn_workaround_repeat_tlbi },
	{ MIGRN_SAFE_CAP_WORKAROUND_858921, kvm_migrn_workaround_858921 },
	{ MIGRN_SAFE_CAP_WORKAROUND_1418040, kvm_migrn_workaround_1418040 },
	{ MIGRN_SAFE_CAP_WORKAROUND_SPECULATIVE_AT, kvm_migrn_workaround_speculative_at },
	{ MIGRN_SAFE_CAP_WORKAROUND_1463225, kvm_migrn_workaround_1463225 },
	{ MIGRN_SAFE_CAP_WORKAROUND_CAVIUM_TX2_219_TVM, kvm_migrn_workaround_cavium_tx2_219_tvm },
	{ MIGRN_SAFE_CAP_WORKAROUND_CAVIUM_TX2_219_PRFM, kvm_migrn_workaround_cavium_tx2_219_prfm },
	{ MIGRN_SAFE_CAP_WORKAROUND_1542419, kvm_migrn_workaround_1542419 },
	{ MIGRN_SAFE_CAP_WORKAROUND_1508412, kvm_migrn_workaround_1508412 },
	{ MIGRN_SAFE_CAP_WORKAROUND_NVIDIA_CARMEL_CNP, kvm_migrn_workaround_nvidia_carmel_cnp },
	{ MIGRN_SAFE_CAP_WORKAROUND_TRBE_OVERWRITE_FILL_MODE,
	  kvm_migrn_workaround_trbe_overwrite_fill_mode },
	{ MIGRN_SAFE_CAP_WORKAROUND_TSB_FLUSH_FAILURE, kvm_migrn_workaround_tsb_flush_failure },
	{ MIGRN_SAFE_CAP_WORKAROUND_TRBE_WRITE_OUT_OF_RANGE,
	  kvm_migrn_workaround_trbe_write_out_of_range },
	{ MIGRN_SAFE_CAP_WORKAROUND_2645198, kvm_migrn_workaround_2645198 },
	{ MIGRN_SAFE_CAP_WORKAROUND_2077057, kvm_migrn_workaround_2077057 },
	{ MIGRN_SAFE_CAP_WORKAROUND_2064142, kvm_migrn_workaround_2064142 },
	{ MIGRN_SAFE_CAP_WORKAROUND_BROKEN_AMU_CONSTCNT, kvm_migrn_workaround_broken_amu_constcnt },
	{ MIGRN_SAFE_CAP_WORKAROUND_2038923, kvm_migrn_workaround_2038923 },
	{ MIGRN_SAFE_CAP_WORKAROUND_1902691, kvm_migrn_workaround_1902691 },
	{ MIGRN_SAFE_CAP_WORKAROUND_1742098, kvm_migrn_workaround_1742098 },
	{ MIGRN_SAFE_CAP_WORKAROUND_2658417, kvm_migrn_workaround_2658417 },
	{ MIGRN_SAFE_CAP_WORKAROUND_SPECULATIVE_SSBS, kvm_migrn_workaround_speculative_ssbs },
	{ MIGRN_SAFE_CAP_WORKAROUND_SPECULATIVE_UNPRIV_LOAD,
	  kvm_migrn_workaround_speculative_unpriv_load },
	{ MIGRN_SAFE_CAP_WORKAROUND_AMPERE_AC03_CPU_38, kvm_migrn_workaround_ampere_ac03_cpu_38 },
	{ MIGRN_SAFE_CAP_WORKAROUND_162100125, kvm_migrn_workaround_162100125 },
	{ MIGRN_SAFE_CAP_WORKAROUND_NVIDIA_OLYMPUS_1027, kvm_migrn_workaround_nvidia_olympus_1027 },
	{ MIGRN_SAFE_CAP_WORKAROUND_4193714, kvm_migrn_workaround_4193714 },
	{ MIGRN_SAFE_CAP_WORKAROUND_AMPERE_AC04_CPU_23, kvm_migrn_workaround_ampere_ac04_cpu_23 },
	{ MIGRN_SAFE_CAP_WORKAROUND_QCOM_ORYON_CNTVOFF, kvm_migrn_workaround_qcom_oryon_cntvoff },
	{},
};

/*
 * midr_is_cpu_model_range(), but comparing only the part number bits in
 * part_mask, as the kernel's part-family matcher (is_kryo_midr) does, and
 * then the REVIDR fixes, as is_affected_midr_range() does.
 */
static inline bool kvm_migrn_match_cpu(const struct kvm_migrn_match *m,
				       u32 midr, u32 revidr)
{
	u32 model_mask = MIDR_IMPLEMENTOR_MASK | MIDR_ARCHITECTURE_MASK |
			 (m->part_mask << MIDR_PARTNUM_SHIFT);
	u32 rv = midr & (MIDR_VARIANT_MASK | MIDR_REVISION_MASK);
	const struct arm64_midr_revidr *fix;

	if ((midr & model_mask) != (m->range.model & model_mask))
		return false;
	if (rv < m->range.rv_min || rv > m->range.rv_max)
		return false;
	for (fix = m->fixed_revs; fix && fix->revidr_mask; fix++)
		if (rv == fix->midr_rv && (revidr & fix->revidr_mask))
			return false;
	return true;
}

/* Set in regs[] the bit of every erratum any of the nr CPUs has. */
static inline void kvm_migrn_errata_fill(const struct kvm_migrn_cpu *cpus,
					 unsigned int nr,
					 u64 regs[KVM_MIGRN_ERRATA_REGS])
{
	const struct kvm_migrn_erratum *e;
	const struct kvm_migrn_match *m;
	unsigned int i;

	for (i = 0; i < KVM_MIGRN_ERRATA_REGS; i++)
		regs[i] = 0;
	for (e = kvm_migrn_errata; e->matches; e++) {
		for (m = e->matches; m->range.model; m++) {
			for (i = 0; i < nr; i++) {
				if (kvm_migrn_match_cpu(m, cpus[i].midr,
							cpus[i].revidr))
					break;
			}
			if (i < nr) {
				regs[e->bit / KVM_MIGRN_ERRATA_REG_BITS] |=
					BIT_ULL(e->bit % KVM_MIGRN_ERRATA_REG_BITS);
				break;
			}
		}
	}
}

#endif /* __ARM64_KVM_MIGRN_ERRATA_TABLE_H */
