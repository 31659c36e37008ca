// SPDX-License-Identifier: GPL-2.0-only
/*
 * Build test of the errata-db generated headers inside a real arm64 tree.
 *
 * tests/test_kernel_tree.py copies this file and migrn_errata_test.h to
 * arch/arm64/kvm/, next to migrn_errata_table.h, puts migrn_errata.h in
 * arch/arm64/include/asm/ and builds this one object with the kernel's own
 * flags (plain and W=1, with -Werror). It is never linked: it only has to
 * compile without a warning.
 *
 * Every table of both headers is reached from a non-static function, so the
 * compiler sees them all used (nothing unused, nothing discarded unseen):
 * migrn_safe_caps directly, kvm_migrn_errata both directly and through
 * kvm_migrn_errata_fill(), and thereby every per-erratum match array and
 * every REVIDR fixes array.
 *
 * A wrapper may #undef <asm/cputype.h> MIDR_* models before including this
 * file, to build the header's own fallback definitions instead.
 *
 * MIGRN_ERRATA_TEST_LACKING is the number of active bits whose cpucap the
 * tree lacks (a tree older than the registry): `errata-db install` leaves them
 * out of migrn_safe_caps[], while KVM still matches them. The test defines it
 * for the tree at hand; 0 by default.
 */
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/build_bug.h>
#include <linux/kernel.h>
#include <linux/types.h>
#include <asm/cpucaps.h>
#include <asm/cputype.h>
#include <asm/migrn_errata.h>

#include "migrn_errata_table.h"
#include "migrn_errata_test.h"

#ifndef MIGRN_ERRATA_TEST_LACKING
#define MIGRN_ERRATA_TEST_LACKING 0
#endif

/* Both headers agree on the register layout of the bitmap. */
static_assert(MIGRN_SAFE_CAP_REG_BITS == KVM_MIGRN_ERRATA_REG_BITS);
static_assert(MIGRN_SAFE_CAP_REG_BITS == 64);
static_assert(MIGRN_SAFE_CAP_REG(0) == 0);
static_assert(MIGRN_SAFE_CAP_REG(MIGRN_SAFE_CAP_REG_BITS) == 1);
static_assert(MIGRN_SAFE_CAP_REG_MASK(MIGRN_SAFE_CAP_REG_BITS + 3) == BIT_ULL(3));
/* One guest cpucap per erratum KVM matches, but for those the tree has no cpucap for. */
static_assert(ARRAY_SIZE(kvm_migrn_errata) ==
	      ARRAY_SIZE(migrn_safe_caps) + 1 + MIGRN_ERRATA_TEST_LACKING);

/* The KVM side: which bits the VM gets for these target CPUs. */
void migrn_errata_test_fill(const struct kvm_migrn_cpu *cpus, unsigned int nr,
			    u64 regs[KVM_MIGRN_ERRATA_REGS])
{
	kvm_migrn_errata_fill(cpus, nr, regs);
}

/* The guest side: the cpucaps (a bitmap of ARM64_NCAPS bits) those bits enable. */
void migrn_errata_test_guest_caps(const u64 regs[KVM_MIGRN_ERRATA_REGS],
				  unsigned long *caps)
{
	unsigned int i;

	bitmap_zero(caps, ARM64_NCAPS);
	for (i = 0; i < ARRAY_SIZE(migrn_safe_caps); i++) {
		const struct migrn_safe_cap *c = &migrn_safe_caps[i];

		if (regs[MIGRN_SAFE_CAP_REG(c->bit)] & MIGRN_SAFE_CAP_REG_MASK(c->bit))
			__set_bit(c->cpucap, caps);
	}
}

/* Every match entry and REVIDR fix of every erratum. */
unsigned int migrn_errata_test_count_ranges(void)
{
	const struct kvm_migrn_erratum *e;
	const struct kvm_migrn_match *m;
	const struct arm64_midr_revidr *f;
	unsigned int n = 0;

	for (e = kvm_migrn_errata; e->matches; e++)
		for (m = e->matches; m->range.model; m++) {
			n++;
			for (f = m->fixed_revs; f && f->revidr_mask; f++)
				n++;
		}
	return n;
}

/*
 * Every bit fits the registers, and the two tables list the bits in one order
 * (the guest's skipping exactly MIGRN_ERRATA_TEST_LACKING of KVM's).
 */
bool migrn_errata_test_check_tables(void)
{
	unsigned int i, k = 0;

	for (i = 0; i < ARRAY_SIZE(migrn_safe_caps); i++, k++) {
		while (kvm_migrn_errata[k].matches &&
		       kvm_migrn_errata[k].bit != migrn_safe_caps[i].bit)
			k++;
		if (!kvm_migrn_errata[k].matches)
			return false;
		if (MIGRN_SAFE_CAP_REG(migrn_safe_caps[i].bit) >= KVM_MIGRN_ERRATA_REGS)
			return false;
		if (migrn_safe_caps[i].cpucap >= ARM64_NCAPS)
			return false;
	}
	while (kvm_migrn_errata[k].matches)
		k++;
	return k == ARRAY_SIZE(migrn_safe_caps) + MIGRN_ERRATA_TEST_LACKING;
}
