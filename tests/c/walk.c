// SPDX-License-Identifier: GPL-2.0-only
/*
 * Differential test driver: run the generated KVM walker on CPUs read from
 * stdin and print the R0-R3 it computes, one line of four hex values each.
 *
 *   walk single   each line: MIDR REVIDR            (one CPU)
 *   walk multi    each line: N MIDR REVIDR ...      (N CPUs, 1 <= N <= 8)
 *
 * All numbers are hex, with or without 0x. A malformed line exits 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrn_errata_table.h"

static_assert(KVM_MIGRN_ERRATA_REGS == 4);
static_assert(KVM_MIGRN_ERRATA_REG_BITS == 64);

#define MAX_CPUS 8

static int parse_u32(char **pos, u32 *out)
{
	char *end;
	unsigned long long v = strtoull(*pos, &end, 16);

	if (end == *pos || v > 0xffffffffULL)
		return -1;
	*out = (u32)v;
	*pos = end;
	return 0;
}

static void print_regs(const u64 regs[KVM_MIGRN_ERRATA_REGS])
{
	printf("%016llx %016llx %016llx %016llx\n",
	       (unsigned long long)regs[0], (unsigned long long)regs[1],
	       (unsigned long long)regs[2], (unsigned long long)regs[3]);
}

int main(int argc, char **argv)
{
	char line[4096];
	unsigned long lineno = 0;
	int multi;

	if (argc != 2 || (strcmp(argv[1], "single") && strcmp(argv[1], "multi"))) {
		fprintf(stderr, "usage: walk single|multi < cpus\n");
		return 2;
	}
	multi = !strcmp(argv[1], "multi");

	while (fgets(line, sizeof(line), stdin)) {
		struct kvm_migrn_cpu cpus[MAX_CPUS];
		u64 regs[KVM_MIGRN_ERRATA_REGS];
		char *pos = line;
		u32 nr = 1, i;

		lineno++;
		if (multi && (parse_u32(&pos, &nr) || nr < 1 || nr > MAX_CPUS))
			goto bad;
		for (i = 0; i < nr; i++)
			if (parse_u32(&pos, &cpus[i].midr) ||
			    parse_u32(&pos, &cpus[i].revidr))
				goto bad;
		while (*pos == ' ' || *pos == '\t' || *pos == '\r' || *pos == '\n')
			pos++;
		if (*pos)
			goto bad;
		/* Poison regs[]: the walker must clear them itself. */
		memset(regs, 0xa5, sizeof(regs));
		kvm_migrn_errata_fill(cpus, nr, regs);
		print_regs(regs);
	}
	return ferror(stdin) ? 1 : 0;
bad:
	fprintf(stderr, "walk: line %lu: malformed: %s", lineno, line);
	return 2;
}
