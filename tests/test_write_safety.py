"""What `generate`, `install` and `lock` may touch: every old byte survives a failed run, and
nothing is read or written through a symbolic link or a special file.

The three commands share one write edge (errata_db.write); these tests attack it through them.
Kills at every step are in test_interrupted_writes.py (slow tier).
"""

from __future__ import annotations

import os
import signal
import stat
from pathlib import Path

import pytest

import fake_linux
from conftest import REGISTRY, run_cli
from errata_db.targets import TARGETS

OUTPUTS = sorted(t.path for t in TARGETS.values())
GUEST = "arch/arm64/include/asm/migrn_errata.h"
KVM = "arch/arm64/kvm/migrn_errata_table.h"
TXN = ".errata-db-txn"
SECRET = b"root:x:0:0:the secret a symlink points at\n"
# Old files no decoder accepts as UTF-8: rollback must move bytes, never decode them.
NOT_UTF8 = b"notes \xff\n"
LATIN1 = "/* En-t\u00eate de l'\u00e9quipe, by errata-db, do not edit */\n".encode("latin-1")


def state(root: Path) -> dict[str, object]:
    """Every entry under root (hidden ones too): a file's bytes and mode, a link's target, a directory."""
    out: dict[str, object] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        st = p.lstat()
        if stat.S_ISLNK(st.st_mode):
            out[rel] = ("link", os.readlink(p))
        elif stat.S_ISDIR(st.st_mode):
            out[rel] = "dir"
        elif stat.S_ISREG(st.st_mode):
            out[rel] = (p.read_bytes(), stat.S_IMODE(st.st_mode), st.st_mtime_ns)
        else:
            out[rel] = stat.S_IFMT(st.st_mode)
    return out


def generate(out: Path, *extra: str):
    return run_cli("generate", "--registry", str(REGISTRY), "--out", str(out), *extra)


def install(tree: Path, *extra: str):
    return run_cli("install", "--kernel-tree", str(tree), "--registry", str(REGISTRY), *extra)


@pytest.fixture
def old_out(tmp_path) -> Path:
    """An output directory of stale files, one of them not UTF-8 and one latin-1."""
    out = tmp_path / "out"
    for rel in OUTPUTS:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(f"old {rel}\n")
    (out / "docs/migrn-errata.rst").write_bytes(NOT_UTF8)
    (out / "linux" / GUEST).write_bytes(LATIN1)
    return out


@pytest.fixture
def tree(tmp_path, registry) -> Path:
    return fake_linux.write_tree(tmp_path / "linux", registry)


class Hung(Exception):
    pass


@pytest.fixture
def deadline():
    """Fail instead of hanging: a FIFO opened for reading blocks until somebody writes to it."""
    def expire(signum, frame):
        raise Hung("the command blocked for 5 s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(5)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


# --- a failed run keeps every byte ----------------------------------------------------------


def test_a_directory_in_place_of_an_output_is_refused_and_a_non_utf8_file_survives(old_out):
    # The reproduction: the rst file used to be deleted by the rollback.
    (old_out / "python/migrn_errata.py").unlink()
    (old_out / "python/migrn_errata.py").mkdir()
    before = state(old_out)
    r = generate(old_out)
    assert r.code == 2
    assert f"{old_out}/python/migrn_errata.py is a directory, not a regular file" in r.err
    assert "Traceback" not in r.err and r.out == ""
    assert state(old_out) == before


def test_install_force_over_a_latin1_header_keeps_it_when_the_run_fails(tree):
    (tree / GUEST).write_bytes(LATIN1)
    (tree / KVM).mkdir()
    before = state(tree)
    r = install(tree, "--force")
    assert r.code == 2
    assert f"{tree}/{KVM} is a directory, not a regular file" in r.err
    assert state(tree) == before


def test_a_rename_failing_midway_puts_back_the_old_bytes_of_files_no_decoder_accepts(failing_rename, old_out):
    """The first two files are replaced, the third rename fails: both come back byte for byte.
    (Each step failing in turn is in test_interrupted_writes.py.)"""
    renamed = failing_rename(3)
    before = state(old_out)
    r = generate(old_out)
    assert r.code == 2 and "Input/output error" in r.err
    assert len(renamed) == 3 and state(old_out) == before


def test_a_failed_run_into_a_new_directory_leaves_no_directory(failing_stage, tmp_path):
    failing_stage(3, OSError(28, "No space left on device"))
    r = generate(tmp_path / "a" / "b" / "out")
    assert r.code == 2 and "No space left on device" in r.err
    assert list(tmp_path.iterdir()) == []


# --- symbolic links are refused before anything is read or written ---------------------------


@pytest.fixture
def secret(tmp_path) -> Path:
    path = tmp_path / "secret"
    path.write_bytes(SECRET)
    return path


def test_check_refuses_an_output_file_that_is_a_symlink_and_prints_nothing_of_its_target(tmp_path, secret):
    out = tmp_path / "out"
    assert generate(out).code == 0
    (out / "json/errata.json").unlink()
    (out / "json/errata.json").symlink_to(secret)
    r = generate(out, "--check")
    assert r.code == 2
    assert r.err == (f"errata-db: error: {out}/json/errata.json is a symbolic link: errata-db does not "
                     "read or write through one; put the file itself there\n")
    assert r.out == "" and str(secret) not in r.err


def test_generate_refuses_an_output_file_that_is_a_symlink_and_leaves_its_target(tmp_path, secret):
    out = tmp_path / "out"
    assert generate(out).code == 0
    (out / "json/errata.json").unlink()
    (out / "json/errata.json").symlink_to(secret)
    before = state(out)
    r = generate(out)
    assert r.code == 2 and f"{out}/json/errata.json is a symbolic link" in r.err
    assert str(secret) not in r.err
    assert state(out) == before and secret.read_bytes() == SECRET


@pytest.mark.parametrize("check", [False, True])
def test_a_symlinked_output_directory_is_refused_and_nothing_lands_where_it_points(tmp_path, check):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "migrn_errata.py").write_bytes(SECRET)
    out.mkdir()
    (out / "python").symlink_to(elsewhere)
    r = generate(out, *(["--check"] if check else []))
    assert r.code == 2
    assert f"{out}/python is a symbolic link: errata-db does not read or write through one; put the " \
           "directory itself there" in r.err
    assert r.out == "" and "secret" not in r.err
    assert sorted(p.name for p in out.iterdir()) == ["python"]
    assert state(elsewhere) == {"migrn_errata.py": state(elsewhere)["migrn_errata.py"]}
    assert (elsewhere / "migrn_errata.py").read_bytes() == SECRET


