"""A small Linux source tree that agrees with a registry, for install and audit tests.

It holds only what those commands read, written the way the kernel writes it: a Makefile with
VERSION, Kbuild, arch/arm64/Kconfig (the errata options and the symbols that guard kernel rows,
as ARM64_WORKAROUND_REPEAT_TLBI_SYNC in Linux 7.3), tools/cpucaps, asm/cputype.h, kernel/cpu_errata.c, kvm/,
and the silicon-errata.rst grid table. Tests then break it one fact at a time.
"""

from __future__ import annotations

from pathlib import Path

from errata_db.model import Registry

RST = "Documentation/arch/arm64/silicon-errata.rst"
HEADER = ("Implementor", "Component", "Erratum ID", "Kconfig")


def grid_table(rows: list[tuple[str, str, str, str]]) -> str:
    """An rst grid table like silicon-errata.rst's: a border line after every row."""
    widths = [max(len(c) for c in column) + 2 for column in zip(HEADER, *rows)]

    def border(ch: str) -> str:
        return "+" + "+".join(ch * w for w in widths) + "+\n"

    def line(cells) -> str:
        return "|" + "|".join(f" {c:<{w - 1}}" for c, w in zip(cells, widths)) + "|\n"

    out = border("-") + line(HEADER) + border("=")
    for row in rows:
        out += line(row) + border("-")
    return out


def table_rows(reg: Registry) -> list[tuple[str, str, str, str]]:
    rows = []
    for e in reg.errata:
        if not e.active or (not e.kconfig and set(e.errata_ids) <= {"N/A"}):
            continue  # no id and no option: the kernel's table has no row (Oryon's CNTVOFF, 7.3)
        cpu = e.affects[0].cpu.name
        kconfig = e.kconfig[0] if e.kconfig else "N/A"
        for i in e.errata_ids:
            rows.append((e.vendor, cpu, i if i == "N/A" else f"#{i}", kconfig))
    return rows


