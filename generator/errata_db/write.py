"""The write edge: replace a set of files under one directory as a whole, or compare them with it.

A run writes its files as one transaction in ROOT/.errata-db-txn/:

1. stage: the new contents go to new/, each fsynced; nothing outside the directory is touched;
2. commit: a journal naming every file is fsynced and renamed to `journal`;
3. switch: each old file is renamed into old/ (its bytes move, never decoded or copied), and its
   new content renamed into place;
4. the journal is removed, then the spent directory.

A run that fails during the switch renames `journal` to `undo` and moves every old file back. A
run that is killed leaves the directory behind; the next run that writes ROOT finishes what it
finds first: a `journal` is carried forward, an `undo` backward, anything else (staging that
never committed) is removed. Every step of both is idempotent, so a kill during recovery is
recovered the same way. While the directory exists the set may be half switched, so `--check`
fails. Nothing is read or written through a symbolic link under ROOT, or from a file that is
not a regular file. A replaced file keeps its mode; a new one gets the umask's.

A run holds ROOT (an exclusive flock on the directory) while it writes it. A command that reads
files it then writes back, as import and lock do the registry, holds their directories from
before it reads them to after it writes (held): else two runs could both read the same state
and the second write would undo the first. Holds are taken again freely within one thread, and
a run that finds a directory held waits for it, up to WAIT_SECONDS.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import fcntl
import json
import os
import stat
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

from .diagnostics import escape
from .errors import Unusable
from .inputs import Refused, kind, read_at_most

TXN = ".errata-db-txn"
JOURNAL, UNDO, STAGING = "journal", "undo", "journal.tmp"
# The tool's own outputs are tens of KB; an output bigger than this is stale whatever it holds,
# and reading it whole would only cost memory.
READ_LIMIT = 16 << 20
_JOURNAL_LIMIT = 1 << 16
# A run that finds its directory held waits this long for the other to finish: longer than an
# import of a whole Linux tree takes, short enough that a run that hangs is reported. It looks
# every _POLL seconds.
WAIT_SECONDS = 60
_POLL = 0.1


class UnsafePath(Exception):
    """A path the tool will not read or write through: an environment error naming it."""


class CannotWrite(Unusable):
    """A write refused (UnsafePath) or failed (OSError), named by the directory the user gave."""


@contextlib.contextmanager
def writing(shown: str):
    """Writes to the directory shown as `shown`, their refusals and failures as CannotWrite."""
    try:
        yield
    except (UnsafePath, OSError) as exc:
        reason = (exc.strerror or exc) if isinstance(exc, OSError) else exc
        raise CannotWrite(f"cannot write to {shown}: {reason}") from exc


class Interrupted(Exception):
    """An interrupted run left its transaction: the files may be half switched."""


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def check_paths(root: Path, rels) -> None:
    """Refuse every rel whose path under root goes through a link or a non-directory, or that
    stands where a regular file must be and is something else. Missing components are fine."""
    for rel in sorted(rels):
        parts = rel.split("/")
        for depth in range(1, len(parts) + 1):
            st = _lstat(root.joinpath(*parts[:depth]))
            if st is None:
                break
            name = f"{root}/{'/'.join(parts[:depth])}"
            last = depth == len(parts)
            if stat.S_ISLNK(st.st_mode):
                raise UnsafePath(f"{name} is a symbolic link: errata-db does not read or write "
                                 f"through one; put the {'file' if last else 'directory'} itself there")
            if last and not stat.S_ISREG(st.st_mode):
                raise UnsafePath(f"{name} is {kind(st.st_mode)}, not a regular file")
            if not last and not stat.S_ISDIR(st.st_mode):
                raise UnsafePath(f"{name} is {kind(st.st_mode)}, not a directory")


def _read_regular(path: Path, limit: int) -> bytes | None:
    """At most limit + 1 bytes of a regular file (None if missing), never through a link and
    never blocking on a FIFO."""
    try:
        return read_at_most(path, limit, follow_links=False)
    except FileNotFoundError:
        return None
    except Refused as exc:
        raise UnsafePath(f"{path} {exc}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # it became a link after check_paths looked
            raise UnsafePath(f"{path} is a symbolic link: errata-db does not read through one") from None
        raise


def current(root: Path, rel: str) -> bytes | None:
    """What root/rel holds now (None if missing), read only if the whole path is safe."""
    check_paths(root, [rel])
    return _read_regular(root / rel, READ_LIMIT)


class _Holding(threading.local):
    """The directories this thread holds, by (device, inode): flock() on a second descriptor
    of one it already holds would wait for the thread itself."""

    def __init__(self) -> None:
        self.dirs: set[tuple[int, int]] = set()


_holding = _Holding()


def _wait_for(fd: int, shown: str) -> None:
    """flock() fd exclusively, waiting for another run that holds it, up to WAIT_SECONDS."""
    tries = round(WAIT_SECONDS / _POLL)
    for attempt in range(tries + 1):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if attempt == tries:
                break
            if attempt == 0:
                print(f"errata-db: note: another errata-db run is writing {escape(shown)}: waiting for it "
                      f"(at most {WAIT_SECONDS} s)", file=sys.stderr)
            time.sleep(_POLL)
        except OSError:
            return  # no flock on this file system (NFS emulates it for writable files only)
    raise UnsafePath(f"another errata-db run is writing there (waited {WAIT_SECONDS} s)")


@contextlib.contextmanager
def _exclusive(root: Path, shown: str | None = None):
    """Hold root for one run: two runs switching one set at once would mix it. Already held by
    this thread (held), it is held on."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        key = (st.st_dev, st.st_ino)
        if key in _holding.dirs:
            yield
            return
        _wait_for(fd, str(root) if shown is None else shown)
        _holding.dirs.add(key)
        try:
            yield
        finally:
            _holding.dirs.discard(key)
    finally:
        os.close(fd)


