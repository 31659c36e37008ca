"""Issue #21: the reader of cpu_errata.c gives the kernel's meaning, or refuses at file:line naming
the construct: never a wrong answer with exit 0, never a traceback. One test (or a few) per class
of construct, on a small tree written from part of the bundled registry (generated_tree.py), so
that the tree's meaning is known; import, install --kernel-tables and risk --guest-kernel-tree
share the reader, and each is asked where the class concerns it."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest

from conftest import REGISTRY, review_imported, run_cli
from generated_tree import write_tree

from errata_db.kernel import cpu_errata
from errata_db.kernel.facts import TreeNotCovered, TreeRow, read_facts
from errata_db.kernel.plan import plan
from errata_db.kernel.tree import IMPORT_MARKERS, Tree
from errata_db.model import NotCovered
from errata_db.registry import load_registry

CPU_ERRATA = "arch/arm64/kernel/cpu_errata.c"
# A list with a custom matcher, one read by a guard in its matcher, a match list with a Kryo part
# family, a range with a REVIDR fix, a range held in a matcher's body, and plain lists and ranges.
PART = {"WORKAROUND_CLEAN_CACHE", "WORKAROUND_834220", "WORKAROUND_1463225", "WORKAROUND_1542419",
        "WORKAROUND_2658417", "WORKAROUND_CAVIUM_TX2_219_TVM", "WORKAROUND_QCOM_FALKOR_E1003"}


@pytest.fixture(scope="module")
def small():
    reg = load_registry(REGISTRY).registry
    return dataclasses.replace(reg, errata=tuple(e for e in reg.errata if e.name in PART), not_covered=())


def make_tree(root: Path, reg) -> Path:
    tree = write_tree(root, reg)
    (tree / "Kbuild").write_text("")
    (tree / "arch/arm64/kvm").mkdir()
    (tree / "arch/arm64/tools").mkdir()
    (tree / "arch/arm64/tools/cpucaps").write_text("".join(f"{e.enables}\n" for e in reg.errata))
    return tree


@pytest.fixture(scope="module")
def made(tmp_path_factory, small) -> tuple[Path, Path, Path]:
    """(a pristine tree, the registry importing it into an empty one gives, a fleet file)."""
    root = tmp_path_factory.mktemp("made")
    tree = make_tree(root / "pristine", small)
    assert run_cli("init", str(root / "reg")).code == 0
    assert run_cli("import", "--registry", str(root / "reg"), "--kernel-tree", str(tree)).code == 0
    review_imported(root / "reg")
    (root / "fleet.yaml").write_text("hosts:\n  - name: a76\n    cpus:\n      - midr: 0x413FD0B0\n")
    return tree, root / "reg", root / "fleet.yaml"


@pytest.fixture
def tree(tmp_path, small) -> Path:
    return make_tree(tmp_path / "linux", small)


def edit(tree: Path, old: str, new: str) -> int:
    """Replaces the one `old` of the tree's cpu_errata.c; the line `new` starts on."""
    path = tree / CPU_ERRATA
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))
    return text[:text.index(old)].count("\n") + 1


def facts(tree: Path):
    return read_facts(Tree.open(tree, str(tree), IMPORT_MARKERS))


def row(tree: Path, cpucap: str):
    return next(r for r in facts(tree).rows if r.cpucap == cpucap)


def refused(tree: Path) -> cpu_errata.NotRecognised:
    with pytest.raises(cpu_errata.NotRecognised) as info:
        plan(load_registry(REGISTRY).registry, facts(tree))
    return info.value


def commands(tree: Path, made, *, install: bool = True):
    _, reg, fleet = made
    runs = {"import": run_cli("import", "--dry-run", "--registry", str(reg), "--kernel-tree", str(tree)),
            "risk": run_cli("risk", "--registry", str(reg), "--hosts", str(fleet), "--guest-kernel-tree", str(tree))}
    if install:
        runs["install"] = run_cli("install", "--kernel-tables", "--check", "--registry", str(reg),
                                  "--kernel-tree", str(tree))
    return runs


