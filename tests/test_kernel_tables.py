"""The generated kernel errata table: the defaults a new entry gets, and the shapes the bundled
registry asks for. Building it in a real tree, and comparing the object with 6.12's own, is the
slow tier's job (tests/test_kernel_tables_linux.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import fake_linux
from conftest import FIXTURES, GENERATED, REPO, run_cli
from errata_db.model import default_table

TABLE = "linux/arch/arm64/kernel/cpu_errata_table.h"


def generate(registry: Path, out: Path) -> str:
    result = run_cli("generate", "--registry", str(registry), "--out", str(out))
    assert result.code == 0, result.err
    return (out / TABLE).read_text()


def row(text: str, capability: str) -> str:
    """The arm64_errata[] row of a capability, with its guard."""
    table = text[text.index("const struct arm64_cpu_capabilities arm64_errata[]"):]
    start = table.index(f"\t\t.capability = ARM64_{capability},\n")
    begin = table.rindex("\t{\n", 0, start)
    lines = table[:begin].splitlines(keepends=True)
    while lines and lines[-1].startswith(("#if", "\tdefined(")):
        begin -= len(lines.pop())
        if table.startswith("#if", begin):
            break
    end = table.index("\t},\n", start) + len("\t},\n")
    if table.startswith("#endif\n", end):
        end += len("#endif\n")
    return table[begin:end]


def test_a_new_entry_without_kernel_fields_is_a_range_list_under_its_own_options(tmp_path):
    reg = tmp_path / "reg"
    shutil.copytree(FIXTURES / "valid", reg)
    text = generate(reg, tmp_path / "out")
    assert row(text, "WORKAROUND_CLEAN_CACHE") == (
        "#if defined(CONFIG_ARM64_ERRATUM_826319) || \\\n\tdefined(CONFIG_ARM64_ERRATUM_819472)\n"
        "\t{\n"
        '\t\t.desc = "ARM errata 826319, 819472",\n'
        "\t\t.capability = ARM64_WORKAROUND_CLEAN_CACHE,\n"
        "\t\tERRATA_MIDR_RANGE_LIST(workaround_clean_cache_list),\n"
        "\t},\n#endif\n")
    assert ("static const struct midr_range workaround_clean_cache_list[] = {\n"
            "\tMIDR_REV_RANGE(MIDR_CORTEX_A53, 0, 0, 2),\n"
            "\tMIDR_REV_RANGE(MIDR_CORTEX_A53, 0, 0, 1),\n\t{},\n};\n") in text


def test_ranges_a_list_cannot_hold_make_an_entries_table(tmp_path):
    reg = tmp_path / "reg"
    shutil.copytree(FIXTURES / "valid", reg)
    text = generate(reg, tmp_path / "out")
    assert ("static const struct arm64_cpu_capabilities workaround_qcom_falkor_e1003_list[] = {\n"
            "\t{\n\t\tERRATA_MIDR_REV(MIDR_QCOM_FALKOR_V1, 0, 0),\n\t},\n"
            "\t{\n\t\t.midr_range.model = MIDR_QCOM_KRYO,\n\t\t.matches = is_kryo_midr,\n\t},\n"
            "\t{},\n};\n") in text
    assert ("\t{\n\t\tERRATA_MIDR_REV_RANGE(MIDR_CORTEX_A53, 0, 0, 4),\n"
            "\t\tMIDR_FIXED(MIDR_CPU_VAR_REV(0, 4), BIT(8)),\n\t},\n") in text


def test_the_default_table_is_entries_exactly_when_a_range_is_a_part_family_or_has_revidr_fixes():
    fix = ((0, 4), 1 << 8)
    assert default_table([]) == "list"
    assert default_table([(None, ()), (None, ())]) == "list"
    assert default_table([(None, ()), (0xF00, ())]) == "entries"
    assert default_table([(None, (fix,)), (None, ())]) == "entries"


def test_an_entry_without_kconfig_options_gets_an_unguarded_list_and_no_double_blank_line(tmp_path):
    reg = tmp_path / "reg"
    shutil.copytree(FIXTURES / "valid", reg)
    errata = reg / "errata/a.yaml"
    text = errata.read_text()
    assert text.count("    kconfig: [ARM64_ERRATUM_826319, ARM64_ERRATUM_819472]\n") == 1
    errata.write_text(text.replace("    kconfig: [ARM64_ERRATUM_826319, ARM64_ERRATUM_819472]\n",
                                   "    kconfig: []\n"))
    table = generate(reg, tmp_path / "out")
    assert "\nstatic const struct midr_range workaround_clean_cache_list[] = {\n" in table
    assert "\n\n\n" not in table  # checkpatch --strict: no multiple blank lines


def test_retired_entries_have_no_row(tmp_path):
    reg = tmp_path / "reg"
    shutil.copytree(FIXTURES / "valid", reg)
    text = generate(reg, tmp_path / "out")
    assert "ARM64_WORKAROUND_834220" not in text


def test_bundled_table_keeps_the_kernels_shapes():
    text = (GENERATED / TABLE).read_text()
    assert row(text, "SPECTRE_V3A").startswith("#ifdef CONFIG_RANDOMIZE_BASE\n")
    assert row(text, "WORKAROUND_CAVIUM_TX2_219_TVM") == (
        "#ifdef CONFIG_CAVIUM_TX2_ERRATUM_219\n\t{\n"
        '\t\t.desc = "Cavium ThunderX2 erratum 219 (KVM guest sysreg trapping)",\n'
        "\t\t.capability = ARM64_WORKAROUND_CAVIUM_TX2_219_TVM,\n"
        "\t\t.type = ARM64_CPUCAP_LOCAL_CPU_ERRATUM,\n"
        "\t\t.matches = needs_tx2_tvm_workaround,\n"
        "\t\t.midr_range_list = tx2_family_cpus,\n\t},\n#endif\n")
    assert text.count("struct midr_range tx2_family_cpus[]") == 1
    # Linux 7.3 (the registry's kernel) keeps the list static under its option; 6.12 exported it.
    assert ("\n#ifdef CONFIG_CAVIUM_ERRATUM_27456\n"
            "static const struct midr_range cavium_erratum_27456_cpus[] = {\n") in text
    order = [line.split("ARM64_", 1)[1].rstrip(",") for line in text.splitlines()
             if line.startswith("\t\t.capability = ")]
    assert order[7:15] == ["WORKAROUND_CAVIUM_30115", "MISMATCHED_CACHE_TYPE",
                           "WORKAROUND_QCOM_FALKOR_E1003", "WORKAROUND_REPEAT_TLBI_SYNC", "WORKAROUND_858921",
                           "SPECTRE_V2", "SPECTRE_V3A", "SPECTRE_V4"]
    # 7.3.4's arm64_errata[]: 38 errata in 37 rows (162100125 joins DISABLE_CNP's) and 8 not covered
    assert len(order) == 45


def test_plain_install_leaves_the_kernel_table_out(tmp_path, registry):
    tree = fake_linux.write_tree(tmp_path / "linux", registry)
    result = run_cli("install", "--kernel-tree", str(tree), "--registry", "errata-db", cwd=REPO)
    assert result.code == 0, result.err
    assert not (tree / "arch/arm64/kernel/cpu_errata_table.h").exists()
