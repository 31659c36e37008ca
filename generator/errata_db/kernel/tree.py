"""One Linux source tree, read once per command: the files `install` writes into, `audit`
checks, `import` reads and `risk --guest-kernel-tree` matches with.

`Tree` reads each file at most once, bounded and refusing what is not a regular file, and
parses it on first use; every reader of a tree (audit, import, install, risk) takes a Tree.
The parsers are pure functions of a file's text. Positions are kept so that `audit` can point
into the tree the way `validate` points into the registry.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ..diagnostics import Pos
from ..errors import Unusable
from ..inputs import Refused, read_limited
from . import cpu_errata

CPUCAPS = "arch/arm64/tools/cpucaps"
KCONFIG = "arch/arm64/Kconfig"
CPUTYPE = "arch/arm64/include/asm/cputype.h"
CPU_ERRATA = "arch/arm64/kernel/cpu_errata.c"
# Where install --kernel-tables puts the generated table, which cpu_errata.c then includes.
CPU_ERRATA_TABLE = "arch/arm64/kernel/cpu_errata_table.h"
TABLE_HEADER = CPU_ERRATA_TABLE.rsplit("/", 1)[1]  # as cpu_errata.c, beside it, includes it
# The table moved with the arm64 documentation in Linux 6.5; older trees have the first path.
SILICON_ERRATA = ("Documentation/arch/arm64/silicon-errata.rst", "Documentation/arm64/silicon-errata.rst")
# The Kconfig files that define the options of arm64 errata: the architecture's own, and those
# of the drivers whose errata silicon-errata.rst lists (timers, SMMUs, interrupt controllers,
# PMUs): ARM64_ERRATUM_858921 lives in drivers/clocksource/Kconfig. Reading these, not the
# tree's 1,800 Kconfig files, is what keeps a tree's reading under a second; an option defined
# anywhere else is reported as defined nowhere.
ERRATA_KCONFIGS = (KCONFIG, "drivers/clocksource/Kconfig", "drivers/iommu/Kconfig", "drivers/iommu/arm/Kconfig",
                   "drivers/irqchip/Kconfig", "drivers/perf/Kconfig")
KVM_GUEST = "drivers/firmware/smccc/kvm_guest.c"

# No tree file errata-db reads comes near this (arch/arm64/Kconfig, the largest, is some 90 KB); a
# sparse or endless file at one of their paths is refused before it costs memory.
TREE_FILE_MAX = 4 << 20

# What makes a directory an arm64 Linux tree for each command, checked in this order so the
# first missing piece is the reason given.
INSTALL_MARKERS = ("Makefile", "Kbuild", "arch/arm64/Kconfig", "arch/arm64/include/asm", "arch/arm64/kvm")
AUDIT_MARKERS = (*INSTALL_MARKERS, CPUCAPS, CPUTYPE, CPU_ERRATA)
IMPORT_MARKERS = ("Makefile", KCONFIG, CPUTYPE, CPU_ERRATA)


class NotALinuxTree(Unusable):
    """The directory is not (or not enough of) a Linux source tree, or one of its files cannot be
    read: an environment error."""


@dataclass(frozen=True)
class TableRow:
    """One row of silicon-errata.rst: a component's errata ids and the Kconfig symbol."""

    implementor: str
    component: str
    ids: tuple[str, ...]
    kconfig: str  # "N/A" when the kernel needs no option
    pos: Pos


@dataclass(frozen=True)
class Define:
    value: str
    pos: Pos


@dataclass(frozen=True)
class KconfigSymbol:
    """Where a symbol is defined, its prompt (`bool "Cortex-A57: 832075: possible deadlock ..."`,
    the kernel's one-line description of an erratum option) and the symbols it selects (an
    erratum option selects the hidden ARM64_WORKAROUND_* option a table row is guarded by)."""

    pos: Pos
    prompt: str | None
    selects: tuple[str, ...]


def _lexists(path: Path) -> bool:
    """Whether anything is at path, a broken link too; a path the system cannot even look at
    (too long, no permission) is NotALinuxTree, not a traceback."""
    try:
        os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise NotALinuxTree(f"cannot read {path}: {exc.strerror or exc}") from exc
    return True


def read(path: Path) -> str:
    """A tree file's text: a regular file of at most TREE_FILE_MAX bytes, or NotALinuxTree."""
    try:
        return read_limited(path, TREE_FILE_MAX).decode("utf-8", errors="replace")
    except Refused as exc:
        raise NotALinuxTree(f"cannot read {path}: it {exc}") from exc
    except OSError as exc:
        raise NotALinuxTree(f"cannot read {path}: {exc.strerror or exc}") from exc


