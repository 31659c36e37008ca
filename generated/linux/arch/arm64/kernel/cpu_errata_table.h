/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The errata tables of arch/arm64/kernel/cpu_errata.c: the MIDR range lists,
 * the match lists and arm64_errata[]. The matchers and enable functions they
 * name are cpu_errata.c's own.
 *
 * Generated from errata-db/ by errata-db, do not edit.
 *
 * It defines the tables, so only cpu_errata.c includes it.
 */
#ifndef __ARM64_KERNEL_CPU_ERRATA_TABLE_H
#define __ARM64_KERNEL_CPU_ERRATA_TABLE_H

#ifdef CONFIG_ARM64_WORKAROUND_CLEAN_CACHE
static const struct midr_range workaround_clean_cache_list[] = {
#if defined(CONFIG_ARM64_ERRATUM_826319) || \
	defined(CONFIG_ARM64_ERRATUM_827319) || \
	defined(CONFIG_ARM64_ERRATUM_824069)
	MIDR_REV_RANGE(MIDR_CORTEX_A53, 0, 0, 2),
#endif
#ifdef CONFIG_ARM64_ERRATUM_819472
	MIDR_REV_RANGE(MIDR_CORTEX_A53, 0, 0, 1),
#endif
	{},
};
#endif

#ifdef CONFIG_ARM64_ERRATUM_843419
static const struct arm64_cpu_capabilities workaround_843419_list[] = {
	{
		ERRATA_MIDR_REV_RANGE(MIDR_CORTEX_A53, 0, 0, 4),
		MIDR_FIXED(MIDR_CPU_VAR_REV(0, 4), BIT(8)),
	},
	{
		ERRATA_MIDR_REV(MIDR_BRAHMA_B53, 0, 0),
	},
	{},
};
#endif

#ifdef CONFIG_ARM64_ERRATUM_845719
static const struct midr_range workaround_845719_list[] = {
	MIDR_REV_RANGE(MIDR_CORTEX_A53, 0, 0, 4),
	MIDR_REV(MIDR_BRAHMA_B53, 0, 0),
	MIDR_REV(MIDR_QCOM_KRYO_2XX_SILVER, 10, 4),
	{},
};
#endif

#ifdef CONFIG_CAVIUM_ERRATUM_23154
static const struct midr_range workaround_cavium_23154_list[] = {
	MIDR_ALL_VERSIONS(MIDR_THUNDERX),
	MIDR_ALL_VERSIONS(MIDR_THUNDERX_81XX),
	MIDR_ALL_VERSIONS(MIDR_THUNDERX_83XX),
	MIDR_ALL_VERSIONS(MIDR_OCTX2_98XX),
	MIDR_ALL_VERSIONS(MIDR_OCTX2_96XX),
	MIDR_ALL_VERSIONS(MIDR_OCTX2_95XX),
	MIDR_ALL_VERSIONS(MIDR_OCTX2_95XXN),
	MIDR_ALL_VERSIONS(MIDR_OCTX2_95XXMM),
	MIDR_ALL_VERSIONS(MIDR_OCTX2_95XXO),
	{},
};
#endif

#ifdef CONFIG_CAVIUM_ERRATUM_27456
static const struct midr_range cavium_erratum_27456_cpus[] = {
	MIDR_RANGE(MIDR_THUNDERX, 0, 0, 1, 1),
	MIDR_REV(MIDR_THUNDERX_81XX, 0, 0),
	{},
};
#endif

#ifdef CONFIG_CAVIUM_ERRATUM_30115
static const struct midr_range workaround_cavium_30115_list[] = {
	MIDR_RANGE(MIDR_THUNDERX, 0, 0, 1, 2),
	MIDR_REV_RANGE(MIDR_THUNDERX_81XX, 0, 0, 2),
	MIDR_REV(MIDR_THUNDERX_83XX, 0, 0),
	{},
};
#endif

#ifdef CONFIG_QCOM_FALKOR_ERRATUM_1003
static const struct arm64_cpu_capabilities workaround_qcom_falkor_e1003_list[] = {
	{
		ERRATA_MIDR_REV(MIDR_QCOM_FALKOR_V1, 0, 0),
	},
	{
		.midr_range.model = MIDR_QCOM_KRYO,
		.matches = is_kryo_midr,
	},
	{},
};
#endif

