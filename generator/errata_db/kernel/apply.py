"""An import plan (plan.py) written into the registry's files, round-trip: what is not changed
keeps its bytes, comments and order. New entries go to their vendor's errata file, at the bits
the plan gave them; the lock is updated as `errata-db lock` updates it. speculation.yaml is the
tree's lists and nothing else, so it is written whole.
"""

from __future__ import annotations

import io
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarint import HexInt
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from .. import lock
from ..model import LOCAL_CPU_ERRATUM, UNREVIEWED, UPSTREAM, Erratum, Registry, rev_str
from . import speculation
from .facts import Facts, TreeCpu, TreeNotCovered, TreeRange, registry_text
from .plan import NewAffects, NewEntry, NewRow, Plan, Renamed, chain_after, entry_key

def apply(files: dict[str, str], root: str, reg: Registry, the_plan: Plan, facts: Facts) -> dict[str, str]:
    """The registry files (relative path -> text) that change. The lock is left to lock_text()."""
    edit = _Edit(files, root, reg)
    edit.add_cpus(the_plan.new_cpus, facts)
    for change in the_plan.changed:
        edit.set_affects(change)
    for row in the_plan.rows:
        edit.set_row(row)
    for renamed in the_plan.renamed:
        edit.rename(renamed, facts)
    for entry in the_plan.added:
        edit.add_entry(entry)
    for name, other in the_plan.shares:
        edit.share(name, other)
    for row, after in the_plan.new_not_covered:
        edit.add_not_covered(row, after, facts)
    out = edit.changed()
    speculated = the_plan.speculation
    if speculated is not None and speculated.write:
        text = speculation.registry_file(speculated.lists, edit.cpu_ids)
        if text != files.get(speculation.FILE):
            out[speculation.FILE] = text
    return out


