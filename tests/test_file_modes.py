"""A file errata-db replaces keeps its mode: a read-only cpu_errata.c stays read-only, a private
registry private. A file it creates gets what the umask gives any new file."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

import fake_linux
from conftest import FIXTURES, REGISTRY, run_cli
from errata_db.targets import TARGETS
from generated_tree import with_new_erratum, write_tree
from test_install_kernel_tables import CPU_ERRATA, HEADER, hand_written

UMASK = 0o027
NEW = 0o666 & ~UMASK
GUEST = "arch/arm64/include/asm/migrn_errata.h"
KVM = "arch/arm64/kvm/migrn_errata_table.h"
OUTPUTS = TARGETS.keys()


@pytest.fixture(autouse=True)
def umask():
    old = os.umask(UMASK)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _stale(path: Path, mode: int) -> None:
    """path made out of date, with mode."""
    path.chmod(0o600)
    path.write_text(path.read_text() + "/* by errata-db, do not edit: and yet */\n")
    path.chmod(mode)


def test_generate_keeps_the_modes_of_the_outputs_it_replaces(tmp_path):
    out = tmp_path / "out"
    argv = ["generate", "--registry", str(FIXTURES / "valid"), "--out", str(out)]
    assert run_cli(*argv).code == 0
    first, second, third = sorted(p for p in out.rglob("*") if p.is_file())[:3]
    assert _mode(first) == NEW
    _stale(first, 0o600)
    _stale(second, 0o444)
    third.unlink()
    result = run_cli(*argv)
    assert result.code == 0 and result.out.endswith(f"3 of {len(OUTPUTS)} file(s) changed\n"), result.out
    assert (_mode(first), _mode(second), _mode(third)) == (0o600, 0o444, NEW)


def test_install_keeps_the_mode_of_a_header_it_replaces(tmp_path, registry):
    tree = fake_linux.write_tree(tmp_path / "linux", registry)
    argv = ["install", "--registry", str(REGISTRY), "--kernel-tree", str(tree)]
    assert run_cli(*argv).code == 0
    _stale(tree / GUEST, 0o444)
    (tree / KVM).unlink()
    result = run_cli(*argv)
    assert result.code == 0 and result.out.endswith("2 of 2 file(s) changed\n"), result.out
    assert (_mode(tree / GUEST), _mode(tree / KVM)) == (0o444, NEW)


def test_install_kernel_tables_keeps_a_read_only_cpu_errata_c_read_only(tmp_path, registry):
    tree = fake_linux.write_tree(tmp_path / "linux", registry)
    (tree / CPU_ERRATA).write_text(hand_written())
    (tree / CPU_ERRATA).chmod(0o444)
    result = run_cli("install", "--registry", str(REGISTRY), "--kernel-tree", str(tree), "--kernel-tables")
    assert result.code == 0 and result.out.endswith("2 of 2 file(s) changed\n"), result.err
    assert (_mode(tree / CPU_ERRATA), _mode(tree / HEADER)) == (0o444, NEW)


def test_lock_keeps_the_mode_of_bits_lock(tmp_path):
    reg, acme = tmp_path / "errata-db", tmp_path / "acme"
    shutil.copytree(REGISTRY, reg)
    shutil.copytree(FIXTURES / "overlays/acme", acme)
    lock = reg / "bits.lock"
    lock.write_text("".join(lock.read_text().splitlines(keepends=True)[:-1]))
    lock.chmod(0o600)
    (acme / "bits.lock").unlink()
    result = run_cli("lock", "--registry", str(reg), "--overlay", str(acme))
    assert result.code == 0 and result.out.count("1 of 1 file(s) changed") == 2, result.out
    assert (_mode(lock), _mode(acme / "bits.lock")) == (0o600, NEW)


def test_import_keeps_the_modes_of_the_registry_files_it_replaces(tmp_path, registry):
    reg = tmp_path / "errata-db"
    shutil.copytree(REGISTRY, reg)
    tree = write_tree(tmp_path / "linux", with_new_erratum(registry, 1))
    (reg / "errata/arm.yaml").chmod(0o444)
    (reg / "bits.lock").chmod(0o600)
    result = run_cli("import", "--registry", str(reg), "--kernel-tree", str(tree))
    assert result.code == 0 and result.out.endswith("2 of 10 file(s) changed\n"), result.out
    assert (_mode(reg / "errata/arm.yaml"), _mode(reg / "bits.lock")) == (0o444, 0o600)