@contextlib.contextmanager
def held(dirs: Iterable[tuple[Path, str]]):
    """Hold each directory (path, shown) for a whole command that reads files there and writes
    them back, from before it reads to after it writes. They are taken in one order, that of
    their device and inode, whatever order the command names them in: two runs that each held
    one and waited for the other would wait for ever. A path that is no directory is left to
    the command's reading to report. Raises CannotWrite."""
    found = {}
    for root, shown in dirs:
        try:
            st = os.stat(root)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            found.setdefault((st.st_dev, st.st_ino), (root, shown))
    with contextlib.ExitStack() as stack:
        for _, (root, shown) in sorted(found.items()):
            with writing(shown):
                stack.enter_context(_exclusive(root, shown))
        yield


# --- the transaction ----------------------------------------------------------------------


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _stage(path: Path, body: bytes, mode: int | None) -> None:
    """Write body to a new file at path, with mode, or (None) the mode the umask gives a new file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    with os.fdopen(fd, "wb") as fh:
        fh.write(body)
        fh.flush()
        if mode is not None:
            os.fchmod(fh.fileno(), mode)
        os.fsync(fh.fileno())


def _journal(root: Path, txn: Path, allowed) -> tuple[str, dict] | None:
    """The committed journal's state and contents, or None when nothing was committed."""
    for marker in (UNDO, JOURNAL):
        path = txn / marker
        if _lstat(path) is None:
            continue
        shown = f"{root}/{TXN}/{marker}"
        try:
            data = _read_regular(path, _JOURNAL_LIMIT)
            entry = json.loads(data) if data is not None and len(data) <= _JOURNAL_LIMIT else None
        except (UnsafePath, ValueError):
            entry = None
        if not _well_formed(entry, allowed):
            raise UnsafePath(f"{shown} is not a journal of a write to these files, so errata-db "
                             f"cannot finish it: move {root}/{TXN} away")
        return marker, entry
    return None


