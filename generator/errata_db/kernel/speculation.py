"""The MIDR lists of a tree's speculation mitigations, outside arm64_errata[]: the Spectre-v2,
v3a, v4 and BHB lists of proton-pack.c, with the Spectre-BHB loop-count lists in the order
spectre_bhb_loop_affected() tries them, and cpufeature.c's KPTI (Meltdown) safe list.

Read through the Tree and cpu_errata's tokenizer and range reader. Each list is read where its
function declares it, and only if that function uses it the way the model of these mitigations
(errata_db.speculation) takes it: a list used otherwise, a range under a Kconfig guard, or a
loop-count chain written another way is refused at its line, never guessed. A list a tree does
not declare at all is one its kernel does not have.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..diagnostics import Pos
from ..model import (AFFECTED, LOOP, SAFE, Cpu, ListRange, MidrList, Revision, Speculation, Where,
                     recorded_version, revision_range_str)
from . import cpu_errata
from .facts import TreeCpu
from .tree import Tree, midr_models

PROTON_PACK = "arch/arm64/kernel/proton-pack.c"
CPUFEATURE = "arch/arm64/kernel/cpufeature.c"

# Each list the model reads: its file, the function that declares it, the cpucap it decides,
# what a CPU on it means, and the one statement of that function that uses it ('@' for the
# is_midr_in_range_list() call): what makes it that kind of list.
LISTS = (
    ("spectre_v2_safe_list", PROTON_PACK, "spectre_v2_get_cpu_hw_mitigation_state", "SPECTRE_V2", SAFE,
     "if ( @ ) return SPECTRE_UNAFFECTED ;"),
    ("spectre_v3a_unsafe_list", PROTON_PACK, "has_spectre_v3a", "SPECTRE_V3A", AFFECTED, "return @ ;"),
    ("spectre_v4_safe_list", PROTON_PACK, "spectre_v4_get_cpu_hw_mitigation_state", "SPECTRE_V4", SAFE,
     "if ( @ ) return SPECTRE_UNAFFECTED ;"),
    ("spectre_bhb_safe_list", PROTON_PACK, "is_spectre_bhb_safe", "SPECTRE_BHB", SAFE, "if ( @ ) return true ;"),
    ("kpti_safe_list", CPUFEATURE, "unmap_kernel_at_el0", "UNMAP_KERNEL_AT_EL0", SAFE, "meltdown_safe = @ ;"),
)
LOOP_FUNCTION = "spectre_bhb_loop_affected"
CALL = "is_midr_in_range_list"
# Before Linux 6.15 the call passes the local CPU's MIDR first.
_LOCAL_MIDR = ("read_cpuid_id", "(", ")", ",")


@dataclass(frozen=True)
class TreeListRange:
    cpu: TreeCpu
    low: Revision
    high: Revision
    pos: Pos


@dataclass(frozen=True)
class TreeList:
    name: str
    cpucap: str
    means: str
    k: int | None
    ranges: tuple[TreeListRange, ...]
    pos: Pos


@dataclass(frozen=True)
class TreeSpeculation:
    version: str
    display: str
    lists: tuple[TreeList, ...]  # in the order the model reads them (speculation.yaml's)

    @property
    def linux(self) -> str:
        return recorded_version(self.version)


def read_lists(tree: Tree) -> TreeSpeculation | None:
    """The tree's lists; None for a tree without proton-pack.c (before Linux 5.10, whose lists
    are elsewhere). Raises NotALinuxTree for a file it cannot read and cpu_errata.NotRecognised
    for a list or its use written in a way this reader does not know."""
    if not tree.has(PROTON_PACK):
        return None
    sources = {rel: cpu_errata.read_code(tree.text(rel), tree.path(rel)) for rel in (PROTON_PACK, CPUFEATURE)}
    models = midr_models(tree.defines)
    lists = [_list(sources[rel], name, function, cap, means, use, models)
             for name, rel, function, cap, means, use in LISTS]
    loops = _loop_lists(sources[PROTON_PACK], models)
    # The loop lists go after the BHB safe list, as the kernel reads them: safe first, then k.
    ordered = lists[:4] + [(lst,) for lst in loops] + lists[4:]
    return TreeSpeculation(tree.version, tree.display, tuple(x[0] for x in ordered if x))


def _not_here(src: cpu_errata.Source, name: str, function: str) -> tuple[()]:
    """A list its function does not declare: absent from this kernel, or refused where the file
    names it elsewhere."""
    for tok in src.tokens:
        if tok.kind == "ident" and tok.text == name:
            raise cpu_errata.NotRecognised(Pos(src.path, tok.line, 1), f"{name} is not declared in {function}(), "
                                           "where this reader reads it")
    return ()


Body = tuple[tuple[cpu_errata.Token, ...], dict[str, tuple[cpu_errata.RangeList, Pos]]]
Models = dict[str, tuple[str, int, str, int]]


def _body(src: cpu_errata.Source, function: str) -> Body | None:
    """The function's code without its lists, and the lists; None when the file does not define
    it. A directive in the body is refused: which code the kernel compiles would depend on it."""
    found = cpu_errata.function_lists(src, function)
    if found is None:
        return None
    rest, lists = found
    for tok in rest:
        if tok.kind == "pp":
            raise cpu_errata.NotRecognised(Pos(src.path, tok.line, 1), f"'{tok.text}' in the body of {function}(): "
                                           "this reader cannot say which code the kernel compiles")
    return rest, lists


def _call(code: tuple[cpu_errata.Token, ...], i: int) -> tuple[str, int] | None:
    """The list named by an is_midr_in_range_list() call at code[i], and the index past it."""
    texts = [t.text for t in code[i:i + 8]]
    if texts[:2] != [CALL, "("]:
        return None
    at = 2 + (len(_LOCAL_MIDR) if tuple(texts[2:6]) == _LOCAL_MIDR else 0)
    if len(texts) > at + 1 and code[i + at].kind == "ident" and texts[at + 1] == ")":
        return texts[at], i + at + 2
    return None


def _list(src: cpu_errata.Source, name: str, function: str, cap: str, means: str, use: str,
          models: Models) -> tuple[TreeList] | tuple[()]:
    """A safe or affected list, if its function declares it and reads it with `use`."""
    found = _body(src, function)
    if found is None or name not in found[1]:
        return _not_here(src, name, function)
    code, lists = found
    ranges, pos = lists[name]
    uses = [i for i, t in enumerate(code) if t.kind == "ident" and t.text == name]
    calls = [i - 2 - len(_LOCAL_MIDR) if code[i - 1].text == "," else i - 2 for i in uses]
    if len(uses) != 1 or calls[0] < 0 or _call(code, calls[0]) is None:
        at = code[uses[1] if len(uses) > 1 else uses[0]].line if uses else pos.line
        raise cpu_errata.NotRecognised(Pos(src.path, at, 1), f"{function}() uses {name} other than in one "
                                       f"{CALL}() call: this reader cannot tell what it decides")
    start, end = calls[0], _call(code, calls[0])[1]
    first = start
    while first > 0 and code[first - 1].text not in (";", "{", "}"):
        first -= 1
    last = next((j for j in range(end, len(code)) if code[j].text == ";"), len(code) - 1)
    statement = " ".join([*(t.text for t in code[first:start]), "@", *(t.text for t in code[end:last + 1])])
    if statement != use:
        shown = statement.replace("@", f"{CALL}({name})")
        raise cpu_errata.NotRecognised(Pos(src.path, code[start].line, 1), f"{function}() uses {name} as "
                                       f"'{shown}', where this reader knows '{use.replace('@', f'{CALL}({name})')}'")
    return (TreeList(name, cap, means, None, _ranges(ranges, name, models), pos),)


def _loop_lists(src: cpu_errata.Source, models: Models) -> tuple[TreeList, ...]:
    """spectre_bhb_loop_affected(): `k = 0`, then one chain of `if (is_midr_in_range_list(list))
    k = N; else if ...`, then `return k`; the lists in the order the chain tries them."""
    found = _body(src, LOOP_FUNCTION)
    if found is None:
        return ()
    code, lists = found
    texts = [t.text for t in code]

    def refuse(i: int) -> cpu_errata.NotRecognised:
        tok = code[min(i, len(code) - 1)] if code else None
        return cpu_errata.NotRecognised(Pos(src.path, tok.line if tok else 1, 1), f"{LOOP_FUNCTION}() is not the "
                                        f"chain of loop-count lists this reader reads (at '{tok.text if tok else ''}')")

    if len(texts) < 5 or code[0].kind != "ident" or texts[1:5] != ["k", "=", "0", ";"]:
        raise refuse(0)
    out: list[TreeList] = []
    i = 5
    while i < len(code) and texts[i] in ("if", "else"):
        if (texts[i] == "else") != bool(out):
            raise refuse(i)
        i += texts[i] == "else"
        call = _call(code, i + 2) if texts[i:i + 2] == ["if", "("] else None
        if call is None:
            raise refuse(i)
        name, i = call
        if texts[i:i + 3] != [")", "k", "="] or len(texts) < i + 5 or texts[i + 4] != ";" or code[i + 3].kind != "num":
            raise refuse(i)
        if name not in lists or any(lst.name == name for lst in out):
            raise refuse(i - 2)
        k = cpu_errata.integer(code[i + 3], src.path)
        if not 0 < k <= 0xFF:
            raise cpu_errata.NotRecognised(Pos(src.path, code[i + 3].line, 1), f"k = {k}: a loop count is a u8, "
                                           "above 0")
        ranges, pos = lists[name]
        out.append(TreeList(name, "SPECTRE_BHB", LOOP, k, _ranges(ranges, name, models), pos))
        i += 5
    if texts[i:] != ["return", "k", ";"]:
        raise refuse(i)
    unused = [name for name in lists if all(lst.name != name for lst in out)]
    if unused:
        raise cpu_errata.NotRecognised(lists[unused[0]][1], f"{LOOP_FUNCTION}() declares {unused[0]} but its "
                                       "chain does not try it")
    return tuple(out)


def _ranges(ranges: cpu_errata.RangeList, name: str, models: Models) -> tuple[TreeListRange, ...]:
    out = []
    for g in ranges.ranges:
        if g.guard:
            raise cpu_errata.NotRecognised(g.guard_pos or g.pos, f"a range of {name} under a Kconfig guard: the "
                                           "speculation lists are read as every configuration has them")
        macro, low, high = g.range
        if not isinstance(macro, str) or macro not in models:
            raise cpu_errata.NotRecognised(g.pos, f"{macro} is not a MIDR_CPU_MODEL() model of cputype.h")
        if not (isinstance(low, int) and isinstance(high, int)):
            raise cpu_errata.NotRecognised(g.pos, f"'{low}'..'{high}' are not a variant and revision this reader "
                                           "can compute")
        imp_macro, imp, part_macro, part = models[macro]
        out.append(TreeListRange(TreeCpu(macro, imp_macro, imp, part_macro, part),
                                 (low >> 20 & 0xF, low & 0xF), (high >> 20 & 0xF, high & 0xF), g.pos))
    return tuple(out)


def as_data(lists: TreeSpeculation, cpus: tuple[Cpu, ...]) -> Speculation:
    """The tree's lists as the model reads them, each CPU named as cpus.yaml names it (by
    implementer and part), or by its macro where cpus.yaml lacks it."""
    known = {(c.implementer.code, c.part): c for c in cpus}

    def one(r: TreeListRange) -> ListRange:
        cpu = known.get((r.cpu.implementer, r.cpu.part))
        return ListRange(r.cpu.model, r.low, r.high, cpu.name if cpu else r.cpu.name, cpu.id if cpu else None,
                         Where(r.pos))

    return Speculation(lists.linux, tuple(MidrList(lst.name, lst.cpucap, lst.means, tuple(one(r) for r in lst.ranges),
                                                   lst.k, Where(lst.pos)) for lst in lists.lists),
                       f"Linux {lists.version} at {lists.display}", Where(Pos(lists.display)))


# --- the registry's copy: speculation.yaml ---------------------------------------------------------

FILE = "speculation.yaml"
_HEADER = """\
# yaml-language-server: $schema=schema/speculation.schema.json
#
# The MIDR lists that decide the kernel's speculation mitigations outside arm64_errata[]:
# the Spectre-v2, v3a, v4 and BHB lists of arch/arm64/kernel/proton-pack.c (the BHB loop-count
# lists in the order the kernel tries them) and the KPTI (Meltdown) safe list of
# arch/arm64/kernel/cpufeature.c. Not errata: they get no bits. `errata-db risk` reads them
# (docs/speculation.md); `errata-db import --kernel-tree` writes this file from a tree and
# `errata-db audit --kernel-tree` compares it.
"""


def registry_file(lists: TreeSpeculation, cpu_ids: dict[tuple[int, int], str]) -> str:
    """speculation.yaml for the tree's lists, each CPU by its cpus.yaml id (implementer, part)."""
    out = [_HEADER, f"linux: {lists.linux}\n", "lists:\n"]
    for lst in lists.lists:
        out.append(f"  - name: {lst.name}\n    cpucap: {lst.cpucap}\n    means: {lst.means}\n")
        if lst.k is not None:
            out.append(f"    k: {lst.k}\n")
        out.append("    ranges:\n" if lst.ranges else "    ranges: []\n")
        for r in lst.ranges:
            out.append(f"      - {{cpu: {cpu_ids[r.cpu.implementer, r.cpu.part]}, "
                       f"revisions: {revision_range_str(r.low, r.high)}}}\n")
    return "".join(out)


