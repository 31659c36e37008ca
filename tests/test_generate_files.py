"""`errata-db generate`: deterministic output, `--check`, and runs that fail without writing."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import errata_db.cli
from conftest import GENERATED, REGISTRY, REPO, run_cli
from errata_db.targets import TARGETS

OUTPUTS = sorted(t.path for t in TARGETS.values())
TEMPLATES = REPO / "templates"


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under root (hidden ones too): content and mtime."""
    return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def contents(root: Path) -> dict[str, bytes]:
    return {rel: data for rel, (data, _) in snapshot(root).items()}


def generate(out: Path, *extra: str, registry: Path = REGISTRY, cwd: Path | None = None):
    return run_cli("generate", "--registry", str(registry), "--out", str(out), *extra, cwd=cwd)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, bytes]:
    """What a correct run writes, rendered once for the module."""
    out = tmp_path_factory.mktemp("reference")
    r = generate(out)
    assert r.code == 0, r.err
    return contents(out)


@pytest.fixture
def old_out(tmp_path) -> Path:
    """An output directory whose five files are all stale, so that any write would show."""
    out = tmp_path / "old"
    for rel in OUTPUTS:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(f"old {rel}\n")
    return out


def assert_untouched(out: Path, before: dict) -> None:
    after = snapshot(out)
    assert after == before, f"files changed: {sorted(set(after) ^ set(before)) or 'contents/mtimes'}"


# --- determinism ----------------------------------------------------------------------------


def test_writes_the_five_targets(reference):
    assert sorted(reference) == OUTPUTS


def test_generate_twice_is_byte_identical(tmp_path, reference):
    r = generate(tmp_path / "a")
    assert r.code == 0
    assert r.out.splitlines() == [*(f"new       {tmp_path / 'a'}/{rel}" for rel in OUTPUTS),
                                  f"{len(OUTPUTS)} of {len(OUTPUTS)} file(s) changed"]
    assert contents(tmp_path / "a") == reference
    # A second run into the same directory changes nothing, not even mtimes.
    before = snapshot(tmp_path / "a")
    r = generate(tmp_path / "a")
    assert (r.code, r.out) == (0, f"0 of {len(TARGETS)} file(s) changed\n")
    assert snapshot(tmp_path / "a") == before


def test_output_does_not_depend_on_cwd_or_registry_path(tmp_path, reference):
    reg = tmp_path / "somewhere" / "errata-db"
    shutil.copytree(REGISTRY, reg)
    r = generate(tmp_path / "abs", registry=reg)
    assert r.code == 0
    assert contents(tmp_path / "abs") == reference
    r = run_cli("generate", "--registry", "errata-db", "--out", "rel", cwd=reg.parent)
    assert r.code == 0
    assert contents(reg.parent / "rel") == reference