def assert_refused_everywhere(tree: Path, made, line: int, words: str, *, install: bool = True) -> None:
    for name, run in commands(tree, made, install=install).items():
        assert run.code == 1, (name, run.out, run.err)
        first = run.err.splitlines()[0]
        assert first.startswith(f"{tree}/{CPU_ERRATA}:{line}:1: error: "), (name, first)
        assert words in first, (name, first)


def ranges(r) -> list[str]:
    return [f"{x.cpu.id} {x.revisions}" + (f" mask {x.part_mask:#x}" if x.part_mask else "") for x in r.ranges]


# --- 1. shapes of older kernels -----------------------------------------------------------------

E1003_ROW = """\t{
		.desc = "Qualcomm Technologies Falkor/Kryo erratum 1003",
		.capability = ARM64_WORKAROUND_QCOM_FALKOR_E1003,
		.type = ARM64_CPUCAP_LOCAL_CPU_ERRATUM,
		.matches = cpucap_multi_entry_cap_matches,
		.match_list = workaround_qcom_falkor_e1003_list,
	},
"""
FALKOR_ROW = """\t{
		.desc = "Qualcomm Technologies Falkor erratum 1003",
		.capability = ARM64_WORKAROUND_QCOM_FALKOR_E1003,
		ERRATA_MIDR_REV(MIDR_QCOM_FALKOR_V1, 0, 0),
	},
"""
KRYO_ROW = """\t{
		.desc = "Qualcomm Technologies Kryo erratum 1003",
		.capability = ARM64_WORKAROUND_QCOM_FALKOR_E1003,
		.type = ARM64_CPUCAP_LOCAL_CPU_ERRATUM,
		.midr_range.model = MIDR_QCOM_KRYO,
		.matches = is_kryo_midr,
	},
"""


def test_linux_4_19s_two_rows_of_one_cpucap_are_refused_at_the_second_by_every_command(tree, made):
    line = edit(tree, E1003_ROW, FALKOR_ROW + KRYO_ROW) + FALKOR_ROW.count("\n")
    assert_refused_everywhere(tree, made, line, "a second row for ARM64_WORKAROUND_QCOM_FALKOR_E1003 (the first "
                              f"is at line {line - FALKOR_ROW.count(chr(10))})", install=False)


def test_a_kryo_part_family_row_at_the_top_of_arm64_errata_is_refused_not_read_as_one_revision(tree):
    line = edit(tree, E1003_ROW, KRYO_ROW)
    exc = refused(tree)
    assert (exc.pos.line, exc.reason.split(":")[0]) == (line, "is_kryo_midr() in a row of arm64_errata[]")


def test_the_kryo_family_in_a_match_list_is_every_part_and_revision_of_it(tree):
    assert ranges(row(tree, "WORKAROUND_QCOM_FALKOR_E1003")) == ["falkor-v1 r0p0", "kryo all mask 0xf00"]


# --- 2. ranges a matcher may not read as the CPUs affected ----------------------------------------

A76_MATCHER = "\t\t.matches = has_cortex_a76_erratum_1463225,\n"


def matcher(tree: Path, body: str, name: str = "own_matcher") -> int:
    """The 1463225 row matched by a function of that body; the row's line."""
    path = tree / CPU_ERRATA
    path.write_text(f"static bool {name}(const struct arm64_cpu_capabilities *entry, int scope)\n{{\n{body}\n}}\n"
                    + path.read_text())
    return edit(tree, A76_MATCHER, f"\t\t.matches = {name},\n") - 4


