"""The overlapping-ranges rule, which sweeps sorted ranges instead of comparing every two,
finds what comparing every two finds: checked against that, on random entries."""

from __future__ import annotations

import random
import re

from errata_db import validate
from errata_db.diagnostics import MAX_REPEATS, Pos
from errata_db.model import Affects, Cpu, Erratum, Implementer, Registry, Where


def conflicts(a: Affects, b: Affects) -> bool:
    """The rule's definition, pair by pair."""
    return ((a.low, a.high) != (b.low, b.high) and a.cpu.id == b.cpu.id and a.part_mask == b.part_mask
            and a.rv_min <= b.rv_max and b.rv_min <= a.rv_max
            and (not a.errata_ids or not b.errata_ids or bool(set(a.errata_ids) & set(b.errata_ids))))


def random_entry(rng: random.Random) -> Erratum:
    imp = Implementer("arm", 0x41, "ARM", "ARM_CPU_IMP_ARM", "upstream")
    cpus = [Cpu(f"cpu{i}", imp, 0xD00 + i, f"CPU {i}", f"MIDR_CPU{i}", None, None, "upstream") for i in range(2)]
    affects = []
    for n in range(rng.randint(2, 6)):  # few enough that the cap never applies
        low = (rng.randint(0, 2), rng.randint(0, 3))
        high = (rng.randint(low[0], 3), rng.randint(0, 3))
        if high < low:
            high = low
        ids = tuple(rng.sample(["1", "2", "3"], rng.randint(0, 2)))
        affects.append(Affects(rng.choice(cpus), low, high, rng.choice([None, 0xF00]), (), ids,
                               Where(Pos("x.yaml", n + 1, 1))))
    return Erratum("E", 0, "ARM", ("1", "2", "3"), "d", (), tuple(affects), "active", None, None, None,
                   (), "upstream")


def test_the_sweep_reports_a_member_of_every_conflicting_pair_and_nothing_else():
    rng = random.Random(15)
    for _ in range(1000):
        check_entry(random_entry(rng))


def check_entry(e: Erratum) -> None:
    reg = Registry(1, "H", "h", ("R0",), 64, (), (), (), (e,))
    reported = []
    for pos, message in validate.overlapping_ranges(reg):
        later = pos.line - 1
        earlier = int(re.search(r"\(at x\.yaml:(\d+):1\)", message).group(1)) - 1
        reported.append((later, earlier))
    a = e.affects
    assert len(reported) <= MAX_REPEATS
    for later, earlier in reported:
        assert later > earlier and conflicts(a[later], a[earlier]), (later, earlier)
    flagged = {n for pair in reported for n in pair}
    for i in range(len(a)):
        for j in range(i):
            if conflicts(a[i], a[j]):
                assert i in flagged or j in flagged, (i, j, reported)
