"""kill -9 at any moment of `generate`, `install` and `lock`, failures at every step, and special
files where outputs go (slow tier: `-m slow`).

A run is killed for real (SIGKILL) at each step of its write that changes the disk: the child
process stops itself (SIGSTOP) just before the step, and the test kills it there. Steps are the
only moments that matter, since the disk does not change between them. After each kill:

- every file holds exactly its old or its new bytes;
- if the set is mixed, the journal that finishes it is there, and `--check` fails;
- the next run ends with the new set, and no temporary file is left anywhere.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import resource
import shutil
import signal
import stat
import tempfile
import types
from pathlib import Path

import pytest

import errata_db.write
import fake_linux
from conftest import FIXTURES, REGISTRY, os_namespace, run_cli
from cost import run_measured
from errata_db.cli import main
from errata_db.targets import TARGETS

pytestmark = pytest.mark.slow

OUTPUTS = sorted(t.path for t in TARGETS.values())
GUEST = "arch/arm64/include/asm/migrn_errata.h"
KVM = "arch/arm64/kvm/migrn_errata_table.h"
TXN = errata_db.write.TXN
MUTATING = ("fchmod", "fdopen", "fsync", "link", "mkdir", "makedirs", "remove", "rename", "replace",
            "rmdir", "truncate", "unlink", "write")
NOT_UTF8 = b"notes \xff\n"
LATIN1 = "/* En-t\u00eate de l'\u00e9quipe, by errata-db, do not edit */\n".encode("latin-1")


def _stepping_os(on_step) -> types.SimpleNamespace:
    """os as errata_db.write sees it, calling on_step(n, name) before its n-th change to the disk.

    fsync only counts as a step: a killed process loses nothing the kernel already holds, and
    the many runs would otherwise wait for the disk.
    """
    fake = os_namespace()
    count = [0]

    def wrap(name):
        real = getattr(os, name) if name != "fsync" else (lambda fd: None)

        def call(*args, **kwargs):
            count[0] += 1
            on_step(count[0], name)
            return real(*args, **kwargs)
        return call

    for name in MUTATING:
        setattr(fake, name, wrap(name))
    return fake


def kill_at(step: int, argv: list[str], fail_at: int = 0) -> bool:
    """Run `errata-db ARGV` in a child process and SIGKILL it just before its step-th change
    to the disk; False if it finished first (it has fewer steps). With fail_at, that step
    fails (EIO) first, as a full or broken disk would make it."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 70
        try:
            def stop(n, name):
                if n == fail_at:
                    raise OSError(5, "Input/output error")
                if n == step:
                    os.kill(os.getpid(), signal.SIGSTOP)
            errata_db.write.os = _stepping_os(stop)
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                code = main(argv)
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, os.WUNTRACED)
    if os.WIFSTOPPED(status):
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return True
    assert os.WEXITSTATUS(status) == 0
    return False


@pytest.fixture(scope="module")
def memo():
    """Loading and rendering a registry are pure functions of its files: each is done once per
    content, so that the writes, and not the rest, take the time of each run."""
    import errata_db.cli as cli

    rendered: dict = {}
    real_render = cli._render

    def render(reg, targets):
        key = (id(reg), tuple(targets))
        if key not in rendered:
            rendered[key] = real_render(reg, targets)
        return rendered[key]

    with pytest.MonkeyPatch.context() as mp:
        # Keyed by every file's bytes: a lock that changed is loaded again.
        mp.setattr(cli, "assemble", functools.lru_cache(maxsize=None)(cli.assemble))
        mp.setattr(cli, "_render", render)
        yield


@contextlib.contextmanager
def scratch_dir():
    """A directory on tmpfs when there is one: a kill leaves what the kernel holds, whatever
    the file system, and slow metadata writes would only stretch the sweeps."""
    shm = Path("/dev/shm")
    path = Path(tempfile.mkdtemp(prefix="errata-db-kill-",
                                 dir=shm if shm.is_dir() and os.access(shm, os.W_OK) else None))
    try:
        yield path
    finally:
        shutil.rmtree(path)


@pytest.fixture
def quick(memo):
    with scratch_dir() as path:
        yield path


def files_of(root: Path, rels) -> dict[str, bytes | None]:
    return {rel: (root / rel).read_bytes() if (root / rel).is_file() else None for rel in rels}


def leftovers(root: Path) -> list[str]:
    """Hidden entries (temporary files, the transaction directory) anywhere under root."""
    return sorted(str(p.relative_to(root)) for p in root.rglob(".*"))


