"""Write rendered files atomically, or compare them with what is on disk."""

from __future__ import annotations

import difflib
import os
import tempfile
from pathlib import Path


def _stage(dest: Path, text: str, staged: list[Path]) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    tmp = Path(name)
    staged.append(tmp)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)
    return tmp


def write_all(out_dir: Path, files: dict[str, str]) -> list[str]:
    """Write every file or none, and return the paths whose content changed.

    New contents and copies of the old ones are staged beside their destinations first; if
    any rename fails, the files already replaced get their old contents back.
    """
    changed = [p for p, text in sorted(files.items()) if _read(out_dir / p) != text]
    staged: list[Path] = []
    done: list[tuple[Path, Path | None]] = []
    try:
        plan = []
        for rel in changed:
            dest = out_dir / rel
            old = _read(dest)
            backup = _stage(dest, old, staged) if old is not None else None
            plan.append((_stage(dest, files[rel], staged), dest, backup))
        for tmp, dest, backup in plan:
            os.replace(tmp, dest)
            done.append((dest, backup))
    except BaseException:
        for dest, backup in reversed(done):
            if backup is None:
                dest.unlink(missing_ok=True)
            else:
                os.replace(backup, dest)
        raise
    finally:
        for tmp in staged:
            tmp.unlink(missing_ok=True)
    return changed


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def stale(out_dir: Path, files: dict[str, str], label: str) -> list[tuple[str, str]]:
    """(path, unified diff) for every file that is missing or differs from its rendering."""
    prefix = f"{label}/" if label else ""
    out = []
    for rel, text in sorted(files.items()):
        current = _read(out_dir / rel)
        if current == text:
            continue
        old = (current or "").splitlines(keepends=True)
        diff = "".join(difflib.unified_diff(old, text.splitlines(keepends=True),
                                            f"a/{prefix}{rel}", f"b/{prefix}{rel}"))
        out.append((rel, diff if current is not None else f"(missing)\n{diff}"))
    return out
