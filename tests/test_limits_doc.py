"""docs/limits.md states every input's limit: the numbers there are the code's."""

from __future__ import annotations

import re

from conftest import REPO

from errata_db import diagnostics, fleet, load, risk, vmm, write
from errata_db.kernel import cpu_errata, tree

LIMITS = (REPO / "docs" / "limits.md").read_text()


def _size(n: int) -> str:
    """How the page writes a size: 1 MiB, 4 KiB."""
    for unit, shift in (("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n:,}"


def _row(first_cell: str) -> str:
    rows = [line for line in LIMITS.splitlines() if line.startswith(f"| {first_cell}")]
    assert len(rows) == 1, f"docs/limits.md has {len(rows)} row(s) starting '{first_cell}'"
    return rows[0]


def test_every_limit_the_page_states_is_the_code_s():
    expected = {
        "a registry or overlay file": _size(load.MAX_BYTES),
        "YAML nesting in a registry file": f"{load.MAX_DEPTH} levels",
        "YAML nodes in a registry file": f"{load.MAX_EVENTS:,}",
        "diagnostics of one rule": f"{diagnostics.MAX_REPEATS}",
        "a hosts file": _size(fleet.MAX_BYTES),
        "YAML nodes in a hosts file": f"{fleet.MAX_NODES:,}",
        "a sysfs register file": _size(fleet.REGISTER_FILE_MAX),
        "classes of identical hosts": f"{risk.MAX_CLASSES}, with names of {risk.MAX_NAME_CHARS:,} characters",
        "a file of a Linux tree": _size(tree.TREE_FILE_MAX),
        "tokens in `cpu_errata.c`": f"{cpu_errata.MAX_TOKENS:,}",
        "rows or ranges in one table": f"{cpu_errata.MAX_ENTRIES:,}",
        "brackets nested": f"{cpu_errata.MAX_DEPTH}",
        "a generated file compared": _size(write.READ_LIMIT),
        "a registry or output directory another": f"waited for {write.WAIT_SECONDS} s",
    }
    wrong = {cell: value for cell, value in expected.items()
             if f"| {value} |" not in _row(cell) and f"| {value} " not in _row(cell)}
    assert wrong == {}, wrong


def _taken(limit: int | None, what: str) -> str:
    """How the page writes what a reader of the target list takes: a number, or none known."""
    return "no limit known" if limit is None else f"{limit} {what}"


def test_every_limit_of_what_takes_the_target_list_is_the_code_s():
    expected = {
        "openEuler's QEMU 8.2": _taken(vmm.X_TARGET_MAX, "MIDR:REVIDR pairs"),
        "the upstream QEMU RFC": _taken(vmm.RFC_MAX, "targets"),
        "a Linux 6.15+ guest": _taken(vmm.GUEST_MAX, "targets"),
    }
    wrong = {cell: value for cell, value in expected.items() if f"| {value} |" not in _row(cell)}
    assert wrong == {}, wrong


def test_the_page_has_no_row_this_test_does_not_check():
    headers = ("| input", "| reader")
    rows = [line for line in LIMITS.splitlines() if re.match(r"\| [^-]", line) and not line.startswith(headers)]
    assert len(rows) == 14 + 3