def assert_consistent_after_kill(root: Path, old: dict, new: dict, step: int) -> bool:
    """Every file old or new; a mixed set only with its journal. Whether the set is mixed."""
    now = files_of(root, old)
    journal = any((root / TXN / m).exists() for m in ("journal", "undo"))
    for rel, data in now.items():
        # Between its two renames a file is in the transaction directory, never half written.
        assert data in (old[rel], new[rel]) or (data is None and journal), \
            f"step {step}: {rel} holds neither its old nor its new bytes"
    mixed = now != old and now != new
    assert journal or not mixed, f"step {step}: mixed, and no journal"
    return mixed


def sweep(root: Path, reset, argv: list[str], check_argv: list[str] | None, old: dict, new: dict,
          next_run) -> dict[str, int]:
    """Kill the command at each step in turn; check the state, --check and the next run."""
    seen = {"mixed": 0, "pending": 0, "steps": 0}
    step = 0
    while True:
        step += 1
        reset()
        if not kill_at(step, argv):
            break
        seen["steps"] = step
        mixed = assert_consistent_after_kill(root, old, new, step)
        seen["mixed"] += mixed
        pending = (root / TXN).exists()
        seen["pending"] += pending
        if check_argv is not None:
            check = run_cli(*check_argv)
            assert check.code == (1 if pending or files_of(root, old) != new else 0), (step, check.err)
        r = next_run()
        assert r.code == 0, (step, r.err)
        assert files_of(root, old) == new, f"step {step}: the next run did not end with the new set"
        assert leftovers(root) == [], f"step {step}"
    return seen


def test_generate_killed_at_every_step_leaves_a_set_the_next_run_completes(quick):
    out = quick / "out"
    scratch = quick / "new"
    assert run_cli("generate", "--registry", str(REGISTRY), "--out", str(scratch)).code == 0
    new = files_of(scratch, OUTPUTS)

    def reset():
        shutil.rmtree(out, ignore_errors=True)
        for rel in OUTPUTS:
            if rel != "json/errata.json":  # one file, and its directory, to create
                (out / rel).parent.mkdir(parents=True, exist_ok=True)
                (out / rel).write_text(f"old {rel}\n")
        (out / "docs/migrn-errata.rst").write_bytes(NOT_UTF8)

    reset()
    old = files_of(out, OUTPUTS)
    argv = ["generate", "--registry", str(REGISTRY), "--out", str(out)]
    seen = sweep(out, reset, argv, [*argv, "--check"], old, new, lambda: run_cli(*argv))
    assert seen["steps"] >= 20 and seen["mixed"] >= 4 and seen["pending"] >= seen["mixed"], seen


def _old_generate_output(out: Path) -> dict[str, bytes]:
    if out.exists():
        shutil.rmtree(out)
    old = {rel: f"old {rel}\n".encode() for rel in OUTPUTS}
    for rel, data in old.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)
    return old


@pytest.fixture(scope="module")
def half_switched(memo):
    """Kill points of `generate` over an old set: the steps after which the set is mixed."""
    with scratch_dir() as base:
        out = base / "out"
        argv = ["generate", "--registry", str(REGISTRY), "--out", str(out)]
        assert run_cli(*argv).code == 0
        new = files_of(out, OUTPUTS)
        mixed, step = [], 0
        while True:
            step += 1
            old = _old_generate_output(out)
            if not kill_at(step, argv):
                break
            if assert_consistent_after_kill(out, old, new, step):
                mixed.append(step)
        assert len(mixed) >= 4
        yield new, mixed


@pytest.mark.parametrize("start", ["first mixed", "last mixed", "undoing a failed run"])
def test_a_killed_recovery_is_recovered_too(quick, half_switched, start):
    """The next run is killed in turn at each step while it finishes a half-switched set, or
    while it finishes undoing a run that failed halfway."""
    new, mixed = half_switched
    out, snapshot = quick / "out", quick / "snapshot"
    argv = ["generate", "--registry", str(REGISTRY), "--out", str(out)]
    old = _old_generate_output(out)
    if start == "undoing a failed run":
        # A rename fails in the middle of the switch, and the run is killed while it undoes it.
        assert kill_at(mixed[-1] + 2, argv, fail_at=mixed[-1])
        assert (out / TXN / "undo").exists()
    else:
        assert kill_at(mixed[0] if start == "first mixed" else mixed[-1], argv)
        assert (out / TXN / "journal").exists()
    assert assert_consistent_after_kill(out, old, new, 0)
    shutil.copytree(out, snapshot, symlinks=True)
    again = 0
    while True:
        again += 1
        shutil.rmtree(out)
        shutil.copytree(snapshot, out, symlinks=True)
        if not kill_at(again, argv):
            break
        assert_consistent_after_kill(out, old, new, again)
        assert run_cli(*argv).code == 0
        assert files_of(out, OUTPUTS) == new and leftovers(out) == []
    assert again > 5


