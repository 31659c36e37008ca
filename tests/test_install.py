"""`errata-db install`: the kernel headers land where they belong, atomically and idempotently.

The small tree of tests/fake_linux.py stands in for Linux here; test_kernel_tree.py installs
into the real 6.12 tree with this command and builds the result (slow tier).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import fake_linux
from conftest import GENERATED, REPO, run_cli

GUEST = "arch/arm64/include/asm/migrn_errata.h"
KVM = "arch/arm64/kvm/migrn_errata_table.h"


@pytest.fixture
def tree(tmp_path: Path, registry) -> Path:
    return fake_linux.write_tree(tmp_path / "linux", registry)


def install(tree: Path, *args: str, registry: str = "errata-db"):
    return run_cli("install", "--kernel-tree", str(tree), "--registry", registry, *args, cwd=REPO)


def test_install_writes_the_committed_headers_and_a_second_run_changes_nothing(tree):
    first = install(tree)
    assert first.code == 0, first.err
    assert first.out == f"new       {tree}/{GUEST}\nnew       {tree}/{KVM}\n2 of 2 file(s) changed\n"
    for rel in (GUEST, KVM):
        assert (tree / rel).read_bytes() == (GENERATED / "linux" / rel).read_bytes()
    second = install(tree)
    assert second.code == 0
    assert second.out == "0 of 2 file(s) changed\n"


def test_install_check_reports_missing_and_edited_headers_and_writes_nothing(tree):
    missing = install(tree, "--check")
    assert missing.code == 1
    assert f"{tree}/{GUEST}: missing" in missing.err and missing.out == ""
    assert not (tree / GUEST).exists()
    assert install(tree).code == 0
    assert install(tree, "--check").code == 0
    (tree / KVM).write_text((tree / KVM).read_text().replace("0xd03", "0xd04", 1))
    edited = install(tree, "--check")
    assert edited.code == 1
    assert f"--- a/{KVM}" in edited.out
    changed = [line for line in edited.out.splitlines()
               if line[:1] in "+-" and not line.startswith(("---", "+++"))]
    assert changed == ["-#define MIDR_CORTEX_A53 MIDR_CPU_MODEL(0x41, 0xd04)",
                       "+#define MIDR_CORTEX_A53 MIDR_CPU_MODEL(0x41, 0xd03)"]
    again = install(tree)
    assert again.out == f"updated   {tree}/{KVM}\n1 of 2 file(s) changed\n"


def test_a_failed_install_leaves_every_header_as_it_was(tree):
    old = "/* Generated from errata-db/ by errata-db, do not edit. (an older one) */\n"
    (tree / GUEST).write_text(old)
    (tree / KVM).mkdir()  # the second rename fails: the first must be undone
    result = install(tree, "--force")
    assert result.code == 2
    assert result.err.startswith(f"errata-db: error: cannot write to {tree}: ")
    assert (tree / GUEST).read_text() == old
    leftovers = [p.name for p in (tree / "arch/arm64/include/asm").iterdir()]
    assert sorted(leftovers) == ["cputype.h", "migrn_errata.h"]


def test_install_refuses_a_directory_that_is_not_a_linux_tree(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src/Makefile").write_text("VERSION = 1\n")
    result = install(tmp_path / "src")
    assert result.code == 2
    assert result.err == f"errata-db: error: {tmp_path}/src is not an arm64 Linux source tree: it has no Kbuild\n"
    assert sorted(p.name for p in (tmp_path / "src").iterdir()) == ["Makefile"]


def test_install_from_an_invalid_registry_writes_nothing(tree, tmp_path, registry_copy):
    path = registry_copy / "errata" / "arm.yaml"
    path.write_text(path.read_text().replace("bit: 3\n", "bit: 4\n", 1))
    result = install(tree, registry=str(registry_copy))
    assert result.code == 1
    assert "moved from bit 3 to bit 4" in result.err
    assert not (tree / GUEST).exists() and not (tree / KVM).exists()


def test_install_never_overwrites_a_header_errata_db_did_not_write_unless_forced(tree):
    (tree / KVM).write_text("/* somebody's own table */\n")
    refused = install(tree)
    assert refused.code == 2
    assert refused.err == (f"errata-db: error: {tree}/{KVM} exists and was not written by errata-db: "
                           "refusing to overwrite it (move it away, or pass --force)\n")
    assert (tree / KVM).read_text() == "/* somebody's own table */\n" and not (tree / GUEST).exists()
    forced = install(tree, "--force")
    assert forced.code == 0 and f"updated   {tree}/{KVM}" in forced.out
    assert (tree / KVM).read_bytes() == (GENERATED / "linux" / KVM).read_bytes()
