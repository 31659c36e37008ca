"""Facts read from a Linux source tree: the files `install` writes into, `audit` checks and
`import` reads (cpu_errata.c itself is read by cpu_errata.py).

The parsers are pure functions of a file's text; every file is read through `read`, bounded
and refusing what is not a regular file. Positions are kept so that `audit` can point into the
tree the way `validate` points into the registry.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..diagnostics import Pos
from ..inputs import Refused, read_limited
from . import cpu_errata

CPUCAPS = "arch/arm64/tools/cpucaps"
KCONFIG = "arch/arm64/Kconfig"
CPUTYPE = "arch/arm64/include/asm/cputype.h"
CPU_ERRATA = "arch/arm64/kernel/cpu_errata.c"
# Where install --kernel-tables puts the generated table, which cpu_errata.c then includes.
CPU_ERRATA_TABLE = "arch/arm64/kernel/cpu_errata_table.h"
# The table moved with the arm64 documentation in Linux 6.5; older trees have the first path.
SILICON_ERRATA = ("Documentation/arch/arm64/silicon-errata.rst", "Documentation/arm64/silicon-errata.rst")

# No tree file errata-db reads comes near this (arch/arm64/Kconfig, the largest, is some 90 KB); a
# sparse or endless file at one of their paths is refused before it costs memory.
TREE_FILE_MAX = 4 << 20

# What makes a directory an arm64 Linux tree for each command, checked in this order so the
# first missing piece is the reason given.
INSTALL_MARKERS = ("Makefile", "Kbuild", "arch/arm64/Kconfig", "arch/arm64/include/asm", "arch/arm64/kvm")
AUDIT_MARKERS = (*INSTALL_MARKERS, CPUCAPS, CPUTYPE, CPU_ERRATA)


class NotALinuxTree(Exception):
    """The directory is not (or not enough of) a Linux source tree: an environment error."""


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
class KernelTree:
    display: str  # the tree's directory as the user should see it
    version: str
    cpucaps: dict[str, Pos]
    kconfig: dict[str, Pos]  # symbols of the wanted set, wherever in the tree they are defined
    defines: dict[str, Define]  # single-line #defines of cputype.h
    table: tuple[TableRow, ...]
    table_path: str
    errata_configs: frozenset[str]  # Kconfig symbols cpu_errata.c tests: the arm64_errata[] options

    def path(self, rel: str) -> str:
        return f"{self.display.rstrip('/')}/{rel}"


def check_tree(root: Path, markers: tuple[str, ...]) -> None:
    """Raise NotALinuxTree with the first reason the directory cannot be used."""
    if not root.exists():
        raise NotALinuxTree(f"{root} does not exist")
    if not root.is_dir():
        raise NotALinuxTree(f"{root} is not a directory")
    for rel in markers:
        if not (root / rel).exists():
            raise NotALinuxTree(f"{root} is not an arm64 Linux source tree: it has no {rel}")
    if not re.search(r"^VERSION\s*=", read(root / "Makefile"), re.M):
        raise NotALinuxTree(f"{root} is not a Linux source tree: its Makefile sets no VERSION")


def read(path: Path) -> str:
    """A tree file's text: a regular file of at most TREE_FILE_MAX bytes, or NotALinuxTree."""
    try:
        return read_limited(path, TREE_FILE_MAX).decode("utf-8", errors="replace")
    except Refused as exc:
        raise NotALinuxTree(f"cannot read {path}: it {exc}") from exc
    except OSError as exc:
        raise NotALinuxTree(f"cannot read {path}: {exc.strerror or exc}") from exc


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


def parse_kconfig(text: str, path: str) -> dict[str, Pos]:
    symbols: dict[str, Pos] = {}
    for n, line in enumerate(text.splitlines(), 1):
        m = _CONFIG.match(line)
        if m:
            symbols.setdefault(m.group(1), Pos(path, n, line.index(m.group(1)) + 1))
    return symbols


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


