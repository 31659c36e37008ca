"""Guest kernel header: one define per bit, and the bit -> cpucap table a guest applies."""

from __future__ import annotations

from ..model import Registry
from ..render import Target

PREFIX = "MIGRN_SAFE_CAP_"


def context(reg: Registry) -> dict:
    # A tree without an entry's cpucap cannot name it: install leaves the bit out of the table.
    active = [e for e in reg.errata if e.active and e.name not in reg.lacking]
    width = max((len(PREFIX + e.name) for e in reg.errata), default=0)
    return {
        "errata": reg.errata,
        "active": active,
        "prefix": PREFIX,
        # Tab stops after the longest name keep the values in one column, as kernel headers do.
        "tabs": lambda name: "\t" * ((width // 8 + 1) - len(name) // 8),
    }


TARGET = Target("guest-header", "guest_header.h.j2",
                "linux/arch/arm64/include/asm/migrn_errata.h", context)