def test_an_output_directory_that_is_a_symlink_is_refused(tmp_path):
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo/errata-db").symlink_to(REGISTRY)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "repo/generated").symlink_to(tmp_path / "elsewhere")
    for extra in ([], ["--check"], ["--out", "generated/"], ["--out", "generated", "--check"]):
        r = run_cli("generate", *extra, cwd=tmp_path / "repo")
        assert r.code == 2, r.err
        assert r.err.startswith("errata-db: error: generated is a symbolic link") and r.out == ""
        assert "elsewhere" not in r.err
    assert list((tmp_path / "elsewhere").iterdir()) == []


@pytest.mark.parametrize("check", [False, True])
def test_install_refuses_a_symlinked_kvm_directory(tree, tmp_path, check):
    outside = tmp_path / "outside"
    (tree / "arch/arm64/kvm").rename(outside)
    (tree / "arch/arm64/kvm").symlink_to(outside)
    before = state(outside)
    r = install(tree, *(["--check"] if check else []))
    assert r.code == 2
    assert f"{tree}/arch/arm64/kvm is a symbolic link" in r.err and str(outside) not in r.err
    assert state(outside) == before
    assert not (tree / GUEST).exists()


def test_install_check_refuses_a_header_that_is_a_symlink(tree, secret):
    (tree / KVM).symlink_to(secret)
    r = install(tree, "--check")
    assert r.code == 2 and f"{tree}/{KVM} is a symbolic link" in r.err
    assert r.out == "" and "secret" not in r.err


def test_lock_refuses_a_lock_file_that_is_a_symlink(registry_copy, secret):
    (registry_copy / "bits.lock").unlink()
    (registry_copy / "bits.lock").symlink_to(secret)
    r = run_cli("lock", "--registry", str(registry_copy))
    assert r.code != 0 and "bits.lock" in r.err and "symbolic link" in r.err
    assert str(secret) not in r.err and secret.read_bytes() == SECRET


# --- special files ------------------------------------------------------------------------


@pytest.mark.parametrize("rel", ["json/errata.json", "linux/" + KVM])
@pytest.mark.parametrize("check", [False, True])
def test_a_fifo_in_place_of_an_output_is_refused_without_blocking(tmp_path, deadline, rel, check):
    out = tmp_path / "out"
    (out / rel).parent.mkdir(parents=True)
    os.mkfifo(out / rel)
    r = generate(out, *(["--check"] if check else []))
    assert r.code == 2
    assert f"{out}/{rel} is a FIFO (named pipe), not a regular file" in r.err
    assert stat.S_ISFIFO((out / rel).lstat().st_mode)


@pytest.mark.parametrize("check", [False, True])
def test_install_refuses_a_fifo_in_place_of_a_header_without_blocking(tree, deadline, check):
    os.mkfifo(tree / GUEST)
    r = install(tree, "--force", *(["--check"] if check else []))
    assert r.code == 2 and f"{tree}/{GUEST} is a FIFO (named pipe), not a regular file" in r.err
    assert not (tree / KVM).exists()


def test_a_regular_file_where_an_output_directory_should_be_is_refused(old_out):
    (old_out / "json/errata.json").unlink()
    (old_out / "json").rmdir()
    (old_out / "json").write_bytes(NOT_UTF8)
    before = state(old_out)
    r = generate(old_out)
    assert r.code == 2 and f"{old_out}/json is a regular file, not a directory" in r.err
    assert state(old_out) == before


# --- interrupted and concurrent runs ------------------------------------------------------


def test_check_fails_while_an_interrupted_write_is_unfinished(tmp_path):
    out = tmp_path / "out"
    assert generate(out).code == 0
    (out / TXN).mkdir()
    r = generate(out, "--check")
    assert r.code == 1
    assert f"{out}/{TXN}" in r.err and "interrupted" in r.err
    assert r.err.rstrip().endswith(f"run: errata-db generate --registry {REGISTRY} --out {out}")
    assert (out / TXN).is_dir()
    # The next write finishes it (here: nothing was committed, so it is only removed).
    r = generate(out)
    assert r.code == 0 and "wrote" not in r.out and not (out / TXN).exists()
    assert generate(out, "--check").code == 0


def test_a_journal_naming_a_path_outside_the_outputs_is_refused(tmp_path, secret):
    out = tmp_path / "out"
    assert generate(out).code == 0
    (out / TXN / "new").mkdir(parents=True)
    (out / TXN / "new" / "x").write_bytes(b"pwned\n")
    (out / TXN / "journal").write_text('{"format": 1, "files": [{"path": "../secret", "staged": "x", '
                                       '"existed": true}], "dirs": []}\n')
    r = generate(out)
    assert r.code == 2 and f"{out}/{TXN}/journal" in r.err
    assert secret.read_bytes() == SECRET