#ifdef CONFIG_ARM64_WORKAROUND_REPEAT_TLBI_SYNC
static const struct arm64_cpu_capabilities workaround_repeat_tlbi_list[] = {
#ifdef CONFIG_QCOM_FALKOR_ERRATUM_1009
	{
		ERRATA_MIDR_REV(MIDR_QCOM_FALKOR_V1, 0, 0),
	},
	{
		.midr_range.model = MIDR_QCOM_KRYO,
		.matches = is_kryo_midr,
	},
#endif
#ifdef CONFIG_ARM64_ERRATUM_1286807
	{
		ERRATA_MIDR_RANGE(MIDR_CORTEX_A76, 0, 0, 3, 0),
	},
	{
		ERRATA_MIDR_RANGE(MIDR_QCOM_KRYO_4XX_GOLD, 12, 14, 15, 14),
	},
#endif
#ifdef CONFIG_ARM64_ERRATUM_2441007
	{
		ERRATA_MIDR_ALL_VERSIONS(MIDR_CORTEX_A55),
	},
#endif
#ifdef CONFIG_ARM64_ERRATUM_2441009
	{
		ERRATA_MIDR_RANGE(MIDR_CORTEX_A510, 0, 0, 1, 1),
	},
#endif
#ifdef CONFIG_ARM64_ERRATUM_4118414
	{
		ERRATA_MIDR_RANGE_LIST(((const struct midr_range[]) {
			MIDR_ALL_VERSIONS(MIDR_C1_PREMIUM),
			MIDR_ALL_VERSIONS(MIDR_C1_ULTRA),
			MIDR_ALL_VERSIONS(MIDR_CORTEX_A76),
			MIDR_ALL_VERSIONS(MIDR_CORTEX_A76AE),
			MIDR_ALL_VERSIONS(MIDR_CORTEX_A77),
			MIDR_ALL_VERSIONS(MIDR_CORTEX_A78),
			MIDR_ALL_VERSIONS(MIDR_CORTEX_A78AE),
			MIDR_ALL_VERSIONS(MIDR_CORTEX_A78C),
			MIDR_ALL_VERSIONS(MIDR_CORTEX_A710),
			MIDR_ALL_VERSIONS(MIDR_CORTEX_X1),
			MIDR_ALL_VERSIONS(MIDR_CORTEX_X1C),
			MIDR_ALL_VERSIONS(MIDR_CORTEX_X2),
			MIDR_ALL_VERSIONS(MIDR_CORTEX_X3),
			MIDR_ALL_VERSIONS(MIDR_CORTEX_X4),
			MIDR_ALL_VERSIONS(MIDR_CORTEX_X925),
			MIDR_ALL_VERSIONS(MIDR_NEOVERSE_N1),
			MIDR_ALL_VERSIONS(MIDR_NEOVERSE_N2),
			MIDR_ALL_VERSIONS(MIDR_NEOVERSE_V1),
			MIDR_ALL_VERSIONS(MIDR_NEOVERSE_V2),
			MIDR_ALL_VERSIONS(MIDR_NEOVERSE_V3),
			MIDR_ALL_VERSIONS(MIDR_NEOVERSE_V3AE),
			MIDR_ALL_VERSIONS(MIDR_NVIDIA_OLYMPUS),
			MIDR_ALL_VERSIONS(MIDR_MICROSOFT_AZURE_COBALT_100),
			{}
		})),
	},
#endif
	{},
};
#endif

#ifdef CONFIG_ARM64_ERRATUM_1418040
static const struct midr_range workaround_1418040_list[] = {
	MIDR_RANGE(MIDR_CORTEX_A76, 0, 0, 3, 1),
	MIDR_RANGE(MIDR_NEOVERSE_N1, 0, 0, 3, 1),
	MIDR_RANGE(MIDR_QCOM_KRYO_4XX_GOLD, 12, 14, 15, 15),
	{},
};
#endif

