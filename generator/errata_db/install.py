"""Where the generated kernel headers go in a Linux tree.

The kernel targets are the ones generated under linux/: the same path, relative to the tree.
"""

from __future__ import annotations

from pathlib import Path

from .render import Target

KERNEL_PREFIX = "linux/"
# Every generated header's banner says this; a file without it is somebody's own work.
BANNER = "by errata-db, do not edit"


# The kernel's own errata tables replace part of cpu_errata.c: a patch of its own, written only
# by `install --kernel-tables`.
KERNEL_TABLES = "kernel-tables"


def kernel_targets(targets: dict[str, Target]) -> dict[str, Target]:
    return {name: t for name, t in targets.items()
            if t.path.startswith(KERNEL_PREFIX) and name != KERNEL_TABLES}


def tree_paths(files: dict[str, str]) -> dict[str, str]:
    """The kernel targets' {path in the generated/ directory: text} -> {path in the tree: text}."""
    return {rel.removeprefix(KERNEL_PREFIX): text for rel, text in files.items()}


def is_ours(path: Path) -> bool:
    try:
        head = path.read_bytes()[:1024]
    except OSError:
        return False
    return BANNER.encode() in head
