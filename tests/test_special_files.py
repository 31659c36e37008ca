"""Whatever stands at the path of a file the tool reads, it never hangs and never reads gigabytes.

A FIFO, a link to /dev/zero or a sparse 2 GB file in place of a registry file, the lock, an
overlay file, a --hosts file, stdin, a sysfs register or a kernel-tree file is refused with
what it is (or, for a registry-format file that is too large, reported as the file's error),
reading under 32 MB in all and using under 200 MB. The slow tier runs every input and every
kind out of process, and measures both; the fast tier checks one sparse file and one FIFO of
each input in-process.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import zlib
from pathlib import Path

import pytest

from conftest import FIXTURES, REGISTRY, run_cli
from cost import Outcome, run_measured
from errata_db.fleet import MAX_BYTES as HOSTS_MAX
from fake_linux import RST, write_tree
from test_fleet import A53_R0P4, write_sysfs
from test_stability import git

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")

KINDS = ("fifo", "dev_zero", "sparse")
SPARSE_SIZE = 2 << 30
# What a run reads of Python and the registry anyway (5 MB), and its largest input read up to
# the limit (--hosts, 16 MB): a 2 GB file read whole, or /dev/zero read on, is far past it.
MAX_READ_MB = 32
MAX_RSS_MB = 200
KIND_TEXT = {"fifo": "is a FIFO (named pipe), not a regular file",
             "dev_zero": "is a character device, not a regular file"}


def plant(path: Path, kind: str) -> None:
    """Put a FIFO, a link to /dev/zero or a sparse 2 GB file where a file was."""
    if path.is_symlink() or path.exists():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev_zero":
        path.symlink_to("/dev/zero")
    else:
        with open(path, "wb") as fh:
            fh.truncate(SPARSE_SIZE)


def check_cost(outcome: Outcome) -> None:
    assert outcome.bytes_read < MAX_READ_MB << 20, outcome
    assert outcome.max_rss_mb < MAX_RSS_MB, outcome
    assert "Traceback" not in outcome.err, outcome.err


# --- registry, lock and overlay files ----------------------------------------------------------

REGISTRY_FILES = ("errata-db/errata/arm.yaml", "errata-db/cpus.yaml", "errata-db/bits.lock",
                  "acme/overlay.yaml", "acme/bits.lock")


def registry_case(tmp_path: Path, rel: str, kind: str) -> tuple[list[str], Path]:
    shutil.copytree(REGISTRY, tmp_path / "errata-db")
    shutil.copytree(FIXTURES / "overlays" / "acme", tmp_path / "acme")
    plant(tmp_path / rel, kind)
    return ["validate", "--registry", "errata-db", "--overlay", "acme"], tmp_path


def registry_expected(rel: str, kind: str) -> tuple[int, str]:
    if kind == "sparse":
        return 1, (f"{rel}:1:1: error: file is {SPARSE_SIZE} bytes, more than the 1048576 byte "
                   "limit [file-too-large]")
    if kind == "dev_zero":  # git would record the link: refused as one, before it is opened
        return 2, f"{rel}: is a symbolic link: put the file itself here"
    return 2, f"{rel}: cannot read file: {KIND_TEXT[kind]}"


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("rel", REGISTRY_FILES)
def test_a_special_registry_file_is_refused_cheaply(tmp_path, rel, kind):
    args, cwd = registry_case(tmp_path, rel, kind)
    outcome = run_measured(args, cwd)
    check_cost(outcome)
    code, line = registry_expected(rel, kind)
    assert outcome.code == code and line in outcome.err, outcome.err


@pytest.mark.parametrize("kind", ("fifo", "sparse"))
@pytest.mark.parametrize("rel", REGISTRY_FILES)
def test_a_fifo_or_sparse_registry_file_is_refused_in_process(tmp_path, rel, kind):
    args, cwd = registry_case(tmp_path, rel, kind)
    result = run_cli(*args, cwd=cwd)
    code, line = registry_expected(rel, kind)
    assert result.code == code and line in result.err, result.err


# --- --hosts and stdin ---------------------------------------------------------------------------


def hosts_expected(kind: str) -> tuple[int, str]:
    if kind == "sparse":
        return 1, f"hosts.yaml:1:1: error: file is {SPARSE_SIZE} bytes, more than the {HOSTS_MAX} byte limit"
    hint = "; to read a pipe, pass --hosts - and pipe it in" if kind == "fifo" else ""
    return 2, f"errata-db: error: cannot read hosts.yaml: {KIND_TEXT[kind]}{hint}\n"


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_a_special_hosts_file_is_refused_cheaply(tmp_path, kind):
    plant(tmp_path / "hosts.yaml", kind)
    outcome = run_measured(["fleet", "--registry", str(REGISTRY), "--hosts", "hosts.yaml"], tmp_path)
    check_cost(outcome)
    code, line = hosts_expected(kind)
    assert outcome.code == code and line in outcome.err, outcome.err


@pytest.mark.parametrize("kind", ("fifo", "sparse"))
def test_a_fifo_or_sparse_hosts_file_is_refused_in_process(tmp_path, kind):
    plant(tmp_path / "hosts.yaml", kind)
    result = run_cli("fleet", "--registry", str(REGISTRY), "--hosts", "hosts.yaml", cwd=tmp_path)
    code, line = hosts_expected(kind)
    assert result.code == code and line in result.err, result.err


@pytest.mark.slow
def test_endless_stdin_for_hosts_is_read_no_further_than_the_limit(tmp_path):
    outcome = run_measured(["fleet", "--registry", str(REGISTRY), "--hosts", "-"], tmp_path,
                           stdin_path="/dev/zero")
    check_cost(outcome)
    assert outcome.code == 1
    assert (f"<stdin>:1:1: error: file is larger than the {HOSTS_MAX} byte limit [file-too-large]"
            in outcome.err.splitlines()), outcome.err


# --- sysfs registers -------------------------------------------------------------------------------

REGISTERS = ("midr_el1", "revidr_el1")


def sysfs_case(tmp_path: Path, name: str, kind: str) -> tuple[list[str], str]:
    root = write_sysfs(tmp_path / "h", [(A53_R0P4, 0)])
    reg = root / "sys/devices/system/cpu/cpu0/regs/identification" / name
    plant(reg, kind)
    what = (f"is {SPARSE_SIZE} bytes, more than the 4096 byte limit" if kind == "sparse"
            else KIND_TEXT[kind])
    return (["fleet", "--registry", str(REGISTRY), "--sysfs", str(root)],
            f"{reg}: error: cannot read: {what} [fleet-sysfs]")


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", REGISTERS)
def test_a_special_sysfs_register_is_refused_cheaply(tmp_path, name, kind):
    args, line = sysfs_case(tmp_path, name, kind)
    outcome = run_measured(args, tmp_path)
    check_cost(outcome)
    assert outcome.code == 1 and line in outcome.err.splitlines(), outcome.err


@pytest.mark.parametrize("name", REGISTERS)
def test_a_sparse_sysfs_register_is_refused_in_process(tmp_path, name):
    args, line = sysfs_case(tmp_path, name, "sparse")
    result = run_cli(*args, cwd=tmp_path)
    assert result.code == 1 and line in result.err.splitlines(), result.err


# --- kernel-tree files ------------------------------------------------------------------------------

# Every file audit reads; drivers/irqchip/Kconfig stands for the drivers' Kconfig files where
# erratum options may be defined (kernel/tree.py's ERRATA_KCONFIGS), which audit always reads.
TREE_FILES = ("Makefile", "arch/arm64/Kconfig", "drivers/irqchip/Kconfig", "arch/arm64/tools/cpucaps",
              "arch/arm64/include/asm/cputype.h", "arch/arm64/kernel/cpu_errata.c", RST)


def tree_case(tmp_path: Path, registry, rel: str, kind: str) -> Path:
    tree = write_tree(tmp_path / "linux", registry)
    kconfig = tree / "arch/arm64/Kconfig"
    # One option defined with its driver, as ARM64_ERRATUM_858921 is.
    first = re.search(r"config (\w+)\n\tbool \"\w+\"\n\tdefault y\n\n", kconfig.read_text())
    kconfig.write_text(kconfig.read_text().replace(first.group(0), ""))
    (tree / "drivers/clocksource").mkdir(parents=True)
    (tree / "drivers/clocksource/Kconfig").write_text(first.group(0))
    plant(tree / rel, kind)
    return tree


def tree_expected(tree: Path, rel: str, kind: str) -> str:
    what = (f"is {SPARSE_SIZE} bytes, more than the 4194304 byte limit" if kind == "sparse"
            else KIND_TEXT[kind])
    return f"errata-db: error: cannot read {tree / rel}: it {what}"


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("rel", TREE_FILES)
def test_a_special_kernel_tree_file_is_refused_by_audit_cheaply(tmp_path, registry, rel, kind):
    tree = tree_case(tmp_path, registry, rel, kind)
    outcome = run_measured(["audit", "--registry", str(REGISTRY), "--kernel-tree", str(tree)], tmp_path)
    check_cost(outcome)
    assert outcome.code == 2 and tree_expected(tree, rel, kind) in outcome.err.splitlines(), outcome.err


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_a_special_makefile_is_refused_by_install_cheaply(tmp_path, registry, kind):
    tree = tree_case(tmp_path, registry, "Makefile", kind)
    outcome = run_measured(["install", "--registry", str(REGISTRY), "--kernel-tree", str(tree)], tmp_path)
    check_cost(outcome)
    assert outcome.code == 2 and tree_expected(tree, "Makefile", kind) in outcome.err.splitlines(), outcome.err
    assert not (tree / "arch/arm64/include/asm/migrn_errata.h").exists()


# What import, and risk through it, read of a tree.
IMPORTED_FILES = ("Makefile", "arch/arm64/Kconfig", "arch/arm64/tools/cpucaps", RST,
                  "arch/arm64/include/asm/cputype.h", "arch/arm64/kernel/cpu_errata.c")


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("rel", IMPORTED_FILES)
@pytest.mark.parametrize("command", ("import", "risk"))
def test_a_special_kernel_tree_file_is_refused_by_import_and_risk_cheaply(tmp_path, registry, rel, kind,
                                                                         command):
    tree = tree_case(tmp_path, registry, rel, kind)
    args = (["import", "--dry-run", "--registry", str(REGISTRY), "--kernel-tree", str(tree)]
            if command == "import" else
            ["risk", "--registry", str(REGISTRY), "--hosts", str(REGISTRY.parent / "examples/fleet.yaml"),
             "--guest-kernel-tree", str(tree)])
    outcome = run_measured(args, tmp_path)
    check_cost(outcome)
    assert outcome.code == 2 and tree_expected(tree, rel, kind) in outcome.err.splitlines(), outcome.err


@pytest.mark.parametrize("kind", ("fifo", "sparse"))
@pytest.mark.parametrize("rel", TREE_FILES)
def test_a_fifo_or_sparse_kernel_tree_file_is_refused_in_process(tmp_path, registry, rel, kind):
    tree = tree_case(tmp_path, registry, rel, kind)
    result = run_cli("audit", "--registry", str(REGISTRY), "--kernel-tree", str(tree))
    assert result.code == 2 and tree_expected(tree, rel, kind) in result.err.splitlines(), result.err


# --- a registry file at a git ref ---------------------------------------------------------------


def commit_zero_blob(repo: Path, rel: str, size: int) -> None:
    """Commit a file of size zero bytes without git reading it: its loose object written by
    hand (git itself would take a minute to hash and compress 2 GB)."""
    header = f"blob {size}\0".encode()
    digest, packer = hashlib.sha1(header), zlib.compressobj(1)
    chunk = bytes(16 << 20)
    tmp = repo / ".git" / "objects" / "zero.tmp"
    with open(tmp, "wb") as fh:
        fh.write(packer.compress(header))
        for _ in range(size // len(chunk)):
            digest.update(chunk)
            fh.write(packer.compress(chunk))
        fh.write(packer.flush())
    sha = digest.hexdigest()
    (repo / ".git" / "objects" / sha[:2]).mkdir(exist_ok=True)
    tmp.rename(repo / ".git" / "objects" / sha[:2] / sha[2:])
    git(repo, "update-index", "--add", "--cacheinfo", f"100644,{sha},{rel}")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "a 2 GB file")


@pytest.mark.slow
def test_a_2_gb_registry_file_at_the_ref_is_reported_unread(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(REGISTRY, repo / "errata-db")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "registry")
    commit_zero_blob(repo, "errata-db/errata/zz.yaml", SPARSE_SIZE)
    outcome = run_measured(["stability", "--against", "HEAD"], repo)
    check_cost(outcome)
    assert outcome.code == 2
    assert (f"HEAD:errata-db/errata/zz.yaml:1:1: error: file is {SPARSE_SIZE} bytes, more than the "
            "1048576 byte limit [file-too-large]") in outcome.err.splitlines(), outcome.err