def test_install_killed_at_every_step_never_leaves_a_new_guest_header_with_an_old_kvm_header(
        quick, registry):
    tree = quick / "linux"
    fake_linux.write_tree(tree, registry)
    pristine = quick / "pristine"
    old = {GUEST: LATIN1, KVM: b"/* by errata-db, do not edit: an old table */\n"}
    for rel, data in old.items():
        (tree / rel).write_bytes(data)
    shutil.copytree(tree, pristine)
    argv = ["install", "--kernel-tree", str(tree), "--registry", str(REGISTRY), "--force"]
    assert run_cli(*argv).code == 0
    new = files_of(tree, old)

    def reset():
        shutil.rmtree(tree)
        shutil.copytree(pristine, tree)

    check = ["install", "--kernel-tree", str(tree), "--registry", str(REGISTRY), "--check"]
    seen = sweep(tree, reset, argv, check, old, new, lambda: run_cli(*argv))
    assert seen["steps"] >= 10 and seen["mixed"] >= 1, seen


def test_lock_killed_at_every_step_is_completed_by_the_next_lock(quick):
    upstream, acme = quick / "errata-db", quick / "acme"
    shutil.copytree(REGISTRY, upstream)
    shutil.copytree(FIXTURES / "overlays" / "acme", acme)
    locks = [upstream / "bits.lock", acme / "bits.lock"]
    new = {str(p): p.read_bytes() for p in locks}
    # Each lock without its last line: `lock` appends it again.
    old = {str(p): b"".join(p.read_bytes().splitlines(keepends=True)[:-1]) for p in locks}

    def reset():
        for p in locks:
            p.write_bytes(old[str(p)])

    argv = ["lock", "--registry", str(upstream), "--overlay", str(acme)]
    validate = ["validate", "--registry", str(upstream), "--overlay", str(acme)]
    reset()
    assert run_cli(*validate).code == 1
    step = 0
    while True:
        step += 1
        reset()
        if not kill_at(step, argv):
            break
        for p in locks:
            assert_consistent_after_kill(p.parent, {p.name: old[str(p)]}, {p.name: new[str(p)]}, step)
        now = {str(p): p.read_bytes() if p.exists() else None for p in locks}
        # The set of locks is checked by validate: it fails while any lock lags behind.
        assert run_cli(*validate).code == (0 if now == new else 1), step
        assert run_cli(*argv).code == 0
        assert {str(p): p.read_bytes() for p in locks} == new
        assert leftovers(upstream) == [] and leftovers(acme) == []
    assert step > 10


# --- a failure (not a kill) at any step puts every old byte back -----------------------------


