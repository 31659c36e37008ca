"""Where the generated kernel headers go in a Linux tree.

The kernel targets are the ones generated under linux/: the same path, relative to the tree.
"""

from __future__ import annotations

from .render import Target

KERNEL_PREFIX = "linux/"
# Every generated header's banner says this; a file without it is somebody's own work.
BANNER = "by errata-db, do not edit"


def kernel_targets(targets: dict[str, Target]) -> dict[str, Target]:
    return {name: t for name, t in targets.items() if t.path.startswith(KERNEL_PREFIX)}


def tree_paths(files: dict[str, str]) -> dict[str, str]:
    """The kernel targets' {path in the generated/ directory: text} -> {path in the tree: text}."""
    return {rel.removeprefix(KERNEL_PREFIX): text for rel, text in files.items()}


def is_ours(data: bytes) -> bool:
    """Whether a header's first bytes carry the banner errata-db writes."""
    return BANNER.encode() in data[:1024]
