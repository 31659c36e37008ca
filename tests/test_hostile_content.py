"""Small hostile files cost little: the lock has the YAML files' limits, checks scale like
sorting, and one rule repeated in one entry (or one lock) prints a bounded number of lines.

What a hostile file costs is counted in calls (tests/cost.py), over what checking the bundled
registry costs: so many calls per line, range or item it adds, a few times what each costs now.
Comparing every two of n items would cost n/2 calls per item, well past each budget here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import REGISTRY, run_cli
from cost import counted
from errata_db.diagnostics import MAX_REPEATS
from errata_db.load import SourceFile
from errata_db.lock import decoded, text_of


def registry(tmp_path: Path) -> Path:
    root = tmp_path / "reg"
    shutil.copytree(REGISTRY, root)
    return root


@pytest.fixture(scope="module")
def base_calls() -> int:
    """The calls of checking the bundled registry, which each hostile file adds to."""
    with counted(10**7) as work:
        assert run_cli("validate", "--registry", str(REGISTRY)).code == 0
    return work.calls


def validate(root: Path, max_calls: int):
    with counted(max_calls):
        return run_cli("validate", "--registry", str(root))


def rule_lines(err: str, rule: str) -> list[str]:
    return [line for line in err.splitlines() if line.endswith(f"[{rule}]")]


# --- bits.lock ------------------------------------------------------------------------------------


@pytest.mark.slow  # counting every call of a megabyte-sized input: seconds
def test_a_megabyte_of_junk_lock_lines_is_checked_in_a_few_calls_a_line_and_summed_up(tmp_path, base_calls):
    root = registry(tmp_path)
    lock = root / "bits.lock"
    before = lock.read_text().count("\n")
    lock.write_text(lock.read_text() + "x\n" * 500_000)
    # 3 calls a line now; a diagnostic per line, sorted and printed, would take 30 and more.
    result = validate(root, base_calls + 10 * 500_000)
    assert result.code == 1
    lines = rule_lines(result.err, "lock-syntax")
    assert len(lines) == MAX_REPEATS + 1
    assert lines[-1] == (f"{root}/bits.lock:{before + MAX_REPEATS + 1}:1: error: "
                         f"{500_000 - MAX_REPEATS} more malformed lock line(s) from here on, not listed "
                         "one by one [lock-syntax]")


def test_a_lock_larger_than_the_limit_is_refused_unread(tmp_path):
    root = registry(tmp_path)
    (root / "bits.lock").write_bytes((root / "bits.lock").read_bytes() + b"#" * (1 << 20))
    result = run_cli("validate", "--registry", str(root))
    assert result.code == 1
    assert rule_lines(result.err, "file-too-large")[0].startswith(f"{root}/bits.lock:1:1: error: file is ")


def test_a_lock_with_nul_bytes_is_binary(tmp_path):
    root = registry(tmp_path)
    (root / "bits.lock").write_bytes(b"# header\n3 active\0 x\n")
    result = run_cli("validate", "--registry", str(root))
    assert result.code == 1
    assert (f"{root}/bits.lock:2:9: error: file contains NUL bytes: not a text file [file-binary]"
            in result.err.splitlines())


def test_a_lock_with_a_byte_order_mark_reads_as_without(tmp_path):
    root = registry(tmp_path)
    lock = root / "bits.lock"
    lock.write_bytes(b"\xef\xbb\xbf" + lock.read_bytes().split(b"\n", 4)[4])  # first line: a lock line
    assert lock.read_bytes()[3:4].isdigit()
    result = run_cli("validate", "--registry", str(root))
    assert result.code == 0, result.err


def test_lock_after_a_byte_order_mark_appends_no_line_twice(tmp_path):
    root = registry(tmp_path)
    lock = root / "bits.lock"
    lock.write_bytes(b"\xef\xbb\xbf" + lock.read_bytes())
    assert run_cli("lock", "--registry", str(root)).code == 0
    assert run_cli("validate", "--registry", str(root)).code == 0


# --- ranges of one entry ---------------------------------------------------------------------------


def overlapping_entry(count: int) -> str:
    """One erratum with count ranges on one CPU, each overlapping all the others, and
    every range listed twice."""
    ranges = "".join(f"      - cpu: cortex-a53\n        revisions: r0p0..r{i % 16}p{i % 15}\n"
                     for i in range(count))
    return ("errata:\n  - name: WORKAROUND_OVERLAP\n    bit: 100\n    vendor: ARM\n"
            '    errata_ids: ["1"]\n    description: Overlaps.\n    kconfig: []\n'
            f"    affects:\n{ranges}    status: active\n")


@pytest.mark.slow
def test_thousands_of_overlapping_ranges_are_checked_like_sorting_with_bounded_output(tmp_path, base_calls):
    root = registry(tmp_path)
    (root / "errata" / "zz.yaml").write_text(overlapping_entry(5000))
    # 200 calls a range, to read and check it; comparing every two would add 2,500.
    result = validate(root, base_calls + 500 * 5000)
    assert result.code == 1
    for rule, what in (("overlapping-ranges", "overlapping ranges"), ("duplicate-range", "ranges listed twice")):
        lines = rule_lines(result.err, rule)
        assert len(lines) == MAX_REPEATS + 1, (rule, len(lines))
        assert f" more {what} in 'WORKAROUND_OVERLAP' from here on, not listed one by one [{rule}]" in lines[-1]


@pytest.mark.slow
def test_a_lock_of_repeated_lines_is_checked_in_a_few_calls_a_line_with_bounded_output(tmp_path, base_calls):
    root = registry(tmp_path)
    lock = root / "bits.lock"
    lines = lock.read_text().splitlines(keepends=True)
    junk = "".join(f"{250 + i % 5} active {i:016x} GONE_{i % 7}\n" for i in range(20_000))
    lock.write_text("".join(lines) + junk)
    # 27 calls a line; comparing every two lines would add 10,000.
    result = validate(root, base_calls + 80 * 20_000)
    assert result.code == 1
    lock_lines = rule_lines(result.err, "lock")
    for what in ("bits locked twice", "names locked twice", "bits no erratum has"):
        summary = [x for x in lock_lines if f" more {what} in {root}/bits.lock from here on" in x]
        assert len(summary) == 1, what
    assert len(lock_lines) == 3 * (MAX_REPEATS + 1)


@pytest.mark.slow  # counting every call of a megabyte-sized input: seconds
def test_a_long_list_of_mappings_is_checked_by_hashing_with_bounded_output(tmp_path, base_calls):
    """uniqueItems compared every two items it could not sort: minutes for 8,000 mappings."""
    root = registry(tmp_path)
    text = (root / "registry.yaml").read_text()
    items = ", ".join(f"{{a: {i}}}" for i in range(8000))
    (root / "registry.yaml").write_text(text.replace("registers: [R0, R1, R2, R3]", f"registers: [{items}]"))
    # 385 calls an item; jsonschema's uniqueItems would add 4,000 (a comparison per pair).
    result = validate(root, base_calls + 1000 * 8000)
    assert result.code == 1
    assert len(rule_lines(result.err, "schema-type")) == MAX_REPEATS + 1
    assert "7990 more schema-type problem(s) in 'bit_space.registers' from here on" in result.err
    assert max(len(line) for line in result.err.splitlines()) < 300


@pytest.mark.slow  # counting every call of a megabyte-sized input: seconds
def test_thousands_of_ranges_on_unknown_cpus_are_summed_up_per_entry(tmp_path, base_calls):
    root = registry(tmp_path)
    entry = overlapping_entry(3000).replace("cpu: cortex-a53", "cpu: cortex-a99")
    (root / "errata" / "zz.yaml").write_text(entry.replace("revisions: r0p0..", "revisions: x0p0.."))
    # 3,500 calls a range, most of them to find the CPU names closest to the unknown one.
    result = validate(root, base_calls + 10_000 * 3000)
    assert result.code == 1
    for rule in ("unknown-cpu", "revision-syntax"):
        lines = rule_lines(result.err, rule)
        assert len(lines) == MAX_REPEATS + 1, rule
        assert lines[-1].endswith(f"{3000 - MAX_REPEATS} more {rule} problem(s) in 'WORKAROUND_OVERLAP' "
                                  f"from here on, not listed one by one [{rule}]")


# --- a kernel tree's errata table ---------------------------------------------------------------


@pytest.mark.slow
def test_thousands_of_table_rows_against_one_entry_are_checked_in_a_few_calls_a_row_with_bounded_output(
        tmp_path, registry):
    from fake_linux import write_tree

    e = next(x for x in registry.errata if x.active and x.errata_ids and x.kconfig)
    audit = ("audit", "--registry", str(REGISTRY), "--kernel-tree")
    with counted(10**7) as plain:
        assert run_cli(*audit, str(write_tree(tmp_path / "plain", registry))).code == 0
    rows = [("ARM", "Cortex-A53", f"#{e.errata_ids[0]}", f"WRONG_OPTION_{i}") for i in range(3000)]
    tree = write_tree(tmp_path / "linux", registry, extra_rows=rows)
    # 125 calls a row over auditing the tree without them; comparing every two rows would add 1,500.
    with counted(plain.calls + 400 * 3000):
        result = run_cli(*audit, str(tree))
    assert result.code == 1
    lines = [x for x in rule_lines(result.out, "audit-kconfig") if "WRONG_OPTION_" in x or " more " in x]
    assert len(lines) == MAX_REPEATS + 1, result.out[-2000:]
    assert lines[-1].endswith(f"{3000 - MAX_REPEATS} more audit-kconfig problem(s) in '{e.name}' from here on, "
                              "not listed one by one [audit-kconfig]")


def test_next_bit_reads_a_lock_after_a_byte_order_mark_as_validate_does(tmp_path):
    """Every reader decodes the lock alike (lock.decoded): a line right after the mark still
    holds its bit, which next-bit must then never hand out."""
    root = registry(tmp_path)
    lock = root / "bits.lock"
    lock.write_bytes(b"\xef\xbb\xbf38  active  0123456789abcdef WORKAROUND_GONE\n" + lock.read_bytes())
    assert "bit 38 ('WORKAROUND_GONE') is in bits.lock but no erratum has it" in run_cli("validate", "--registry", str(root)).err
    assert run_cli("next-bit", "--registry", str(root)).out.strip() == "39"


def test_the_lock_s_bytes_decode_one_way_without_the_mark_and_never_fail():
    text = "# bit status fingerprint name\n3   active  b208012ddb45edcc WORKAROUND_843419\n"
    assert decoded(b"\xef\xbb\xbf" + text.encode()) == text
    assert text_of(SourceFile("bits.lock", b"\xef\xbb\xbf" + text.encode())) == (text, [])
    assert decoded(b"7 active \xff\n") == "7 active \ufffd\n"