@dataclass(frozen=True)
class Change:
    """One way the tree's lists differ from the registry's: `gained` when the tree has what the
    registry lacks or says otherwise (at the tree's line), else what the tree lacks (at the
    registry's)."""

    text: str
    gained: bool
    pos: Pos


def _shown(lst: MidrList | TreeList) -> str:
    k = f", k={lst.k}" if lst.k is not None else ""
    return f"{lst.name} ({lst.cpucap}, {lst.means}{k})"


def changes(ours: Speculation, tree: TreeSpeculation, cpus: tuple[Cpu, ...] = ()) -> tuple[Change, ...]:
    """How the tree's lists differ from the registry's: lists, what each means, their ranges, and
    the order of the loop-count lists, which is the order the kernel tries them. A tree's CPU is
    named as cpus (cpus.yaml's) names it."""
    names = {(c.implementer.code, c.part): c.name for c in cpus}
    out: list[Change] = []
    mine = {lst.name: lst for lst in ours.lists}
    theirs = {lst.name: lst for lst in tree.lists}
    for name, t in theirs.items():
        o = mine.get(name)
        if o is None:
            out.append(Change(f"{_shown(t)} is not in the registry's {FILE}", True, t.pos))
            continue
        if (o.cpucap, o.means, o.k) != (t.cpucap, t.means, t.k):
            out.append(Change(f"{_shown(t)} is {_shown(o)} in the registry's {FILE}", True, t.pos))
        have = {(r.model, r.low, r.high) for r in o.ranges}
        keys = {(r.cpu.model, r.low, r.high) for r in t.ranges}
        for r in t.ranges:
            if (r.cpu.model, r.low, r.high) not in have:
                shown = names.get((r.cpu.implementer, r.cpu.part), r.cpu.name)
                out.append(Change(f"{name} has {shown} {revision_range_str(r.low, r.high)}, which the "
                                  f"registry's {FILE} lacks", True, r.pos))
        for r in o.ranges:
            if (r.model, r.low, r.high) not in keys:
                out.append(Change(f"the registry's {name} has {r.shown}, which the tree's lacks: the tree is older "
                                  "than the registry, or narrowed it", False, r.where()))
    for name, o in mine.items():
        if name not in theirs:
            out.append(Change(f"the registry's {_shown(o)} is not in this tree: the tree is older than the "
                              "registry, or dropped it", False, o.where("name")))
    order = [lst.name for lst in tree.lists if lst.means == LOOP and lst.name in mine]
    expected = [lst.name for lst in ours.lists if lst.means == LOOP and lst.name in theirs]
    if order != expected:
        out.append(Change(f"the kernel tries the loop-count lists as {', '.join(order)}; the registry's {FILE} "
                          f"has {', '.join(expected)}", True, theirs[order[0]].pos))
    return tuple(out)