@pytest.mark.parametrize("seed", ["0", "12345"])
def test_hash_seed_does_not_matter(tmp_path, reference, seed):
    env = {**os.environ, "PYTHONHASHSEED": seed}
    proc = subprocess.run([sys.executable, "-m", "errata_db", "generate", "--registry", str(REGISTRY),
                           "--out", "out"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert contents(tmp_path / "out") == reference


ABSOLUTE = re.compile(r"(?<![\w.:/~-])/(?:home|tmp|work|usr|root|var|opt|Users|private|mnt)/")
DATE = re.compile(r"20\d\d-\d\d")


def test_output_has_no_absolute_paths_or_dates(tmp_path, reference):
    # Rendered from a registry under tmp_path, so that a leaked path would show.
    reg = tmp_path / "errata-db"
    shutil.copytree(REGISTRY, reg)
    ov = make_overlay(tmp_path / "overlay")
    assert generate(tmp_path / "out", registry=reg).code == 0
    assert generate(tmp_path / "with-overlay", "--overlay", str(ov), registry=reg).code == 0
    files = [*contents(tmp_path / "out").items(), *contents(tmp_path / "with-overlay").items()]
    assert len(files) == 2 * len(OUTPUTS)
    for rel, data in files:
        text = data.decode("utf-8")
        for leak in (str(tmp_path), str(REPO), str(Path.home()), os.getcwd()):
            assert leak not in text, f"{rel} contains {leak}"
        assert not ABSOLUTE.search(text), f"{rel}: {ABSOLUTE.search(text).group()!r}"
        # Registry prose may cite a CVE id (CVE-2025-10263); nothing else may look like a date.
        dates = [m for m in DATE.finditer(text) if text[max(m.start() - 4, 0):m.start()] != "CVE-"]
        assert not dates, f"{rel}: {dates[0].group()!r}"


def test_every_file_has_spdx_and_do_not_edit(reference):
    for rel, data in reference.items():
        head = data.decode("utf-8").splitlines()[:8]
        assert any("SPDX-License-Identifier" in line and "GPL-2.0-only" in line for line in head), rel
        assert any("do not edit" in line for line in head), rel
        assert data.endswith(b"\n") and not data.endswith(b"\n\n"), rel
        assert b"\r" not in data, rel


# --- --check --------------------------------------------------------------------------------


def test_check_passes_on_the_committed_tree():
    """From the repository root: generated/ is what errata-db/ and templates/ render."""
    before = snapshot(GENERATED)
    r = run_cli("generate", "--check", cwd=REPO)
    assert (r.code, r.err) == (0, ""), r.err
    assert r.out == ""
    assert_untouched(GENERATED, before)


def test_check_passes_on_fresh_output_with_defaults(tmp_path):
    """From a repository-like root, `generate --check` with no options checks ./generated."""
    shutil.copytree(REGISTRY, tmp_path / "errata-db")
    assert run_cli("generate", cwd=tmp_path).code == 0
    before = snapshot(tmp_path)
    r = run_cli("generate", "--check", cwd=tmp_path)
    assert (r.code, r.out, r.err) == (0, "", "")
    assert_untouched(tmp_path, before)


def _copy(reference: dict[str, bytes], out: Path) -> None:
    for rel, data in reference.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)


def test_check_reports_a_modified_file(tmp_path, reference):
    out = tmp_path / "gen"
    _copy(reference, out)
    rel = "linux/arch/arm64/kvm/migrn_errata_table.h"
    text = (out / rel).read_text().replace("part_mask = 0xfff", "part_mask = 0xff0", 1)
    (out / rel).write_text(text)
    before = snapshot(out)
    r = generate(out, "--check")
    assert r.code == 1
    assert f"{out}/{rel}: stale" in r.err
    # --out is absolute, so the diff is relative to it (apply with `patch -p1 -d OUT`).
    assert f"--- a/{rel}" in r.out and f"+++ b/{rel}" in r.out
    assert "\n-\t\t.part_mask = 0xff0,\n+\t\t.part_mask = 0xfff,\n" in r.out
    assert re.search(r"^@@ -\d+(,\d+)? \+\d+(,\d+)? @@", r.out, re.M)
    assert f"run: errata-db generate --registry {REGISTRY} --out {out}" in r.err
    assert "1 generated file(s) out of date" in r.err
    assert sum(line.endswith(": stale") for line in r.err.splitlines()) == 1
    assert_untouched(out, before)


def test_check_reports_a_deleted_file(tmp_path, reference):
    out = tmp_path / "gen"
    _copy(reference, out)
    rel = "python/migrn_errata.py"
    (out / rel).unlink()
    before = snapshot(out)
    r = generate(out, "--check")
    assert r.code == 1
    # A missing file is named missing, without a diff of its whole text.
    assert f"{out}/{rel}: missing" in r.err and r.out == ""
    assert f"errata-db: 1 generated file(s) missing; run: errata-db generate --registry {REGISTRY} --out {out}" in r.err
    assert_untouched(out, before)
    assert not (out / rel).exists()


@pytest.mark.parametrize("command, code, last_line", [
    (["validate"], 0, "38 errata, 61 CPUs: valid"),  # the bundled registry: Linux 7.3.4
    (["lookup", "--midr", "0x410fd034"], 0, "ARM 845719"),
    (["lookup", "--midr", "zz"], 2, ""),
])
def test_as_a_process_every_line_comes_out(command, code, last_line):
    # The process ends with os._exit; stdout to a pipe is buffered, and must be flushed first.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.run([sys.executable, "-m", "errata_db", *command], capture_output=True, text=True,
                          timeout=60, env=env, cwd=REPO)
    assert proc.returncode == code, proc.stderr
    assert (proc.stdout.splitlines() or [""])[-1].strip().endswith(last_line)
    assert code == 0 or proc.stderr.startswith("errata-db: error: --midr 'zz'")


