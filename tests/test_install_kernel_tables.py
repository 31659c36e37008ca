"""`install --kernel-tables` on a small fake tree whose cpu_errata.c spells the bundled
registry's table by hand (the real 6.12 tree is the slow tier's, tests/test_kernel_tables_linux.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import fake_linux
from conftest import GENERATED, REPO, run_cli

CPU_ERRATA = "arch/arm64/kernel/cpu_errata.c"
HEADER = "arch/arm64/kernel/cpu_errata_table.h"


def hand_written() -> str:
    """A cpu_errata.c: code, then the tables as the generator writes them, without the banner."""
    table = (GENERATED / "linux" / HEADER).read_text()
    define = "#define __ARM64_KERNEL_CPU_ERRATA_TABLE_H\n"
    body = table[table.index(define) + len(define):]
    body = body[:body.rindex("#endif /* __ARM64_KERNEL_CPU_ERRATA_TABLE_H */")].strip("\n")
    return ("// SPDX-License-Identifier: GPL-2.0-only\n#include <asm/cpufeature.h>\n\n"
            "static bool __maybe_unused\nis_kryo_midr(const struct arm64_cpu_capabilities *entry, int scope)\n"
            "{\n\treturn false;\n}\n\n" + body + "\n")


@pytest.fixture
def tree(tmp_path: Path, registry) -> Path:
    root = fake_linux.write_tree(tmp_path / "linux", registry)
    (root / CPU_ERRATA).write_text(hand_written())
    return root


def install(tree: Path, *args: str, registry: str = "errata-db"):
    return run_cli("install", "--kernel-tree", str(tree), "--registry", registry, "--kernel-tables", *args,
                   cwd=REPO)


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_tables_are_replaced_by_an_include_of_the_generated_ones_and_a_second_run_changes_nothing(tree):
    first = install(tree)
    assert first.code == 0, first.err
    assert first.out.splitlines() == [f"updated   {tree}/{CPU_ERRATA}", f"new       {tree}/{HEADER}",
                                      "2 of 2 file(s) changed"]
    text = (tree / CPU_ERRATA).read_text()
    assert text.endswith('\n\n/* The errata tables, generated from the errata registry by errata-db */\n'
                         '#include "cpu_errata_table.h"\n')
    assert "struct midr_range" not in text and "is_kryo_midr(const" in text
    assert (tree / HEADER).read_text() == (GENERATED / "linux" / HEADER).read_text()
    again = install(tree)
    assert again.code == 0 and again.out.endswith("0 of 2 file(s) changed\n"), again.out
    assert install(tree, "--check").code == 0


def test_check_shows_the_patch_and_writes_nothing(tree):
    before = snapshot(tree)
    result = install(tree, "--check")
    assert result.code == 1
    assert f"--- a/{CPU_ERRATA}\n+++ b/{CPU_ERRATA}\n" in result.out
    assert '+#include "cpu_errata_table.h"\n' in result.out
    assert "-static const struct midr_range workaround_1418040_list[] = {\n" in result.out
    assert f"{tree}/{HEADER}: missing" in result.err
    assert "--kernel-tables" in result.err.splitlines()[-1]
    assert snapshot(tree) == before


def test_a_table_changed_by_hand_is_refused_at_its_line_and_nothing_is_written(tree):
    text = (tree / CPU_ERRATA).read_text()
    old = "\tMIDR_RANGE(MIDR_NEOVERSE_N1, 0, 0, 3, 1),\n\tMIDR_RANGE(MIDR_QCOM_KRYO_4XX_GOLD, 12, 14, 15, 15)"
    assert text.count(old) == 1
    (tree / CPU_ERRATA).write_text(text.replace(old, old.replace("3, 1", "3, 2"), 1))
    line = text[:text.index(old)].count("\n") + 1
    before = snapshot(tree)
    result = install(tree)
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        f"{tree}/{CPU_ERRATA}:{line}:1: error: ARM64_WORKAROUND_1418040 .midr_range_list: range "
        "MIDR_NEOVERSE_N1 r0p0..r3p2 here, MIDR_NEOVERSE_N1 r0p0..r3p1 in the registry's table "
        "[kernel-tables]")
    assert "was left as it is" in result.err
    assert snapshot(tree) == before


@pytest.mark.parametrize("old, new, reason", [
    ("#ifdef CONFIG_ARM64_ERRATUM_1165522\n", "#ifndef CONFIG_ARM64_ERRATUM_1165522\n",
     "'#ifndef CONFIG_ARM64_ERRATUM_1165522' in a table is not a Kconfig guard"),
    ("\tMIDR_REV(MIDR_QCOM_KRYO_4XX_SILVER, 13, 14),\n", "\tMIDR_PART(MIDR_QCOM_KRYO_4XX_SILVER),\n",
     "MIDR_PART() is not a MIDR range macro this reader knows"),
    ("\t\t.desc = \"Spectre-v2\",\n", "\t\t.extra = 1,\n\t\t.desc = \"Spectre-v2\",\n",
     ".extra is not a field of an errata row this reader reads"),
])
def test_a_cpu_errata_c_it_does_not_recognise_is_refused_with_the_line_and_reason(tree, old, new, reason):
    text = (tree / CPU_ERRATA).read_text()
    assert text.count(old) == 1
    (tree / CPU_ERRATA).write_text(text.replace(old, new, 1))
    line = text[:text.index(old)].count("\n") + 1
    before = snapshot(tree)
    result = install(tree)
    assert result.code == 1
    first = result.err.splitlines()[0]
    assert re.match(rf"{re.escape(str(tree))}/{CPU_ERRATA}:\d+:1: error: ", first), first
    assert first.endswith(f": not a cpu_errata.c this version of errata-db can rewrite: {reason} "
                          "[kernel-tables]"), first
    assert f":{line}:1:" in first
    assert snapshot(tree) == before


def test_after_the_conversion_a_registry_change_updates_only_the_generated_table(tree, tmp_path, registry_copy):
    assert install(tree).code == 0
    arm = registry_copy / "errata" / "arm.yaml"
    text = arm.read_text()
    old = "      - cpu: neoverse-n1\n        revisions: r0p0..r3p1\n"
    assert text.count(old) == 1
    arm.write_text(text.replace(old, old.replace("r3p1", "r4p0")))
    c_before = (tree / CPU_ERRATA).read_bytes()
    result = install(tree, registry=str(registry_copy))
    assert result.code == 0, result.err
    assert result.out.splitlines() == [f"updated   {tree}/{HEADER}", "1 of 2 file(s) changed"]
    assert (tree / CPU_ERRATA).read_bytes() == c_before
    assert "\tMIDR_RANGE(MIDR_NEOVERSE_N1, 0, 0, 4, 0),\n" in (tree / HEADER).read_text()


def test_a_table_header_errata_db_did_not_write_is_kept_unless_forced(tree):
    (tree / HEADER).write_text("/* mine */\n")
    result = install(tree)
    assert result.code == 2 and "was not written by errata-db" in result.err
    assert (tree / HEADER).read_text() == "/* mine */\n"
    assert install(tree, "--force").code == 0

