"""The model of the kernel's speculation decisions (errata_db.speculation) on the bundled lists
(Linux 7.3.4, which tests/test_speculation_linux.py proves against the tree's own build): what
a host class needs, what a guest keeps under each way of matching, and what it lacks after a
migration."""

from __future__ import annotations

import pytest

from conftest import REGISTRY
from errata_db.registry import load_registry
from errata_db.speculation import DEPENDS, LESS, OFF, OTHER, compare, kernel_state, needs

A55, A57, A72, A76, A78, N1 = 0x410FD050, 0x410FD070, 0x410FD080, 0x410FD0B0, 0x410FD410, 0x410FD0C0
AMPERE1A = 0xC00FAC40  # AmpereOne AC04: on no speculation list


def host(*midrs: int) -> tuple[tuple[int, int, int], ...]:
    return tuple((m, 0, 0) for m in midrs)


@pytest.fixture(scope="module")
def data():
    return load_registry(REGISTRY).registry.speculation


def by_cap(states) -> dict:
    return {s.cpucap: s for s in states}


def migrate(data, boot, dest, targets=None):
    """The findings of a guest booted on `boot` and moved to `dest`: matched on the boot host's
    CPUs alone, or on a target list."""
    kept = kernel_state(data, targets, True) if targets is not None else kernel_state(data, boot, False)
    return compare(kept, needs(data, dest))


def test_the_bundled_lists_give_the_loop_counts_linux_7_3_gives(data):
    k = {midr: by_cap(needs(data, host(midr)))["SPECTRE_BHB"].k for midr in (A57, A72, A76, A78, N1, AMPERE1A)}
    assert k == {A57: 8, A72: 8, A76: 24, A78: 32, N1: 24, AMPERE1A: 0}
    assert by_cap(needs(data, host(A55)))["SPECTRE_BHB"].on is False


def test_a76_to_a78_lacks_the_bhb_loop_count_without_a_target_list_and_not_with_one(data):
    found = migrate(data, host(A76), host(A78))
    assert [(f.cpucap, f.kind, f.text, f.list) for f in found] == [
        ("SPECTRE_BHB", LESS, "Spectre-BHB: k=24 kept, k=32 needed", "spectre_bhb_k32_list")]
    both = host(A76, A78)
    assert by_cap(kernel_state(data, both, True))["SPECTRE_BHB"].k == 32
    assert migrate(data, host(A76), host(A78), targets=both) == ()


def test_a_safe_target_leaves_bhb_off_for_every_target_even_before_a_migration(data):
    both = host(A55, N1)
    kept = by_cap(kernel_state(data, both, True))
    assert (kept["SPECTRE_BHB"].on, kept["SPECTRE_BHB"].list, kept["SPECTRE_BHB"].cpus) == (
        False, "spectre_bhb_safe_list", ("Cortex-A55",))
    for boot in (host(A55), host(N1)):  # booted on N1 and never moved: the same
        found = {f.cpucap: f for f in migrate(data, boot, host(N1), targets=both)}
        bhb = found["SPECTRE_BHB"]
        assert (bhb.kind, bhb.list) == (OFF, "spectre_bhb_safe_list")
        assert bhb.text == ("Spectre-BHB: off, target CPU Cortex-A55 on the safe list (spectre_bhb_safe_list), which "
                            "the kernel takes for every target; k=24 needed")
        # Cortex-A55 is on the Spectre-v2, v4 and KPTI safe lists too: each is off for N1.
        assert sorted(found) == ["SPECTRE_BHB", "SPECTRE_V2", "SPECTRE_V4", "UNMAP_KERNEL_AT_EL0"]


def test_a55_to_n1_without_a_target_list_lacks_what_the_boot_cpu_did_not_need(data):
    found = {f.cpucap: f for f in migrate(data, host(A55), host(N1))}
    assert sorted(found) == ["SPECTRE_BHB", "SPECTRE_V2", "SPECTRE_V4", "UNMAP_KERNEL_AT_EL0"]
    assert found["UNMAP_KERNEL_AT_EL0"].text == ("KPTI: off, boot CPU on the Meltdown-safe list (kpti_safe_list); "
                                                 "destination not on it")
    assert found["SPECTRE_V2"].text == ("Spectre-v2: off, boot CPU on the safe list (spectre_v2_safe_list); "
                                        "destination not on it")


def test_cpus_that_share_every_list_and_loop_count_have_no_finding(data):
    for a, b in ((A76, N1), (A57, A72)):
        for targets in (None, host(a, b)):
            assert migrate(data, host(a), host(b), targets) == ()
            assert migrate(data, host(b), host(a), targets) == ()


def test_each_cpu_of_a_host_is_judged_by_itself_and_the_largest_loop_count_is_kept(data):
    bhb = by_cap(needs(data, host(A55, A76, A78)))["SPECTRE_BHB"]
    assert (bhb.on, bhb.k, bhb.list, bhb.cpus) == (True, 32, "spectre_bhb_k32_list", ("Cortex-A78",))
    # A safe CPU alone is safe; beside an affected one it is not what decides.
    assert by_cap(needs(data, host(A55, A55)))["SPECTRE_BHB"].on is False


def test_an_affected_list_counts_any_cpu(data):
    found = migrate(data, host(A76), host(A72))
    v3a = next(f for f in found if f.cpucap == "SPECTRE_V3A")
    assert (v3a.kind, v3a.list, v3a.text) == (
        OFF, "spectre_v3a_unsafe_list",
        "Spectre-v3a: boot CPU not on spectre_v3a_unsafe_list, destination (Cortex-A72) is")
    assert by_cap(kernel_state(data, host(A76, A72), True))["SPECTRE_V3A"].on is True


def test_a_cpu_on_no_loop_list_is_left_to_firmware_and_a_loop_is_not_taken_for_it(data):
    bhb = by_cap(needs(data, host(AMPERE1A)))["SPECTRE_BHB"]
    assert (bhb.on, bhb.k, bhb.list) == (True, 0, None)
    [to_loop] = migrate(data, host(AMPERE1A), host(A78))
    assert (to_loop.kind, to_loop.text) == (
        LESS, "Spectre-BHB: no loop kept (boot CPU on no loop-count list: firmware), k=32 needed")
    [to_firmware] = migrate(data, host(A78), host(AMPERE1A))
    assert to_firmware.kind == OTHER and to_firmware.text.startswith("Spectre-BHB: k=32 kept; the destination is on "
                                                                     "no loop-count list")


def test_every_finding_says_what_else_decides_it(data):
    found = migrate(data, host(A55), host(N1)) + migrate(data, host(A76), host(A72))
    assert found and all(f.depends == DEPENDS[f.cpucap] and f.depends for f in found)
    assert any("CSV2" in d for d in DEPENDS["SPECTRE_V2"]) and any("CSV3" in d for d in DEPENDS["UNMAP_KERNEL_AT_EL0"])
    assert any("ARCH_WORKAROUND_3" in d for d in DEPENDS["SPECTRE_BHB"])