#ifdef CONFIG_ARM64_WORKAROUND_SPECULATIVE_AT
static const struct midr_range workaround_speculative_at_list[] = {
#ifdef CONFIG_ARM64_ERRATUM_1165522
	MIDR_RANGE(MIDR_CORTEX_A76, 0, 0, 2, 0),
#endif
#ifdef CONFIG_ARM64_ERRATUM_1319367
	MIDR_ALL_VERSIONS(MIDR_CORTEX_A57),
	MIDR_ALL_VERSIONS(MIDR_CORTEX_A72),
#endif
#ifdef CONFIG_ARM64_ERRATUM_1530923
	MIDR_RANGE(MIDR_CORTEX_A55, 0, 0, 2, 0),
	MIDR_REV(MIDR_QCOM_KRYO_4XX_SILVER, 13, 14),
#endif
	{},
};
#endif

#ifdef CONFIG_ARM64_ERRATUM_1463225
static const struct midr_range workaround_1463225_list[] = {
	MIDR_RANGE(MIDR_CORTEX_A76, 0, 0, 3, 1),
	MIDR_RANGE(MIDR_QCOM_KRYO_4XX_GOLD, 12, 14, 15, 15),
	{},
};
#endif

#ifdef CONFIG_CAVIUM_TX2_ERRATUM_219
static const struct midr_range tx2_family_cpus[] = {
	MIDR_ALL_VERSIONS(MIDR_BRCM_VULCAN),
	MIDR_ALL_VERSIONS(MIDR_CAVIUM_THUNDERX2),
	{},
};
#endif

#ifdef CONFIG_ARM64_WORKAROUND_DISABLE_CNP
static const struct midr_range workaround_nvidia_carmel_cnp_list[] = {
#ifdef CONFIG_NVIDIA_CARMEL_CNP_ERRATUM
	MIDR_ALL_VERSIONS(MIDR_NVIDIA_CARMEL),
#endif
#ifdef CONFIG_HISILICON_ERRATUM_162100125
	MIDR_ALL_VERSIONS(MIDR_HISI_HIP09),
#endif
	{},
};
#endif

#ifdef CONFIG_ARM64_WORKAROUND_TRBE_OVERWRITE_FILL_MODE
static const struct midr_range workaround_trbe_overwrite_fill_mode_list[] = {
#ifdef CONFIG_ARM64_ERRATUM_2139208
	MIDR_ALL_VERSIONS(MIDR_NEOVERSE_N2),
	MIDR_ALL_VERSIONS(MIDR_MICROSOFT_AZURE_COBALT_100),
#endif
#ifdef CONFIG_ARM64_ERRATUM_2119858
	MIDR_ALL_VERSIONS(MIDR_CORTEX_A710),
	MIDR_RANGE(MIDR_CORTEX_X2, 0, 0, 2, 0),
#endif
	{},
};
#endif

#ifdef CONFIG_ARM64_WORKAROUND_TSB_FLUSH_FAILURE
static const struct midr_range workaround_tsb_flush_failure_list[] = {
#ifdef CONFIG_ARM64_ERRATUM_2067961
	MIDR_ALL_VERSIONS(MIDR_NEOVERSE_N2),
	MIDR_ALL_VERSIONS(MIDR_MICROSOFT_AZURE_COBALT_100),
#endif
#ifdef CONFIG_ARM64_ERRATUM_2054223
	MIDR_ALL_VERSIONS(MIDR_CORTEX_A710),
#endif
	{},
};
#endif

#ifdef CONFIG_ARM64_WORKAROUND_TRBE_WRITE_OUT_OF_RANGE
static const struct midr_range workaround_trbe_write_out_of_range_list[] = {
#ifdef CONFIG_ARM64_ERRATUM_2253138
	MIDR_ALL_VERSIONS(MIDR_NEOVERSE_N2),
	MIDR_ALL_VERSIONS(MIDR_MICROSOFT_AZURE_COBALT_100),
#endif
#ifdef CONFIG_ARM64_ERRATUM_2224489
	MIDR_ALL_VERSIONS(MIDR_CORTEX_A710),
	MIDR_RANGE(MIDR_CORTEX_X2, 0, 0, 2, 0),
#endif
	{},
};
#endif

