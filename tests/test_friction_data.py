"""Everyday friction (issue #24) in what the tool says about the data: the mistake made as a
user makes it, the exact words printed, and then the advice followed, which must work.

Commands run from a directory holding a checkout-like `errata-db/`, a copy of the bundled
registry, so that the advice is followed as printed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import REGISTRY, run_cli
from test_everyday_mistakes import advised, edit


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A directory holding errata-db/, a copy of the bundled registry, as a checkout would."""
    shutil.copytree(REGISTRY, tmp_path / "errata-db")
    return tmp_path


def cli(checkout: Path, *args: str):
    return run_cli(*args, cwd=checkout)


# --- duplicate-bit blames the entry bits.lock does not give the bit to ------------------------

# Bit 5 is WORKAROUND_CAVIUM_23154's, locked in bits.lock. The newcomer's name sorts before it
# and arm.yaml before cavium.yaml: whichever comes first, the newcomer is the one to move.
NEWCOMER = """
  - name: WORKAROUND_9999999
    bit: 5
    vendor: ARM
    errata_ids: ["9999999"]
    description: A new erratum.
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
    result = cli(checkout, "validate")
    advice = (f"errata-db/errata/arm.yaml:{line}:10: error: bit 5 of 'WORKAROUND_9999999' is already "
              "given to 'WORKAROUND_CAVIUM_23154' at errata-db/errata/cavium.yaml:7:10; run "
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
