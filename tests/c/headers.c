// SPDX-License-Identifier: GPL-2.0-only
/*
 * Compile test of both generated headers against the kernel-type shim, and a
 * dump of what they define, for the test to compare with the registry:
 *
 *   cap BIT CPUCAP        one line per migrn_safe_caps[] entry
 *   kvm BIT               one line per kvm_migrn_errata[] entry
 *   reg BIT REG MASK      MIGRN_SAFE_CAP_REG / _REG_MASK of a few bits
 */
#include <stdio.h>

#include <asm/migrn_errata.h>
#include <asm/migrn_errata.h>	/* the include guard must hold */
#include "migrn_errata_table.h"
#include "migrn_errata_table.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void reg(unsigned int bit)
{
	printf("reg %u %u %llx\n", bit, (unsigned int)MIGRN_SAFE_CAP_REG(bit),
	       (unsigned long long)MIGRN_SAFE_CAP_REG_MASK(bit));
}

int main(void)
{
	const struct kvm_migrn_erratum *e;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(migrn_safe_caps); i++)
		printf("cap %u %u\n", migrn_safe_caps[i].bit, migrn_safe_caps[i].cpucap);
	for (e = kvm_migrn_errata; e->matches; e++)
		printf("kvm %u\n", e->bit);
	reg(0);
	reg(63);
	reg(64);
	reg(70);
	reg(191);
	reg(255);
	return 0;
}
