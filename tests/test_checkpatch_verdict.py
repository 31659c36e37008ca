"""tests/checkpatch.py judges by checkpatch's `total:` line, so that the slow tier's checkpatch
tests can fail: a stand-in for checkpatch.pl prints what the real one would."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import checkpatch

pytestmark = pytest.mark.skipif(shutil.which("perl") is None, reason="checkpatch.pl is a perl script")

FOUND = ("WARNING:TYPO_SPELLING: 'acknowledgement' may be misspelled - perhaps 'acknowledgment'?\n"
         "#12: FILE: arch/arm64/kernel/cpu_errata_table.h:627:\n"
         '+\t\t.desc = "early acknowledgement",\n\n')


def report(tmp_path: Path, stdout: str) -> checkpatch.Report:
    script = tmp_path / "checkpatch.pl"
    script.write_text(f"print <<'END';\n{stdout}END\n")
    return checkpatch.run(script, tmp_path, "--strict", "x.patch")


def test_a_total_of_nothing_is_clean(tmp_path):
    checkpatch.assert_clean(report(tmp_path, "total: 0 errors, 0 warnings, 0 checks, 12 lines checked\n"))


def test_a_finding_is_allowed_only_by_the_test_that_allows_it(tmp_path):
    found = report(tmp_path, FOUND + "total: 0 errors, 1 warnings, 0 checks, 12 lines checked\n")
    assert found.findings == [checkpatch.Finding(
        "WARNING", "TYPO_SPELLING", "'acknowledgement' may be misspelled - perhaps 'acknowledgment'?",
        "arch/arm64/kernel/cpu_errata_table.h", "627", '\t\t.desc = "early acknowledgement",')]
    checkpatch.assert_clean(found, lambda f: f.type == "TYPO_SPELLING")
    with pytest.raises(AssertionError, match=r"checkpatch counts 1 WARNING \(0 allowed\)"):
        checkpatch.assert_clean(found)


def test_a_finding_in_a_format_not_parsed_still_counts_in_the_total(tmp_path):
    found = report(tmp_path, FOUND + "warning: a finding of another shape\n"
                   "total: 0 errors, 2 warnings, 0 checks, 12 lines checked\n")
    with pytest.raises(AssertionError, match=r"checkpatch counts 2 WARNING \(1 allowed\)"):
        checkpatch.assert_clean(found, lambda f: f.type == "TYPO_SPELLING")


def test_a_check_counts_as_much_as_a_warning(tmp_path):
    found = report(tmp_path, "total: 0 errors, 0 warnings, 1 checks, 12 lines checked\n")
    with pytest.raises(AssertionError, match=r"checkpatch counts 1 CHECK \(0 allowed\)"):
        checkpatch.assert_clean(found)


def test_output_without_the_total_line_is_no_verdict(tmp_path):
    with pytest.raises(AssertionError, match="checkpatch printed 0 total lines, not one"):
        report(tmp_path, FOUND)
