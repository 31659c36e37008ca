"""The wheel works on its own: built from the repository, installed in a fresh venv, run from
an empty directory far from the checkout, it finds its templates, schemas and registry.

Slow (it builds a wheel and installs its dependencies): run with `pytest -m slow`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow


def _run(args: list, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"{args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the built wheel, the bin directory of a fresh venv that has it installed)"""
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", dist, REPO], cwd=base)
    wheels = sorted(dist.glob("errata_db-*.whl"))
    assert len(wheels) == 1, wheels
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=base)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    _run([bindir / "python", "-m", "pip", "install", wheels[0]], cwd=base)
    return wheels[0], bindir


@pytest.fixture
def empty_dir(tmp_path: Path) -> Path:
    d = tmp_path / "empty"
    d.mkdir()
    return d


def _clean_env() -> dict:
    """No PYTHONPATH or editable-install leakage from the test run into the venv."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def test_wheel_carries_templates_and_bundled_registry(installed) -> None:
    wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "errata_db/_data/errata-db/registry.yaml" in names
    assert "errata_db/_data/errata-db/cpus.yaml" in names
    assert "errata_db/_data/errata-db/bits.lock" in names
    assert any(n.startswith("errata_db/_data/errata-db/errata/") and n.endswith(".yaml") for n in names)
    assert any(n.startswith("errata_db/_data/errata-db/schema/") and n.endswith(".json") for n in names)
    assert any(n.startswith("errata_db/_data/templates/") and n.endswith(".j2") for n in names)
    assert not any(n.startswith("tests/") for n in names)


def test_installed_validate_runs_from_an_empty_directory(installed, empty_dir: Path) -> None:
    _, bindir = installed
    proc = _run([bindir / "errata-db", "validate"], cwd=empty_dir, env=_clean_env())
    assert proc.stdout.endswith(": valid\n")
    assert "error" not in proc.stderr
    assert list(empty_dir.iterdir()) == []


def test_installed_generate_writes_files_from_the_registry_it_is_given(installed, empty_dir: Path) -> None:
    _, bindir = installed
    # Outside a checkout, generate does not write from the bundled copy on its own: it says how.
    refused = subprocess.run([bindir / "errata-db", "generate", "--out", "out"], cwd=empty_dir,
                             env=_clean_env(), capture_output=True, text=True, timeout=600)
    assert refused.returncode == 2 and list(empty_dir.iterdir()) == []
    advice = re.search(r"\(that copy is --registry (\S+)\)", refused.stderr)
    assert advice is not None and advice.group(1).endswith("errata_db/_data/errata-db"), refused.stderr
    proc = _run([bindir / "errata-db", "generate", "--registry", advice.group(1), "--out", "out"],
                cwd=empty_dir, env=_clean_env())
    written = [p for p in (empty_dir / "out").rglob("*") if p.is_file()]
    assert written, proc.stdout
    assert any(p.suffix == ".h" for p in written)
    assert all(p.stat().st_size > 0 for p in written)
    assert proc.stdout.count("new       out/") == len(written)
    # Named by --registry, the bundled copy still writes here, never into the installed package.
    again = _run([bindir / "errata-db", "generate", "--registry", advice.group(1)], cwd=empty_dir, env=_clean_env())
    assert again.stdout.count("new       generated/") == len(written)
    _run([bindir / "errata-db", "generate", "--out", "out", "--check"], cwd=empty_dir, env=_clean_env())


def test_installed_module_entry_point(installed, empty_dir: Path) -> None:
    _, bindir = installed
    proc = _run([bindir / "python", "-m", "errata_db", "--help"], cwd=empty_dir, env=_clean_env())
    assert proc.stdout.startswith("usage: errata-db")
    assert "validate" in proc.stdout


def test_installed_package_is_not_the_checkout(installed, empty_dir: Path) -> None:
    _, bindir = installed
    proc = _run([bindir / "python", "-c", "import errata_db, sys; print(errata_db.__file__)"],
                cwd=empty_dir, env=_clean_env())
    assert not Path(proc.stdout.strip()).resolve().is_relative_to(REPO.resolve())