@pytest.mark.parametrize("body, why", [
    ("\tif (is_midr_in_range_list(entry->midr_range_list))\n\t\treturn false;\n\treturn has_firmware();",
     "returns 'has_firmware ( )' at line"),
    ("\treturn !is_affected_midr_range_list(entry, scope);", "returns '! is_affected_midr_range_list"),
    ("\treturn is_affected_midr_range_list(entry, scope) || has_firmware();", "returns 'is_affected_midr_range_list"),
    ("\tif (has_firmware())\n\t\treturn true;\n\treturn is_affected_midr_range_list(entry, scope);",
     "returns 'true' at line"),
    ("#ifdef CONFIG_X\n\treturn false;\n#endif\n\treturn is_affected_midr_range_list(entry, scope);",
     "has '#ifdef CONFIG_X' in its body"),
], ids=["ssbd-not-vulnerable-list", "negated", "or", "true-before", "preprocessor"])
def test_a_list_its_matcher_may_return_true_without_is_refused_at_the_row_naming_the_matcher(tree, made, body, why):
    row_line = matcher(tree, body)
    assert_refused_everywhere(tree, made, row_line, f"ARM64_WORKAROUND_1463225: its matcher own_matcher() {why}",
                              install=False)
    assert "record it by hand as a not_covered row" in refused(tree).reason


def test_a_matcher_defined_elsewhere_is_refused_at_the_row(tree):
    line = edit(tree, A76_MATCHER, "\t\t.matches = has_ssbd_mitigation,\n") - 4
    exc = refused(tree)
    assert exc.pos.line == line and "its matcher has_ssbd_mitigation() is not a function of cpu_errata.c" in exc.reason


def test_a_cpucap_the_registry_records_as_not_covered_is_left_to_its_matcher(tree):
    matcher(tree, "\treturn !is_affected_midr_range_list(entry, scope);")
    reg = load_registry(REGISTRY).registry
    known = dataclasses.replace(reg, not_covered=(*reg.not_covered, NotCovered("WORKAROUND_1463225", "own_matcher",
                                                                               "by hand")))
    the_plan = plan(known, facts(tree))
    assert "WORKAROUND_1463225" not in [n.cpucap for n, _ in the_plan.new_not_covered]
    assert isinstance(row(tree, "WORKAROUND_1463225"), TreeNotCovered)


@pytest.mark.parametrize("body", [
    "\treturn is_midr_in_range_list(entry->midr_range_list) && is_kernel_in_hyp_mode();",
    "\tif (!is_kernel_in_hyp_mode() || !is_affected_midr_range_list(entry, scope))\n\t\treturn false;\n"
    "\treturn true;",
])
def test_a_matcher_that_needs_a_match_of_its_list_keeps_the_list_as_the_cpus_affected(tree, body):
    matcher(tree, body)
    found = row(tree, "WORKAROUND_1463225")
    assert isinstance(found, TreeRow) and ranges(found) == ["cortex-a76 r0p0..r3p1", "kryo-4xx-gold r12p14..r15p15"]


def test_a_kernel_matcher_reading_what_the_row_does_not_set_is_refused(tree):
    line = edit(tree, A76_MATCHER, "\t\t.matches = is_affected_midr_range,\n") - 4
    exc = refused(tree)
    assert (exc.pos.line, exc.reason) == (line, "is_affected_midr_range() reads .midr_range, which this row does "
                                                "not set")


# --- 3. what follows a terminator -------------------------------------------------------------------

A76 = "\tMIDR_RANGE(MIDR_CORTEX_A76, 0, 0, 3, 1),\n"


def test_ranges_after_a_terminator_are_not_read_as_the_kernel_never_reaches_them(tree, made):
    edit(tree, A76, A76 + "\t{},\n")
    assert ranges(row(tree, "WORKAROUND_1463225")) == ["cortex-a76 r0p0..r3p1"]
    install = commands(tree, made)["install"]
    assert install.code == 1 and "the registry's range MIDR_QCOM_KRYO_4XX_GOLD r12p14..r15p15 is not in this list" \
        in install.err


