"""Reading a registry as it was at a git ref. The only module that runs git."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .errors import Unusable
from .load import MAX_BYTES, SourceFile, TooLarge, is_registry_file


class GitProblem(Unusable):
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


def _shallow_hint(root: Path) -> str:
    shallow = _git(root, "rev-parse", "--is-shallow-repository").strip() == "true"
    return (" This is a shallow clone, so older commits may be missing: run "
            "`git fetch --unshallow` (or check out with fetch-depth: 0 in CI)." if shallow else "")


def resolve(root: Path, ref: str) -> str:
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
    except GitProblem:
        raise GitProblem(f"unknown git ref '{ref}'.{_shallow_hint(root)}") from None


def default_base(root: Path) -> str:
    """The merge-base of HEAD with the main branch."""
    branches = ("origin/HEAD", "origin/main", "origin/master", "main", "master")
    for branch in branches:
        try:
            _git(root, "rev-parse", "--verify", "--quiet", f"{branch}^{{commit}}")
        except GitProblem:
            continue
        try:
            return _git(root, "merge-base", "HEAD", branch).strip()
        except GitProblem as exc:
            # A shallow CI checkout of a branch holds no commit in common with main's tip.
            raise GitProblem(f"no merge-base of HEAD and {branch} ({exc}).{_shallow_hint(root)}") from None
    raise GitProblem(f"no main branch found (tried {', '.join(branches)}): pass --against REF")


def blob(root: Path, commit: str, name: str) -> bytes:
    try:
        proc = subprocess.run(["git", "show", f"{commit}:{name}"], cwd=root, capture_output=True,
                              check=False)
    except FileNotFoundError as exc:
        raise GitProblem("git is not installed") from exc
    if proc.returncode != 0:
        raise GitProblem(f"cannot read {name} at {commit}: "
                         + proc.stderr.decode("utf-8", "replace").strip())
    return proc.stdout


def blobs(root: Path, commit: str, names: list[str]) -> list[bytes]:
    """The contents of names at commit, read by one git process: a process per file was a
    tenth of `stability` on a registry of 20 files."""
    if not names:
        return []
    if any("\n" in name for name in names):  # the batch protocol is one name per line
        return [blob(root, commit, name) for name in names]
    request = "".join(f"{commit}:{name}\n" for name in names).encode()
    try:
        proc = subprocess.run(["git", "cat-file", "--batch"], input=request, cwd=root,
                              capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise GitProblem("git is not installed") from exc
    if proc.returncode != 0:
        raise GitProblem(proc.stderr.decode("utf-8", "replace").strip() or "git cat-file failed")
    data, at, out = proc.stdout, 0, []
    for name in names:
        end = data.find(b"\n", at)
        header = data[at:end].split(b" ") if end >= 0 else []
        if len(header) != 3 or header[1] != b"blob":
            raise GitProblem(f"cannot read {name} at {commit}: "
                             + data[at:end].decode("utf-8", "replace").strip())
        size = int(header[2])
        out.append(data[end + 1:end + 1 + size])
        at = end + 1 + size + 1  # the content ends with a newline of the protocol's
    return out


def sizes_at(root: Path, commit: str, rel: str = ".") -> dict[str, int]:
    """Every file path under rel at commit, relative to the repository root, with its size,
    in name order."""
    # -z: names exactly as stored, without the quoting git applies to unusual characters.
    out = _git(root, "ls-tree", "-r", "-z", "-l", commit, "--", rel)
    sizes = {}
    for entry in out.split("\0"):
        meta, tab, name = entry.partition("\t")
        if tab:
            size = meta.split()[-1]
            sizes[name] = int(size) if size.isdigit() else 0  # "-" for a submodule
    return dict(sorted(sizes.items()))


def sources_at(root: Path, commit: str, wanted: dict[str, str], sizes: dict[str, int]) -> tuple[SourceFile, ...]:
    """The files {name: shown} at commit; one larger than a registry file may be is reported
    as such, unread, as it would be on disk (git keeps a sparse 2 GB file in kilobytes)."""
    small = [name for name in wanted if sizes[name] <= MAX_BYTES]
    data = dict(zip(small, blobs(root, commit, small)))
    return tuple(SourceFile(shown, data[name]) if name in data
                 else SourceFile(shown, b"", str(TooLarge(sizes[name], MAX_BYTES)))
                 for name, shown in wanted.items())


def relative(root: Path, path: Path) -> str:
    return path.resolve().relative_to(root.resolve()).as_posix()


def files_at(root: Path, commit: str, rel: str, label: str) -> tuple[SourceFile, ...]:
    """The registry files of the directory rel as they were at commit (none if it did not exist)."""
    wanted = {}
    sizes = sizes_at(root, commit, rel)
    for name in sizes:
        sub = name[len(rel) + 1:] if rel != "." else name
        if is_registry_file(sub):
            wanted[name] = f"{label}/{sub}"
    return sources_at(root, commit, wanted, sizes)


def same_repository(root: Path, path: Path) -> bool:
    """Whether path is tracked by the repository at root (not outside it, not in a submodule)."""
    try:
        return repo_root(path).resolve() == root.resolve()
    except GitProblem:
        return False
