"""What a kernel decides from its arm64_errata[], read from the compiled cpu_errata.o (pyelftools).

The reader fuzz (tests/test_reader_fuzz_linux.py) builds each mutation of cpu_errata.c with the
kernel's own gcc command and reads the table out of the object, as the kernel reads it at boot:

- arm64_errata[] ends at the first entry without `.matches`, a match list likewise, a range list
  at the first range whose model is 0, a REVIDR fix list at the first fix whose mask is 0
  (cpufeature.c, cputype.h, cpu_errata.c);
- of two entries with one capability only the first counts (init_cpucap_indirect_list_from_array
  warns "Duplicate entry for capability" and skips the others), and none whose capability is
  arm64_features[]'s or past ARM64_NCAPS; an entry whose `.type` has no scope is never asked;
- each matcher reads its own fields: is_affected_midr_range `.midr_range` and `.fixed_revs`,
  is_affected_midr_range_list (and the conditional matchers built on it) `.midr_range_list`,
  is_kryo_midr `.midr_range.model` compared with the MIDR's implementer, architecture and top
  nibble of the part, cpucap_multi_entry_cap_matches `.match_list`.

What the kernel would read where the table defines nothing (a list without its terminator, a
NULL or non-symbol list pointer) is Undefined: no reading of the source can agree with it.

The facts it gives are in the format of tests/kernel/extract_errata.py, which reads the same
table from the preprocessed source, so tests/kernel_matching.py decides CPUs from either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from elf_deep_equal import Object
from kernel_matching import KRYO_MASK, NOT_MIDR

# The matchers and the fields they read.
READS_RANGE = {"is_affected_midr_range", "has_sme_dvmsync_erratum"}  # .midr_range, .fixed_revs
READS_LIST = {"is_affected_midr_range_list", "has_cortex_a76_erratum_1463225", "needs_tx2_tvm_workaround"}
OWN_RANGE = {"has_neoverse_n1_erratum_1542419"}  # kernel_matching.RANGES_IN_FUNCTION
SCOPE_MASK = 0x7  # ARM64_CPUCAP_SCOPE_LOCAL_CPU | _SYSTEM | _BOOT_CPU

LAYOUT_FIELDS = ("cap_size", "capability", "type", "matches", "midr_range", "fixed_revs", "midr_range_list",
                 "match_list", "range_size", "model", "rv_min", "rv_max", "fix_size", "midr_rv", "revidr_mask")
# A file the kernel's own command compiles: the layout of the structures, as the kernel has them.
LAYOUT_C = """\
#include <linux/stddef.h>
#include <asm/cpufeature.h>
#include <asm/cputype.h>

