"""What a kernel's arm64_errata[] decides for one CPU, from the oracle's facts (tests/reference/,
tests/kernel/extract_errata.py), and every CPU worth asking about.

This models the kernel's matchers as they are written in C, independently of errata_db, so a
registry can be checked by behaviour: for every MIDR/REVIDR, the generated Python module must
name the same cpucaps as the kernel's own table.
"""

from __future__ import annotations

MODEL_MASK = 0xFF0FFFF0  # implementer, architecture, part number
RV_MASK = 0x00F0000F  # variant, revision
KRYO_MASK = 0xFF0FF000  # implementer, architecture, top nibble of the part number
NOT_MIDR = frozenset({"has_mismatched_cache_type", "has_spectre_v2", "has_spectre_v3a",
                      "has_spectre_v4", "is_spectre_bhb_affected"})
# has_neoverse_n1_erratum_1542419 writes its one range inside the function, not in the table:
# Neoverse N1, every variant and revision (then CTR_EL0.DIC, which no table can say).
RANGES_IN_FUNCTION = {"has_neoverse_n1_erratum_1542419": [(0x410FD0C0, 0, 0xF0000F)]}
# The matchers that decide by is_affected_midr_range(), the one function that reads an entry's
# REVIDR fixes (MIDR_FIXED): itself, and those that call it after a condition of their own
# (Linux 7.3's has_sme_dvmsync_erratum: SME, then the range with its fix).
READS_FIXED_REVS = frozenset({"is_affected_midr_range", "has_sme_dvmsync_erratum"})


def _ranges(entry: dict) -> list[tuple[int, int, int]]:
    listed = [(int(r["model"], 16), int(r["rv_min"], 16), int(r["rv_max"], 16)) for r in entry["ranges"]]
    return listed or RANGES_IN_FUNCTION.get(entry["matches"], [])


def _in_range(midr: int, model: int, rv_min: int, rv_max: int) -> bool:
    return midr & MODEL_MASK == model and rv_min <= midr & RV_MASK <= rv_max


def matches(entry: dict, midr: int, revidr: int) -> bool:
    """One arm64_errata[] entry (or a sub-entry) against one CPU, as the kernel's matcher does.

    The conditional matchers count by their MIDR part alone: the registry records the
    condition and leaves it to the guest.
    """
    kind = entry["matches"]
    if kind == "cpucap_multi_entry_cap_matches":
        return any(matches(sub, midr, revidr) for sub in entry["sub"])
    if kind == "is_kryo_midr":
        return any(midr & KRYO_MASK == model & KRYO_MASK for model, _, _ in _ranges(entry))
    hit = any(_in_range(midr, *r) for r in _ranges(entry))
    assert kind in READS_FIXED_REVS or not entry["fixed_revs"], (
        f"{kind} has REVIDR fixes: does it call is_affected_midr_range()? (READS_FIXED_REVS)")
    if hit and kind in READS_FIXED_REVS:
        rv = midr & RV_MASK
        hit = not any(rv == int(f["midr_rv"], 16) and revidr & int(f["revidr_mask"], 16)
                      for f in entry["fixed_revs"])
    return hit


def _all_entries(facts: list[dict]):
    for entry in facts:
        yield entry
        yield from entry.get("sub", ())


class KernelTable:
    """The table's MIDR-decided entries, indexed by the models they name: asking about a CPU
    evaluates only the entries that could match it."""

    def __init__(self, facts: list[dict]):
        self.by_key: dict[int, list[dict]] = {}
        for entry in facts:
            if entry["matches"] in NOT_MIDR:
                continue
            for part in (entry, *entry.get("sub", ())):
                kryo = part["matches"] == "is_kryo_midr"
                for model, _, _ in _ranges(part):
                    key = model & KRYO_MASK if kryo else model
                    if entry not in self.by_key.setdefault(key, []):
                        self.by_key[key].append(entry)

    def cpucaps(self, midr: int, revidr: int) -> set[str]:
        candidates = self.by_key.get(midr & MODEL_MASK, []) + self.by_key.get(midr & KRYO_MASK, [])
        return {e["capability"] for e in candidates if matches(e, midr, revidr)}


def probe_cpus(facts: list[dict], extra_models: set[int] = frozenset()) -> list[tuple[int, int]]:
    """(MIDR, REVIDR) pairs that reach every edge of the table: every variant and revision of
    every model it or the registry names, each REVIDR fix bit and its absence, Kryo family
    members that are not the listed part, and a CPU nobody lists."""
    models = set(extra_models) | {0x410FD990}
    # REVIDR only matters to a model with a fix: the others are asked with REVIDR 0 alone.
    revidrs: dict[int, set[int]] = {}
    for entry in _all_entries(facts):
        for model, _, _ in _ranges(entry):
            models.add(model)
            if entry["matches"] == "is_kryo_midr":
                models.update(model & KRYO_MASK | part << 4 for part in (0x01, 0x11, 0xFF))
            if entry["fixed_revs"]:
                revidrs.setdefault(model, {0xFFFFFFFF}).update(
                    int(f["revidr_mask"], 16) for f in entry["fixed_revs"])
    return [(model | variant << 20 | revision, revidr) for model in sorted(models)
            for variant in range(16) for revision in range(16)
            for revidr in sorted({0} | revidrs.get(model, set()))]


def differences(facts: list[dict], module, enables: dict[str, str], extra_models: set[int] = frozenset(),
                limit: int = 20) -> list[str]:
    """Every CPU on which the module's errata (as cpucaps) and the kernel's table disagree."""
    out = []
    table = KernelTable(facts)
    for midr, revidr in probe_cpus(facts, extra_models):
        ours = {enables[e.name] for e in module.errata_for_cpu(midr, revidr) if e.status == "active"}
        theirs = table.cpucaps(midr, revidr)
        if ours != theirs:
            out.append(f"MIDR {midr:#010x} REVIDR {revidr:#x}: registry has {sorted(ours - theirs)} "
                       f"more, {sorted(theirs - ours)} fewer than the kernel")
            if len(out) == limit:
                break
    return out