#ifdef CONFIG_ARM64_WORKAROUND_BROKEN_AMU_CONSTCNT
static const struct midr_range workaround_broken_amu_constcnt_list[] = {
#ifdef CONFIG_ARM64_ERRATUM_2457168
	MIDR_RANGE(MIDR_CORTEX_A510, 0, 0, 1, 1),
#endif
#ifdef CONFIG_ARM64_ERRATUM_3821522
	MIDR_REV_RANGE(MIDR_CORTEX_A725, 0, 0, 2),
#endif
	{},
};
#endif

#ifdef CONFIG_ARM64_ERRATUM_1742098
static const struct midr_range workaround_1742098_list[] = {
	MIDR_RANGE(MIDR_CORTEX_A57, 0, 1, 15, 15),
	MIDR_ALL_VERSIONS(MIDR_CORTEX_A72),
	{},
};
#endif

#ifdef CONFIG_ARM64_ERRATUM_3194386
static const struct midr_range workaround_speculative_ssbs_list[] = {
	MIDR_ALL_VERSIONS(MIDR_CORTEX_A76),
	MIDR_ALL_VERSIONS(MIDR_CORTEX_A77),
	MIDR_ALL_VERSIONS(MIDR_CORTEX_A78),
	MIDR_ALL_VERSIONS(MIDR_CORTEX_A78C),
	MIDR_ALL_VERSIONS(MIDR_CORTEX_A710),
	MIDR_ALL_VERSIONS(MIDR_CORTEX_A715),
	MIDR_ALL_VERSIONS(MIDR_CORTEX_A720),
	MIDR_ALL_VERSIONS(MIDR_CORTEX_A720AE),
	MIDR_ALL_VERSIONS(MIDR_CORTEX_A725),
	MIDR_ALL_VERSIONS(MIDR_CORTEX_X1),
	MIDR_ALL_VERSIONS(MIDR_CORTEX_X1C),
	MIDR_ALL_VERSIONS(MIDR_CORTEX_X2),
	MIDR_ALL_VERSIONS(MIDR_CORTEX_X3),
	MIDR_ALL_VERSIONS(MIDR_CORTEX_X4),
	MIDR_ALL_VERSIONS(MIDR_CORTEX_X925),
	MIDR_ALL_VERSIONS(MIDR_MICROSOFT_AZURE_COBALT_100),
	MIDR_ALL_VERSIONS(MIDR_NEOVERSE_N1),
	MIDR_ALL_VERSIONS(MIDR_NEOVERSE_N2),
	MIDR_ALL_VERSIONS(MIDR_NEOVERSE_N3),
	MIDR_ALL_VERSIONS(MIDR_NEOVERSE_V1),
	MIDR_ALL_VERSIONS(MIDR_NEOVERSE_V2),
	MIDR_ALL_VERSIONS(MIDR_NEOVERSE_V3),
	MIDR_ALL_VERSIONS(MIDR_NEOVERSE_V3AE),
	{},
};
#endif

#ifdef CONFIG_ARM64_WORKAROUND_SPECULATIVE_UNPRIV_LOAD
static const struct midr_range workaround_speculative_unpriv_load_list[] = {
#ifdef CONFIG_ARM64_ERRATUM_3117295
	MIDR_ALL_VERSIONS(MIDR_CORTEX_A510),
#endif
#ifdef CONFIG_ARM64_ERRATUM_2966298
	MIDR_REV_RANGE(MIDR_CORTEX_A520, 0, 0, 1),
#endif
	{},
};
#endif

#ifdef CONFIG_AMPERE_ERRATUM_AC03_CPU_38
static const struct midr_range workaround_ampere_ac03_cpu_38_list[] = {
	MIDR_ALL_VERSIONS(MIDR_AMPERE1),
	MIDR_ALL_VERSIONS(MIDR_AMPERE1A),
	{},
};
#endif

#ifdef CONFIG_AMPERE_ERRATUM_AC04_CPU_23
static const struct midr_range workaround_ampere_ac04_cpu_23_list[] = {
	MIDR_ALL_VERSIONS(MIDR_AMPERE1A),
	{},
};
#endif

static const struct midr_range workaround_qcom_oryon_cntvoff_list[] = {
	MIDR_ALL_VERSIONS(MIDR_QCOM_ORYON_X1),
	{},
};

