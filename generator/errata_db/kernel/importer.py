"""`errata-db import --kernel-tree`: a registry brought up to what a Linux tree's arm64_errata[]
says, in three steps, each a module of its own:

- facts.read_facts: the tree's errata as data;
- plan.plan: what the registry lacks or says otherwise, as typed changes;
- apply.apply: the registry's files edited round-trip, and the lock updated.

into() runs them for `import` and for `risk --guest-kernel-tree` (into_empty, a new registry
held in memory) alike, and loads the result: the files are written only if it validates.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import lock
from ..diagnostics import escape, has_errors, some
from ..load import SourceFile
from ..model import Registry
from ..registry import LoadResult, RegistryFiles, assemble
from .apply import apply, lock_text
from . import speculation
from .facts import Facts
from .plan import Plan, plan


@dataclass(frozen=True)
class Imported:
    plan: Plan
    changed: dict[str, str]  # relative path -> text, the lock included: what to write
    result: LoadResult  # the registry as it would be with those files

    @property
    def valid(self) -> bool:
        return self.result.registry is not None and not has_errors(self.result.diagnostics)


def into(upstream: RegistryFiles, overlays: tuple[RegistryFiles, ...], reg: Registry, facts: Facts,
         renames: dict[str, str] | None = None) -> Imported:
    """The tree imported into the registry (reg: upstream and overlays, loaded and valid).
    renames: --rename's OLD -> NEW. Raises cpu_errata.NotRecognised (plan.NoFreeBit among them)
    and plan.BadRename."""
    the_plan = plan(reg, facts, renames)
    files = {upstream.rel(f): f.data.decode("utf-8") for f in upstream.files}
    changed = apply(files, upstream.root, reg, the_plan, facts)
    trial = assemble(upstream.with_texts(changed), overlays)
    if trial.registry is not None:
        old_lock = next((lock.decoded(f.data) for f in upstream.files if upstream.rel(f) == lock.LOCK_NAME), "")
        new_lock = lock_text(old_lock, trial.registry)
        if new_lock != old_lock:
            changed[lock.LOCK_NAME] = new_lock
            trial = assemble(upstream.with_texts(changed), overlays)
    return Imported(the_plan, changed, trial)


def into_empty(facts: Facts) -> Imported:
    """The tree imported into a new, empty registry held in memory: that kernel's own errata
    table as a registry (`risk --guest-kernel-tree`)."""
    from ..scaffold import skeleton

    root = "<guest>"
    empty = RegistryFiles(root, tuple(SourceFile(f"{root}/{rel}", data) for rel, data in sorted(skeleton().items())
                                      if not rel.startswith("schema/")))
    return into(empty, (), assemble(empty).registry, facts)


# --- the report ----------------------------------------------------------------------------------


def report(the_plan: Plan, facts: Facts, written: bool, known_imps: set[int]) -> str:
    """What changed, grouped: added, widened, narrowed, unchanged (a count), not in this tree;
    each line escaped, since names and the tree's path come from files. known_imps: the
    implementer codes the registry had."""
    lines = []
    for n in the_plan.added:
        newest = n.cpucap_names[-1]["name"] if n.cpucap_names else n.cpucap
        cap = f", cpucap {newest}" if newest else ""
        lines.append(f"added     {n.name} (bit {n.bit}{cap}): {n.vendor} {some(list(dict.fromkeys(n.ids)))}; "
                     f"{len(n.ranges)} range(s) on {some(list(dict.fromkeys(r.cpu.id for r in n.ranges)), 4)}")
    if the_plan.new_cpus:
        imps = sorted({c.imp_id for c in the_plan.new_cpus if c.implementer not in known_imps})
        of = f" ({len(imps)} new implementer(s): {', '.join(imps)})" if imps else ""
        lines.append(f"added     {len(the_plan.new_cpus)} CPU(s){of}: "
                     f"{', '.join(c.id for c in the_plan.new_cpus)}")
    if the_plan.new_not_covered:
        lines.append(f"added     {len(the_plan.new_not_covered)} not_covered row(s), decided by their own "
                     f"matchers: {', '.join(row.cpucap for row, _ in the_plan.new_not_covered)}")
    for r in the_plan.renamed:
        bits = ", ".join(str(e.bit) for e in r.entries)
        lines.append(f"renamed   {r.old} -> {r.new} (bit{'s' if len(r.entries) > 1 else ''} {bits})")
    for c in the_plan.changed:
        if c.gained:
            lines.append(f"widened   {c.erratum.name} (bit {c.erratum.bit}): now {'; '.join(c.gained)}")
    for c in the_plan.changed:
        if c.lost:
            lines.append(f"narrowed  {c.erratum.name} (bit {c.erratum.bit}): no longer {'; '.join(c.lost)}")
    guards = {c.erratum.name for c in the_plan.changed if not c.gained and not c.lost}
    rows = {r.erratum.name: r for r in the_plan.rows}
    for c in the_plan.changed:
        if c.erratum.name in guards and c.erratum.name not in rows:
            lines.append(f"kernel    {c.erratum.name} (bit {c.erratum.bit}): its ranges' guards as the tree "
                         "writes them")
    for r in the_plan.rows:
        also = "; its ranges' guards" if r.erratum.name in guards else ""
        lines.append(f"kernel    {r.erratum.name} (bit {r.erratum.bit}): its row as the tree writes it: "
                     f"{'; '.join(r.shown)}{also}")
    lines += _speculation_lines(the_plan)
    lines.append(f"unchanged {len(the_plan.unchanged)} entr{'y' if len(the_plan.unchanged) == 1 else 'ies'}")
    if the_plan.not_in_tree:
        lines.append(f"not in this tree (kept as they are): {', '.join(the_plan.not_in_tree)}")
    changes = (len(the_plan.added) + len(the_plan.changed) + len(the_plan.new_cpus)
               + len(the_plan.new_not_covered) + len(the_plan.rows) + len(the_plan.renamed)
               + bool(the_plan.speculation and the_plan.speculation.write))
    verdict = ("nothing to change" if not changes else
               "registry updated" if written else "dry run: nothing written")
    lines.append(f"Linux {facts.version} at {facts.display}: {verdict}")
    return "".join(escape(line) + "\n" for line in lines)


def _speculation_lines(the_plan: Plan) -> list[str]:
    spec = the_plan.speculation
    if spec is None:
        return []
    if spec.kept is not None:
        return [f"kept      {speculation.FILE}: {spec.kept}"]
    if not spec.write:
        return []
    if not spec.changes:
        return [f"speculation {len(spec.lists.lists)} lists, as Linux {spec.lists.linux} has them ({speculation.FILE})"]
    return [f"speculation {c.text}" for c in spec.changes]