def test_a_row_without_a_matcher_ends_arm64_errata_for_the_kernel(tree):
    edit(tree, "#ifdef CONFIG_ARM64_ERRATUM_1463225\n\t{\n", "\t{ .desc = \"no matcher\" },\n"
         "#ifdef CONFIG_ARM64_ERRATUM_1463225\n\t{\n")
    assert [r.cpucap for r in facts(tree).rows] == ["WORKAROUND_CLEAN_CACHE", "WORKAROUND_834220",
                                                    "WORKAROUND_QCOM_FALKOR_E1003"]


@pytest.mark.parametrize("old, new, words", [
    (A76, A76 + "#ifdef CONFIG_ARM64_ERRATUM_1463225\n\t{},\n#endif\n", "the end of workaround_1463225_list under a "
     "Kconfig guard"),
    ("\t{},\n};\n#endif\n\n#ifdef CONFIG_CAVIUM_TX2", "};\n#endif\n\n#ifdef CONFIG_CAVIUM_TX2",
     "workaround_1463225_list has no {} at its end"),
    ("\t{\n\t}\n};\n", "};\n", "arm64_errata[] has no {} at its end"),
    ("MIDR_FIXED(MIDR_CPU_VAR_REV(1, 1), BIT(25))", ".fixed_revs = (struct arm64_midr_revidr[]){ { 0x100001, 0x1 } }",
     "REVIDR fixes with no {} at their end"),
])
def test_a_table_whose_end_the_kernel_cannot_find_is_refused(tree, old, new, words):
    edit(tree, old, new)
    assert words in refused(tree).reason


def test_a_revidr_fix_after_the_fixes_end_is_not_read(tree):
    edit(tree, "MIDR_FIXED(MIDR_CPU_VAR_REV(1, 1), BIT(25))",
         ".fixed_revs = (struct arm64_midr_revidr[]){ { 0x100001, BIT(25) }, {}, { 0x100000, 1 }, {} }")
    assert row(tree, "WORKAROUND_2658417").ranges[0].fixes == (((1, 1), 1 << 25),)


def test_a_revidr_fix_outside_its_range_is_not_read_as_the_kernel_never_reaches_it(tree, made):
    edit(tree, "MIDR_FIXED(MIDR_CPU_VAR_REV(1, 1), BIT(25))", "MIDR_FIXED(MIDR_CPU_VAR_REV(1, 2), BIT(25))")
    assert row(tree, "WORKAROUND_2658417").ranges[0].fixes == ()
    assert commands(tree, made, install=False)["import"].code == 0


@pytest.mark.parametrize("added, words", [
    ("MIDR_RANGE(MIDR_CORTEX_A76, 0, 0, 3, 1)", "Cortex-A76 r0p0..r3p1 a second time in one erratum's ranges (first "
     "at line {first})"),
    ("MIDR_REV(MIDR_CORTEX_A76, 1, 0)", "Cortex-A76 r1p0 overlaps r0p0..r3p1 (line {first})"),
])
def test_a_range_an_erratum_already_holds_is_refused_at_the_second(tree, tmp_path, added, words):
    first = edit(tree, "\tMIDR_RANGE(MIDR_CORTEX_A76, 0, 0, 3, 1),\n",
                 f"\tMIDR_RANGE(MIDR_CORTEX_A76, 0, 0, 3, 1),\n\t{added},\n")
    exc = refused(tree)  # into an entry the registry has
    assert exc.pos.line == first + 1 and words.format(first=first) in exc.reason, exc
    assert run_cli("init", str(tmp_path / "reg")).code == 0  # into a new entry
    done = run_cli("import", "--registry", str(tmp_path / "reg"), "--kernel-tree", str(tree))
    assert done.code == 1 and done.err.startswith(f"{tree}/{CPU_ERRATA}:{first + 1}:1: error: "), done.err


