"""Write rendered files atomically, or compare them with what is on disk."""

from __future__ import annotations

import difflib
import os
import tempfile
from pathlib import Path


def write_all(out_dir: Path, files: dict[str, str]) -> list[str]:
    """Write every file or none: all contents go to temporary files first, then are renamed.

    Returns the paths whose content changed.
    """
    changed = [p for p, text in sorted(files.items()) if _read(out_dir / p) != text]
    staged: list[tuple[str, Path]] = []
    try:
        for rel in changed:
            dest = out_dir / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(files[rel])
            os.chmod(tmp, 0o644)
            staged.append((tmp, dest))
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise
    for tmp, dest in staged:
        os.replace(tmp, dest)
    return changed


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def stale(out_dir: Path, files: dict[str, str], label: str) -> list[tuple[str, str]]:
    """(path, unified diff) for every file that is missing or differs from its rendering."""
    out = []
    for rel, text in sorted(files.items()):
        current = _read(out_dir / rel)
        if current == text:
            continue
        old = (current or "").splitlines(keepends=True)
        diff = "".join(difflib.unified_diff(old, text.splitlines(keepends=True),
                                            f"a/{label}/{rel}", f"b/{label}/{rel}"))
        out.append((rel, diff if current is not None else f"(missing)\n{diff}"))
    return out
