"""Deep equality of two data symbols of two relocatable ELF objects (pyelftools).

Two symbols are deep-equal when they have the same size and bytes, and relocations at the same
offsets, of the same types, each resolving in both objects to the same thing: the same
function (by name, and offset into it), a string with the same content, an undefined symbol of
the same name, or a data object that is itself deep-equal. Names and places of local objects
may differ: a list is compared by what it holds, not by what it is called.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection


@dataclass(frozen=True)
class Place:
    """Where a relocation points: a symbol (or an unnamed place in a section) and an offset."""

    kind: str  # func, str, extern, object, section
    name: str
    offset: int
    section: int = -1
    start: int = 0
    size: int = 0


class Object:
    def __init__(self, path: Path):
        self.path = path
        self.elf = ELFFile(open(path, "rb"))  # noqa: SIM115 - kept open while the object is used
        self.symbols = list(self.elf.get_section_by_name(".symtab").iter_symbols())
        self.covering: dict[int, list[tuple[int, int, str, str]]] = {}
        for s in self.symbols:
            kind = s["st_info"]["type"]
            if kind in ("STT_OBJECT", "STT_FUNC") and isinstance(s["st_shndx"], int):
                self.covering.setdefault(s["st_shndx"], []).append(
                    (s["st_value"], s["st_size"], s.name, kind))
        self.relocations: dict[int, dict[int, tuple[int, int, int]]] = {}
        for sec in self.elf.iter_sections():
            if isinstance(sec, RelocationSection):
                rel = self.relocations.setdefault(sec["sh_info"], {})
                for r in sec.iter_relocations():
                    rel[r["r_offset"]] = (r["r_info_sym"], r["r_addend"] if r.is_RELA() else 0,
                                          r["r_info_type"])
        self._data: dict[int, bytes] = {}

    def data(self, section: int, start: int, size: int) -> bytes:
        if section not in self._data:
            sec = self.elf.get_section(section)
            self._data[section] = b"\0" * sec["sh_size"] if sec["sh_type"] == "SHT_NOBITS" else sec.data()
        return self._data[section][start:start + size]

    def symbol(self, name: str) -> Place:
        for s in self.symbols:
            if s.name == name and s["st_info"]["type"] == "STT_OBJECT" and isinstance(s["st_shndx"], int):
                return Place("object", name, 0, s["st_shndx"], s["st_value"], s["st_size"])
        raise KeyError(f"{self.path} has no data symbol {name}")

    def target(self, index: int, addend: int) -> Place:
        s = self.symbols[index]
        if s["st_shndx"] == "SHN_UNDEF":
            return Place("extern", s.name, addend)
        section = s["st_shndx"]
        address = addend + (0 if s["st_info"]["type"] == "STT_SECTION" else s["st_value"])
        sec = self.elf.get_section(section)
        if sec["sh_flags"] & SH_FLAGS.SHF_STRINGS:
            raw = self.data(section, address, sec["sh_size"])
            return Place("str", raw[:raw.index(b"\0")].decode("latin-1"), 0)
        for start, size, name, kind in self.covering.get(section, ()):
            if start <= address < start + max(size, 1):
                return Place("func" if kind == "STT_FUNC" else "object", name, address - start,
                             section, start, size)
        return Place("section", sec.name, address, section)


def first_difference(a: Object, b: Object, name: str) -> str | None:
    """None if the two objects' symbols `name` are deep-equal, else where they first differ."""
    return _compare(a, a.symbol(name), b, b.symbol(name), name, set())


def _rows_desc(obj: Object, place: Place, offset: int) -> str:
    """The string that the last string pointer at or before offset holds: in arm64_errata[],
    the .desc of the row that offset is in."""
    rel = obj.relocations.get(place.section, {})
    best = None
    for at in sorted(rel):
        if place.start <= at <= place.start + offset:
            t = obj.target(rel[at][0], rel[at][1])
            if t.kind == "str":
                best = t.name
    return f" (in the row of {best!r})" if best is not None else ""


def _compare(a: Object, pa: Place, b: Object, pb: Place, path: str, seen: set) -> str | None:
    if (pa.section, pa.start, pb.section, pb.start) in seen:
        return None
    seen.add((pa.section, pa.start, pb.section, pb.start))
    if pa.size != pb.size:
        return f"{path}: {pa.size} bytes against {pb.size}"
    da, db = a.data(pa.section, pa.start, pa.size), b.data(pb.section, pb.start, pb.size)
    ra = {o - pa.start: r for o, r in a.relocations.get(pa.section, {}).items() if pa.start <= o < pa.start + pa.size}
    rb = {o - pb.start: r for o, r in b.relocations.get(pb.section, {}).items() if pb.start <= o < pb.start + pb.size}
    for off in range(pa.size):
        if da[off] != db[off]:
            return (f"{path}+{off:#x}{_rows_desc(a, pa, off)}: byte {da[off]:#04x} against {db[off]:#04x}")
    for off in sorted(ra.keys() | rb.keys()):
        where = f"{path}+{off:#x}{_rows_desc(a, pa, off)}"
        if off not in ra or off not in rb:
            return f"{where}: a pointer in {'the first' if off in ra else 'the second'} object only"
        (sa, adda, ta), (sb, addb, tb) = ra[off], rb[off]
        if ta != tb:
            return f"{where}: relocation type {ta} against {tb}"
        xa, xb = a.target(sa, adda), b.target(sb, addb)
        if xa.kind != xb.kind or xa.offset != xb.offset:
            return f"{where}: points to {_show(xa)} against {_show(xb)}"
        if xa.kind == "object":
            found = _compare(a, xa, b, xb, f"{where} -> {xa.name}", seen)
            if found:
                return found
        elif xa.kind == "section" or xa.name != xb.name:
            return f"{where}: points to {_show(xa)} against {_show(xb)}"
    return None


def _show(p: Place) -> Any:
    return {"str": f"the string {p.name!r}", "func": f"function {p.name}+{p.offset:#x}",
            "extern": f"undefined {p.name}+{p.offset:#x}", "object": f"object {p.name}+{p.offset:#x}",
            "section": f"an unnamed place {p.name}+{p.offset:#x}"}[p.kind]