@pytest.mark.parametrize("old, new, words", [
    ("\tMIDR_RANGE(MIDR_QCOM_KRYO_4XX_GOLD, 12, 14, 15, 15),\n",
     "#ifdef CONFIG_ARM64_ERRATUM_1165522\n\tMIDR_RANGE(MIDR_QCOM_KRYO_4XX_GOLD, 12, 14, 15, 15),\n#endif\n",
     "a range of ARM64_WORKAROUND_1463225 guarded by ARM64_ERRATUM_1165522, in a row guarded by "
     "ARM64_ERRATUM_1463225 (line {row})"),
    ("#ifdef CONFIG_ARM64_ERRATUM_834220\n", "#ifdef CONFIG_ARM64_WORKAROUND_CLEAN_CACHE\n",
     "ARM64_WORKAROUND_834220's row guarded by ARM64_WORKAROUND_CLEAN_CACHE, which is neither"),
])
def test_a_guard_the_registry_cannot_write_for_a_new_entry_is_refused_at_its_directive(tree, tmp_path, old, new,
                                                                                      words):
    line = edit(tree, old, new)
    # An erratum option that selects the hidden one, as arch/arm64/Kconfig has it.
    with (tree / "arch/arm64/Kconfig").open("a") as kconfig:
        kconfig.write("\nconfig ARM64_ERRATUM_826319\n\tbool \"arm64 erratum 826319\"\n"
                      "\tselect ARM64_WORKAROUND_CLEAN_CACHE\n")
    lines = (tree / CPU_ERRATA).read_text().splitlines()
    row_guard = max(i for i, text in enumerate(lines) if text == "#ifdef CONFIG_ARM64_ERRATUM_1463225") + 1
    assert run_cli("init", str(tmp_path / "reg")).code == 0
    done = run_cli("import", "--registry", str(tmp_path / "reg"), "--kernel-tree", str(tree))
    assert done.code == 1 and done.err.startswith(f"{tree}/{CPU_ERRATA}:{line}:1: error: "), done.err
    assert words.format(row=row_guard) in done.err, done.err


# --- 4. conditions the reader cannot evaluate -------------------------------------------------------

TX2 = "static const struct midr_range tx2_family_cpus[] = {\n\tMIDR_ALL_VERSIONS(MIDR_BRCM_VULCAN),\n"


@pytest.mark.parametrize("old, new, directive", [
    ("#ifdef CONFIG_CAVIUM_TX2_ERRATUM_219\n" + TX2, "#ifdef CONFIG_A\n"
     "static const struct midr_range tx2_family_cpus[] = { MIDR_ALL_VERSIONS(MIDR_CORTEX_A76), {} };\n#else\n" + TX2,
     "#else"),
    ("#ifdef CONFIG_CAVIUM_TX2_ERRATUM_219\n" + TX2, "#if CONFIG_NR_CPUS > 4\n" + TX2, "#if CONFIG_NR_CPUS > 4"),
    ("#ifdef CONFIG_CAVIUM_TX2_ERRATUM_219\n" + TX2, "#ifndef CONFIG_CAVIUM_TX2_ERRATUM_219\n" + TX2,
     "#ifndef CONFIG_CAVIUM_TX2_ERRATUM_219"),
])
def test_a_table_inside_a_condition_the_reader_cannot_evaluate_is_refused_at_the_directive(tree, made, old, new,
                                                                                          directive):
    line = edit(tree, old, new) + new[:new.index(directive)].count("\n")
    assert_refused_everywhere(tree, made, line, f"'{directive}' around tx2_family_cpus[]")


def test_a_table_defined_twice_is_refused_at_the_second_definition(tree):
    line = edit(tree, "#ifdef CONFIG_CAVIUM_TX2_ERRATUM_219\n" + TX2,
                "static const struct midr_range tx2_family_cpus[] = { MIDR_ALL_VERSIONS(MIDR_CORTEX_A76), {} };\n"
                "#ifdef CONFIG_CAVIUM_TX2_ERRATUM_219\n" + TX2) + 2
    exc = refused(tree)
    assert (exc.pos.line, exc.reason) == (line, "tx2_family_cpus[] is defined a second time (first at line "
                                                f"{line - 2})")