def _well_formed(entry, allowed: Callable[[str], bool]) -> bool:
    """Whether entry is a journal of a write to allowed paths only."""
    if not isinstance(entry, dict) or entry.get("format") != 1:
        return False
    files, dirs = entry.get("files"), entry.get("dirs")
    if not isinstance(files, list) or not isinstance(dirs, list):
        return False
    paths = {f["path"] for f in files if isinstance(f, dict) and isinstance(f.get("path"), str)}
    if not all(allowed(p) for p in paths):
        return False
    parents = {"/".join(rel.split("/")[:n]) for rel in paths for n in range(1, rel.count("/") + 1)}
    return (all(isinstance(f, dict) and f.get("path") in paths and isinstance(f.get("existed"), bool)
                and isinstance(f.get("staged"), str) and "/" not in f["staged"]
                and f["staged"] not in ("", ".", "..") for f in files)
            and all(d in parents for d in dirs))


def _entries(txn: Path, root: Path, journal: dict):
    for n, f in enumerate(journal["files"]):
        yield f["existed"], root / f["path"], txn / "new" / f["staged"], txn / "old" / str(n)


def _regular(path: Path) -> bool:
    st = _lstat(path)
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise UnsafePath(f"{path} is {kind(st.st_mode)}, not a file errata-db staged")
    return st is not None


def _forward(root: Path, txn: Path, journal: dict) -> None:
    """Put every staged file in place, moving the old one into old/ first."""
    for rel in journal["dirs"]:
        if _lstat(root / rel) is None:
            os.mkdir(root / rel)
    for existed, dest, new, old in _entries(txn, root, journal):
        if not _regular(new):
            continue  # already in place
        if existed and not _regular(old):
            os.replace(dest, old)
        elif not existed and _lstat(dest) is not None:
            raise UnsafePath(f"{dest} appeared while errata-db was writing it")
        os.replace(new, dest)
    for parent in sorted({str((root / f["path"]).parent) for f in journal["files"]}):
        _fsync_dir(Path(parent))


def _backward(root: Path, txn: Path, journal: dict) -> None:
    """Put every old file back where it was, and remove what the forward pass created."""
    for existed, dest, new, old in reversed(list(_entries(txn, root, journal))):
        if existed:
            if _regular(old):
                os.replace(old, dest)
        elif not _regular(new):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(dest)
    for rel in reversed(journal["dirs"]):
        with contextlib.suppress(OSError):  # not empty: somebody else's files are in it now
            os.rmdir(root / rel)
    for parent in sorted({str((root / f["path"]).parent) for f in journal["files"]}):
        if _lstat(Path(parent)) is not None:
            _fsync_dir(Path(parent))


def _remove(txn: Path) -> None:
    """Remove a transaction directory: its marker first, so that a kill leaves a spent one."""
    for marker in (UNDO, JOURNAL):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(txn / marker)
    for sub in ("new", "old"):
        st = _lstat(txn / sub)
        if st is not None and stat.S_ISDIR(st.st_mode):
            for name in sorted(os.listdir(txn / sub)):
                os.unlink(txn / sub / name)  # a link in there goes, what it points at stays
            os.rmdir(txn / sub)
    for name in sorted(os.listdir(txn)):
        os.unlink(txn / name)
    os.rmdir(txn)


def _switch(root: Path, txn: Path, journal: dict) -> None:
    """Carry a committed journal forward; if that fails, back, and raise."""
    try:
        _forward(root, txn, journal)
        os.unlink(txn / JOURNAL)
    except BaseException:
        os.replace(txn / JOURNAL, txn / UNDO)
        _fsync_dir(txn)
        _backward(root, txn, journal)
        _remove(txn)
        raise


def _recover(root: Path, allowed) -> None:
    """allowed: the paths the command writes, or, for one that cannot know which files a killed
    run of it wrote (import), a test of a path."""
    if not callable(allowed):
        allowed = set(allowed).__contains__
    txn = root / TXN
    st = _lstat(txn)
    if st is None:
        return
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafePath(f"{txn} is {kind(st.st_mode)}: errata-db keeps the files of an unfinished "
                         "write there; move it away")
    found = _journal(root, txn, allowed)
    if found is not None:
        marker, journal = found
        check_paths(root, [f["path"] for f in journal["files"]])
        if marker == JOURNAL:
            _switch(root, txn, journal)
        else:
            _backward(root, txn, journal)
    _remove(txn)


def recover(root: Path, rels) -> None:
    """Finish or undo what an interrupted run left under root, for a command that writes rels
    (the paths, or a test of a path)."""
    if _lstat(root) is None or not root.is_dir():
        return
    with _exclusive(root):
        _recover(root, rels)


