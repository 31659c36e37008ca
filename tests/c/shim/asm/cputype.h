/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test shim: the MIDR layout and range types of the kernel's <asm/cputype.h>,
 * written from the Arm ARM's MIDR_EL1 description. It deliberately defines
 * only a few CPU models, so that the generated fallbacks are exercised.
 */
#ifndef SHIM_ASM_CPUTYPE_H
#define SHIM_ASM_CPUTYPE_H

#include <linux/types.h>

#define MIDR_REVISION_MASK	0xfU
#define MIDR_PARTNUM_SHIFT	4
#define MIDR_PARTNUM_MASK	(0xfffU << MIDR_PARTNUM_SHIFT)
#define MIDR_ARCHITECTURE_SHIFT	16
#define MIDR_ARCHITECTURE_MASK	(0xfU << MIDR_ARCHITECTURE_SHIFT)
#define MIDR_VARIANT_SHIFT	20
#define MIDR_VARIANT_MASK	(0xfU << MIDR_VARIANT_SHIFT)
#define MIDR_IMPLEMENTOR_SHIFT	24
#define MIDR_IMPLEMENTOR_MASK	(0xffU << MIDR_IMPLEMENTOR_SHIFT)

#define MIDR_CPU_MODEL(imp, partnum) \
	((u32)(((imp) << MIDR_IMPLEMENTOR_SHIFT) | (0xfU << MIDR_ARCHITECTURE_SHIFT) | \
	       ((partnum) << MIDR_PARTNUM_SHIFT)))
#define MIDR_CPU_VAR_REV(var, rev) (((var) << MIDR_VARIANT_SHIFT) | (rev))

struct midr_range {
	u32 model;
	u32 rv_min;
	u32 rv_max;
};

#define MIDR_RANGE(m, v_min, r_min, v_max, r_max)		\
	{							\
		.model = m,					\
		.rv_min = MIDR_CPU_VAR_REV(v_min, r_min),	\
		.rv_max = MIDR_CPU_VAR_REV(v_max, r_max),	\
	}
#define MIDR_REV_RANGE(m, v, r_min, r_max) MIDR_RANGE(m, v, r_min, v, r_max)
#define MIDR_REV(m, v, r) MIDR_RANGE(m, v, r, v, r)
#define MIDR_ALL_VERSIONS(m) MIDR_RANGE(m, 0, 0, 0xf, 0xf)

#define MIDR_CORTEX_A53 MIDR_CPU_MODEL(0x41, 0xd03)
#define MIDR_CORTEX_A57 MIDR_CPU_MODEL(0x41, 0xd07)

#endif