class Tree:
    """A Linux source tree: each file read once, each fact parsed once, on first use.

    Every property may raise NotALinuxTree (a file that cannot be read); the properties that
    read cpu_errata.c may raise cpu_errata.NotRecognised (a table written in a way the reader
    does not know).
    """

    def __init__(self, root: Path, display: str) -> None:
        self.root = root
        self.display = display.rstrip("/") or display  # the directory as the user should see it
        self._texts: dict[str, str] = {}

    @classmethod
    def open(cls, root: Path, display: str, markers: tuple[str, ...]) -> "Tree":
        """The tree, or NotALinuxTree with the first reason the directory cannot be used."""
        if not _lexists(root):
            raise NotALinuxTree(f"{root} does not exist")
        if not root.is_dir():
            raise NotALinuxTree(f"{root} is not a directory")
        tree = cls(root, display)
        for rel in markers:
            if not tree.has(rel):
                raise NotALinuxTree(f"{root} is not an arm64 Linux source tree: it has no {rel}")
        if not re.search(r"^VERSION\s*=", tree.text("Makefile"), re.M):
            raise NotALinuxTree(f"{root} is not a Linux source tree: its Makefile sets no VERSION")
        return tree

    def path(self, rel: str) -> str:
        return f"{self.display}/{rel}"

    def has(self, rel: str) -> bool:
        """Whether the tree has something at rel. A broken link there counts: reading it says
        why, where taking it for missing would read an older tree into what the file is not."""
        return rel in self._texts or _lexists(self.root / rel)

    def text(self, rel: str) -> str:
        if rel not in self._texts:
            self._texts[rel] = read(self.root / rel)
        return self._texts[rel]

    @cached_property
    def version(self) -> str:
        return parse_version(self.text("Makefile"))

    @cached_property
    def cpucaps(self) -> dict[str, Pos] | None:
        """tools/cpucaps' names, without ARM64_; None before Linux 5.19, which has no such file."""
        return parse_cpucaps(self.text(CPUCAPS), self.path(CPUCAPS)) if self.has(CPUCAPS) else None

    @cached_property
    def kconfig(self) -> dict[str, KconfigSymbol]:
        """The symbols of ERRATA_KCONFIGS; arch/arm64/Kconfig's first."""
        out: dict[str, KconfigSymbol] = {}
        for rel in ERRATA_KCONFIGS:
            if rel == KCONFIG or self.has(rel):
                for name, symbol in parse_kconfig(self.text(rel), self.path(rel)).items():
                    out.setdefault(name, symbol)
        return out

    @cached_property
    def defines(self) -> dict[str, Define]:
        """The single-line #defines of cputype.h."""
        return parse_defines(self.text(CPUTYPE), self.path(CPUTYPE))

    @cached_property
    def _table_rel(self) -> str | None:
        return next((p for p in SILICON_ERRATA if self.has(p)), None)

    @cached_property
    def table_path(self) -> str | None:
        """silicon-errata.rst as shown, None when the tree has none."""
        return None if self._table_rel is None else self.path(self._table_rel)

    @cached_property
    def table(self) -> tuple[TableRow, ...]:
        """The rows of silicon-errata.rst; none when the tree has none."""
        rel = self._table_rel
        return () if rel is None else parse_errata_table(self.text(rel), self.path(rel))

    @cached_property
    def cpu_errata(self) -> cpu_errata.Source:
        return cpu_errata.read_source(self.text(CPU_ERRATA), self.path(CPU_ERRATA))

    @cached_property
    def errata_table(self) -> cpu_errata.Source:
        """The source that holds arm64_errata[]: cpu_errata.c, or the table errata-db generated
        when install --kernel-tables made cpu_errata.c include it."""
        if cpu_errata.is_converted(self.cpu_errata, TABLE_HEADER):
            return cpu_errata.read_source(self.text(CPU_ERRATA_TABLE), self.path(CPU_ERRATA_TABLE))
        return self.cpu_errata

    @cached_property
    def errata_configs(self) -> frozenset[str]:
        """Kconfig symbols cpu_errata.c tests: the arm64_errata[] options. In a converted tree
        the table's options are in the table it includes, but they are all options of registry
        entries, which audit counts anyway."""
        return cpu_errata.tested_configs(self.text(CPU_ERRATA))

    @cached_property
    def target_impl_missing(self) -> str | None:
        """None when the tree's guest matches errata over the VMM's target implementation CPUs
        (Linux 6.15 and later; see reference/target-impl.md); else what it lacks."""
        for rel, function in ((CPU_ERRATA, "cpu_errata_set_target_impl"),
                              (KVM_GUEST, "kvm_arm_target_impl_cpu_init")):
            if not cpu_errata.defines_function(self.text(rel) if self.has(rel) else "", function):
                return f"{rel} has no {function}()"
        return None


def parse_version(makefile: str) -> str:
    fields = dict(re.findall(r"^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)\s*=[ \t]*(\S*)", makefile, re.M))
    version = ".".join(fields[k] for k in ("VERSION", "PATCHLEVEL", "SUBLEVEL") if fields.get(k))
    return version + fields.get("EXTRAVERSION", "")


