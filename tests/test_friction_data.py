"""Everyday friction (issue #24) in what the tool says about the data: the mistake made as a
user makes it, the exact words printed, and then the advice followed, which must work.

Commands run from a directory holding a checkout-like `errata-db/`, a copy of the bundled
registry, so that the advice is followed as printed.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from conftest import REGISTRY, run_cli
from generated_tree import write_tree
from test_everyday_mistakes import advised, edit, git, repo  # noqa: F401 - repo is a fixture

from errata_db.model import ALL_REVISIONS, Affects, revision_set_str
from errata_db.registry import load_registry


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A directory holding errata-db/, a copy of the bundled registry, as a checkout would."""
    shutil.copytree(REGISTRY, tmp_path / "errata-db")
    return tmp_path


def cli(checkout: Path, *args: str):
    return run_cli(*args, cwd=checkout)


def line_of(path: Path, text: str) -> int:
    """The line a text (whole lines, once in the file) starts on."""
    whole = path.read_text()
    assert whole.count(text) == 1
    return whole[:whole.index(text)].count("\n") + 1


# --- duplicate-bit blames the entry bits.lock does not give the bit to ------------------------

# Bit 5 is WORKAROUND_CAVIUM_23154's, locked in bits.lock. The newcomer's name sorts before it
# and arm.yaml before cavium.yaml: whichever comes first, the newcomer is the one to move.
NEWCOMER = """
  - name: WORKAROUND_9999999
    bit: 5
    vendor: ARM
    errata_ids: ["9999999"]
    description: A new erratum.
    guest: needed
    impact: corruption
    impact_note: A test entry.
    kconfig: [ARM64_ERRATUM_9999999]
    affects:
      - cpu: cortex-a53
        revisions: r0p0
    status: active
"""


def test_duplicate_bit_names_the_unlocked_newcomer_and_next_bit_then_lock_fix_it(checkout):
    arm = checkout / "errata-db/errata/arm.yaml"
    text = arm.read_text()
    arm.write_text(text + NEWCOMER)
    line = text.count("\n") + 3
    owner = line_of(checkout / "errata-db/errata/cavium.yaml", "  - name: WORKAROUND_CAVIUM_23154\n") + 1
    result = cli(checkout, "validate")
    advice = (f"errata-db/errata/arm.yaml:{line}:10: error: bit 5 of 'WORKAROUND_9999999' is already "
              f"given to 'WORKAROUND_CAVIUM_23154' at errata-db/errata/cavium.yaml:{owner}:10; run "
              "`errata-db next-bit` for a free bit [duplicate-bit]")
    assert result.code == 1 and result.err.splitlines() == [advice]
    free = cli(checkout, *advised(advice))
    assert free.code == 0
    bit = int(free.out)
    edit(arm, "    bit: 5\n    vendor: ARM\n    errata_ids: [\"9999999\"]",
         f"    bit: {bit}\n    vendor: ARM\n    errata_ids: [\"9999999\"]")
    result = cli(checkout, "validate")
    lock_advice = (f"errata-db/errata/arm.yaml:{line}:10: error: bit {bit} ('WORKAROUND_9999999') is not "
                   "in bits.lock: run `errata-db lock` [lock]")
    assert result.code == 1 and result.err.splitlines() == [lock_advice]
    assert cli(checkout, *advised(lock_advice)).code == 0
    assert cli(checkout, "validate").code == 0
    # The locked entry kept its bit: the lock gained a line, and changed none.
    lock = (checkout / "errata-db/bits.lock").read_text()
    assert lock.startswith((REGISTRY / "bits.lock").read_text())
    assert lock.endswith(" WORKAROUND_9999999\n")


# --- one wording for a set of revisions ------------------------------------------------------


def test_a_set_of_revisions_reads_all_or_its_runs_as_the_registry_writes_ranges():
    every = {(v, r) for v in range(16) for r in range(16)}
    assert revision_set_str(every) == "all"
    assert revision_set_str(every - {(15, 15)}) == "r0p0..r15p14"
    assert revision_set_str([(2, 0), (0, 0), (0, 1), (0, 2), (1, 2), (0, 15), (1, 0), (1, 1)]) == \
        "r0p0..r0p2, r0p15..r1p2, r2p0"
    assert revision_set_str([(2, 0), (0, 0), (0, 1), (1, 2)]) == "r0p0..r0p1, r1p2, r2p0"
    # A report line stays short however scattered the set.
    assert revision_set_str({(0, r) for r in range(0, 16, 2)}) == "r0p0, r0p2, r0p4 +5 more"