def write_tree(root: Path, reg: Registry, *, extra_rows: list[tuple[str, str, str, str]] = (),
               speculation: bool = False) -> Path:
    """The tree; with `speculation`, proton-pack.c and cpufeature.c holding the registry's
    speculation lists."""
    files = {
        "Makefile": "# SPDX-License-Identifier: GPL-2.0\nVERSION = 6\nPATCHLEVEL = 99\nSUBLEVEL = 1\n"
                    "EXTRAVERSION = -fake\nNAME = Test Tree\n",
        "Kbuild": "",
        "arch/arm64/kvm/Makefile": "",
        "arch/arm64/Kconfig": "".join(f"config {k}\n\tbool \"{k}\"\n\tdefault y\n\n"
                                      for k in sorted({k for e in reg.errata if e.active
                                                       for k in (*e.kconfig, *(e.kernel.guard or ()))})),
        "arch/arm64/tools/cpucaps": "# SPDX-License-Identifier: GPL-2.0\n#\n# Internal CPU capabilities\n\n"
                                    + "".join(f"{c}\n" for c in sorted(
                                        {e.enables for e in reg.errata if e.active}
                                        | {n.cpucap for n in reg.not_covered})),
        "arch/arm64/include/asm/cputype.h": cputype(reg),
        "arch/arm64/kernel/cpu_errata.c": "".join(
            f"#ifdef CONFIG_{k}\n#endif\n" for k in sorted({k for e in reg.errata for k in e.kconfig})),
        RST: "Silicon Errata\n==============\n\n" + grid_table(table_rows(reg) + list(extra_rows)),
        **(speculation_files(reg) if speculation else {}),
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


PROTON_PACK = "arch/arm64/kernel/proton-pack.c"
CPUFEATURE = "arch/arm64/kernel/cpufeature.c"
# Where the kernel (6.15 and later) declares each list and the statement that reads it.
_USES = {
    "SPECTRE_V2": ("static enum mitigation_state spectre_v2_get_cpu_hw_mitigation_state(void)",
                   "\tif (is_midr_in_range_list({}))\n\t\treturn SPECTRE_UNAFFECTED;\n\n\treturn SPECTRE_VULNERABLE;\n"),
    "SPECTRE_V3A": ("bool has_spectre_v3a(const struct arm64_cpu_capabilities *entry, int scope)",
                    "\treturn is_midr_in_range_list({});\n"),
    "SPECTRE_V4": ("static enum mitigation_state spectre_v4_get_cpu_hw_mitigation_state(void)",
                   "\tif (is_midr_in_range_list({}))\n\t\treturn SPECTRE_UNAFFECTED;\n\n\treturn SPECTRE_VULNERABLE;\n"),
    "SPECTRE_BHB": ("static bool is_spectre_bhb_safe(int scope)",
                    "\tif (is_midr_in_range_list({}))\n\t\treturn true;\n\n\treturn false;\n"),
    "UNMAP_KERNEL_AT_EL0": ("static bool unmap_kernel_at_el0(const struct arm64_cpu_capabilities *entry, int scope)",
                            "\tbool meltdown_safe;\n\n\tmeltdown_safe = is_midr_in_range_list({});\n"
                            "\treturn !meltdown_safe;\n"),
}


def speculation_files(reg: Registry) -> dict[str, str]:
    """proton-pack.c and cpufeature.c with the registry's speculation lists, each declared in the
    function that reads it and read by the statement the kernel reads it with."""
    macros = {c.id: c.macro for c in reg.cpus}

    def declared(lst) -> str:
        ranges = "".join(
            f"\t\tMIDR_ALL_VERSIONS({macros[r.cpu]}),\n" if (r.low, r.high) == ((0, 0), (15, 15)) else
            f"\t\tMIDR_RANGE({macros[r.cpu]}, {r.low[0]}, {r.low[1]}, {r.high[0]}, {r.high[1]}),\n"
            for r in lst.ranges)
        return f"\tstatic const struct midr_range {lst.name}[] = {{\n{ranges}\t\t{{}},\n\t}};\n\n"

    files = {PROTON_PACK: "// SPDX-License-Identifier: GPL-2.0-only\n", CPUFEATURE: "// SPDX-License-Identifier: GPL-2.0\n"}
    loops = []
    for lst in reg.speculation.lists:
        if lst.means == "loop":
            loops.append(lst)
            continue
        head, use = _USES[lst.cpucap]
        rel = CPUFEATURE if lst.cpucap == "UNMAP_KERNEL_AT_EL0" else PROTON_PACK
        files[rel] += f"\n{head}\n{{\n{declared(lst)}{use.format(lst.name)}}}\n"
    chain = "\telse ".join(f"if (is_midr_in_range_list({lst.name}))\n\t\tk = {lst.k};\n" for lst in loops)
    files[PROTON_PACK] += ("\nstatic u8 spectre_bhb_loop_affected(void)\n{\n\tu8 k = 0;\n\n"
                           + "".join(declared(lst) for lst in loops) + f"\t{chain}\n\treturn k;\n}}\n")
    return files


def cputype(reg: Registry) -> str:
    lines = ["/* SPDX-License-Identifier: GPL-2.0-only */",
             "#define MIDR_CPU_MODEL(imp, partnum) \\", "\t((imp) << 24 | (partnum) << 4)", ""]
    for imp in reg.implementers:
        lines.append(f"#define {imp.macro}\t\t{imp.code:#04x}")
    for cpu in reg.cpus:
        part = cpu.part_macro or f"FAKE_PART_{cpu.id.upper().replace('-', '_')}"
        lines.append(f"#define {part}\t\t0x{cpu.part:03X}")
        lines.append(f"#define {cpu.macro} MIDR_CPU_MODEL({cpu.implementer.macro}, {part})")
    return "\n".join(lines) + "\n"


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} must occur once in {rel}"
    path.write_text(text.replace(old, new))