def test_a_kconfig_guard_inside_a_row_is_refused(tree):
    line = edit(tree, "\t\tMIDR_FIXED(", "#ifdef CONFIG_X\n\t\tMIDR_FIXED(")
    exc = refused(tree)
    assert (exc.pos.line, exc.reason) == (line, "'#ifdef CONFIG_X' inside a table entry")


def test_a_row_without_a_desc_imports_with_the_title_in_a_new_or_a_known_entry(tree, made, tmp_path):
    # The desc is only printed; an empty one is not a desc the registry can hold.
    edit(tree, '\t\t.desc = "Qualcomm Technologies Falkor/Kryo erratum 1003",\n', "")
    assert run_cli("init", str(tmp_path / "new")).code == 0
    shutil.copytree(made[1], tmp_path / "known")
    for reg in (tmp_path / "new", tmp_path / "known"):
        done = run_cli("import", "--registry", str(reg), "--kernel-tree", str(tree))
        assert done.code == 0, done.err
        entry = next(e for e in load_registry(reg).registry.errata if e.enables == "WORKAROUND_QCOM_FALKOR_E1003")
        assert entry.kernel.desc is None


# --- 5. macros the reader expands, defined again in the file ----------------------------------------

KERNEL_DEFINITIONS = """#define CAP_MIDR_RANGE(model, v_min, r_min, v_max, r_max)\t\\
\t.matches = is_affected_midr_range,\t\t\t\\
\t.midr_range = MIDR_RANGE(model, v_min, r_min, v_max, r_max)

#define MIDR_FIXED(rev, revidr_mask) \\
\t.fixed_revs = (struct arm64_midr_revidr[]){{ (rev), (revidr_mask) }, {}}

/* Errata affecting a single variant/revision of a model */
#define ERRATA_MIDR_REV(model, var, rev)\t\\
\tERRATA_MIDR_RANGE(model, var, rev, var, rev)
"""


@pytest.mark.parametrize("definition, words", [
    ("#undef ERRATA_MIDR_REV\n#define ERRATA_MIDR_REV(model, var, rev) ERRATA_MIDR_ALL_VERSIONS(model)\n",
     "an #undef of ERRATA_MIDR_REV"),
    ("#define MIDR_QCOM_FALKOR_V1 MIDR_CORTEX_A76\n", "a #define of MIDR_QCOM_FALKOR_V1"),
    ("#define MIDR_REV(m, v, r) MIDR_ALL_VERSIONS(m)\n", "a #define of MIDR_REV"),
])
def test_a_macro_the_table_depends_on_defined_again_is_refused_at_its_line(tree, made, definition, words):
    line = edit(tree, "const struct arm64_cpu_capabilities arm64_errata[] = {\n",
                definition + "const struct arm64_cpu_capabilities arm64_errata[] = {\n")
    assert_refused_everywhere(tree, made, line, words)


@pytest.mark.parametrize("directive", ["#undef CONFIG_CAVIUM_TX2_ERRATUM_219", "#define CONFIG_X 1"])
def test_a_kconfig_option_defined_or_undefined_in_the_file_is_refused_at_its_line(tree, made, directive):
    # The reader takes each #ifdef CONFIG_ as the enabled build does; the file may not turn one around.
    line = edit(tree, "#ifdef CONFIG_CAVIUM_TX2_ERRATUM_219\n" + TX2,
                directive + "\n#ifdef CONFIG_CAVIUM_TX2_ERRATUM_219\n" + TX2)
    assert_refused_everywhere(tree, made, line, f"an #{directive.split()[0][1:]} of {directive.split()[1]}")


def test_the_kernels_own_definitions_of_the_table_macros_read_as_the_reader_expands_them(tree):
    before = [(r.cpucap, ranges(r)) for r in facts(tree).rows]
    edit(tree, "const struct arm64_cpu_capabilities arm64_errata[] = {\n",
         KERNEL_DEFINITIONS + "const struct arm64_cpu_capabilities arm64_errata[] = {\n")
    assert [(r.cpucap, ranges(r)) for r in facts(tree).rows] == before


