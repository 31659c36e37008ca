"""What install writes into a Linux tree: the generated headers, at the path they have under
linux/, or (--kernel-tables) the kernel's errata table and cpu_errata.c converted to include it.
"""

from __future__ import annotations

from pathlib import Path

from ..diagnostics import Pos, error
from ..model import Erratum, Registry
from ..render import Target, render
from ..targets import TARGETS
from ..targets.kernel_tables import TARGET as TABLE_TARGET
from ..write import current
from . import cpu_errata, names
from .tree import CPU_ERRATA, CPU_ERRATA_TABLE, TABLE_HEADER, Tree

KERNEL_PREFIX = "linux/"
# Every generated header's banner says this; a file without it is somebody's own work.
BANNER = "by errata-db, do not edit"


# The kernel's own errata tables replace part of cpu_errata.c: a patch of its own, written only
# by `install --kernel-tables`.
KERNEL_TABLES = "kernel-tables"
TABLE_PATH = CPU_ERRATA_TABLE


def kernel_targets(targets: dict[str, Target]) -> dict[str, Target]:
    return {name: t for name, t in targets.items()
            if t.path.startswith(KERNEL_PREFIX) and name != KERNEL_TABLES}


def all_tree_paths(targets: dict[str, Target]) -> tuple[str, ...]:
    """Every path install writes in a tree, headers or kernel tables: a killed run of either
    is finished by the next run of either."""
    return (*(t.path.removeprefix(KERNEL_PREFIX) for t in kernel_targets(targets).values()),
            CPU_ERRATA, TABLE_PATH)


def tree_paths(files: dict[str, str]) -> dict[str, str]:
    """The kernel targets' {path in the generated/ directory: text} -> {path in the tree: text}."""
    return {rel.removeprefix(KERNEL_PREFIX): text for rel, text in files.items()}


def is_ours(data: bytes) -> bool:
    """Whether a header's first bytes carry the banner errata-db writes."""
    return BANNER.encode() in data[:1024]


def foreign(root: Path, files: dict[str, str]) -> list[str]:
    """The headers among the files to write that the tree has and errata-db did not write
    (install leaves them alone without --force). cpu_errata.c is the tree's own. Raises
    UnsafePath and OSError."""
    headers = [rel for rel in sorted(files) if rel != CPU_ERRATA]
    return [rel for rel in headers if (data := current(root, rel)) is not None and not is_ours(data)]


def lacking_note(shown: str, lacking: tuple[Erratum, ...]) -> str:
    return (f"{shown} has no cpucap for bit(s) {', '.join(str(e.bit) for e in lacking)} "
            f"({', '.join(e.enables for e in lacking)}): left out of its migrn_safe_caps[]")


def kernel_table_files(source: str, shown: str, header: str) -> tuple[dict[str, str], list]:
    """The tree's files after `install --kernel-tables`: the generated table, and cpu_errata.c
    including it in place of its own tables. A cpu_errata.c whose tables mean anything else
    than the registry's is left as it is, with the reasons (diagnostics) why."""
    try:
        src = cpu_errata.read_source(source, shown)
        ours = cpu_errata.read_source(header, TABLE_HEADER)
        if cpu_errata.is_converted(src, TABLE_HEADER):
            clash = sorted(src.tables.keys() & ours.tables.keys())
            if clash:
                table = src.tables[clash[0]]
                return {}, [error(Pos(shown, table.item.first_line, 1), "kernel-tables",
                                  f"{clash[0]} is defined here and by {TABLE_HEADER}")]
            return {TABLE_PATH: header, CPU_ERRATA: source}, []
        rows = src.rows()
        diffs = list(cpu_errata.differences(rows, ours.rows(), Pos(shown, src.tables[cpu_errata.ERRATA_TABLE].item.first_line, 1)))
        if diffs:
            return {}, [error(pos, "kernel-tables", reason) for pos, reason in diffs]
        new = cpu_errata.convert(src, ours, TABLE_HEADER)
        result = cpu_errata.read_source(new, shown)
        if not cpu_errata.is_converted(result, TABLE_HEADER) or result.tables.keys() & ours.tables.keys():
            raise cpu_errata.NotRecognised(Pos(shown, 1, 1), "its tables could not all be taken out")
    except cpu_errata.NotRecognised as exc:
        return {}, [error(exc.pos, "kernel-tables", f"not a cpu_errata.c this version of errata-db can "
                          f"rewrite: {exc.reason}")]
    return {TABLE_PATH: header, CPU_ERRATA: new}, []


def header_files(reg: Registry, tree: Tree, templates: Path) -> tuple[dict[str, str], tuple[Erratum, ...]]:
    """The generated headers as the tree names its cpucaps, at their paths in the tree, and the
    active entries whose cpucap the tree lacks (left out of migrn_safe_caps[]). Raises
    RenderError and NotALinuxTree."""
    named, lacking = names.for_tree(reg, names.of_tree(tree))
    return tree_paths(render(named, kernel_targets(TARGETS), templates)), lacking


def table_files(reg: Registry, tree: Tree, templates: Path) -> tuple[dict[str, str], list]:
    """install --kernel-tables: the generated errata table, and cpu_errata.c including it in
    place of its own tables; no files and the reasons (diagnostics) when cpu_errata.c is
    refused. Raises RenderError and NotALinuxTree."""
    named, _ = names.for_tree(reg, names.of_tree(tree))
    header = render(named, {TABLE_TARGET.name: TABLE_TARGET}, templates)[TABLE_TARGET.path]
    return kernel_table_files(tree.text(CPU_ERRATA), tree.path(CPU_ERRATA), header)


def files_for(reg: Registry, tree: Tree, templates: Path, kernel_tables: bool) -> tuple[dict[str, str], list, str]:
    """What install writes in the tree (--kernel-tables: the errata table and cpu_errata.c; else
    the headers), the diagnostics that refuse it, and the line to print first (a tree that
    lacks cpucaps of active bits). Raises RenderError and NotALinuxTree."""
    if kernel_tables:
        files, diags = table_files(reg, tree, templates)
        return files, diags, ""
    files, lacking = header_files(reg, tree, templates)
    return files, [], lacking_note(tree.display, lacking) if lacking else ""
