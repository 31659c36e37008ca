"""The bundled registry holds every MIDR-matched erratum of Linux 6.12, with the kernel's MIDR data."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from conftest import REGISTRY

REFERENCE = REGISTRY.parent / "tests" / "reference"
NOT_MIDR = {"has_mismatched_cache_type", "has_spectre_v2", "has_spectre_v3a", "has_spectre_v4",
            "is_spectre_bhb_affected"}
# Matchers whose MIDR ranges live in the C function rather than the table.
RANGES_IN_FUNCTION = {"WORKAROUND_1542419": [{"model": "0x410fd0c0", "rv_min": "0x0", "rv_max": "0xf0000f"}]}


@pytest.fixture(scope="module")
def reference():
    return json.loads((REFERENCE / "linux-6.12-errata.json").read_text())


def _flatten(entry: dict) -> list[tuple]:
    """(model, rv_min, rv_max, part mask, REVIDR fixes) for every range the kernel matches."""
    if entry["matches"] == "cpucap_multi_entry_cap_matches":
        return [row for sub in entry["sub"] for row in _flatten(sub)]
    ranges = entry["ranges"] or RANGES_IN_FUNCTION.get(entry["capability"], [])
    fixes = tuple(sorted((int(f["midr_rv"], 16), int(f["revidr_mask"], 16)) for f in entry["fixed_revs"]))
    mask = 0xF00 if entry.get("kryo") else None
    return [(int(r["model"], 16), int(r["rv_min"], 16), int(r["rv_max"], 16), mask,
             fixes if entry["matches"] == "is_affected_midr_range" else ()) for r in ranges]


def _rows(erratum) -> list[tuple]:
    return [(a.cpu.model, a.rv_min, a.rv_max, a.part_mask,
             tuple(sorted((f.rv, f.mask) for f in a.revidr_fixes))) for a in erratum.affects]


def test_every_midr_matched_kernel_erratum_is_in_the_registry_with_identical_ranges(registry, reference):
    by_name = {e.name: e for e in registry.errata}
    expected = [e for e in reference if e["matches"] not in NOT_MIDR]
    assert len(expected) == 33
    for entry in expected:
        erratum = by_name.get(entry["capability"])
        assert erratum is not None, f"{entry['capability']} is missing from the registry"
        assert Counter(_rows(erratum)) == Counter(_flatten(entry)), entry["capability"]


def test_registry_has_no_erratum_the_kernel_table_lacks(registry, reference):
    kernel = {e["capability"] for e in reference if e["matches"] not in NOT_MIDR}
    assert {e.name for e in registry.errata if e.origin == "upstream"} == kernel


def test_bits_follow_the_kernel_table_order(registry, reference):
    """The README's assignment rule: bit n is the n-th MIDR-matched entry of arm64_errata[]."""
    order = [e["capability"] for e in reference if e["matches"] not in NOT_MIDR]
    assert [e.name for e in sorted(registry.errata, key=lambda e: e.bit)] == order
    assert [e.bit for e in registry.errata] == list(range(len(order)))


def test_every_not_covered_kernel_erratum_is_listed_with_its_matcher_and_a_reason(registry, reference):
    listed = {n.cpucap: n for n in registry.not_covered}
    kernel = {e["capability"]: e["matches"] for e in reference if e["matches"] in NOT_MIDR}
    assert set(listed) == set(kernel)
    for cpucap, matcher in kernel.items():
        assert listed[cpucap].matcher == matcher and len(listed[cpucap].reason) > 40


def test_cpus_match_the_kernel_macros_and_codes(registry):
    midr = json.loads((REFERENCE / "linux-6.12-midr.json").read_text())
    models = {m["macro"]: (int(m["implementer"], 16), int(m["part"], 16)) for m in midr["models"]}
    imps = {macro: int(code, 16) for macro, code in midr["implementers"].items()}
    for cpu in registry.cpus:
        assert models[cpu.macro] == (cpu.implementer.code, cpu.part), cpu.id
    for imp in registry.implementers:
        assert imps[imp.macro] == imp.code, imp.id


def test_no_cpu_is_listed_that_no_erratum_uses_unless_a_note_says_why(registry):
    used = {a.cpu.id for e in registry.errata for a in e.affects}
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
                   "has_neoverse_n1_erratum_1542419"}
    expected = {entry["capability"] for entry in reference if entry["matches"] in conditional}
    assert len(expected) == 3
    assert {e.name for e in registry.errata if e.condition} == expected


def test_the_generated_module_decides_every_cpu_as_linux_6_12_does(registry, reference):
    from kernel_matching import differences

    from errata_db.lookup import lookup_module

    module = lookup_module(registry)
    enables = {e.name: e.enables for e in registry.errata}
    assert differences(reference, module, enables, {c.model for c in registry.cpus}) == []
