"""`errata-db init`: the files of a new, empty registry, and putting them in place at once.

The skeleton lives in templates/init/ (the standard bit space and ranges, empty CPU and errata
files, a lock with no line) and the schemas are copied beside it, so that the new registry's
`$schema` comments resolve and it is complete without this package.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .errors import Unusable
from .resources import schema_dir, templates_dir
from .write import TXN, UnsafePath, write_all


# The directory a run stages the registry in, beside the one it creates.
_STAGING_PREFIX = ".{}.init-"


class CannotInit(Unusable):
    """DIR cannot become a new registry: an environment error (exit 2)."""


def skeleton() -> dict[str, bytes]:
    """Relative path -> content of every file of an empty registry."""
    files: dict[str, bytes] = {}
    init = templates_dir() / "init"
    for path in sorted(init.rglob("*")):
        if path.is_file():
            files[path.relative_to(init).as_posix()] = path.read_bytes()
    for path in sorted(schema_dir().glob("*.schema.json")):
        files[f"schema/{path.name}"] = path.read_bytes()
    return files


def create(dest: Path, files: dict[str, bytes]) -> None:
    """Make dest hold exactly these files, or leave it as it was.

    A new directory is written beside dest and renamed into place, so an interrupted run leaves
    either no registry or a whole one; what a killed run left beside dest is removed by the
    next. An existing empty directory (`init .`) keeps its inode, owner and mode: the files are
    switched into it as one set (write.py), and a killed run's set is finished by the next.
    """
    if dest.is_symlink():
        raise CannotInit(f"{dest} is a symbolic link: give the directory itself")
    try:
        if dest.exists():
            if not dest.is_dir():
                raise CannotInit(f"{dest} exists and is not a directory")
            if any(p.name != TXN for p in dest.iterdir()):
                raise CannotInit(f"{dest} is not empty: init makes a new registry in a new or empty directory")
            write_all(dest, {rel: data.decode("utf-8") for rel, data in files.items()})
            return
    except (UnsafePath, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise CannotInit(f"cannot create a registry in {dest}: {reason}") from exc
    parent = dest.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        prefix = _STAGING_PREFIX.format(dest.name)
        for stray in parent.iterdir():
            if stray.name.startswith(prefix) and stray.is_dir() and not stray.is_symlink():
                shutil.rmtree(stray)
        tmp = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX.format(dest.name), dir=parent))
    except OSError as exc:
        raise CannotInit(f"cannot write in {parent}: {exc.strerror or exc}") from exc
    try:
        for rel, data in files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            path.chmod(0o644)
        tmp.chmod(0o755)
        os.replace(tmp, dest)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise CannotInit(f"cannot create {dest}: {exc.strerror or exc}") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