def test_a_widening_reads_the_same_in_import_and_in_stability(repo):  # noqa: F811
    """The tree adds AmpereOne AC04 (all revisions) and Cortex-A53 r0p0..r1p2 to erratum 1418040:
    import reports it, and stability then reports the change, in the same words."""
    reg = load_registry(REGISTRY).registry
    cpus = {c.id: c for c in reg.cpus}
    added = (Affects(cpus["ampere1a"], *ALL_REVISIONS, None, (), ()),
             Affects(cpus["cortex-a53"], (0, 0), (1, 2), None, (), ()))
    wider = tuple(dataclasses.replace(e, affects=(*e.affects, *added)) if e.name == "WORKAROUND_1418040" else e
                  for e in reg.errata)
    tree = write_tree(repo / "linux", dataclasses.replace(reg, errata=wider))
    imported = cli(repo, "import", "--kernel-tree", str(tree))
    now = "now AmpereOne AC04 all; Cortex-A53 r0p0..r1p2"
    assert imported.code == 0 and f"widened   WORKAROUND_1418040 (bit 11): {now}" in imported.out.splitlines()
    # Its affects: list starts on the line after the entry's `affects:` key.
    text = (repo / "errata-db/errata/arm.yaml").read_text()
    entry = text.index("  - name: WORKAROUND_1418040\n")
    ranges = text[:text.index("    affects:\n", entry)].count("\n") + 2
    changes = cli(repo, "stability", "--against", "HEAD")
    assert changes.code == 0
    assert changes.out.splitlines()[0] == (
        f"errata-db/errata/arm.yaml:{ranges}:7: safe: 'WORKAROUND_1418040' affects more CPUs: {now} "
        f"(was HEAD:errata-db/errata/arm.yaml:{ranges}:7) [ranges-widened]")


# --- a part cpus.yaml lacks is shown by the part family it matches ----------------------------

KRYO_201 = 0x510F2011  # Qualcomm part 0x201: not in cpus.yaml, in the Kryo 0x2xx family
KRYO_WARNING = ("  warning: MIDR 0x510f2011 (implementer 0x51, part 0x201, on kryo) is not in cpus.yaml: "
                "it matches the part family of Kryo (0x2xx family), and has that family's errata [unknown-cpu]")


@pytest.fixture
def fleet_file(checkout: Path) -> Path:
    path = checkout / "hosts.yaml"
    path.write_text(f"hosts:\n  - name: kryo\n    cpus: [{{midr: {KRYO_201:#x}}}]\n"
                    "  - name: a53\n    cpus: [{midr: 0x410fd034}]\n")
    return path


def test_fleet_shows_a_kryo_part_by_its_family_beside_the_warning_that_says_so(checkout, fleet_file):
    result = cli(checkout, "fleet", "--hosts", str(fleet_file))
    lines = result.out.splitlines()
    assert result.code == 0 and KRYO_WARNING in lines
    label = "Kryo (0x2xx family) part 0x201 r0p1"
    assert f"  MIDR 0x510f2011  REVIDR 0x00000000  {label} x1    on kryo" in lines
    assert f"           needed by: {label}" in lines
    assert lines[lines.index("  DISCOVER_IMPL_VER      R1 = 0x00010000 (version 1.0)  R2 = 2 (count)") + 2] == (
        f"  DISCOVER_IMPL_CPUS(1)  R1 = MIDR 0x510f2011  R2 = REVIDR 0x00000000  R3 = AIDR 0x00000000  {label}")


def test_risk_shows_a_kryo_part_by_its_family_beside_the_warning_that_says_so(checkout, fleet_file):
    result = cli(checkout, "risk", "--hosts", str(fleet_file))
    lines = result.out.splitlines()
    assert result.code == 0 and KRYO_WARNING in lines
    assert lines[lines.index("  kryo  1 host(s): kryo") + 1] == (
        "        MIDR 0x510f2011  REVIDR 0x00000000  AIDR 0x00000000  Kryo (0x2xx family) part 0x201 r0p1")