def state(root: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        out[str(p.relative_to(root))] = (p.read_bytes(), stat.S_IMODE(st.st_mode), st.st_mtime_ns) \
            if stat.S_ISREG(st.st_mode) else stat.S_IFMT(st.st_mode)
    return out


@pytest.mark.parametrize("command", ["generate", "install --force"])
def test_a_failure_at_any_step_of_a_write_leaves_every_old_byte(monkeypatch, quick, registry, command):
    """Each step that changes the disk fails in turn (EIO): every failed run leaves the exact
    old tree, modes and mtimes included; a run that succeeds has switched the whole set."""
    step, failed = 0, 0
    while True:
        step += 1
        root = quick / str(step)
        if command == "generate":
            for rel in OUTPUTS:
                if rel != "json/errata.json":  # a directory to create, and to remove again
                    (root / rel).parent.mkdir(parents=True, exist_ok=True)
                    (root / rel).write_text(f"old {rel}\n")
            (root / "docs/migrn-errata.rst").write_bytes(NOT_UTF8)
            argv = ["generate", "--registry", str(REGISTRY), "--out", str(root)]
        else:
            fake_linux.write_tree(root, registry)
            (root / GUEST).write_bytes(LATIN1)
            argv = ["install", "--kernel-tree", str(root), "--registry", str(REGISTRY), "--force"]
        before = state(root)
        calls: list[str] = []

        def fail(n, name):
            calls.append(name)
            if n == step:
                raise OSError(5, "Input/output error")

        monkeypatch.setattr(errata_db.write, "os", _stepping_os(fail))
        r = run_cli(*argv)
        monkeypatch.setattr(errata_db.write, "os", os)
        if len(calls) < step:  # every step has failed once
            assert r.code == 0, r.err
            break
        if r.code == 0:
            # Only removing spent files after the switch may fail so: the run warns, the set is
            # new, and the next run removes what is left.
            assert "warning: the files were written" in r.err, (step, calls[-1])
            assert run_cli(*argv).code == 0 and leftovers(root) == []
        else:
            failed += 1
            assert r.code == 2 and "Input/output error" in r.err and "Traceback" not in r.err, r.err
            assert state(root) == before, f"step {step} ({calls[-1]})"
    assert failed >= 10


# --- special files where outputs go -------------------------------------------------------


def _limited() -> None:
    """200 MB for the child: a run that reads /dev/zero on fails on it, as one that blocks on a FIFO
    is killed."""
    resource.setrlimit(resource.RLIMIT_AS, (200 << 20, 200 << 20))


@pytest.mark.parametrize("special", ["fifo", "dev-zero-link"])
@pytest.mark.parametrize("command", ["generate", "generate --check", "install", "install --check"])
def test_special_files_where_outputs_go_are_refused_unread(tmp_path, registry, special, command):
    if command.startswith("generate"):
        root, rel = tmp_path / "out", "json/errata.json"
        argv = ["generate", "--registry", str(REGISTRY), "--out", str(root)]
    else:
        root, rel = fake_linux.write_tree(tmp_path / "linux", registry), KVM
        argv = ["install", "--kernel-tree", str(root), "--registry", str(REGISTRY), "--force"]
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    if special == "fifo":
        os.mkfifo(root / rel)
        what = "is a FIFO (named pipe), not a regular file"
    else:
        (root / rel).symlink_to("/dev/zero")
        what = "is a symbolic link"
    outcome = run_measured([*argv, *command.split()[1:]], preexec_fn=_limited)
    assert outcome.code == 2, outcome.err
    assert f"{root}/{rel} {what}" in outcome.err and "/dev/zero" not in outcome.err
    # Refused before it is opened: the run reads what every run reads (Python, the registry and
    # the templates, 4 MB), and nothing of /dev/zero, of which --check would read 16 MB.
    assert outcome.bytes_read < 10 << 20, outcome
    assert (root / rel).is_symlink() or stat.S_ISFIFO((root / rel).lstat().st_mode)


def test_import_killed_at_a_quarter_half_and_three_quarters_of_its_write_is_finished_by_the_next(
        tmp_path, registry):
    """import may write any registry file, new errata files too: the next import finishes the
    set a killed one left before it reads the registry, and ends where an uninterrupted one
    does."""
    from generated_tree import write_tree

    tree = write_tree(tmp_path / "tree", registry)
    done = tmp_path / "done"
    assert main(["init", str(done)]) == 0
    argv = ["import", "--kernel-tree", str(tree), "--registry"]
    with contextlib.redirect_stdout(io.StringIO()):
        real_os, steps = errata_db.write.os, []
        errata_db.write.os = _stepping_os(lambda n, name: steps.append(name))
        try:
            assert main([*argv, str(done)]) == 0
        finally:
            errata_db.write.os = real_os
    new = {p.relative_to(done).as_posix(): p.read_bytes() for p in done.rglob("*") if p.is_file()}
    for step in sorted({len(steps) // 4, len(steps) // 2, 3 * len(steps) // 4}):
        victim = tmp_path / f"killed-at-{step}"
        assert main(["init", str(victim)]) == 0
        assert kill_at(step, [*argv, str(victim)])
        again = run_cli(*argv, str(victim))
        assert again.code == 0, (step, again.err)
        assert {p.relative_to(victim).as_posix(): p.read_bytes() for p in victim.rglob("*")
                if p.is_file()} == new, f"step {step} of {len(steps)}"
        assert leftovers(victim) == [], f"step {step}"
    # lock, the other command that writes a registry, finishes (or discards) a killed import too,
    # at whatever step it was killed, instead of turning the user away.
    for step in sorted({len(steps) // 4, len(steps) // 2, 3 * len(steps) // 4}):
        victim = tmp_path / f"killed-at-{step}-then-locked"
        assert main(["init", str(victim)]) == 0
        old = {p.relative_to(victim).as_posix(): p.read_bytes() for p in victim.rglob("*") if p.is_file()}
        assert kill_at(step, [*argv, str(victim)])
        locked = run_cli("lock", "--registry", str(victim))
        assert locked.code == 0, locked.err
        now = {p.relative_to(victim).as_posix(): p.read_bytes() for p in victim.rglob("*") if p.is_file()}
        assert now in (old, new), f"step {step}: lock left a mixed registry"
        assert leftovers(victim) == [], f"step {step}"
