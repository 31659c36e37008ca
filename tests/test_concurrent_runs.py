"""Runs at the same time: a command that reads a registry and writes it back holds its
directories from the read to the write, so that a second run plans from what the first wrote,
never from what the first replaced.

The races are made to happen, not hoped for: hooks stop each run at the moment that matters
and let the other go on. No test measures time; a child process still running after
HANG_GUARD seconds is stuck, and is killed so that the test fails instead of hanging.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import signal
import time
import types
from pathlib import Path

import pytest

import errata_db.cli
import errata_db.write
from conftest import REGISTRY, run_cli
from errata_db.cli import main
from errata_db.registry import load_registry
from generated_tree import with_new_erratum, write_tree
from test_overlay import ACME

HANG_GUARD = 120

ENTRY = """
  - name: {name}
    bit: {bit}
    vendor: {vendor}
    errata_ids: ["{bit}999"]
    description: Written by another run while this one waited.
    guest: needed
    impact: corruption
    impact_note: A test entry.
    kconfig: []
    affects:
      - cpu: cortex-a53
        revisions: r0p0
    status: active
"""


def _spawn(argv: list[str], out: Path, hooks) -> int:
    """`errata-db ARGV` in a child process, after hooks() has set its hooks; its output to out."""
    pid = os.fork()
    if pid:
        return pid
    code = 70
    try:
        signal.alarm(HANG_GUARD)
        hooks()
        with open(out, "w") as fh, contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
            code = main(argv)
    finally:
        os._exit(code)


def _added_bits(text: str) -> dict[str, int]:
    return {m[1]: int(m[2]) for m in re.finditer(r"^added +(\w+) \(bit (\d+)", text, re.M)}


@pytest.mark.slow
def test_two_imports_at_once_keep_both_additions_at_the_bits_they_print(tmp_path, registry):
    """The first import has read and planned when the second starts; the second reads only after
    the first has ended, or else (as before the registry was held) at once, and is then made
    to write last, from what it read."""
    reg_dir = tmp_path / "errata-db"
    shutil.copytree(REGISTRY, reg_dir)
    trees = [write_tree(tmp_path / f"linux-{n}", with_new_erratum(registry, n)) for n in (1, 2)]
    planned_r, planned_w = os.pipe()
    go_r, go_w = os.pipe()
    first_alive_r, first_alive_w = os.pipe()  # EOF once the first run has exited

    def first():
        real = errata_db.cli.write_all

        def write_all(*args):
            os.write(planned_w, b"p")
            os.read(go_r, 1)
            return real(*args)
        errata_db.cli.write_all = write_all

    def second():
        told = []

        def let_the_first_go():
            if not told:
                told.append(os.write(go_w, b"g"))

        real_read = errata_db.cli.read_directory

        def read_directory(*args, **kwargs):
            files = real_read(*args, **kwargs)
            let_the_first_go()
            os.read(first_alive_r, 1)
            return files
        errata_db.cli.read_directory = read_directory

        def sleep(seconds):
            let_the_first_go()
            time.sleep(seconds)
        errata_db.write.time = types.SimpleNamespace(sleep=sleep)

    argv = ["import", "--registry", str(reg_dir), "--kernel-tree"]
    pids = [_spawn([*argv, str(trees[0])], tmp_path / "first.out", first)]
    os.close(first_alive_w)
    os.close(planned_w)
    assert os.read(planned_r, 1) == b"p", (tmp_path / "first.out").read_text()
    pids.append(_spawn([*argv, str(trees[1])], tmp_path / "second.out", second))
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
    outs = [(tmp_path / f"{run}.out").read_text() for run in ("first", "second")]
    assert codes == [0, 0], outs
    printed = {**_added_bits(outs[0]), **_added_bits(outs[1])}
    final = {e.name: e.bit for e in load_registry(reg_dir).registry.errata}
    assert printed == {name: final[name] for name in ("WORKAROUND_FAKE_1", "WORKAROUND_FAKE_2")}, outs
    assert printed["WORKAROUND_FAKE_1"] != printed["WORKAROUND_FAKE_2"]
    assert run_cli("validate", "--registry", str(reg_dir)).code == 0


@contextlib.contextmanager
def _another_run_holds(path: Path):
    """path held as another run holds it; release() ends that hold."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    hold = types.SimpleNamespace(open=True)

    def release():
        if hold.open:
            os.close(fd)
            hold.open = False
    hold.release = release
    try:
        yield hold
    finally:
        release()


