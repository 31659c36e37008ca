"""Reading a registry as it was at a git ref. The only module that runs git."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .load import SourceFile


class GitProblem(Exception):
    """git is missing, the directory is not a repository, or the ref cannot be resolved: exit 2."""


def _git(cwd: Path, *args: str) -> str:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise GitProblem("git is not installed") from exc
    if proc.returncode != 0:
        raise GitProblem(proc.stderr.decode("utf-8", "replace").strip() or f"git {' '.join(args)} failed")
    return proc.stdout.decode("utf-8", "replace")


def repo_root(cwd: Path) -> Path:
    try:
        return Path(_git(cwd, "rev-parse", "--show-toplevel").strip())
    except GitProblem as exc:
        raise GitProblem(f"{cwd}: not inside a git repository ({exc})") from exc


def resolve(root: Path, ref: str) -> str:
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
    except GitProblem:
        shallow = _git(root, "rev-parse", "--is-shallow-repository").strip() == "true"
        hint = (" This is a shallow clone, so older commits may be missing: run "
                "`git fetch --unshallow` (or check out with fetch-depth: 0 in CI)." if shallow else "")
        raise GitProblem(f"unknown git ref '{ref}'.{hint}") from None


def default_base(root: Path) -> str:
    """The merge-base of HEAD with the main branch."""
    for branch in ("origin/HEAD", "origin/main", "origin/master", "main", "master"):
        try:
            _git(root, "rev-parse", "--verify", "--quiet", f"{branch}^{{commit}}")
        except GitProblem:
            continue
        return _git(root, "merge-base", "HEAD", branch).strip()
    raise GitProblem("no main branch found (tried origin/HEAD, origin/main, main, master): pass --against REF")


def files_at(root: Path, commit: str, directory: Path, label: str) -> tuple[SourceFile, ...] | None:
    """The registry files of directory as they were at commit, or None if it did not exist."""
    rel = directory.resolve().relative_to(root.resolve()).as_posix()
    names = _git(root, "ls-tree", "-r", "--name-only", commit, "--", rel).splitlines()
    out = []
    for name in sorted(names):
        sub = name[len(rel) + 1:] if rel != "." else name
        if not (sub.endswith(".yaml") and ("/" not in sub or sub.startswith("errata/")
                                           and sub.count("/") == 1) or sub == "bits.lock"):
            continue
        data = subprocess.run(["git", "show", f"{commit}:{name}"], cwd=root, capture_output=True,
                              check=True).stdout
        out.append(SourceFile(f"{label}/{sub}", data))
    return tuple(out) if out else None


def inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True