# --- 6. numbers past the fields they fill ---------------------------------------------------------------


@pytest.mark.parametrize("new, revisions", [
    ("MIDR_RANGE(MIDR_CORTEX_A76, 0, 0, 3, 0x11)", "r0p0..r3p15"),
    ("MIDR_RANGE(MIDR_CORTEX_A76, 0, 0x11, 0x13, 1)", "r1p0..r15p15"),
    ("MIDR_RANGE(MIDR_CORTEX_A76, 0, 0, 03, 01)", "r0p0..r3p1"),
])
def test_variants_and_revisions_read_as_the_kernels_compare_of_them(tree, new, revisions):
    edit(tree, "MIDR_RANGE(MIDR_CORTEX_A76, 0, 0, 3, 1)", new)
    assert ranges(row(tree, "WORKAROUND_1463225"))[0] == f"cortex-a76 {revisions}"


def test_install_does_not_take_a_wider_range_for_the_registrys(tree, made):
    line = edit(tree, "MIDR_RANGE(MIDR_CORTEX_A76, 0, 0, 3, 1)", "MIDR_RANGE(MIDR_CORTEX_A76, 0, 0, 3, 0x11)")
    install = commands(tree, made)["install"]
    assert install.code == 1 and f"{CPU_ERRATA}:{line}:1: error: ARM64_WORKAROUND_1463225 .midr_range_list: range " \
        "MIDR_CORTEX_A76 r0p0..r3p15 here, MIDR_CORTEX_A76 r0p0..r3p1 in the registry's table" in install.err


@pytest.mark.parametrize("new, words", [
    ("MIDR_RANGE(MIDR_CORTEX_A76, 3, 0x11, 3, 0x12)", "lets in no variant and revision a MIDR can have"),
    ("MIDR_RANGE(MIDR_CORTEX_A76, 0, 0, 0x1000, 0)", "does not fit in the 32 bits of struct midr_range"),
    ("MIDR_RANGE(MIDR_CORTEX_A76, 0, 0, 08, 0)", "'08' is not a C integer constant"),
    ("MIDR_RANGE(MIDR_CORTEX_A76, 0, 0, 0x10000000000000000, 0)", "0x10000000000000000 does not fit in 64 bits"),
])
def test_a_number_no_midr_can_hold_is_refused_at_its_line(tree, made, new, words):
    line = edit(tree, "MIDR_RANGE(MIDR_CORTEX_A76, 0, 0, 3, 1)", new)
    assert_refused_everywhere(tree, made, line, words)


@pytest.mark.parametrize("fix, words", [
    ("MIDR_FIXED(MIDR_CPU_VAR_REV(1, 1), BIT(99999999999))", "BIT(99999999999) is past the 64 bits"),
    ("MIDR_FIXED(MIDR_CPU_VAR_REV(1, 1), BIT(40))", "a REVIDR mask of 0x10000000000, past REVIDR_EL1's 32 bits"),
    ("MIDR_FIXED(MIDR_CPU_VAR_REV(1, 16), BIT(1))", "a REVIDR fix for 0x100010"),
])
def test_revidr_fixes_past_their_fields_are_refused_without_computing_them(tree, fix, words):
    line = edit(tree, "MIDR_FIXED(MIDR_CPU_VAR_REV(1, 1), BIT(25))", fix)
    exc = refused(tree)
    assert exc.pos.line == line and words in exc.reason


# --- 7. a designator set twice --------------------------------------------------------------------------

TX2_ROW = "\t\t.midr_range_list = tx2_family_cpus,\n"


