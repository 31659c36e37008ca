"""Machine-readable export of the whole registry (format described in docs/generated-files.md)."""

from __future__ import annotations

from json.encoder import encode_basestring_ascii
from typing import Any

from ..model import UNREVIEWED, Erratum, KernelName, Registry, rev_str
from ..render import Target, source_label

EXPORT_FORMAT = 1


def cpucap_names(e: Erratum) -> list[dict]:
    """Every name of the cpucap, oldest first, with the kernel that first used it (since) or one
    seen to use it (seen_in); both null where the registry does not record one."""
    names = e.cpucap_names or (KernelName(e.enables),)
    return [{"name": n.name, "since": n.version if n.exact else None,
             "seen_in": None if n.exact else n.version} for n in names]


def guest_and_impact(e: Erratum) -> dict:
    """What a guest needs and how bad it is, as json/errata.json and risk's JSON give them: an
    unreviewed guest is given as needed, what risk counts it as, and `reviewed` says so. A
    retired entry that records neither gives nulls."""
    if not e.active and e.guest is None and e.impact is None:
        return {"guest": None, "guest_reason": None, "impact": None, "impact_note": None, "reviewed": None}
    return {"guest": "host-only" if e.host_only else "needed", "guest_reason": e.guest_reason,
            "impact": e.impact or UNREVIEWED, "impact_note": e.impact_note,
            "reviewed": not {e.guest, e.impact} & {None, UNREVIEWED}}


def export(reg: Registry) -> dict:
    return {
        "format": EXPORT_FORMAT,
        "hypercall": {"name": reg.hypercall_name, "description": reg.hypercall_description},
        "bit_space": {"registers": list(reg.registers), "register_bits": reg.register_bits},
        "ranges": [{"name": r.name, "first": r.first, "last": r.last, "owner": r.owner,
                    "status": r.status, "description": r.description} for r in reg.ranges],
        "implementers": [{"id": i.id, "code": i.code, "name": i.name, "macro": i.macro,
                          "origin": i.origin} for i in reg.implementers],
        "cpus": [{"id": c.id, "implementer": c.implementer.id, "part": c.part, "model": c.model,
                  "name": c.name, "macro": c.macro, "part_macro": c.part_macro,
                  "origin": c.origin} for c in reg.cpus],
        "errata": [{
            "name": e.name, "cpucap": e.enables, "cpucap_names": cpucap_names(e), "bit": e.bit, "register": reg.registers[e.bit // reg.register_bits],
            "register_bit": e.bit % reg.register_bits, "status": e.status,
            "retired": ({"since": e.retired_since, "reason": e.retired_reason}
                        if not e.active else None),
            "vendor": e.vendor, "errata_ids": list(e.errata_ids), "description": e.description,
            "kconfig": list(e.kconfig), "note": e.note, "condition": e.condition,
            **guest_and_impact(e),
            "origin": e.origin,
            "affects": [{
                "cpu": a.cpu.id, "model": a.cpu.model, "revisions": a.revisions,
                "rv_min": a.rv_min, "rv_max": a.rv_max, "part_mask": a.part_mask,
                "errata_ids": list(a.errata_ids),
                "revidr_fixes": [{"revision": rev_str(f.revision), "rv": f.rv,
                                  "mask": f.mask} for f in a.revidr_fixes],
            } for a in e.affects],
        } for e in reg.errata],
    }


_LITERALS = {None: "null", True: "true", False: "false"}
_esc = encode_basestring_ascii


def dumps(document: Any) -> str:
    """What json.dumps(document, indent=2, sort_keys=True) gives, byte for byte, for the values
    an export holds (dicts with str keys, lists, str, int, bool, None), in less than half the
    time: with an indent, the standard library encodes in pure Python, one generator step per
    token, and that was a third of `generate --check` on a full registry."""
    return _encode(document, "", {})


def _encode(value: Any, indent: str, layouts: dict) -> str:
    kind = type(value)
    if kind is str:
        return _esc(value)
    if kind is int:
        return int.__repr__(value)
    if kind is dict:
        if not value:
            return "{}"
        # Objects of one shape (the 12,800 CPU ranges of a full registry) share the format of
        # their lines: (keys as inserted, indent) -> (keys sorted, format, members' indent).
        shape = (tuple(value), indent)
        layout = layouts.get(shape)
        if layout is None:
            keys, inner = sorted(value), indent + "  "
            # A key's braces are the format's own text: doubled.
            lines = ",\n".join(inner + _esc(k).replace("{", "{{").replace("}", "}}") + ": {}"
                               for k in keys)
            layout = layouts[shape] = (keys, "{{\n" + lines + "\n" + indent + "}}", inner)
        keys, form, inner = layout
        members = []
        for k in keys:
            v = value[k]
            kind = type(v)
            members.append(_esc(v) if kind is str else int.__repr__(v) if kind is int
                           else _encode(v, inner, layouts))
        return form.format(*members)
    if kind is list:
        if not value:
            return "[]"
        inner = indent + "  "
        return "[\n" + ",\n".join([inner + _encode(v, inner, layouts) for v in value]) + "\n" + indent + "]"
    if kind is bool or value is None:
        return _LITERALS[value]
    raise TypeError(f"{kind.__name__} is not in an export")


def context(reg: Registry) -> dict:
    # JSON has no comments: the SPDX line and the banner are fields of the document.
    document = {"SPDX-License-Identifier": "GPL-2.0-only",
                "$comment": f"Generated from {source_label(reg)} by errata-db, do not edit.",
                **export(reg)}
    return {"document": dumps(document)}


TARGET = Target("json", "errata.json.j2", "json/errata.json", context)
