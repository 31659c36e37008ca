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


def write_tree(root: Path, reg: Registry, *, extra_rows: list[tuple[str, str, str, str]] = ()) -> Path:
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
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


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
