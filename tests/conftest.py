"""Shared test helpers: the repository's paths and a way to run the CLI in-process."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from errata_db.cli import main

REPO = Path(__file__).resolve().parent.parent
REGISTRY = REPO / "errata-db"
GENERATED = REPO / "generated"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def run_cli(*args: str, cwd: Path | None = None) -> Run:
    """Run `errata-db ARGS` in-process (fast), capturing its exit code and output."""
    out, err = io.StringIO(), io.StringIO()
    old = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse usage errors
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        os.chdir(old)
    return Run(code, out.getvalue(), err.getvalue())


@pytest.fixture
def registry_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled registry."""
    dest = tmp_path / "errata-db"
    shutil.copytree(REGISTRY, dest)
    return dest