@pytest.mark.parametrize("new, words", [
    (TX2_ROW + TX2_ROW, "a second .midr_range_list in this row"),
    (TX2_ROW + "\t\tERRATA_MIDR_ALL_VERSIONS(MIDR_CORTEX_A76),\n", ".midr_range and .midr_range_list"),
])
def test_a_range_field_set_twice_is_refused_at_the_second(tree, new, words):
    line = edit(tree, TX2_ROW, new) + 1
    exc = refused(tree)
    assert exc.pos.line == line and exc.reason.startswith(words)


def test_a_plain_field_set_twice_reads_as_c_does_the_last(tree):
    edit(tree, "\t\t.capability = ARM64_WORKAROUND_834220,\n",
         "\t\t.capability = ARM64_WORKAROUND_1463225,\n\t\t.capability = ARM64_WORKAROUND_834220,\n")
    assert ranges(row(tree, "WORKAROUND_834220")) == ["cortex-a57 r0p0..r1p2"]


# --- 9. install --kernel-tables takes out whole tables and nothing else ------------------------------------


def test_install_keeps_a_comment_that_ends_just_above_a_table_and_the_code_it_shares_a_line_with(tree, made):
    edit(tree, "#ifdef CONFIG_CAVIUM_TX2_ERRATUM_219\n" + TX2,
         "static int x; /* a\n * b */\n#ifdef CONFIG_CAVIUM_TX2_ERRATUM_219\n" + TX2)
    _, reg, _ = made
    assert run_cli("install", "--kernel-tables", "--registry", str(reg), "--kernel-tree", str(tree)).code == 0
    text = (tree / CPU_ERRATA).read_text()
    assert "static int x; /* a\n * b */\n" in text and "tx2_family_cpus[]" not in text
    assert isinstance(row(tree, "WORKAROUND_1542419"), TreeRow)


def test_install_refuses_a_table_that_shares_a_line_with_other_code(tree, made):
    line = edit(tree, "#ifdef CONFIG_CAVIUM_TX2_ERRATUM_219\n" + TX2, "#ifdef CONFIG_CAVIUM_TX2_ERRATUM_219\n"
                "static int x; " + TX2) + 1
    install = commands(tree, made)["install"]
    assert install.code == 1 and f"{CPU_ERRATA}:{line}:1: error: not a cpu_errata.c this version of errata-db can " \
        "rewrite: a table shares this line with other code" in install.err


# --- 11a. bounds --------------------------------------------------------------------------------------------


def test_a_list_past_the_readers_bound_is_refused_where_it_crosses_it(tree):
    line = edit(tree, A76, A76 * (cpu_errata.MAX_ENTRIES + 5))
    exc = refused(tree)
    assert (exc.pos.line, exc.reason) == (line + cpu_errata.MAX_ENTRIES, f"more than {cpu_errata.MAX_ENTRIES} "
                                          "entries in one table: past what this reader reads")


def test_brackets_past_the_readers_depth_are_refused(tree):
    depth = cpu_errata.MAX_DEPTH
    line = edit(tree, "BIT(25)", "(" * depth + "BIT(25)" + ")" * depth)
    exc = refused(tree)
    assert exc.pos.line == line and exc.reason.startswith(f"brackets more than {depth} deep")


# --- 15. how gcc reads the file -------------------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_line_endings_read_as_gcc_reads_them(tree, made, newline):
    before = facts(tree).rows
    path = tree / CPU_ERRATA
    path.write_bytes(path.read_bytes().replace(b"\n", newline.encode()))
    assert facts(tree).rows == before
    assert [r.pos.line for r in facts(tree).rows] == [r.pos.line for r in before]
    assert all(run.code == 0 for run in commands(tree, made, install=False).values())


def test_install_keeps_a_crlf_files_line_endings(tree, made):
    path = tree / CPU_ERRATA
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    _, reg, _ = made
    assert run_cli("install", "--kernel-tables", "--registry", str(reg), "--kernel-tree", str(tree)).code == 0
    data = path.read_bytes()
    assert b"#include \"cpu_errata_table.h\"\r\n" in data and not re.search(rb"[^\r]\n", data)
