"""risk --guest-kernel-tree: one guest kernel, from its Linux source tree: its own errata table
imported into an empty registry held in memory, the cpucaps it has code for, and whether its
matching runs over the VMM's target list.
"""

from __future__ import annotations

from ..diagnostics import Diagnostic
from ..risk import Guest
from .facts import read_facts
from .importer import into_empty
from .tree import Tree


def read_guest(tree: Tree) -> tuple[Guest | None, tuple[Diagnostic, ...]]:
    """The guest, or None and the diagnostics why its table cannot be read as a registry.
    Raises NotALinuxTree and cpu_errata.NotRecognised."""
    facts = read_facts(tree)
    imported = into_empty(facts)
    own = imported.result.registry
    if not imported.valid:
        return None, imported.result.diagnostics
    known = facts.cpucaps | {e.enables for e in own.errata} | {n.cpucap for n in own.not_covered}
    return Guest(f"Linux {facts.version} at {facts.display}", own, known, tree.target_impl_missing), ()
