"""The registry as it was at a git ref: what `stability` compares the working tree's with.

Resolving the base: the ref (--against, else the merge-base with the main branch), which of
the registry and overlay directories git tracks, and each one's files at the ref, found where
it was if it moved since. Only stability reads history: other commands never import git.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import gitio, lock
from .errors import Unusable
from .load import parse
from .registry import RegistryFiles, marker_file


class NoHistory(Unusable):
    """There is nothing to compare with, or the directories cannot be compared: usage, exit 2."""


@dataclass(frozen=True)
class Base:
    root: Path  # the git repository's top directory
    ref: str
    commit: str
    tracked: tuple[bool, ...]  # per directory: whether the repository tracks it


def resolve(cwd: Path, against: str | None, trees: tuple[RegistryFiles, ...]) -> Base:
    """The ref to compare with. Raises NoHistory and gitio.GitProblem."""
    root = gitio.repo_root(cwd)
    if against == "":
        raise NoHistory("--against needs a git ref; leave it out for the merge-base with the main branch")
    ref = against or gitio.default_base(root)
    commit = gitio.resolve(root, ref)
    for tree in trees:
        if os.path.realpath(tree.root) != os.path.abspath(tree.root):
            raise NoHistory(f"{tree.root} goes through a symbolic link: what it points at can "
                            "change without git seeing it; pass the real directory")
    tracked = tuple(gitio.same_repository(root, Path(t.root)) for t in trees)
    if not any(tracked):
        raise NoHistory(f"neither {trees[0].root} nor any overlay is tracked by the git repository "
                        f"{root}, so there is no history to compare with")
    return Base(root, ref, commit, tracked)


def trees_at(base: Base, trees: tuple[RegistryFiles, ...], owners: list[str]) -> tuple[list[RegistryFiles], list[str]]:
    """Each directory as it was at the base (an untracked one as it is now), and the notes to
    print. An overlay missing at the base has no files: its entries are new. Raises NoHistory
    when the registry itself did not exist there, and gitio.GitProblem."""
    old_trees, notes = [], []
    for tree, owner, in_repo in zip(trees, owners, base.tracked):
        if not in_repo:
            notes.append(f"{tree.root} is not tracked by this repository: compared as unchanged")
            old_trees.append(tree)
            continue
        old_tree, moved = tree_at(base.root, base.commit, base.ref, tree, owner)
        if moved is not None:
            notes.append(f"{tree.root} was at {moved} in {base.ref}")
        old_trees.append(old_tree)
    if not old_trees[0].files:
        raise NoHistory(f"{trees[0].root} does not exist at {base.ref}, under this path or any other: "
                        "a new registry has no history to check")
    for tree, old_tree in zip(trees[1:], old_trees[1:]):
        if not old_tree.files:
            notes.append(f"overlay {tree.root} does not exist at {base.ref}: its entries are new")
    return old_trees, notes


def _moved_to(root: Path, commit: str, tree: RegistryFiles, owner: str) -> str | None:
    """Where the same registry (or the overlay of the same owner) was at commit, if elsewhere.

    A directory missing at the ref must not be compared with nothing: that would let a moved
    directory change every bit unnoticed.
    """
    names = gitio.sizes_at(root, commit)
    marker = marker_file(tree.overlay)
    found = []
    for name in names:
        directory, _, base = name.rpartition("/")
        # A directory that still has its marker now did not move here: it is another one.
        if base != marker or (root / name).exists():
            continue
        lock_name = f"{directory}/{lock.LOCK_NAME}" if directory else lock.LOCK_NAME
        if not tree.overlay:
            if lock_name in names:
                found.append(directory or ".")
            continue
        doc, _ = parse(gitio.sources_at(root, commit, {name: name}, names)[0])
        if doc is not None and str(doc.root.get("owner")) == owner:
            found.append(directory or ".")
    if len(found) > 1:
        raise gitio.GitProblem(f"{tree.root} does not exist at the ref, and several directories "
                               f"there could be it ({', '.join(found)}): pass --against a ref that "
                               "has it at this path")
    return found[0] if found else None


def tree_at(root: Path, commit: str, ref: str, tree: RegistryFiles, owner: str) -> tuple[RegistryFiles, str | None]:
    """The same registry or overlay directory as it was at commit, and where it was if it moved.

    No files means it did not exist then under any path.
    """
    rel = gitio.relative(root, Path(tree.root))
    moved = None
    files = gitio.files_at(root, commit, rel, f"{ref}:{tree.root}")
    if not files:
        moved = _moved_to(root, commit, tree, owner)
        if moved is not None:
            files = gitio.files_at(root, commit, moved, f"{ref}:{moved}")
    label = f"{ref}:{moved if moved is not None else tree.root}"
    return RegistryFiles(label, files, tree.overlay), moved