def _find_kconfig(root: Path, display: str, wanted: set[str]) -> dict[str, Pos]:
    """Where the wanted symbols are defined anywhere in the tree (some erratum options live
    with their drivers, such as ARM64_ERRATUM_858921 in drivers/clocksource/Kconfig)."""
    found: dict[str, Pos] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("Kconfig"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")
            symbols = parse_kconfig(read(Path(dirpath) / name), f"{display.rstrip('/')}/{rel}")
            for sym in wanted & symbols.keys():
                found.setdefault(sym, symbols[sym])
    return found


def read_tree(root: Path, display: str, kconfig_symbols: set[str]) -> KernelTree:
    """Read what audit needs. kconfig_symbols: the registry's, looked for outside
    arch/arm64/Kconfig only when that file lacks them."""
    check_tree(root, AUDIT_MARKERS)
    shown = display.rstrip("/")
    table_rel = next((p for p in SILICON_ERRATA if (root / p).exists()), None)
    if table_rel is None:
        raise NotALinuxTree(f"{root} has no {SILICON_ERRATA[0]} (nor the pre-6.5 {SILICON_ERRATA[1]})")
    kconfig = parse_kconfig(read(root / KCONFIG), f"{shown}/{KCONFIG}")
    wanted = set(kconfig_symbols) - kconfig.keys()
    elsewhere = _find_kconfig(root, shown, wanted) if wanted else {}
    return KernelTree(
        display=shown,
        version=parse_version(read(root / "Makefile")),
        cpucaps=parse_cpucaps(read(root / CPUCAPS), f"{shown}/{CPUCAPS}"),
        kconfig={**elsewhere, **kconfig},
        defines=parse_defines(read(root / CPUTYPE), f"{shown}/{CPUTYPE}"),
        table=parse_errata_table(read(root / table_rel), f"{shown}/{table_rel}"),
        table_path=f"{shown}/{table_rel}",
        # In a converted tree the table's options are in the table it includes, but they are
        # all options of registry entries, which audit counts anyway.
        errata_configs=cpu_errata.tested_configs(read(root / CPU_ERRATA)),
    )


_PROMPT = re.compile(r'^\s*(?:bool|tristate)\s+"((?:[^"\\]|\\.)*)"')
_SELECT = re.compile(r"^\s*select\s+([A-Za-z0-9_]+)")


@dataclass(frozen=True)
class KconfigOption:
    prompt: str | None
    selects: tuple[str, ...]


def parse_kconfig_options(text: str) -> dict[str, KconfigOption]:
    """Each symbol's prompt (`bool "Cortex-A57: 832075: possible deadlock ..."`, the kernel's
    one-line description of an erratum option) and the symbols it selects (an erratum option
    selects the hidden ARM64_WORKAROUND_* option a table row is guarded by)."""
    found: dict[str, tuple[str | None, list[str]]] = {}
    symbol = None
    for line in text.splitlines():
        m = _CONFIG.match(line)
        if m:
            symbol = m.group(1)
            found.setdefault(symbol, (None, []))
            continue
        if symbol is None:
            continue
        p = _PROMPT.match(line)
        if p and found[symbol][0] is None:
            found[symbol] = (p.group(1), found[symbol][1])
        s = _SELECT.match(line)
        if s:
            found[symbol][1].append(s.group(1))
    return {k: KconfigOption(prompt, tuple(selects)) for k, (prompt, selects) in found.items()}


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


def kconfig_options_elsewhere(root: Path, display: str, wanted: set[str]) -> dict[str, KconfigOption]:
    """The prompts and selects of wanted symbols defined outside arch/arm64/Kconfig."""
    out: dict[str, KconfigOption] = {}
    prefix = f"{display.rstrip('/')}/"
    for symbol, pos in sorted(_find_kconfig(root, display, wanted).items()):
        options = parse_kconfig_options(read(root / pos.path[len(prefix):]))
        out[symbol] = options[symbol]
    return out


KVM_GUEST = "drivers/firmware/smccc/kvm_guest.c"
# What a tree has when its guest matches errata over the VMM's target implementation CPUs
# (Linux 6.15 and later; see reference/target-impl.md).
TARGET_IMPL = ((CPU_ERRATA, "cpu_errata_set_target_impl"), (KVM_GUEST, "kvm_arm_target_impl_cpu_init"))


def target_impl_missing(root: Path) -> str | None:
    """None when the tree's guest matches over a target list; else what it lacks."""
    for rel, function in TARGET_IMPL:
        path = root / rel
        text = read(path) if path.exists() else ""
        if not re.search(rf"^\w[^;]*\b{function}\s*\(", text, re.M):
            return f"{rel} has no {function}()"
    return None