@pytest.mark.parametrize("raised, code", [("c.UsageError('late')", 2), ("KeyboardInterrupt", 130)])
def test_as_a_process_output_before_an_error_still_comes_out(raised, code):
    # `lock` prints each bits.lock it updated before a later one may fail: that line must stay.
    script = ("import sys, errata_db.cli as c\n"
              "def command(args):\n"
              "    print('updated up/bits.lock')\n"
              f"    raise {raised}\n"
              "c.cmd_validate = command\n"
              "sys.argv = ['errata-db', 'validate']\n"
              "c.main()\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env=env, cwd=REPO)
    assert (proc.returncode, proc.stdout) == (code, "updated up/bits.lock\n"), proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_closed_stdout_gets_no_traceback():
    # `errata-db validate --format json >&-`: Python then has no sys.stdout at all.
    proc = subprocess.run([sys.executable, "-m", "errata_db", "validate", "--format", "json"],
                          stderr=subprocess.PIPE, text=True, timeout=60, cwd=REPO,
                          preexec_fn=lambda: os.close(1))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path):
    # `errata-db generate --check | head -1`: the diffs are written to a closed pipe.
    for rel in OUTPUTS:
        (tmp_path / "old" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "old" / rel).write_text("an older rendering\n")
    proc = subprocess.Popen([sys.executable, "-m", "errata_db", "generate", "--check", "--registry",
                             str(REGISTRY), "--out", str(tmp_path / "old")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"})
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141, err
    assert "Traceback" not in err and "Exception ignored" not in err
    assert err.count(": stale") == len(OUTPUTS)


def test_check_writes_nothing_into_a_missing_directory(tmp_path):
    r = generate(tmp_path / "nothing", "--check")
    assert r.code == 1
    assert r.err.count(": missing") == len(OUTPUTS) and r.out == ""
    assert f"{len(OUTPUTS)} generated file(s) missing" in r.err
    assert not (tmp_path / "nothing").exists()


def make_overlay(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "overlay.yaml").write_text("format: 1\nowner: acme\nrange: private\n")
    (path / "bits.lock").write_text("")
    return path


def test_check_names_the_overlays_in_the_fixing_command(tmp_path):
    ov = make_overlay(tmp_path / "acme-overlay")
    out = tmp_path / "gen"
    assert generate(out, "--overlay", str(ov)).code == 0
    r = generate(out, "--overlay", str(ov), "--check")
    assert (r.code, r.out, r.err) == (0, "", "")
    # The same files are stale for the registry without the overlay (the banner names it).
    r = generate(out, "--check")
    assert r.code == 1 and "overlay 'acme'" in r.out
    r = generate(tmp_path / "other", "--overlay", str(ov), "--check")
    assert r.code == 1
    assert r.err.strip().endswith(f"errata-db generate --registry {REGISTRY} --overlay {ov} "
                                  f"--out {tmp_path / 'other'}")


# --- failing runs leave the old files alone -------------------------------------------------


def _break(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize("breakage", ["yaml-syntax", "duplicate-bit", "unknown-cpu"])
def test_bad_registry_writes_nothing(registry_copy, old_out, breakage):
    arm = registry_copy / "errata" / "arm.yaml"
    # A change that alters the output too, so that a partial write would show.
    _break(arm, "Cortex-A57 may deadlock", "Changed: Cortex-A57 may deadlock")
    if breakage == "yaml-syntax":
        _break(arm, "    bit: 2\n", "    bit: [2\n")
    elif breakage == "duplicate-bit":
        _break(arm, "    bit: 2\n", "    bit: 1\n")
    else:
        _break(arm, "      - cpu: cortex-a57\n", "      - cpu: cortex-a57-nope\n")
    before = snapshot(old_out)
    r = generate(old_out, registry=registry_copy)
    assert r.code == 1
    assert "error" in r.err and "Traceback" not in r.err
    assert r.out == ""
    assert_untouched(old_out, before)


@pytest.fixture
def broken_templates(tmp_path, monkeypatch):
    """A copy of the templates that the CLI uses instead of the real ones."""
    tpl = tmp_path / "templates"
    shutil.copytree(TEMPLATES, tpl)
    monkeypatch.setattr(errata_db.cli, "templates_dir", lambda: tpl)
    return tpl


@pytest.mark.parametrize("template, old, new", [
    # The third target: two have rendered by then.
    ("migrn_errata.py.j2", "REGISTER_BITS = {{ register_bits }}", "REGISTER_BITS = {{ no_such_name }}"),
    ("migrn_errata.py.j2", "{% for e in errata %}", "{% for e in errata %}{% if %}"),
    ("migrn_errata.rst.j2", "Bit ranges", "{{ registry.no_such_field.deeper }}"),
    ("errata.json.j2", "{{ document }}", "{% include 'missing.j2' %}"),
])
def test_template_error_writes_nothing(broken_templates, old_out, template, old, new):
    _break(broken_templates / template, old, new)
    before = snapshot(old_out)
    r = generate(old_out)
    assert r.code == 1
    assert "template failed, nothing written" in r.err and template in r.err
    assert "Traceback" not in r.err and r.out == ""
    assert_untouched(old_out, before)


def _fail_third_temp_file(write_os, where: str) -> None:
    """The third temp file errata_db.write stages fails to be written, or to be given its mode."""
    calls = {"n": 0}

    class FailingFile:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, text):
            raise OSError(28, "No space left on device")

    def fdopen(fd, *args, **kwargs):
        calls["n"] += 1
        fh = os.fdopen(fd, *args, **kwargs)
        return FailingFile(fh) if calls["n"] == 3 and where == "write" else fh

    def fchmod(fd, mode):
        if calls["n"] == 3 and where == "fchmod":
            raise OSError(1, "Operation not permitted")
        return os.fchmod(fd, mode)

    write_os.fdopen = fdopen
    write_os.fchmod = fchmod


def _temp_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob(".*") if p.is_file())


@pytest.mark.parametrize("where", ["write", "fchmod"])
def test_oserror_writing_the_third_file_leaves_old_files(write_os, old_out, where):
    _fail_third_temp_file(write_os, where)
    before = snapshot(old_out)
    r = generate(old_out)
    assert r.code == 2
    assert f"cannot write to {old_out}:" in r.err and "Traceback" not in r.err
    assert r.out == ""
    assert {rel: data for rel, (data, _) in snapshot(old_out).items() if not rel.split("/")[-1].startswith(".")} \
        == {rel: data for rel, (data, _) in before.items()}
    assert _temp_files(old_out) == []


def test_a_failed_rename_puts_back_the_files_already_replaced(failing_rename, old_out):
    renamed = failing_rename(3)
    before = snapshot(old_out)
    r = generate(old_out)
    assert r.code == 2 and "Input/output error" in r.err and len(renamed) == 3
    assert contents(old_out) == {rel: data for rel, (data, _) in before.items()}
    assert _temp_files(old_out) == []


def test_an_exception_in_a_target_context_is_reported_not_raised(monkeypatch, old_out):
    def boom(reg):
        raise KeyError("no such field")

    target = TARGETS["python-module"]
    monkeypatch.setitem(TARGETS, "python-module", dataclasses.replace(target, context=boom))
    before = snapshot(old_out)
    r = generate(old_out)
    assert r.code == 1 and "template failed, nothing written" in r.err and "KeyError" in r.err
    assert_untouched(old_out, before)


def test_a_python_error_inside_a_template_is_reported_not_raised(broken_templates, old_out):
    path = broken_templates / "migrn_errata.py.j2"
    path.write_text(path.read_text().replace("REGISTER_BITS = {{ register_bits }}",
                                             "REGISTER_BITS = {{ none | hex }}"))
    before = snapshot(old_out)
    r = generate(old_out)
    assert r.code == 1 and "template failed, nothing written" in r.err and "TypeError" in r.err
    assert_untouched(old_out, before)


def test_oserror_creating_the_third_staged_file_leaves_no_trace(failing_stage, old_out):
    failing_stage(3, OSError(24, "Too many open files"))
    before = snapshot(old_out)
    r = generate(old_out)
    assert r.code == 2 and "cannot write to" in r.err and "Too many open files" in r.err
    assert_untouched(old_out, before)
    assert _temp_files(old_out) == []


def test_output_path_that_is_a_file(tmp_path):
    out = tmp_path / "file"
    out.write_text("not a directory\n")
    r = generate(out)
    assert r.code == 2 and "cannot write to" in r.err and "Traceback" not in r.err
    assert out.read_text() == "not a directory\n"


def test_generate_from_a_subdirectory_writes_beside_the_registry(tmp_path):
    shutil.copytree(REGISTRY, tmp_path / "errata-db")
    (tmp_path / "sub").mkdir()
    r = run_cli("generate", cwd=tmp_path / "sub")
    assert r.code == 0 and "new       ../generated/python/migrn_errata.py" in r.out
    assert sorted(contents(tmp_path / "generated")) == OUTPUTS
    assert list((tmp_path / "sub").iterdir()) == []
    assert run_cli("generate", "--check", cwd=tmp_path / "sub").code == 0