const unsigned long errata_db_layout[] = {
	sizeof(struct arm64_cpu_capabilities),
	offsetof(struct arm64_cpu_capabilities, capability),
	offsetof(struct arm64_cpu_capabilities, type),
	offsetof(struct arm64_cpu_capabilities, matches),
	offsetof(struct arm64_cpu_capabilities, midr_range),
	offsetof(struct arm64_cpu_capabilities, fixed_revs),
	offsetof(struct arm64_cpu_capabilities, midr_range_list),
	offsetof(struct arm64_cpu_capabilities, match_list),
	sizeof(struct midr_range),
	offsetof(struct midr_range, model),
	offsetof(struct midr_range, rv_min),
	offsetof(struct midr_range, rv_max),
	sizeof(struct arm64_midr_revidr),
	offsetof(struct arm64_midr_revidr, midr_rv),
	offsetof(struct arm64_midr_revidr, revidr_mask),
};
"""


class Undefined(Exception):
    """The kernel would read memory the table does not define."""


class UnknownMatcher(Exception):
    """A matcher this reader does not know the fields of."""


@dataclass(frozen=True)
class Layout:
    cap_size: int
    capability: int
    type: int
    matches: int
    midr_range: int
    fixed_revs: int
    midr_range_list: int
    match_list: int
    range_size: int
    model: int
    rv_min: int
    rv_max: int
    fix_size: int
    midr_rv: int
    revidr_mask: int

    @classmethod
    def read(cls, obj_path: Path) -> "Layout":
        obj = Object(obj_path)
        sym = obj.symbol("errata_db_layout")
        raw = obj.data(sym.section, sym.start, sym.size)
        return cls(*(int.from_bytes(raw[i * 8:i * 8 + 8], "little") for i in range(len(LAYOUT_FIELDS))))


@dataclass(frozen=True)
class Cpucaps:
    """The capability numbers of the build (cpucap-defs.h, cpucaps.h before 6.3) and the ones
    arm64_features[] claims first (cpufeature.c)."""

    names: dict[int, str]
    ncaps: int
    features: frozenset[int]

    @classmethod
    def read(cls, header: str, cpufeature_c: str) -> "Cpucaps":
        numbers = {name: int(n) for name, n in re.findall(r"#define\s+ARM64_(\w+)\s+(\d+)\s*$", header, re.M)}
        ncaps = numbers.pop("NCAPS")
        start = cpufeature_c.index("struct arm64_cpu_capabilities arm64_features[] = {")
        body = cpufeature_c[start:cpufeature_c.index("\n};", start)]
        features = {numbers[n] for n in re.findall(r"\.capability\s*=\s*ARM64_(\w+)", body) if n in numbers}
        return cls({n: name for name, n in numbers.items()}, ncaps, frozenset(features))


def defined_globals(obj_path: Path) -> frozenset[str]:
    """The global symbols an object defines: what the rest of the kernel may link against."""
    return frozenset(s.name for s in Object(obj_path).symbols
                     if s["st_info"]["bind"] == "STB_GLOBAL" and s["st_shndx"] != "SHN_UNDEF")


class Table:
    """arm64_errata[] of one object, read as the kernel reads it."""

    def __init__(self, obj_path: Path, layout: Layout, caps: Cpucaps):
        self.obj, self.l, self.caps = Object(obj_path), layout, caps

    def u(self, section: int, address: int, size: int) -> int:
        """An integer field; Undefined when the linker writes an address over it (a pointer
        designated into the union it shares)."""
        relocs = self.obj.relocations.get(section, {})
        if any(at in relocs for at in range(address - 7, address + size)):
            raise Undefined(f"the integer at {address:#x} is overwritten by a pointer the linker fills in")
        return int.from_bytes(self.obj.data(section, address, size), "little")

    def _word(self, section: int, address: int) -> int:
        return int.from_bytes(self.obj.data(section, address, 8), "little")

    def _reloc(self, section: int, address: int):
        return self.obj.relocations.get(section, {}).get(address)

    def pointer(self, section: int, address: int, what: str) -> tuple[int, int] | None:
        """Where a pointer field points (section, address), None for NULL."""
        rel = self._reloc(section, address)
        if rel is None:
            if self._word(section, address) == 0:
                return None
            raise Undefined(f"{what} is {self._word(section, address):#x}, an address no symbol gives")
        index, addend, _ = rel
        sym = self.obj.symbols[index]
        if not isinstance(sym["st_shndx"], int):
            raise Undefined(f"{what} points at {sym.name}, outside this object")
        return sym["st_shndx"], addend + (0 if sym["st_info"]["type"] == "STT_SECTION" else sym["st_value"])

    def function(self, section: int, address: int) -> str | None:
        rel = self._reloc(section, address)
        if rel is None:
            if self._word(section, address):
                raise Undefined(f"a matcher at {self._word(section, address):#x}, an address no symbol gives")
            return None
        place = self.obj.target(rel[0], rel[1])
        if place.kind not in ("func", "extern") or place.offset:
            raise Undefined(f"a matcher that points at {place.kind} {place.name}+{place.offset}")
        return place.name

    def end(self, section: int, address: int) -> int:
        """Where the object holding address ends: the symbol around it, else its section."""
        for start, size, _, kind in self.obj.covering.get(section, ()):
            if kind == "STT_OBJECT" and start <= address < start + size:
                return start + size
        return self.obj.elf.get_section(section)["sh_size"]

    def _walk(self, section: int, address: int, size: int, done, what: str):
        """The elements of an array from address until done(address) (its terminator)."""
        end = self.end(section, address)
        while True:
            if address + size > end:
                raise Undefined(f"{what} has no terminator: the kernel reads past its end")
            if done(address):
                return
            yield address
            address += size

    def _range(self, section: int, address: int) -> dict:
        l = self.l
        return {"model": hex(self.u(section, address + l.model, 4)),
                "rv_min": hex(self.u(section, address + l.rv_min, 4)),
                "rv_max": hex(self.u(section, address + l.rv_max, 4))}

    def _ranges(self, where: tuple[int, int] | None, what: str) -> list[dict]:
        if where is None:
            raise Undefined(f"{what} is NULL: the kernel dereferences it")
        section, address = where
        l = self.l
        return [self._range(section, a) for a in self._walk(
            section, address, l.range_size, lambda a: self.u(section, a + l.model, 4) == 0, what)]

    def _entries(self, where: tuple[int, int] | None, what: str):
        if where is None:
            raise Undefined(f"{what} is NULL: the kernel dereferences it")
        section, address = where
        return self._walk(section, address, self.l.cap_size,
                          lambda a: self.function(section, a + self.l.matches) is None, what)

    def entry(self, section: int, address: int, what: str, top: bool = True) -> dict:
        """One entry; a match list's (not top) has no capability the kernel reads."""
        l = self.l
        matcher = self.function(section, address + l.matches)
        cap = self.caps.names.get(self.u(section, address + l.capability, 2)) if top else None
        out = {"desc": None, "capability": cap, "matches": matcher, "ranges": [],
               "fixed_revs": [], "kryo": matcher == "is_kryo_midr"}
        if matcher in READS_RANGE:
            out["ranges"] = [self._range(section, address + l.midr_range)]
            fixes = self.pointer(section, address + l.fixed_revs, f"{what}'s .fixed_revs")
            if fixes is not None:
                fs, fa = fixes
                out["fixed_revs"] = [
                    {"midr_rv": hex(self.u(fs, a + l.midr_rv, 4)), "revidr_mask": hex(self.u(fs, a + l.revidr_mask, 4))}
                    for a in self._walk(fs, fa, l.fix_size, lambda a: self.u(fs, a + l.revidr_mask, 4) == 0,
                                        f"{what}'s .fixed_revs")]
        elif matcher in READS_LIST:
            out["ranges"] = self._ranges(self.pointer(section, address + l.midr_range_list,
                                                      f"{what}'s .midr_range_list"), f"{what}'s .midr_range_list")
        elif matcher == "is_kryo_midr":
            model = self.u(section, address + l.midr_range + l.model, 4)
            # The kernel compares the masked MIDR with the model as written: a model with bits
            # outside the mask matches no CPU.
            if model & ~KRYO_MASK == 0:
                out["ranges"] = [{"model": hex(model), "rv_min": "0x0", "rv_max": "0xf0000f"}]
        elif matcher == "cpucap_multi_entry_cap_matches":
            where = self.pointer(section, address + l.match_list, f"{what}'s .match_list")
            out["sub"] = [self.entry(where[0], a, f"{what}'s .match_list", top=False) for a in
                          self._entries(where, f"{what}'s .match_list")]
        elif matcher not in OWN_RANGE and matcher not in NOT_MIDR:
            raise UnknownMatcher(f"{what}: the fuzz does not know what {matcher}() reads")
        return out

    def facts(self) -> list[dict]:
        """The entries the kernel asks about, in the table's order."""
        sym = self.obj.symbol("arm64_errata")
        section, l = sym.section, self.l
        seen: set[int] = set()
        out = []
        for n, address in enumerate(self._entries((section, sym.start), "arm64_errata")):
            cap = self.u(section, address + l.capability, 2)
            if cap >= self.caps.ncaps or cap in self.caps.features or cap in seen:
                continue
            seen.add(cap)
            if self.u(section, address + l.type, 2) & SCOPE_MASK == 0:
                continue
            out.append(self.entry(section, address, f"arm64_errata[{n}]"))
        return out
