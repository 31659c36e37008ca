"""Dependency-free Python lookup module, indexed by CPU model."""

from __future__ import annotations

from collections import defaultdict

from ..model import FULL_PART_MASK, Registry
from ..render import Target


def context(reg: Registry) -> dict:
    # {part mask: {masked model: [(bit, rv_min, rv_max, ((rv, revidr mask), ...)), ...]}}
    index: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    # Retired errata are matched too: the bit keeps its meaning for guests that still use it.
    for e in reg.errata:
        for a in e.affects:
            mask = a.mask
            model = a.cpu.model & ~((FULL_PART_MASK & ~mask) << 4)
            fixes = tuple((f.rv, f.mask) for f in a.revidr_fixes)
            index[mask][model].append((e.bit, a.rv_min, a.rv_max, fixes))
    return {
        "errata": reg.errata,
        # Each row written here, as the tuple the module holds: a full registry has 12,800.
        "index": {mask: {model: [f"({bit}, {lo:#x}, {hi:#x}, {fixes!r})"
                                 for bit, lo, hi, fixes in sorted(rows)]
                         for model, rows in sorted(models.items())}
                  for mask, models in sorted(index.items(), reverse=True)},
        "registers": reg.registers,
        "register_bits": reg.register_bits,
    }


TARGET = Target("python-module", "migrn_errata.py.j2", "python/migrn_errata.py", context)
