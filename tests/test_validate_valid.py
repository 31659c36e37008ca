"""The valid fixture registry and the bundled registry pass validation cleanly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import FIXTURES, REGISTRY, REPO, run_cli
from errata_db.registry import load_registry

VALID = FIXTURES / "valid"
YAML_FILES = sorted(p.relative_to(VALID).as_posix() for p in VALID.rglob("*.yaml"))
SCHEMA_OF = {"registry.yaml": "registry", "cpus.yaml": "cpus", "errata/a.yaml": "errata",
             "speculation.yaml": "speculation"}


def test_valid_fixture_validates_without_any_diagnostic() -> None:
    result = run_cli("validate", "--registry", str(VALID))
    assert result.err == ""
    assert (result.code, result.out) == (0, "4 errata, 4 CPUs: valid\n")


def test_bundled_registry_validates_from_the_repo_root() -> None:
    result = run_cli("validate", cwd=REPO)
    assert result.code == 0
    assert "error" not in result.err
    assert result.out.endswith(": valid\n")


def test_bundled_registry_has_no_diagnostics_at_all() -> None:
    result = load_registry(REGISTRY, display="errata-db")
    assert result.registry is not None
    assert [str(d) for d in result.diagnostics] == []


@pytest.mark.parametrize("rel", YAML_FILES)
def test_fixture_yaml_names_its_schema_on_the_first_line(rel: str) -> None:
    path = VALID / rel
    first = path.read_text(encoding="utf-8").splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix)
    schema = (path.parent / first[len(prefix):]).resolve()
    assert schema == (REGISTRY / "schema" / f"{SCHEMA_OF[rel]}.schema.json").resolve()
    assert schema.is_file()


def test_fixture_lock_is_what_errata_db_lock_writes(tmp_path: Path) -> None:
    root = tmp_path / "reg"
    shutil.copytree(VALID, root)
    (root / "bits.lock").unlink()
    result = run_cli("lock", "--registry", "reg", cwd=tmp_path)
    assert result.code == 0, result.err
    assert (root / "bits.lock").read_text() == (VALID / "bits.lock").read_text()


def test_fixture_covers_revidr_part_mask_retired_and_shared_cpus() -> None:
    reg = load_registry(VALID).registry
    assert reg is not None
    assert {i.id for i in reg.implementers} == {"arm", "qualcomm"}
    assert len(reg.cpus) == 4
    assert len(reg.errata) == 4
    affects = [a for e in reg.errata for a in e.affects]
    assert any(a.revidr_fixes for a in affects)
    assert any(a.part_mask is not None for a in affects)
    assert any(a.errata_ids for a in affects)
    assert [e.name for e in reg.errata if not e.active] == ["WORKAROUND_834220"]
    assert {line.status for line in reg.lock} == {"active", "retired"}


def test_lock_on_a_valid_registry_changes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "reg"
    shutil.copytree(VALID, root)
    result = run_cli("lock", "--registry", "reg", cwd=tmp_path)
    assert (result.code, result.out, result.err) == (0, "0 of 1 file(s) changed\n", "")
    assert (root / "bits.lock").read_bytes() == (VALID / "bits.lock").read_bytes()
