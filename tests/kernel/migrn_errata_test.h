/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The functions of migrn_errata_test.c: non-static, so the compiler must emit
 * them and every table they reach, declared here so W=1's
 * -Wmissing-prototypes is satisfied.
 */
#ifndef __ARM64_KVM_MIGRN_ERRATA_TEST_H
#define __ARM64_KVM_MIGRN_ERRATA_TEST_H

#include <linux/types.h>

#include "migrn_errata_table.h"

void migrn_errata_test_fill(const struct kvm_migrn_cpu *cpus, unsigned int nr,
			    u64 regs[KVM_MIGRN_ERRATA_REGS]);
void migrn_errata_test_guest_caps(const u64 regs[KVM_MIGRN_ERRATA_REGS],
				  unsigned long *caps);
unsigned int migrn_errata_test_count_ranges(void);
bool migrn_errata_test_check_tables(void);

#endif /* __ARM64_KVM_MIGRN_ERRATA_TEST_H */
