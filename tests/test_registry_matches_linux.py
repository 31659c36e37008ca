"""The bundled registry holds every MIDR-matched erratum of Linux 7.3.4, with the kernel's MIDR data.

Its contents are checked against the facts of 7.3.4 (tests/reference/linux-7.3-errata.json). Its
bits 0-32 were assigned from Linux 6.12's table and keep their meaning, so their order, and the
MIDR macros, are still checked against the 6.12 facts, with 7.3's additions as the only
documented differences."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from conftest import REGISTRY

REFERENCE = REGISTRY.parent / "tests" / "reference"
NOT_MIDR = {"has_mismatched_cache_type", "has_spectre_v2", "has_spectre_v3a", "has_spectre_v4",
            "is_spectre_bhb_affected",
            # new in Linux 7.3
            "need_arm_si_l1_workaround_4311569", "has_impdef_pmuv3", "has_broken_gic_v3_seis"}
# Matchers that end in is_affected_midr_range(), so the entry's REVIDR fixes apply.
WITH_FIXES = {"is_affected_midr_range", "has_sme_dvmsync_erratum"}
# What Linux 7.3 added after 6.12's table: bits 33-37 (HiSilicon 162100125 in the renamed
# DISABLE_CNP row) and the CPUs 6.12's cputype.h has no macro for.
NEW_IN_7_3 = {33: "WORKAROUND_162100125", 34: "WORKAROUND_NVIDIA_OLYMPUS_1027", 35: "WORKAROUND_4193714",
              36: "WORKAROUND_AMPERE_AC04_CPU_23", 37: "WORKAROUND_QCOM_ORYON_CNTVOFF"}
CPUS_NEW_IN_7_3 = {"MIDR_CORTEX_A720AE", "MIDR_C1_PRO", "MIDR_QCOM_ORYON_X1"}
# Matchers whose MIDR ranges live in the C function rather than the table.
RANGES_IN_FUNCTION = {"WORKAROUND_1542419": [{"model": "0x410fd0c0", "rv_min": "0x0", "rv_max": "0xf0000f"}]}


@pytest.fixture(scope="module")
def reference():
    return json.loads((REFERENCE / "linux-7.3-errata.json").read_text())


@pytest.fixture(scope="module")
def reference_6_12():
    return json.loads((REFERENCE / "linux-6.12-errata.json").read_text())


def _flatten(entry: dict) -> list[tuple]:
    """(model, rv_min, rv_max, part mask, REVIDR fixes) for every range the kernel matches."""
    if entry["matches"] == "cpucap_multi_entry_cap_matches":
        return [row for sub in entry["sub"] for row in _flatten(sub)]
    ranges = entry["ranges"] or RANGES_IN_FUNCTION.get(entry["capability"], [])
    fixes = tuple(sorted((int(f["midr_rv"], 16), int(f["revidr_mask"], 16)) for f in entry["fixed_revs"]))
    mask = 0xF00 if entry.get("kryo") else None
    return [(int(r["model"], 16), int(r["rv_min"], 16), int(r["rv_max"], 16), mask,
             fixes if entry["matches"] in WITH_FIXES else ()) for r in ranges]


def _rows(erratum) -> list[tuple]:
    return [(a.cpu.model, a.rv_min, a.rv_max, a.part_mask,
             tuple(sorted((f.rv, f.mask) for f in a.revidr_fixes))) for a in erratum.affects]


def test_every_midr_matched_kernel_erratum_is_in_the_registry_with_identical_ranges(registry, reference):
    """Each 7.3.4 row is the entries that enable its cpucap (DISABLE_CNP's row is two entries)."""
    by_cpucap: dict[str, list] = {}
    for e in registry.errata:
        by_cpucap.setdefault(e.enables, []).append(e)
    expected = [e for e in reference if e["matches"] not in NOT_MIDR]
    assert len(expected) == 37
    for entry in expected:
        errata = by_cpucap.get(entry["capability"])
        assert errata, f"{entry['capability']} is missing from the registry"
        assert Counter(r for e in errata for r in _rows(e)) == Counter(_flatten(entry)), entry["capability"]
    assert sorted(e.name for e in by_cpucap["WORKAROUND_DISABLE_CNP"]) == [
        "WORKAROUND_162100125", "WORKAROUND_NVIDIA_CARMEL_CNP"]


def test_registry_has_no_erratum_the_kernel_table_lacks(registry, reference):
    kernel = {e["capability"] for e in reference if e["matches"] not in NOT_MIDR}
    assert {e.enables for e in registry.errata if e.origin == "upstream"} == kernel


def test_bits_follow_the_kernel_table_order(registry, reference, reference_6_12):
    """docs/bundled-data.md's assignment rule: bit n is the n-th MIDR-matched entry of arm64_errata[]
    of the kernel that brought it. Bits 0-32 are Linux 6.12's table, under the name 6.12 gave the cpucap;
    bits 33-37 are what 7.3.4 added, in 7.3.4's table order."""
    order_6_12 = [e["capability"] for e in reference_6_12 if e["matches"] not in NOT_MIDR]
    ordered = sorted(registry.errata, key=lambda e: e.bit)
    assert [e.bit for e in ordered] == list(range(len(order_6_12) + len(NEW_IN_7_3)))
    assert [e.cpucaps[0] for e in ordered[:len(order_6_12)]] == order_6_12
    assert {e.bit: e.name for e in ordered[len(order_6_12):]} == NEW_IN_7_3
    order_7_3 = [e["capability"] for e in reference if e["matches"] not in NOT_MIDR]
    rows = [order_7_3.index(e.enables) for e in ordered[len(order_6_12):]]
    assert rows == sorted(rows)
    # Every row 7.3.4 added, under a name 6.12 lacks, is one of the new bits (or a renamed one).
    renamed = {e.enables for e in ordered if e.cpucaps[0] != e.enables}
    assert set(order_7_3) - set(order_6_12) - renamed == {e.enables for e in ordered[len(order_6_12):]} - renamed


def test_every_not_covered_kernel_erratum_is_listed_with_its_matcher_and_a_reason(registry, reference):
    listed = {n.cpucap: n for n in registry.not_covered}
    kernel = {e["capability"]: e["matches"] for e in reference if e["matches"] in NOT_MIDR}
    assert set(listed) == set(kernel)
    for cpucap, matcher in kernel.items():
        assert listed[cpucap].matcher == matcher and len(listed[cpucap].reason) > 40


def test_cpus_match_the_kernel_macros_and_codes(registry):
    """Against 6.12's cputype.h (no 7.3 MIDR facts are stored): every CPU but the three 7.3 added,
    whose implementer and part the 7.3.4 ranges above check through their models."""
    midr = json.loads((REFERENCE / "linux-6.12-midr.json").read_text())
    models = {m["macro"]: (int(m["implementer"], 16), int(m["part"], 16)) for m in midr["models"]}
    imps = {macro: int(code, 16) for macro, code in midr["implementers"].items()}
    assert {cpu.macro for cpu in registry.cpus} - set(models) == CPUS_NEW_IN_7_3
    for cpu in registry.cpus:
        if cpu.macro in CPUS_NEW_IN_7_3:
            continue
        assert models[cpu.macro] == (cpu.implementer.code, cpu.part), cpu.id
    for imp in registry.implementers:
        assert imps[imp.macro] == imp.code, imp.id


def test_no_cpu_is_listed_that_no_erratum_or_speculation_list_uses_unless_a_note_says_why(registry):
    used = {a.cpu.id for e in registry.errata for a in e.affects}
    used |= {r.cpu for lst in registry.speculation.lists for r in lst.ranges}
    assert [c.id for c in registry.cpus if c.id not in used and not c.note] == []
    used_imps = {c.implementer.id for c in registry.cpus}
    assert [i.id for i in registry.implementers if i.id not in used_imps] == []


def test_no_erratum_lists_a_range_twice_or_overlaps_ranges_of_the_same_erratum_id(registry):
    for e in registry.errata:
        seen = Counter((a.cpu.id, a.rv_min, a.rv_max, a.part_mask) for a in e.affects)
        assert [k for k, n in seen.items() if n > 1] == [], e.name
        for i, a in enumerate(e.affects):
            for b in e.affects[:i]:
                overlap = (a.cpu.id == b.cpu.id and a.part_mask == b.part_mask
                           and a.rv_min <= b.rv_max and b.rv_min <= a.rv_max)
                if overlap:
                    assert a.errata_ids and b.errata_ids and not set(a.errata_ids) & set(b.errata_ids), \
                        f"{e.name}: {a.cpu.id} {a.revisions} overlaps {b.revisions}"


def test_exactly_the_matchers_with_extra_kernel_conditions_carry_a_condition(registry, reference):
    conditional = {"has_cortex_a76_erratum_1463225", "needs_tx2_tvm_workaround",
                   "has_neoverse_n1_erratum_1542419", "has_sme_dvmsync_erratum"}  # the last new in 7.3
    expected = {entry["capability"] for entry in reference if entry["matches"] in conditional}
    assert len(expected) == 4
    assert {e.enables for e in registry.errata if e.condition} == expected


def test_the_generated_module_decides_every_cpu_as_linux_7_3_does(registry, reference):
    from kernel_matching import differences

    from errata_db.lookup import lookup_module

    module = lookup_module(registry)
    enables = {e.name: e.enables for e in registry.errata}
    assert differences(reference, module, enables, {c.model for c in registry.cpus}) == []
