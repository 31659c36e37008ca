"""Small hostile files cost little: the lock has the YAML files' limits, checks scale like
sorting, and one rule repeated in one entry (or one lock) prints a bounded number of lines."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from conftest import REGISTRY, run_cli
from errata_db.diagnostics import MAX_REPEATS


def registry(tmp_path: Path) -> Path:
    root = tmp_path / "reg"
    shutil.copytree(REGISTRY, root)
    return root


def validate(root: Path):
    start = time.perf_counter()
    result = run_cli("validate", "--registry", str(root))
    return result, time.perf_counter() - start


def rule_lines(err: str, rule: str) -> list[str]:
    return [line for line in err.splitlines() if line.endswith(f"[{rule}]")]


# --- bits.lock ------------------------------------------------------------------------------------


def test_a_megabyte_of_junk_lock_lines_is_checked_quickly_and_summed_up(tmp_path):
    root = registry(tmp_path)
    lock = root / "bits.lock"
    before = lock.read_text().count("\n")
    lock.write_text(lock.read_text() + "x\n" * 500_000)
    result, seconds = validate(root)
    assert result.code == 1
    assert seconds < 3
    lines = rule_lines(result.err, "lock-syntax")
    assert len(lines) == MAX_REPEATS + 1
    assert lines[-1] == (f"{root}/bits.lock:{before + MAX_REPEATS + 1}:1: error: "
                         f"{500_000 - MAX_REPEATS} more malformed lock line(s) from here on, not listed "
                         "one by one [lock-syntax]")


def test_a_lock_larger_than_the_limit_is_refused_unread(tmp_path):
    root = registry(tmp_path)
    (root / "bits.lock").write_bytes((root / "bits.lock").read_bytes() + b"#" * (1 << 20))
    result, _ = validate(root)
    assert result.code == 1
    assert rule_lines(result.err, "file-too-large")[0].startswith(f"{root}/bits.lock:1:1: error: file is ")


def test_a_lock_with_nul_bytes_is_binary(tmp_path):
    root = registry(tmp_path)
    (root / "bits.lock").write_bytes(b"# header\n3 active\0 x\n")
    result, _ = validate(root)
    assert result.code == 1
    assert (f"{root}/bits.lock:2:9: error: file contains NUL bytes: not a text file [file-binary]"
            in result.err.splitlines())


def test_a_lock_with_a_byte_order_mark_reads_as_without(tmp_path):
    root = registry(tmp_path)
    lock = root / "bits.lock"
    lock.write_bytes(b"\xef\xbb\xbf" + lock.read_bytes().split(b"\n", 4)[4])  # first line: a lock line
    assert lock.read_bytes()[3:4].isdigit()
    result, _ = validate(root)
    assert result.code == 0, result.err


def test_lock_after_a_byte_order_mark_appends_no_line_twice(tmp_path):
    root = registry(tmp_path)
    lock = root / "bits.lock"
    lock.write_bytes(b"\xef\xbb\xbf" + lock.read_bytes())
    assert run_cli("lock", "--registry", str(root)).code == 0
    assert run_cli("validate", "--registry", str(root)).code == 0