def parse_cpucaps(text: str, path: str) -> dict[str, Pos]:
    caps = {}
    for n, line in enumerate(text.splitlines(), 1):
        name = line.strip()
        if name and not name.startswith("#"):
            caps[name] = Pos(path, n, 1)
    return caps


_CONFIG = re.compile(r"^\s*(?:menu)?config\s+([A-Za-z0-9_]+)\s*$")
_PROMPT = re.compile(r'^\s*(?:bool|tristate)\s+"((?:[^"\\]|\\.)*)"')
_SELECT = re.compile(r"^\s*select\s+([A-Za-z0-9_]+)")


def parse_kconfig(text: str, path: str) -> dict[str, KconfigSymbol]:
    """Each symbol a Kconfig file defines: where first, its first prompt, and what every
    definition of it selects."""
    found: dict[str, tuple[Pos, str | None, list[str]]] = {}
    symbol = None
    for n, line in enumerate(text.splitlines(), 1):
        m = _CONFIG.match(line)
        if m:
            symbol = m.group(1)
            found.setdefault(symbol, (Pos(path, n, line.index(symbol) + 1), None, []))
            continue
        if symbol is None:
            continue
        p = _PROMPT.match(line)
        if p and found[symbol][1] is None:
            found[symbol] = (found[symbol][0], p.group(1), found[symbol][2])
        s = _SELECT.match(line)
        if s:
            found[symbol][2].append(s.group(1))
    return {k: KconfigSymbol(pos, prompt, tuple(selects)) for k, (pos, prompt, selects) in found.items()}


_DEFINE = re.compile(r"^#define\s+([A-Za-z_][A-Za-z0-9_]*)[ \t]+(.*?)\s*(?:/\*.*)?$")


def parse_defines(text: str, path: str) -> dict[str, Define]:
    """Object-like single-line #defines; function-like and continued ones are not values."""
    out = {}
    for n, line in enumerate(text.splitlines(), 1):
        m = _DEFINE.match(line)
        if m and not m.group(2).endswith("\\"):
            out.setdefault(m.group(1), Define(m.group(2), Pos(path, n, 9)))
    return out


_HEADER = ("Implementor", "Component", "Erratum ID", "Kconfig")


def parse_errata_table(text: str, path: str) -> tuple[TableRow, ...]:
    """The rows of silicon-errata.rst's grid table, cells joined across continuation lines.

    Columns are cut at the '+' of the border above the header, so a cell may hold '|'.
    """
    lines = text.splitlines()
    rows: list[TableRow] = []
    cuts: list[int] = []
    cells: list[list[str]] = []
    start = 0
    in_body = False

    def flush() -> None:
        if cells and in_body:
            imp, comp, ids, kconfig = (" ".join(c).strip() for c in cells)
            id_list = tuple(i.lstrip("#") for i in re.split(r"[,\s]+", ids) if i.lstrip("#"))
            if id_list:
                rows.append(TableRow(imp, comp, id_list, kconfig, Pos(path, start, 1)))
        cells.clear()

    for n, line in enumerate(lines, 1):
        if line.startswith("+"):
            flush()
            if not cuts and line.startswith("+-") and n < len(lines) and _is_header(lines[n]):
                cuts = [i for i, ch in enumerate(line) if ch == "+"]
            elif cuts and line.startswith("+="):
                in_body = True
            continue
        if not line.startswith("|") or len(cuts) != len(_HEADER) + 1:
            continue
        parts = [line[a + 1:b].strip() for a, b in zip(cuts, cuts[1:])]
        if not cells:
            cells.extend([] for _ in _HEADER)
            start = n
        for cell, part in zip(cells, parts):
            if part:
                cell.append(part)
    flush()
    return tuple(rows)


def _is_header(line: str) -> bool:
    return [c.strip() for c in line.strip().strip("|").split("|")] == list(_HEADER)


MIDR_MODEL = re.compile(r"MIDR_CPU_MODEL\(\s*(\w+)\s*,\s*(\w+)\s*\)")


def define_value(defines: dict[str, Define], name: str) -> int | None:
    """The number a #define of cputype.h stands for, if it is a plain number."""
    d = defines.get(name)
    try:
        return int(d.value.rstrip("uUlL"), 0) if d else None
    except ValueError:
        return None


def midr_models(defines: dict[str, Define]) -> dict[str, tuple[str, int, str, int]]:
    """MIDR_* macro -> (implementer macro, implementer code, part macro, part number), for
    every model cputype.h builds with MIDR_CPU_MODEL from numeric macros."""
    out = {}
    for name, d in defines.items():
        m = MIDR_MODEL.fullmatch(d.value)
        if name.startswith("MIDR_") and m:
            imp, part = define_value(defines, m.group(1)), define_value(defines, m.group(2))
            if imp is not None and part is not None:
                out[name] = (m.group(1), imp, m.group(2), part)
    return out
