"""Dependency-free Python lookup module, indexed by CPU model."""

from __future__ import annotations

from collections import defaultdict

from ..model import Registry
from ..render import Target

FULL_PART_MASK = 0xFFF


def context(reg: Registry) -> dict:
    # {part mask: {masked model: [(bit, rv_min, rv_max, ((rv, revidr mask), ...)), ...]}}
    index: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for e in reg.errata:
        if not e.active:
            continue
        for a in e.affects:
            mask = a.part_mask if a.part_mask is not None else FULL_PART_MASK
            model = a.cpu.model & ~((FULL_PART_MASK & ~mask) << 4)
            fixes = tuple((f.rv, f.mask) for f in a.revidr_fixes)
            index[mask][model].append((e.bit, a.rv_min, a.rv_max, fixes))
    return {
        "errata": reg.errata,
        "index": {mask: {model: sorted(rows) for model, rows in sorted(models.items())}
                  for mask, models in sorted(index.items(), reverse=True)},
        "registers": reg.registers,
        "register_bits": reg.register_bits,
    }


TARGET = Target("python-module", "migrn_errata.py.j2", "python/migrn_errata.py", context)
