"""The names one Linux tree gives the registry's cpucaps and renamed Kconfig symbols.

The registry writes each cpucap by the name of the newest kernel it follows, and records the
older names (cpucap_names, kernel.kconfig_names). What goes into a tree must use that tree's
names: 6.12 has ARM64_WORKAROUND_REPEAT_TLBI where 7.3 has ..._REPEAT_TLBI_SYNC. The tree's own
files decide (arch/arm64/tools/cpucaps, arch/arm64/Kconfig); the recorded versions decide only
for a tree without tools/cpucaps (before Linux 5.19).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..model import Erratum, KernelName, Registry, newest_in, version_key
from .tree import Tree


@dataclass(frozen=True)
class TreeNames:
    version: str
    cpucaps: frozenset[str] | None  # None: the tree has no arch/arm64/tools/cpucaps
    kconfig: frozenset[str]  # the symbols its errata Kconfig files define


def of_tree(tree: Tree) -> TreeNames:
    """Raises NotALinuxTree for a file it cannot read."""
    cpucaps = tree.cpucaps
    return TreeNames(tree.version, None if cpucaps is None else frozenset(cpucaps), frozenset(tree.kconfig))


def _by_version(chain: tuple[KernelName, ...], version: str) -> str:
    """The newest name whose recorded version the tree has reached; the oldest name before."""
    try:
        have = version_key(version)
    except ValueError:
        return chain[-1].name
    chosen = chain[0].name
    for n in chain[1:]:
        if n.version is not None and version_key(n.version) <= have:
            chosen = n.name
    return chosen


def cpucap_in(e: Erratum, tree: TreeNames) -> str | None:
    """The name the tree gives the cpucap the bit enables; None if the tree has none of them."""
    if tree.cpucaps is not None:
        return newest_in(e.cpucaps, tree.cpucaps)
    return _by_version(e.cpucap_names, tree.version) if e.cpucap_names else e.enables


def _symbol_in(chain: tuple[KernelName, ...], tree: TreeNames) -> str:
    return newest_in(tuple(n.name for n in chain), tree.kconfig) or _by_version(chain, tree.version)


def _renamed(e: Erratum, tree: TreeNames) -> Erratum:
    if not e.kernel.kconfig_names:
        return e
    names = {key: _symbol_in(chain, tree) for key, chain in e.kernel.kconfig_names}

    def guard(options: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(names.get(o, o) for o in options)

    row = e.kernel if e.kernel.guard is None else replace(e.kernel, guard=guard(e.kernel.guard))
    return replace(e, kernel=row, affects=tuple(replace(a, guard=guard(a.guard)) for a in e.affects))


def for_tree(reg: Registry, tree: TreeNames) -> tuple[Registry, tuple[Erratum, ...]]:
    """The registry as the tree names it, and the active entries whose cpucap the tree lacks
    (the guest header leaves them out of its bit -> cpucap table)."""
    errata, lacking = [], []
    for e in reg.errata:
        name = cpucap_in(e, tree)
        if name is None:
            if e.active:
                lacking.append(e)
            name = e.enables
        errata.append(_renamed(replace(e, cpucap=name, cpucap_names=()), tree))
    named = replace(reg, errata=tuple(errata), lacking=frozenset(e.name for e in lacking))
    return named, tuple(lacking)