const struct arm64_cpu_capabilities arm64_errata[] = {
#ifdef CONFIG_ARM64_WORKAROUND_CLEAN_CACHE
	{
		.desc = "ARM errata 826319, 827319, 824069, or 819472",
		.capability = ARM64_WORKAROUND_CLEAN_CACHE,
		ERRATA_MIDR_RANGE_LIST(workaround_clean_cache_list),
		.cpu_enable = cpu_enable_cache_maint_trap,
	},
#endif
#ifdef CONFIG_ARM64_ERRATUM_832075
	{
		.desc = "ARM erratum 832075",
		.capability = ARM64_WORKAROUND_DEVICE_LOAD_ACQUIRE,
		ERRATA_MIDR_RANGE(MIDR_CORTEX_A57, 0, 0, 1, 2),
	},
#endif
#ifdef CONFIG_ARM64_ERRATUM_834220
	{
		.desc = "ARM erratum 834220",
		.capability = ARM64_WORKAROUND_834220,
		ERRATA_MIDR_RANGE(MIDR_CORTEX_A57, 0, 0, 1, 2),
	},
#endif
#ifdef CONFIG_ARM64_ERRATUM_843419
	{
		.desc = "ARM erratum 843419",
		.capability = ARM64_WORKAROUND_843419,
		.type = ARM64_CPUCAP_LOCAL_CPU_ERRATUM,
		.matches = cpucap_multi_entry_cap_matches,
		.match_list = workaround_843419_list,
	},
#endif
#ifdef CONFIG_ARM64_ERRATUM_845719
	{
		.desc = "ARM erratum 845719",
		.capability = ARM64_WORKAROUND_845719,
		ERRATA_MIDR_RANGE_LIST(workaround_845719_list),
	},
#endif
#ifdef CONFIG_CAVIUM_ERRATUM_23154
	{
		.desc = "Cavium errata 23154 and 38545",
		.capability = ARM64_WORKAROUND_CAVIUM_23154,
		ERRATA_MIDR_RANGE_LIST(workaround_cavium_23154_list),
	},
#endif
#ifdef CONFIG_CAVIUM_ERRATUM_27456
	{
		.desc = "Cavium erratum 27456",
		.capability = ARM64_WORKAROUND_CAVIUM_27456,
		ERRATA_MIDR_RANGE_LIST(cavium_erratum_27456_cpus),
	},
#endif
#ifdef CONFIG_CAVIUM_ERRATUM_30115
	{
		.desc = "Cavium erratum 30115",
		.capability = ARM64_WORKAROUND_CAVIUM_30115,
		ERRATA_MIDR_RANGE_LIST(workaround_cavium_30115_list),
	},
#endif
	{
		.desc = "Mismatched cache type (CTR_EL0)",
		.capability = ARM64_MISMATCHED_CACHE_TYPE,
		.type = ARM64_CPUCAP_LOCAL_CPU_ERRATUM,
		.matches = has_mismatched_cache_type,
		.cpu_enable = cpu_enable_trap_ctr_access,
	},
#ifdef CONFIG_QCOM_FALKOR_ERRATUM_1003
	{
		.desc = "Qualcomm Technologies Falkor/Kryo erratum 1003",
		.capability = ARM64_WORKAROUND_QCOM_FALKOR_E1003,
		.type = ARM64_CPUCAP_LOCAL_CPU_ERRATUM,
		.matches = cpucap_multi_entry_cap_matches,
		.match_list = workaround_qcom_falkor_e1003_list,
	},
#endif
#ifdef CONFIG_ARM64_WORKAROUND_REPEAT_TLBI_SYNC
	{
		.desc = "Broken broadcast TLBI completion",
		.capability = ARM64_WORKAROUND_REPEAT_TLBI_SYNC,
		.type = ARM64_CPUCAP_LOCAL_CPU_ERRATUM,
		.matches = cpucap_multi_entry_cap_matches,
		.match_list = workaround_repeat_tlbi_list,
	},
#endif
#ifdef CONFIG_ARM64_ERRATUM_858921
	{
		.desc = "ARM erratum 858921",
		.capability = ARM64_WORKAROUND_858921,
		ERRATA_MIDR_ALL_VERSIONS(MIDR_CORTEX_A73),
	},
#endif
	{
		.desc = "Spectre-v2",
		.capability = ARM64_SPECTRE_V2,
		.type = ARM64_CPUCAP_LOCAL_CPU_ERRATUM,
		.matches = has_spectre_v2,
		.cpu_enable = spectre_v2_enable_mitigation,
	},
#ifdef CONFIG_RANDOMIZE_BASE
	{
		.desc = "Spectre-v3a",
		.capability = ARM64_SPECTRE_V3A,
		.type = ARM64_CPUCAP_LOCAL_CPU_ERRATUM,
		.matches = has_spectre_v3a,
		.cpu_enable = spectre_v3a_enable_mitigation,
	},
#endif
	{
		.desc = "Spectre-v4",
		.capability = ARM64_SPECTRE_V4,
		.type = ARM64_CPUCAP_LOCAL_CPU_ERRATUM,
		.matches = has_spectre_v4,
		.cpu_enable = spectre_v4_enable_mitigation,
	},
	{
		.desc = "Spectre-BHB",
		.capability = ARM64_SPECTRE_BHB,
		.type = ARM64_CPUCAP_LOCAL_CPU_ERRATUM,
		.matches = is_spectre_bhb_affected,
		.cpu_enable = spectre_bhb_enable_mitigation,
	},
#ifdef CONFIG_ARM64_ERRATUM_1418040
	{
		.desc = "ARM erratum 1418040",
		.capability = ARM64_WORKAROUND_1418040,
		.type = ARM64_CPUCAP_WEAK_LOCAL_CPU_FEATURE,
		.matches = is_affected_midr_range_list,
		.midr_range_list = workaround_1418040_list,
	},
#endif
#ifdef CONFIG_ARM64_WORKAROUND_SPECULATIVE_AT
	{
		.desc = "ARM errata 1165522, 1319367, or 1530923",
		.capability = ARM64_WORKAROUND_SPECULATIVE_AT,
		ERRATA_MIDR_RANGE_LIST(workaround_speculative_at_list),
	},
#endif
#ifdef CONFIG_ARM64_ERRATUM_1463225
	{
		.desc = "ARM erratum 1463225",
		.capability = ARM64_WORKAROUND_1463225,
		.type = ARM64_CPUCAP_LOCAL_CPU_ERRATUM,
		.matches = has_cortex_a76_erratum_1463225,
		.midr_range_list = workaround_1463225_list,
	},
#endif
#ifdef CONFIG_CAVIUM_TX2_ERRATUM_219
	{
		.desc = "Cavium ThunderX2 erratum 219 (KVM guest sysreg trapping)",
		.capability = ARM64_WORKAROUND_CAVIUM_TX2_219_TVM,
		.type = ARM64_CPUCAP_LOCAL_CPU_ERRATUM,
		.matches = needs_tx2_tvm_workaround,
		.midr_range_list = tx2_family_cpus,
	},
#endif
#ifdef CONFIG_CAVIUM_TX2_ERRATUM_219
	{
		.desc = "Cavium ThunderX2 erratum 219 (PRFM removal)",
		.capability = ARM64_WORKAROUND_CAVIUM_TX2_219_PRFM,
		ERRATA_MIDR_RANGE_LIST(tx2_family_cpus),
	},
#endif
#ifdef CONFIG_ARM64_ERRATUM_1542419
	{
		.desc = "ARM erratum 1542419 (kernel portion)",
		.capability = ARM64_WORKAROUND_1542419,
		.type = ARM64_CPUCAP_LOCAL_CPU_ERRATUM,
		.matches = has_neoverse_n1_erratum_1542419,
		.cpu_enable = cpu_enable_trap_ctr_access,
	},
#endif
#ifdef CONFIG_ARM64_ERRATUM_1508412
	{
		.desc = "ARM erratum 1508412 (kernel portion)",
		.capability = ARM64_WORKAROUND_1508412,
		ERRATA_MIDR_RANGE(MIDR_CORTEX_A77, 0, 0, 1, 0),
	},
#endif
#ifdef CONFIG_ARM64_WORKAROUND_DISABLE_CNP
	{
		.desc = "NVIDIA Carmel CNP erratum, or Hisilicon erratum 162100125",
		.capability = ARM64_WORKAROUND_DISABLE_CNP,
		ERRATA_MIDR_RANGE_LIST(workaround_nvidia_carmel_cnp_list),
	},
#endif
#ifdef CONFIG_NVIDIA_OLYMPUS_1027_ERRATUM
	{
		.desc = "NVIDIA Olympus device store/load ordering erratum",
		.capability = ARM64_WORKAROUND_NVIDIA_OLYMPUS_1027,
		ERRATA_MIDR_ALL_VERSIONS(MIDR_NVIDIA_OLYMPUS),
	},
#endif
#ifdef CONFIG_ARM64_WORKAROUND_TRBE_OVERWRITE_FILL_MODE
	{
		.desc = "ARM erratum 2119858 or 2139208",
		.capability = ARM64_WORKAROUND_TRBE_OVERWRITE_FILL_MODE,
		.type = ARM64_CPUCAP_WEAK_LOCAL_CPU_FEATURE,
		.matches = is_affected_midr_range_list,
		.midr_range_list = workaround_trbe_overwrite_fill_mode_list,
	},
#endif
#ifdef CONFIG_ARM64_WORKAROUND_TSB_FLUSH_FAILURE
	{
		.desc = "ARM erratum 2067961 or 2054223",
		.capability = ARM64_WORKAROUND_TSB_FLUSH_FAILURE,
		ERRATA_MIDR_RANGE_LIST(workaround_tsb_flush_failure_list),
	},
#endif
#ifdef CONFIG_ARM64_WORKAROUND_TRBE_WRITE_OUT_OF_RANGE
	{
		.desc = "ARM erratum 2253138 or 2224489",
		.capability = ARM64_WORKAROUND_TRBE_WRITE_OUT_OF_RANGE,
		.type = ARM64_CPUCAP_WEAK_LOCAL_CPU_FEATURE,
		.matches = is_affected_midr_range_list,
		.midr_range_list = workaround_trbe_write_out_of_range_list,
	},
#endif
#ifdef CONFIG_ARM64_ERRATUM_2645198
	{
		.desc = "ARM erratum 2645198",
		.capability = ARM64_WORKAROUND_2645198,
		ERRATA_MIDR_ALL_VERSIONS(MIDR_CORTEX_A715),
	},
#endif
#ifdef CONFIG_ARM64_ERRATUM_2077057
	{
		.desc = "ARM erratum 2077057",
		.capability = ARM64_WORKAROUND_2077057,
		ERRATA_MIDR_REV_RANGE(MIDR_CORTEX_A510, 0, 0, 2),
	},
#endif
#ifdef CONFIG_ARM64_ERRATUM_2064142
	{
		.desc = "ARM erratum 2064142",
		.capability = ARM64_WORKAROUND_2064142,
		ERRATA_MIDR_REV_RANGE(MIDR_CORTEX_A510, 0, 0, 2),
	},
#endif
#ifdef CONFIG_ARM64_WORKAROUND_BROKEN_AMU_CONSTCNT
	{
		.desc = "Broken AMU AMEVCNTR01 (const counter)",
		.capability = ARM64_WORKAROUND_BROKEN_AMU_CONSTCNT,
		.type = ARM64_CPUCAP_WEAK_LOCAL_CPU_FEATURE,
		.matches = is_affected_midr_range_list,
		.midr_range_list = workaround_broken_amu_constcnt_list,
	},
#endif
#ifdef CONFIG_ARM64_ERRATUM_2038923
	{
		.desc = "ARM erratum 2038923",
		.capability = ARM64_WORKAROUND_2038923,
		ERRATA_MIDR_REV_RANGE(MIDR_CORTEX_A510, 0, 0, 2),
	},
#endif
#ifdef CONFIG_ARM64_ERRATUM_1902691
	{
		.desc = "ARM erratum 1902691",
		.capability = ARM64_WORKAROUND_1902691,
		ERRATA_MIDR_REV_RANGE(MIDR_CORTEX_A510, 0, 0, 1),
	},
#endif
#ifdef CONFIG_ARM64_ERRATUM_1742098
	{
		.desc = "ARM erratum 1742098",
		.capability = ARM64_WORKAROUND_1742098,
		ERRATA_MIDR_RANGE_LIST(workaround_1742098_list),
	},
#endif
#ifdef CONFIG_ARM64_ERRATUM_2658417
	{
		.desc = "ARM erratum 2658417",
		.capability = ARM64_WORKAROUND_2658417,
		ERRATA_MIDR_RANGE(MIDR_CORTEX_A510, 0, 0, 1, 1),
		MIDR_FIXED(MIDR_CPU_VAR_REV(1, 1), BIT(25)),
	},
#endif
#ifdef CONFIG_ARM64_ERRATUM_3194386
	{
		.desc = "SSBS not fully self-synchronizing",
		.capability = ARM64_WORKAROUND_SPECULATIVE_SSBS,
		ERRATA_MIDR_RANGE_LIST(workaround_speculative_ssbs_list),
	},
#endif
#ifdef CONFIG_ARM64_ERRATUM_4311569
	{
		.capability = ARM64_WORKAROUND_4311569,
		.type = ARM64_CPUCAP_SYSTEM_FEATURE,
		.matches = need_arm_si_l1_workaround_4311569,
	},
#endif
#ifdef CONFIG_ARM64_ERRATUM_4193714
	{
		.desc = "C1-Pro SME DVMSync early acknowledgement",
		.capability = ARM64_WORKAROUND_4193714,
		.type = ARM64_CPUCAP_LOCAL_CPU_ERRATUM,
		.matches = has_sme_dvmsync_erratum,
		.midr_range = MIDR_RANGE(MIDR_C1_PRO, 0, 0, 1, 2),
		MIDR_FIXED(MIDR_CPU_VAR_REV(1, 2), BIT(0)),
		.cpu_enable = cpu_enable_sme_dvmsync,
	},
#endif
#ifdef CONFIG_ARM64_WORKAROUND_SPECULATIVE_UNPRIV_LOAD
	{
		.desc = "ARM errata 2966298, 3117295",
		.capability = ARM64_WORKAROUND_SPECULATIVE_UNPRIV_LOAD,
		ERRATA_MIDR_RANGE_LIST(workaround_speculative_unpriv_load_list),
	},
#endif
#ifdef CONFIG_AMPERE_ERRATUM_AC03_CPU_38
	{
		.desc = "AmpereOne erratum AC03_CPU_38",
		.capability = ARM64_WORKAROUND_AMPERE_AC03_CPU_38,
		ERRATA_MIDR_RANGE_LIST(workaround_ampere_ac03_cpu_38_list),
	},
#endif
#ifdef CONFIG_AMPERE_ERRATUM_AC04_CPU_23
	{
		.desc = "AmpereOne erratum AC04_CPU_23",
		.capability = ARM64_WORKAROUND_AMPERE_AC04_CPU_23,
		ERRATA_MIDR_RANGE_LIST(workaround_ampere_ac04_cpu_23_list),
	},
#endif
	{
		.desc = "Broken CNTVOFF_EL2",
		.capability = ARM64_WORKAROUND_QCOM_ORYON_CNTVOFF,
		ERRATA_MIDR_RANGE_LIST(workaround_qcom_oryon_cntvoff_list),
	},
	{
		.desc = "Apple IMPDEF PMUv3 Traps",
		.capability = ARM64_WORKAROUND_PMUV3_IMPDEF_TRAPS,
		.type = ARM64_CPUCAP_LOCAL_CPU_ERRATUM,
		.matches = has_impdef_pmuv3,
		.cpu_enable = cpu_enable_impdef_pmuv3_traps,
	},
	{
		.desc = "Known broken GICv3 SEIS implementation",
		.capability = ARM64_WORKAROUND_GICv3_BROKEN_SEIS,
		.type = ARM64_CPUCAP_SYSTEM_FEATURE,
		.matches = has_broken_gic_v3_seis,
	},
	{
	}
};

#endif /* __ARM64_KERNEL_CPU_ERRATA_TABLE_H */
