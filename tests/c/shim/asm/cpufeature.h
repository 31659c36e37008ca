/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test shim: the kernel declares struct arm64_midr_revidr (the REVIDR fixes
 * of an erratum) inside struct arm64_cpu_capabilities; a struct declared
 * there has file scope, which the generated KVM header relies on.
 */
#ifndef SHIM_ASM_CPUFEATURE_H
#define SHIM_ASM_CPUFEATURE_H

#include <linux/types.h>

struct arm64_cpu_capabilities {
	const struct arm64_midr_revidr {
		u32 midr_rv;
		u32 revidr_mask;
	} *fixed_revs;
};

#endif