def _is_held(path: Path) -> bool:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


@pytest.mark.parametrize("held_dir", ["registry", "overlay"])
def test_lock_waits_for_a_run_that_holds_one_of_its_directories_and_locks_what_it_wrote(
        tmp_path, monkeypatch, held_dir):
    reg, acme = tmp_path / "errata-db", tmp_path / "acme"
    shutil.copytree(REGISTRY, reg)
    shutil.copytree(ACME, acme)
    target, entry = {
        "registry": (reg / "errata/arm.yaml", ENTRY.format(name="WORKAROUND_LATE", bit=38, vendor="ARM")),
        "overlay": (acme / "errata/acme.yaml", ENTRY.format(name="WORKAROUND_ACME_LATE", bit=193, vendor="ACME")),
    }[held_dir]
    pauses = []
    with _another_run_holds(target.parent.parent) as other:
        def sleep(seconds):
            if not pauses:  # the other run writes, and ends
                target.write_text(target.read_text() + entry)
                other.release()
            pauses.append(seconds)
        monkeypatch.setattr(errata_db.write, "time", types.SimpleNamespace(sleep=sleep))
        result = run_cli("lock", "--registry", str(reg), "--overlay", str(acme))
    assert result.code == 0, result.err
    assert len(pauses) == 1
    assert (f"errata-db: note: another errata-db run is writing {target.parent.parent}: waiting for it "
            f"(at most {errata_db.write.WAIT_SECONDS} s)") in result.err
    assert "LATE" in (target.parent.parent / "bits.lock").read_text()
    assert run_cli("validate", "--registry", str(reg), "--overlay", str(acme)).code == 0


def test_generate_waits_for_a_run_that_writes_its_output_directory(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    pauses = []
    with _another_run_holds(out) as other:
        def sleep(seconds):
            other.release()
            pauses.append(seconds)
        monkeypatch.setattr(errata_db.write, "time", types.SimpleNamespace(sleep=sleep))
        result = run_cli("generate", "--registry", str(REGISTRY), "--out", str(out))
    assert result.code == 0, result.err
    assert f"errata-db: note: another errata-db run is writing {out}: waiting for it" in result.err
    assert len(pauses) == 1 and run_cli("generate", "--registry", str(REGISTRY), "--out", str(out), "--check").code == 0


def test_a_run_that_waited_its_bound_is_refused_and_writes_nothing(tmp_path, monkeypatch):
    reg = tmp_path / "errata-db"
    shutil.copytree(REGISTRY, reg)
    (reg / "bits.lock").write_text("")
    pauses = []
    monkeypatch.setattr(errata_db.write, "time", types.SimpleNamespace(sleep=pauses.append))
    with _another_run_holds(reg):
        result = run_cli("lock", "--registry", str(reg))
    assert result.code == 2
    assert (f"errata-db: error: cannot write to {reg}: another errata-db run is writing there "
            f"(waited {errata_db.write.WAIT_SECONDS} s)") in result.err
    assert sum(pauses) == pytest.approx(errata_db.write.WAIT_SECONDS)
    assert (reg / "bits.lock").read_text() == ""


def test_directories_are_taken_in_one_order_whatever_order_they_are_named_in(tmp_path, monkeypatch):
    """Two runs that each took one directory first would each wait for the other's."""
    dirs = [tmp_path / name for name in "abc"]
    for d in dirs:
        d.mkdir()
    dirs.sort(key=lambda d: (os.stat(d).st_dev, os.stat(d).st_ino), reverse=True)
    last, *earlier = dirs
    seen = []
    with _another_run_holds(last) as other:
        def sleep(seconds):
            seen.append([_is_held(d) for d in earlier])
            other.release()
        monkeypatch.setattr(errata_db.write, "time", types.SimpleNamespace(sleep=sleep))
        with errata_db.write.held([(d, d.name) for d in dirs]):
            assert all(_is_held(d) for d in dirs)
    assert seen == [[True, True]]
    assert not any(_is_held(d) for d in dirs)