class _Edit:
    """The registry's YAML documents, loaded as the plan first touches them."""

    def __init__(self, files: dict[str, str], root: str, reg: Registry) -> None:
        self.files, self.root = files, root
        self.yaml = _yaml()
        self.docs: dict[str, Any] = {}
        self.cpu_ids = {(c.implementer.code, c.part): c.id for c in reg.cpus}
        self.imp_ids = {i.code: i.id for i in reg.implementers}
        self.by_name = {e.name: e for e in reg.errata}
        self.new_nodes: dict[str, CommentedMap] = {}

    def doc(self, rel: str, default: str = "") -> Any:
        if rel not in self.docs:
            self.docs[rel] = self.yaml.load(self.files.get(rel) or default)
        return self.docs[rel]

    def node(self, e: Erratum) -> CommentedMap:
        """An existing entry's mapping, in the errata file that holds it."""
        rel, index = e.where.doc.path[len(self.root) + 1:], e.where.keys[1]
        return self.doc(rel)["errata"][index]

    def changed(self) -> dict[str, str]:
        out = {}
        for rel, data in self.docs.items():
            stream = io.StringIO()
            self.yaml.dump(data, stream)
            if stream.getvalue() != self.files.get(rel):
                out[rel] = stream.getvalue()
        return out

    def add_cpus(self, cpus: tuple[TreeCpu, ...], facts: Facts) -> None:
        if not cpus:
            return
        cpus_doc = self.doc("cpus.yaml")
        used_ids = set(self.cpu_ids.values())
        for cpu in cpus:
            if cpu.implementer not in self.imp_ids:
                imp = CommentedMap()
                imp["id"] = cpu.imp_id
                imp["code"] = HexInt(cpu.implementer, width=2)
                imp["name"] = facts.makers.get(cpu.implementer) or (
                    cpu.vendor if len(cpu.vendor) <= 4 else cpu.vendor.capitalize())
                imp["macro"] = cpu.imp_macro
                _append(cpus_doc["implementers"], imp, False)
                self.imp_ids[cpu.implementer] = imp["id"]
            cid, n = cpu.id, 2
            while cid in used_ids:
                cid, n = f"{cpu.id}-{n}", n + 1
            used_ids.add(cid)
            item = CommentedMap()
            item["id"] = cid
            item["implementer"] = self.imp_ids[cpu.implementer]
            item["part"] = HexInt(cpu.part, width=3)
            item["name"] = cpu.name
            item["macro"] = cpu.macro
            item["part_macro"] = cpu.part_macro
            _append(cpus_doc["cpus"], item, False)
            self.cpu_ids[cpu.implementer, cpu.part] = cid

    def set_affects(self, change: NewAffects) -> None:
        e = change.erratum
        node = self.node(e)
        old = dict(zip(entry_key(e), node["affects"]))
        affects = CommentedSeq()
        for r in change.ranges:
            item = old.get(r.key)
            if item is None:
                item = _affects_item(r, self.cpu_ids[r.cpu.implementer, r.cpu.part], _range_ids(r, e.errata_ids))
            else:
                _set_or_drop(item, "guard", _flow(list(r.guard)) if r.guard else None, "revisions")
                _set_or_drop(item, "own_entry", True if r.own_entry else None, "guard")
            affects.append(item)
        node["affects"] = affects
        if change.table:
            _kernel_node(node)["table"] = change.table

    def set_row(self, new_row: NewRow) -> None:
        node = self.node(new_row.erratum)
        kernel = _kernel_node(node)
        for name, value in new_row.fields:
            if value is None:
                kernel.pop(name, None)
            elif isinstance(value, dict):
                kernel[name] = CommentedMap((k, _names_seq(v)) for k, v in value.items())
            else:
                kernel[name] = _flow(value) if isinstance(value, list) else value
        if not kernel:
            del node["kernel"]

    def rename(self, r: Renamed, facts: Facts) -> None:
        for e in r.entries:
            node = self.node(e)
            if node.get("cpucap_names") is None:
                at = list(node).index("cpucap") if "cpucap" in node else list(node).index("kconfig") + 1
                node.pop("cpucap", None)
                node.insert(at, "cpucap_names", _names_seq([{"name": r.old}]))
            node["cpucap_names"].append(_name_map(chain_after(e, (r,), facts)[-1]))

    def add_entry(self, n: NewEntry) -> None:
        self.new_nodes[n.name] = _entry_map(n, self.cpu_ids)
        errata = self.doc(_vendor_file(n.vendor), NEW_ERRATA_FILE.format(vendor=n.vendor))["errata"]
        _append(errata, self.new_nodes[n.name], True)

    def share(self, name: str, other: str) -> None:
        node = self.new_nodes[name] if name in self.new_nodes else self.node(self.by_name[name])
        if "shares_ids_with" not in node:
            node.insert(list(node).index("affects"), "shares_ids_with", _flow([]))
        if other not in node["shares_ids_with"]:
            node["shares_ids_with"].append(other)

    def add_not_covered(self, row: TreeNotCovered, after: str | None, facts: Facts) -> None:
        head = self.doc("registry.yaml")
        if head.get("not_covered") is None:
            head["not_covered"] = CommentedSeq()
        m = CommentedMap()
        m["cpucap"] = row.cpucap
        m["matcher"] = row.matcher
        if row.desc:
            m["desc"] = registry_text(row.desc)
        if row.cpu_enable:
            m["cpu_enable"] = row.cpu_enable
        if row.type != LOCAL_CPU_ERRATUM:
            m["type"] = row.type
        if row.guard:
            m["guard"] = _flow(list(row.guard))
        if after:
            m["after"] = after
        m["reason"] = (f"arm64_errata[] of Linux {facts.version} decides it with {row.matcher}(), not "
                       "from MIDR/REVIDR ranges of its table (imported: say by hand what it reads)")
        _append(head["not_covered"], m, False)


def _yaml() -> YAML:
    y = YAML()
    y.preserve_quotes = True
    y.width = 4096  # a registry line is never folded
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _flow(items) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def _quoted(items) -> CommentedSeq:
    return _flow([DoubleQuotedScalarString(i) for i in items])