def _missing_dirs(root: Path, rels) -> list[str]:
    dirs: list[str] = []
    for rel in sorted(rels):
        parts = rel.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            if sub not in dirs and _lstat(root / sub) is None:
                dirs.append(sub)
    return dirs


def _commit(root: Path, new: dict[str, bytes]) -> None:
    txn = root / TXN
    os.mkdir(txn)
    files = []
    try:
        os.mkdir(txn / "new")
        os.mkdir(txn / "old")
        for n, (rel, body) in enumerate(sorted(new.items())):
            staged = f".{rel.rsplit('/', 1)[-1]}.{n}"
            st = _lstat(root / rel)
            # The file's mode is the user's (a read-only cpu_errata.c, a private registry): a new
            # body does not change it.
            _stage(txn / "new" / staged, body, None if st is None else stat.S_IMODE(st.st_mode))
            files.append({"path": rel, "staged": staged, "existed": st is not None})
        journal = {"format": 1, "files": files, "dirs": _missing_dirs(root, new)}
        with os.fdopen(os.open(txn / STAGING, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), "w") as fh:
            json.dump(journal, fh, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(txn / STAGING, txn / JOURNAL)
        _fsync_dir(txn)
    except BaseException:
        _remove(txn)
        raise
    _switch(root, txn, journal)


def write_all(out_dir: Path, files: dict[str, str]) -> tuple[list[str], set[str], str | None]:
    """Replace every changed file at once, or none; the paths whose content changed, and those
    of them that did not exist.

    The last value says what could not be cleaned up after a complete switch (the next run
    removes it). Raises UnsafePath before anything is read or written if a path is unsafe.
    """
    data = {rel: text.encode("utf-8") for rel, text in files.items()}
    check_paths(out_dir, data)
    created = [p for p in (out_dir, *out_dir.parents) if _lstat(p) is None]
    out_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(out_dir):
        try:
            _recover(out_dir, data)
            check_paths(out_dir, data)
            old = {rel: _read_regular(out_dir / rel, len(body)) for rel, body in sorted(data.items())}
            changed = [rel for rel, body in sorted(data.items()) if old[rel] != body]
            new_files = {rel for rel in changed if old[rel] is None}
            if not changed:
                return [], set(), None
            _commit(out_dir, {rel: data[rel] for rel in changed})
        except BaseException:
            for path in created:  # deepest first; one that is not empty stays
                with contextlib.suppress(OSError):
                    os.rmdir(path)
            raise
        try:
            _remove(out_dir / TXN)
        except OSError as exc:
            return changed, new_files, f"{out_dir / TXN}: {exc.strerror or exc}"
    return changed, new_files, None


def stale(out_dir: Path, files: dict[str, str], label: str) -> list[tuple[str, str | None]]:
    """(path, unified diff) for every file that differs from its rendering; the diff is None
    for a file that is missing, which a diff of its whole text would only bury."""
    if _lstat(out_dir / TXN) is not None:
        raise Interrupted(f"{out_dir / TXN} holds the unfinished write of an interrupted errata-db "
                          "run: the files may be half replaced")
    check_paths(out_dir, files)
    prefix = f"{label}/" if label else ""
    out: list[tuple[str, str | None]] = []
    for rel, text in sorted(files.items()):
        data = _read_regular(out_dir / rel, READ_LIMIT)
        if data == text.encode("utf-8"):
            continue
        if data is None:
            out.append((rel, None))
            continue
        if len(data) > READ_LIMIT:
            out.append((rel, f"(larger than {READ_LIMIT} bytes: no diff shown)\n"))
            continue
        note = ""
        try:
            old = data.decode("utf-8")
        except UnicodeDecodeError:
            old, note = data.decode("utf-8", errors="replace"), "(not UTF-8)\n"
        diff = "".join(difflib.unified_diff(old.splitlines(keepends=True),
                                            text.splitlines(keepends=True),
                                            f"a/{prefix}{rel}", f"b/{prefix}{rel}"))
        out.append((rel, note + diff))
    return out
