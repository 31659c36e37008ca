"""`errata-db init DIR`: a new, empty registry that is valid and usable as it stands."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from conftest import REGISTRY, run_cli

from errata_db.registry import load_registry


def _model(path: Path):
    result = load_registry(path)
    assert result.registry is not None, result.diagnostics
    return result


def test_init_creates_a_registry_that_validates_without_a_diagnostic(tmp_path: Path):
    dest = tmp_path / "new" / "errata-db"
    run = run_cli("init", str(dest))
    assert run.code == 0, run.err
    assert "created an empty registry" in run.out
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == [
        "bits.lock", "cpus.yaml", "errata/upstream.yaml", "registry.yaml",
        "schema/cpus.schema.json", "schema/errata.schema.json", "schema/fleet.schema.json",
        "schema/overlay.schema.json", "schema/registry.schema.json", "schema/speculation.schema.json"]
    result = _model(dest)
    assert result.diagnostics == ()
    reg = result.registry
    assert (reg.errata, reg.cpus, reg.implementers, reg.lock) == ((), (), (), ())
    assert run_cli("validate", "--registry", str(dest)).code == 0


def test_init_has_the_standard_bit_space_ranges_and_hypercall(tmp_path: Path):
    run_cli("init", str(tmp_path / "r"))
    new, bundled = _model(tmp_path / "r").registry, _model(REGISTRY).registry

    def plain(reg):
        ranges = [dataclasses.replace(r, where=None) for r in reg.ranges]
        return (reg.format, reg.hypercall_name, reg.hypercall_description, reg.registers,
                reg.register_bits, ranges)

    assert plain(new) == plain(bundled)


def test_init_registry_takes_a_first_erratum_through_next_bit_and_lock(tmp_path: Path):
    dest = tmp_path / "r"
    run_cli("init", str(dest))
    bit = run_cli("next-bit", "--registry", str(dest))
    assert (bit.code, bit.out) == (0, "0\n")
    (dest / "cpus.yaml").write_text(
        "implementers:\n  - {id: arm, code: 0x41, name: ARM Limited, macro: ARM_CPU_IMP_ARM}\n"
        "cpus:\n  - {id: cortex-a53, implementer: arm, part: 0xd03, name: Cortex-A53,"
        " macro: MIDR_CORTEX_A53, part_macro: ARM_CPU_PART_CORTEX_A53}\n")
    (dest / "errata" / "upstream.yaml").write_text(
        "errata:\n  - name: WORKAROUND_843419\n    bit: 0\n    vendor: ARM\n"
        "    errata_ids: ['843419']\n    description: A test erratum.\n"
        "    guest: needed\n    impact: corruption\n    impact_note: A test entry.\n"
        "    kconfig: [ARM64_ERRATUM_843419]\n"
        "    affects: [{cpu: cortex-a53, revisions: r0p0..r0p4}]\n    status: active\n")
    assert run_cli("validate", "--registry", str(dest)).code == 1  # not locked yet
    assert run_cli("lock", "--registry", str(dest)).code == 0
    assert run_cli("validate", "--registry", str(dest)).code == 0
    assert "WORKAROUND_843419" in (dest / "bits.lock").read_text()


def test_init_fills_an_existing_empty_directory(tmp_path: Path):
    dest = tmp_path / "empty"
    dest.mkdir()
    assert run_cli("init", str(dest)).code == 0
    assert (dest / "registry.yaml").is_file()


def test_init_refuses_a_directory_that_is_not_empty_and_leaves_it_alone(tmp_path: Path):
    dest = tmp_path / "busy"
    dest.mkdir()
    (dest / "notes.txt").write_bytes(b"mine \xff")
    run = run_cli("init", str(dest))
    assert run.code == 2
    assert f"{dest} is not empty" in run.err
    assert [p.name for p in dest.iterdir()] == ["notes.txt"]
    assert (dest / "notes.txt").read_bytes() == b"mine \xff"


def test_init_refuses_a_file_and_a_symbolic_link(tmp_path: Path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "empty").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "empty")
    assert "is not a directory" in run_cli("init", str(tmp_path / "file")).err
    link = run_cli("init", str(tmp_path / "link"))
    assert (link.code, "symbolic link" in link.err) == (2, True)
    assert list((tmp_path / "empty").iterdir()) == []


def test_init_leaves_no_temporary_directory_beside_the_registry(tmp_path: Path):
    run_cli("init", str(tmp_path / "r"))
    run_cli("init", str(tmp_path / "r"))
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


def test_init_removes_what_a_killed_init_left_beside_the_registry(tmp_path: Path):
    stray = tmp_path / ".r.init-k1ll3d"
    (stray / "errata").mkdir(parents=True)
    (stray / "registry.yaml").write_text("format: 1\n")
    other = tmp_path / ".s.init-notours"
    other.mkdir()
    assert run_cli("init", str(tmp_path / "r")).code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [".s.init-notours", "r"]


def test_init_dot_fills_the_empty_directory_it_runs_in_and_keeps_it(tmp_path: Path):
    here = tmp_path / "here"
    here.mkdir(mode=0o750)
    inode = here.stat().st_ino
    run = run_cli("init", ".", cwd=here)
    assert run.code == 0, run.err
    assert (here.stat().st_ino, here.stat().st_mode & 0o777) == (inode, 0o750)
    assert run_cli("validate", "--registry", str(here)).code == 0
    assert not (here / ".errata-db-txn").exists()
