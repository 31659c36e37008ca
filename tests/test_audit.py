"""`errata-db audit`: a tree that agrees is clean, an older tree gives notes, a mismatch exits 1.

Each test writes a small Linux tree that agrees with the bundled registry (tests/fake_linux.py)
and breaks one fact of it. Every diagnostic must point at the registry line or the tree line it
is about. The real Linux 6.12 tree is audited in test_kernel_tree_tools.py (slow tier).
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

import fake_linux
from conftest import REPO, run_cli
from errata_db.kernel.tree import parse_errata_table

DIAG = re.compile(r"^(?P<path>[^:\s]+)(?::(?P<line>\d+):(?P<col>\d+))?: "
                  r"(?P<severity>error|warning|note): (?P<message>.*) \[(?P<rule>[\w-]+)\]$")


@pytest.fixture
def tree(tmp_path: Path, registry) -> Path:
    return fake_linux.write_tree(tmp_path / "linux", registry)


def audit(tree: Path, *args: str):
    return run_cli("audit", "--kernel-tree", str(tree), "--registry", "errata-db", *args, cwd=REPO)


def diags(out: str) -> list[dict]:
    return [m.groupdict() for m in map(DIAG.match, out.splitlines()) if m]


def line_of(d: dict) -> str:
    """The source line a diagnostic points at (registry paths are relative to the repository)."""
    path = Path(d["path"]) if Path(d["path"]).is_absolute() else REPO / d["path"]
    return path.read_text().splitlines()[int(d["line"]) - 1]


def only(found: list[dict], rule: str, severity: str) -> dict:
    hits = [d for d in found if d["rule"] == rule and d["severity"] == severity]
    assert len(hits) == 1, found
    return hits[0]


def the_error(tree: Path, rule: str) -> dict:
    """Audit a tree that has one mismatch: exit 1, and the one error it gives."""
    result = audit(tree)
    assert result.code == 1, result.out
    return only(diags(result.out), rule, "error")


def test_a_tree_that_agrees_with_the_registry_is_clean(tree):
    result = audit(tree)
    assert result.code == 0, result.out + result.err
    assert diags(result.out) == []
    assert result.out.endswith(f"Linux 6.99.1-fake at {tree}: 38 errata, 61 CPUs, 88 silicon-errata.rst "
                               "rows checked: 0 mismatch(es), 0 warning(s), 0 note(s)\n")


def test_a_tree_older_than_the_registry_gives_notes_and_exits_0(tmp_path, registry):
    """The tree predates AmpereOne: no Kconfig, cpucap, table rows or MIDR macros for it.

    The registry follows Linux 7.3.4, which has two AmpereOne entries (bits 32 and 36)."""
    gone = {"WORKAROUND_AMPERE_AC03_CPU_38": 32, "WORKAROUND_AMPERE_AC04_CPU_23": 36}
    assert {e.name: e.bit for e in registry.errata if e.vendor == "Ampere"} == gone
    older = dataclasses.replace(
        registry, errata=tuple(e for e in registry.errata if e.name not in gone),
        cpus=tuple(c for c in registry.cpus if not c.id.startswith("ampere1")))
    root = fake_linux.write_tree(tmp_path / "linux", older)
    result = audit(root)
    assert result.code == 0, result.out
    found = diags(result.out)
    assert {d["severity"] for d in found} == {"note"}
    entries = [d for d in found if d["rule"] == "audit-tree-older"]
    assert len(entries) == len(gone), found
    for entry, (name, bit) in zip(entries, gone.items()):
        assert f"'{name}' (bit {bit}) is not in this tree" in entry["message"]
        assert "this tree is older than the registry" in entry["message"]
        assert line_of(entry).strip() == f"- name: {name}"
    cpus = [d for d in found if d["rule"] == "audit-midr"]
    assert {line_of(d).strip() for d in cpus} == {"macro: MIDR_AMPERE1", "macro: MIDR_AMPERE1A"}
    assert all("the tree knows none of its errata yet" in d["message"] for d in cpus)


def test_a_cpucap_the_tree_lacks_for_an_erratum_it_knows_is_a_mismatch(tree):
    fake_linux.edit(tree, "arch/arm64/tools/cpucaps", "WORKAROUND_1418040\n", "WORKAROUND_1418040_NEW\n")
    d = the_error(tree, "audit-cpucap")
    assert line_of(d).strip() == "- name: WORKAROUND_1418040"
    assert "records the new name in `cpucap_names` (with --rename OLD=NEW when it cannot tell)" in d["message"]
    assert "1 mismatch(es)" in audit(tree).out


def test_a_kconfig_option_missing_from_the_tree_is_a_mismatch(tree):
    fake_linux.edit(tree, "arch/arm64/Kconfig",
                    'config ARM64_ERRATUM_843419\n\tbool "ARM64_ERRATUM_843419"\n\tdefault y\n\n', "")
    d = the_error(tree, "audit-kconfig")
    assert line_of(d).strip() == "kconfig: [ARM64_ERRATUM_843419]"
    assert re.search(r"is defined nowhere in the tree, though \S+/silicon-errata.rst:\d+:1 lists it$", d["message"])


def test_a_kconfig_option_defined_outside_arch_arm64_is_a_note(tree):
    block = 'config ARM64_ERRATUM_858921\n\tbool "ARM64_ERRATUM_858921"\n\tdefault y\n\n'
    fake_linux.edit(tree, "arch/arm64/Kconfig", block, "")
    (tree / "drivers/clocksource").mkdir(parents=True)
    (tree / "drivers/clocksource/Kconfig").write_text("menu \"Clocks\"\n\n" + block + "endmenu\n")
    result = audit(tree)
    assert result.code == 0
    d = only(diags(result.out), "audit-kconfig", "note")
    assert f"defined in {tree}/drivers/clocksource/Kconfig:3:8, not in {tree}/arch/arm64/Kconfig" in d["message"]


def test_a_part_number_that_differs_from_the_tree_is_a_mismatch(tree):
    fake_linux.edit(tree, "arch/arm64/include/asm/cputype.h",
                    "#define ARM_CPU_PART_CORTEX_A53\t\t0xD03", "#define ARM_CPU_PART_CORTEX_A53\t\t0xD04")
    d = the_error(tree, "audit-midr")
    assert line_of(d).strip() == "part: 0xd03"
    assert "has part ARM_CPU_PART_CORTEX_A53 = 0xd04, the registry says 0xd03" in d["message"]


def test_an_implementer_code_that_differs_from_the_tree_is_a_mismatch(tree):
    fake_linux.edit(tree, "arch/arm64/include/asm/cputype.h",
                    "#define ARM_CPU_IMP_CAVIUM\t\t0x43", "#define ARM_CPU_IMP_CAVIUM\t\t0x44")
    found = diags(audit(tree).out)
    assert {d["rule"] for d in found} == {"audit-midr"}
    imp = [d for d in found if "ARM_CPU_IMP_CAVIUM is 0x44" in d["message"]]
    assert len(imp) == 1 and line_of(imp[0]).strip() == "code: 0x43"
    # and every Cavium CPU built from it
    assert sum("has implementer ARM_CPU_IMP_CAVIUM = 0x44" in d["message"] for d in found) >= 2


def test_a_model_macro_missing_for_a_cpu_of_a_known_erratum_is_a_mismatch(tree):
    fake_linux.edit(tree, "arch/arm64/include/asm/cputype.h",
                    "#define MIDR_CORTEX_A53 MIDR_CPU_MODEL(ARM_CPU_IMP_ARM, ARM_CPU_PART_CORTEX_A53)\n", "")
    d = the_error(tree, "audit-midr")
    assert line_of(d).strip() == "macro: MIDR_CORTEX_A53"


def test_a_new_erratum_id_under_a_kconfig_option_the_registry_uses_is_a_mismatch(tmp_path, registry):
    root = fake_linux.write_tree(tmp_path / "linux", registry,
                                 extra_rows=[("ARM", "Cortex-A53", "#999999", "ARM64_ERRATUM_843419")])
    d = the_error(root, "audit-table")
    assert "#999999" in line_of(d)
    assert "give the new id an entry and bit of its own, with `cpucap: WORKAROUND_843419`" in d["message"]


def test_table_rows_outside_arm64_errata_are_one_note_and_cpu_errata_ones_are_mismatches(tmp_path, registry):
    rows = [("ARM", "GIC-700", "#2941627", "ARM64_ERRATUM_2941627"),
            ("ARM", "MMU-500", "#841119,826419", "N/A"),
            ("ARM", "Cortex-A99", "#1234567", "ARM64_ERRATUM_1234567")]
    root = fake_linux.write_tree(tmp_path / "linux", registry, extra_rows=rows)
    (root / "arch/arm64/kernel/cpu_errata.c").write_text(
        (root / "arch/arm64/kernel/cpu_errata.c").read_text() + "#ifdef CONFIG_ARM64_ERRATUM_1234567\n#endif\n")
    result = audit(root)
    assert result.code == 1
    found = diags(result.out)
    d = only(found, "audit-table", "error")
    assert "#1234567" in line_of(d) and "the registry has no entry for it" in d["message"]
    n = only(found, "audit-table", "note")
    assert n["path"].endswith(fake_linux.RST) and n["line"] is None
    assert n["message"].startswith("2 rows are not worked around through arm64_errata[]")


def test_a_misspelt_registry_id_is_a_mismatch_through_the_row_it_leaves_unmatched(tree):
    fake_linux.edit(tree, fake_linux.RST, "| #843419 ", "| #843418 ")
    result = audit(tree)
    assert result.code == 1
    found = diags(result.out)
    row = only(found, "audit-table", "error")
    assert "#843418" in line_of(row)
    entry = only(found, "audit-entry", "note")
    assert line_of(entry).strip() == 'errata_ids: ["843419"]'
    assert "erratum 843419 of 'WORKAROUND_843419' (bit 3) is not in" in entry["message"]


def test_an_entry_that_gained_an_id_option_and_cpu_after_the_tree_gives_notes_only(tree):
    """WORKAROUND_BROKEN_AMU_CONSTCNT as a tree from before erratum 3821522 (Cortex-A725)."""
    fake_linux.edit(tree, fake_linux.RST, next(line for line in (tree / fake_linux.RST).read_text().splitlines(True)
                                               if "#3821522" in line), "")
    fake_linux.edit(tree, "arch/arm64/Kconfig", "config ARM64_ERRATUM_3821522\n", "config SOMETHING_ELSE\n")
    fake_linux.edit(tree, "arch/arm64/include/asm/cputype.h",
                    "#define MIDR_CORTEX_A725 MIDR_CPU_MODEL(ARM_CPU_IMP_ARM, ARM_CPU_PART_CORTEX_A725)\n", "")
    result = audit(tree)
    assert result.code == 0, result.out
    found = diags(result.out)
    assert sorted((d["rule"], d["severity"]) for d in found) == [
        ("audit-entry", "note"), ("audit-kconfig", "note"), ("audit-midr", "note")]
    assert all("newer than the tree" in d["message"] for d in found)


@pytest.mark.parametrize("fmt", ["json", "github"])
def test_audit_speaks_the_formats_of_validate(tree, fmt):
    fake_linux.edit(tree, "arch/arm64/tools/cpucaps", "WORKAROUND_1418040\n", "")
    result = audit(tree, "--format", fmt)
    assert result.code == 1
    if fmt == "json":
        rows = json.loads(result.out)["diagnostics"]
        assert [(r["rule"], r["severity"]) for r in rows] == [("audit-cpucap", "error")]
        assert rows[0]["pos"]["path"] == "errata-db/errata/arm.yaml"
    else:
        assert result.out.startswith("::error file=errata-db/errata/arm.yaml,line=261,col=11,title=audit-cpucap::")


@pytest.mark.parametrize("breakage, reason", [
    ("missing", "does not exist"),
    ("file", "is not a directory"),
    ("no-kvm", "is not an arm64 Linux source tree: it has no arch/arm64/kvm"),
    ("no-version", "its Makefile sets no VERSION"),
    ("no-cpucaps", "it has no arch/arm64/tools/cpucaps"),
])
def test_audit_refuses_what_is_not_a_linux_tree_with_the_reason(tmp_path, registry, breakage, reason):
    root = tmp_path / "linux"
    if breakage == "file":
        root.write_text("")
    elif breakage != "missing":
        fake_linux.write_tree(root, registry)
        victim = {"no-kvm": "arch/arm64/kvm/Makefile", "no-version": None,
                  "no-cpucaps": "arch/arm64/tools/cpucaps"}[breakage]
        if victim is None:
            (root / "Makefile").write_text("all:\n")
        else:
            (root / victim).unlink()
            if breakage == "no-kvm":
                (root / "arch/arm64/kvm").rmdir()
    result = audit(root)
    assert result.code == 2
    assert result.err == f"errata-db: error: {root} {reason}\n" or reason in result.err, result.err
    assert reason in result.err and "Traceback" not in result.err


def test_the_table_parser_joins_continued_rows_and_cuts_at_the_border():
    other = ("+------+-------+\n"  # another grid table: its rows are not errata
             "| Name | Value |\n"
             "+======+=======+\n"
             "| a    | #1    |\n"
             "+------+-------+\n")
    header = ("+-------------+------------+------------+---------+\n"
              "| Implementor | Component  | Erratum ID | Kconfig |\n"
              "+=============+============+============+=========+\n")
    body = ("| Hisilicon   | Hip{08,09, | #162001900 | N/A     |\n"
            "|             | 10} a|b    |            |         |\n"
            "+-------------+------------+------------+---------+\n"
            "| ARM         | Cortex-A76 | #1188873,  | ARM64_E |\n"
            "|             |            | #1418040   |         |\n"
            "+-------------+------------+------------+---------+\n"
            "+-------------+------------+------------+---------+\n"
            "| Allwinner   | A64        | N/A        | SUN50I  |\n"
            "+-------------+------------+------------+---------+\n")
    rows = parse_errata_table(other + "\n" + header + body, "t.rst")
    assert [(r.implementor, r.component, r.ids, r.kconfig, r.pos.line) for r in rows] == [
        ("Hisilicon", "Hip{08,09, 10} a|b", ("162001900",), "N/A", 10),
        ("ARM", "Cortex-A76", ("1188873", "1418040"), "ARM64_E", 13),
        ("Allwinner", "A64", ("N/A",), "SUN50I", 17),
    ]


def test_a_pre_6_5_tree_keeps_the_table_under_documentation_arm64(tree):
    old = tree / "Documentation/arm64"
    old.mkdir(parents=True)
    (tree / fake_linux.RST).rename(old / "silicon-errata.rst")
    result = audit(tree)
    assert result.code == 0, result.out + result.err
    assert "0 mismatch(es)" in result.out


def test_a_new_id_sharing_an_old_cpucap_is_older_tree_not_a_renamed_cpucap(tmp_path, registry, registry_copy):
    """The kernel tree has the shared cpucap but not the new id or option yet: a note, exit 0.
    Bit 38 is the first free one of the bundled registry (Linux 7.3.4 uses 0-37)."""
    assert max(e.bit for e in registry.errata) == 37
    arm = registry_copy / "errata" / "arm.yaml"
    arm.write_text(arm.read_text() + (
        "\n  - name: WORKAROUND_9999999\n    bit: 38\n    vendor: ARM\n    errata_ids: [\"9999999\"]\n"
        "    description: A later Cortex-A53 erratum worked around like 843419.\n"
        "    guest: needed\n    impact: corruption\n    impact_note: A test entry.\n"
        "    kconfig: [ARM64_ERRATUM_9999999]\n    cpucap: WORKAROUND_843419\n"
        "    affects:\n      - cpu: cortex-a53\n        revisions: r0p0\n    status: active\n"))
    assert run_cli("lock", "--registry", str(registry_copy)).code == 0
    root = fake_linux.write_tree(tmp_path / "linux", registry)
    result = run_cli("audit", "--kernel-tree", str(root), "--registry", str(registry_copy))
    assert result.code == 0, result.out
    found = diags(result.out)
    assert [(d["rule"], d["severity"]) for d in found] == [("audit-tree-older", "note")]
    assert "'WORKAROUND_9999999' (bit 38) is not in this tree" in found[0]["message"]


@pytest.mark.parametrize("new, line, message", [
    ("#define ARM_CPU_PART_A53_NEW\t0xD03\n"
     "#define MIDR_CORTEX_A53 MIDR_CPU_MODEL(ARM_CPU_IMP_ARM, ARM_CPU_PART_A53_NEW)\n",
     "part_macro: ARM_CPU_PART_CORTEX_A53", "is built from ARM_CPU_PART_A53_NEW, the registry names "
     "ARM_CPU_PART_CORTEX_A53"),
    ("#define MIDR_CORTEX_A53 0x410fd030\n", "macro: MIDR_CORTEX_A53",
     "as '0x410fd030', not as MIDR_CPU_MODEL(...)"),
])
def test_a_model_macro_built_differently_is_a_mismatch(tree, new, line, message):
    fake_linux.edit(tree, "arch/arm64/include/asm/cputype.h",
                    "#define MIDR_CORTEX_A53 MIDR_CPU_MODEL(ARM_CPU_IMP_ARM, ARM_CPU_PART_CORTEX_A53)\n", new)
    d = the_error(tree, "audit-midr")
    assert line_of(d).strip() == line and message in d["message"]
