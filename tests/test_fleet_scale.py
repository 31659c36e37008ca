"""`fleet` and `risk` at scale: the work grows with the hosts, never with their square.

Counted, not timed (tests/cost.py): a host name here is a str whose comparisons and hashes are
Python calls, so that a membership test on a list (one comparison per element) shows in the
count as well as a dict's lookups (one hash each). How fast it is belongs to bench/run.py.
"""

from __future__ import annotations

import pytest

from cost import counted
from errata_db import fleet
from errata_db.lookup import lookup_module

N1_R3P1 = 0x413FD0C1
A53_R0P4 = 0x410FD034
A76_R4P0 = 0x414FD0B0
A55_R2P0 = 0x412FD050
AMPEREONE = 0xC00FAC30
KINDS = [(N1_R3P1,), (A53_R0P4, A76_R4P0), (A55_R2P0,), (AMPEREONE,)]
HOSTS = 20_000


class Name(str):
    """A host name whose every comparison and hash is a call that counted() sees."""

    def __eq__(self, other):
        return str.__eq__(self, other)

    def __hash__(self):
        return str.__hash__(self)


def many_hosts(n: int) -> list[fleet.Host]:
    kinds = [tuple(fleet.HostCpu(midr, 0, 4, None) for midr in kind) for kind in KINDS]
    return [fleet.Host(Name(f"host-{i:05d}"), kinds[i % len(kinds)], None) for i in range(n)]


@pytest.fixture(scope="module")
def module(registry):
    return lookup_module(registry)


# --- fleet -------------------------------------------------------------------------------------


def test_planning_twenty_thousand_hosts_costs_a_few_calls_per_host(registry, module):
    hosts = many_hosts(HOSTS)
    with counted(10 * HOSTS):
        plan = fleet.plan(registry, module, hosts)
        text = fleet.format_text(plan)
    assert [len(t.hosts) for t in plan.targets] == [HOSTS // 4] * 5
    assert [len(c.hosts) for c in plan.impl_cpus] == [HOSTS // 4] * 5
    assert text.startswith(f"{HOSTS} host(s), {HOSTS * 5} CPU(s), 5 distinct MIDR/REVIDR pair(s)\n")
