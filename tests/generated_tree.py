"""Small Linux trees written from a registry: their cpu_errata.c is the kernel table errata-db
generates from it, so a tree's errata are known exactly (tests of import and risk)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from fake_linux import RST, cputype, grid_table

from errata_db.render import render
from errata_db.resources import templates_dir
from errata_db.targets.kernel_tables import TARGET

# The matchers the bundled registry's rows name, as Linux 7.3 writes them: import reads what
# each requires of its row's ranges, and has_neoverse_n1_erratum_1542419 keeps its range in its
# body.
MATCHERS = """
static bool
has_cortex_a76_erratum_1463225(const struct arm64_cpu_capabilities *entry,
			       int scope)
{
	return is_affected_midr_range_list(entry, scope) && is_kernel_in_hyp_mode();
}

static bool __maybe_unused
needs_tx2_tvm_workaround(const struct arm64_cpu_capabilities *entry,
			 int scope)
{
	int i;

	if (!is_affected_midr_range_list(entry, scope) ||
	    !is_hyp_mode_available())
		return false;

	for_each_possible_cpu(i) {
		if (MPIDR_AFFINITY_LEVEL(cpu_logical_map(i), 0) != 0)
			return true;
	}

	return false;
}

static bool has_neoverse_n1_erratum_1542419(const struct arm64_cpu_capabilities *entry, int scope)
{
	const struct midr_range range = MIDR_ALL_VERSIONS(MIDR_NEOVERSE_N1);

	return is_midr_in_range(read_cpuid_id(), &range);
}

static bool has_sme_dvmsync_erratum(const struct arm64_cpu_capabilities *entry,
				    int scope)
{
	if (!id_aa64pfr1_sme(read_sanitised_ftr_reg(SYS_ID_AA64PFR1_EL1)))
		return false;

	return is_affected_midr_range(entry, scope);
}
"""


def table(reg) -> str:
    return render(reg, {TARGET.name: TARGET}, templates_dir())[TARGET.path]


def rst_rows(reg) -> list[tuple[str, str, str, str]]:
    rows = []
    for e in reg.errata:
        for a in e.affects:
            ids = a.errata_ids or e.errata_ids
            if not a.guard and not e.kconfig:
                continue  # no option guards it: no rst row, as for Oryon's CNTVOFF in Linux 7.3
            option = a.guard[0] if a.guard else e.kconfig[0]
            rows.append((e.vendor, a.cpu.name, ",".join(i if i == "N/A" else f"#{i}" for i in ids), option))
    return list(dict.fromkeys(rows))


def write_tree(root: Path, reg) -> Path:
    options = sorted({k for e in reg.errata for k in (*e.kconfig, *(e.kernel.guard or ()))}
                     | {g for n in reg.not_covered for g in n.guard})
    files = {
        "Makefile": "VERSION = 6\nPATCHLEVEL = 99\nSUBLEVEL = 0\nEXTRAVERSION =\n",
        "arch/arm64/Kconfig": "".join(f'config {k}\n\tbool "{k.replace("_", " ").lower()}"\n\n'
                                      for k in options),
        "arch/arm64/include/asm/cputype.h": cputype(reg),
        "arch/arm64/kernel/cpu_errata.c": MATCHERS + table(reg),
        RST: "Silicon Errata\n==============\n\n" + grid_table(rst_rows(reg)),
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def older(reg):
    """The registry as an older kernel had it: SSBS without Azure Cobalt 100, the speculative
    unprivileged load cpucap with erratum 2966298 alone, and 2658417's row with the enable
    function Linux 6.1 had."""
    errata = []
    for e in reg.errata:
        if e.name == "WORKAROUND_SPECULATIVE_SSBS":
            e = dataclasses.replace(e, affects=tuple(a for a in e.affects if a.cpu.id != "azure-cobalt-100"))
        if e.name == "WORKAROUND_SPECULATIVE_UNPRIV_LOAD":
            e = dataclasses.replace(e, errata_ids=("2966298",), kconfig=("ARM64_ERRATUM_2966298",),
                                    affects=tuple(a for a in e.affects if a.cpu.id == "cortex-a520"))
        if e.name == "WORKAROUND_2658417":
            e = dataclasses.replace(e, kernel=dataclasses.replace(
                e.kernel, cpu_enable="cpu_clear_bf16_from_user_emulation"))
        errata.append(e)
    return dataclasses.replace(reg, errata=tuple(errata))


def with_new_erratum(reg, n: int):
    """reg and WORKAROUND_FAKE_n, a copy of 843419 under new ids: import of a tree written from
    it adds that entry, at the first free bit."""
    model = next(e for e in reg.errata if e.name == "WORKAROUND_843419")
    fake = dataclasses.replace(model, name=f"WORKAROUND_FAKE_{n}", bit=190 + n, errata_ids=(f"999999{n}",),
                               kconfig=(f"ARM64_ERRATUM_999999{n}",))
    return dataclasses.replace(reg, errata=(*reg.errata, fake))