def _affects_item(r: TreeRange, cpu_id: str, ids: tuple[str, ...] | None) -> CommentedMap:
    item = CommentedMap()
    item["cpu"] = cpu_id
    if r.part_mask is not None:
        item["part_mask"] = HexInt(r.part_mask)
    item["revisions"] = r.revisions
    if r.fixes:
        fixes = CommentedSeq()
        for rev, mask in r.fixes:
            fix = CommentedMap()
            fix["revision"] = rev_str(rev)
            fix["mask"] = HexInt(mask)
            fixes.append(fix)
        item["revidr_fixes"] = fixes
    if r.guard:
        item["guard"] = _flow(list(r.guard))
    if r.own_entry:
        item["own_entry"] = True
    if ids:
        item["errata_ids"] = _quoted(ids)
    return item


def _range_ids(r: TreeRange, entry_ids: tuple[str, ...]) -> tuple[str, ...] | None:
    """A range names its ids when its entry has several and the range's are among them."""
    return r.ids if len(entry_ids) > 1 and r.ids and set(r.ids) <= set(entry_ids) else None


def _entry_map(n: NewEntry, cpu_ids) -> CommentedMap:
    m = CommentedMap()
    m["name"] = n.name
    m["bit"] = n.bit
    m["vendor"] = n.vendor
    m["errata_ids"] = _quoted(n.ids)
    m["description"] = n.description
    # A person decides these from the kernel's sources and help text; until then validate warns
    # and risk counts the entry as needed by a guest and of the worst impact.
    m["guest"] = UNREVIEWED
    m["impact"] = UNREVIEWED
    m["kconfig"] = _flow(list(n.kconfig))
    if n.cpucap:
        m["cpucap"] = n.cpucap
    if n.cpucap_names:
        m["cpucap_names"] = _names_seq(list(n.cpucap_names))
    affects = CommentedSeq()
    for r in n.ranges:
        affects.append(_affects_item(r, cpu_ids[r.cpu.implementer, r.cpu.part], _range_ids(r, n.ids)))
    m["affects"] = affects
    if n.condition:
        m["condition"] = n.condition
    if n.kernel:
        kernel = CommentedMap()
        for k, v in n.kernel.items():
            kernel[k] = _flow(v) if isinstance(v, list) else v
        m["kernel"] = kernel
    m["status"] = "active"
    return m


def _append(seq: CommentedSeq, item: Any, blank: bool) -> None:
    seq.fa.set_block_style()  # an empty list is written `[]`
    seq.append(item)
    if blank and len(seq) > 1:
        seq.yaml_set_comment_before_after_key(len(seq) - 1, before="\n", indent=2)


def _vendor_file(vendor: str) -> str:
    return f"errata/{re.sub(r'[^a-z0-9]+', '-', vendor.lower()).strip('-') or 'upstream'}.yaml"


NEW_ERRATA_FILE = """\
# yaml-language-server: $schema=../schema/errata.schema.json
#
# Errata published by {vendor}, in bit order.
errata: []
"""


def _set_or_drop(node: CommentedMap, key: str, value: Any, after: str) -> None:
    """Set a key to a value (placed after another key when new), or drop it for None."""
    if value is None:
        node.pop(key, None)
    elif key in node:
        if node[key] != value:
            node[key] = value
    else:
        keys = list(node)
        node.insert(keys.index(after) + 1 if after in keys else len(keys), key, value)


def _name_map(item: dict) -> CommentedMap:
    m = CommentedMap(item)
    m.fa.set_flow_style()
    for key in ("since", "seen_in"):
        if key in m:
            m[key] = DoubleQuotedScalarString(m[key])
    return m


def _names_seq(items: list[dict]) -> CommentedSeq:
    """A chain of kernel names, one flow mapping a line: - {name: X, seen_in: "7.3.4"}."""
    seq = CommentedSeq(_name_map(i) for i in items)
    seq.fa.set_block_style()
    return seq


def _kernel_node(node: CommentedMap) -> CommentedMap:
    """An entry's `kernel:` block, made after its `affects` if it has none."""
    if node.get("kernel") is None:
        node.insert(list(node).index("affects") + 1, "kernel", CommentedMap())
    return node["kernel"]


def lock_text(old: str, reg: Registry) -> str:
    return lock.updated(old, [e for e in reg.errata if e.origin == UPSTREAM])
