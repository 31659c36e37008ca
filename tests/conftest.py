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
from errata_db.diagnostics import has_errors
from errata_db.registry import load_registry
from errata_db.render import render
from errata_db.resources import templates_dir
from errata_db.targets import TARGETS

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


@pytest.fixture(scope="session")
def registry():
    """The bundled registry's model, loaded once and known to be valid."""
    result = load_registry(REGISTRY, display="errata-db")
    assert result.registry is not None and not has_errors(result.diagnostics)
    return result.registry


@pytest.fixture(scope="session")
def fresh(tmp_path_factory, registry) -> Path:
    """Every target rendered now from errata-db/ into a temporary tree (shared: do not modify)."""
    out = tmp_path_factory.mktemp("fresh")
    for rel, text in render(registry, TARGETS, templates_dir()).items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    return out
