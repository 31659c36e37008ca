"""Everyday friction (issue #24) in what the commands print: the mistake made as a user makes
it, what the tool says, and then the advice followed, which must work."""

from __future__ import annotations

import json
import os
import pty
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REGISTRY, REPO, run_cli
from generated_tree import older, write_tree
from test_everyday_mistakes import advised
from test_tree_reads import full_tree

from errata_db.registry import load_registry
from errata_db.targets import TARGETS


@pytest.fixture(scope="module")
def bundled():
    return load_registry(REGISTRY).registry


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    """A project holding errata-db/, and a scratch directory beside it."""
    shutil.copytree(REGISTRY, tmp_path / "proj" / "errata-db")
    (tmp_path / "scratch").mkdir()
    return tmp_path / "proj"


def test_generate_with_registry_writes_beside_that_registry_not_here(proj):
    scratch = proj.parent / "scratch"
    result = run_cli("generate", "--registry", "../proj/errata-db", cwd=scratch)
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == "new       ../proj/generated/docs/migrn-errata.rst"
    assert list(scratch.iterdir()) == []
    assert sorted(p.relative_to(proj / "generated").as_posix() for p in (proj / "generated").rglob("*")
                  if p.is_file()) == sorted(t.path for t in TARGETS.values())
    assert run_cli("generate", "--check", "--registry", "../proj/errata-db", cwd=scratch).code == 0


def test_generate_with_registry_from_a_subdirectory_writes_beside_it(proj):
    (proj / "sub").mkdir()
    result = run_cli("generate", "--registry", "../errata-db", cwd=proj / "sub")
    assert result.code == 0 and result.out.splitlines()[-1] == f"{len(TARGETS)} of {len(TARGETS)} file(s) changed"
    assert (proj / "generated/python/migrn_errata.py").is_file() and list((proj / "sub").iterdir()) == []


def test_check_names_missing_files_without_a_diff_and_its_advice_writes_them(proj):
    scratch = proj.parent / "scratch"
    result = run_cli("generate", "--check", "--registry", "../proj/errata-db", cwd=scratch)
    assert result.code == 1 and result.out == ""
    lines = result.err.splitlines()
    assert lines[:-1] == [f"../proj/generated/{t}: missing" for t in sorted(t.path for t in TARGETS.values())]
    assert lines[-1] == (f"errata-db: {len(TARGETS)} generated file(s) missing; run: errata-db generate "
                         "--registry ../proj/errata-db --out ../proj/generated")
    assert run_cli(*advised(lines[-1]), cwd=scratch).code == 0
    # One file edited, one deleted: the diff is the edited file's alone.
    doc = proj / "generated/docs/migrn-errata.rst"
    doc.write_text(doc.read_text().replace("Cortex-A53", "Cortex-A35", 1))
    (proj / "generated/json/errata.json").unlink()
    result = run_cli("generate", "--check", "--registry", "../proj/errata-db", cwd=scratch)
    assert result.err.splitlines()[:2] == ["../proj/generated/docs/migrn-errata.rst: stale",
                                           "../proj/generated/json/errata.json: missing"]
    assert "generated file(s) missing, 1 out of date; run:" in result.err.splitlines()[-1]
    assert re.findall(r"^\+\+\+ (\S+)", result.out, re.M) == ["b/../proj/generated/docs/migrn-errata.rst"]


# --- one vocabulary for what the writing commands did ----------------------------------------

WRITTEN = re.compile(r"(new      |updated  ) \S+|\d+ of \d+ file\(s\) (changed|would change)")


@pytest.mark.slow
def test_generate_install_lock_and_import_say_what_they_wrote_in_one_vocabulary(proj, bundled):
    tree = full_tree(proj / "linux", bundled)
    (proj / "errata-db/bits.lock").write_text(
        "".join(line for line in (proj / "errata-db/bits.lock").read_text().splitlines(keepends=True)
                if not line.startswith("37 ")))
    arm = proj / "errata-db/errata/arm.yaml"
    arm.write_text(arm.read_text().replace("Cortex-A57 may deadlock", "Cortex-A57 can deadlock", 1))
    outputs = {args[0]: run_cli(*args, cwd=proj) for args in (
        ["lock"], ["generate"], ["install", "--kernel-tree", "linux"],
        ["import", "--kernel-tree", str(write_tree(proj / "older", older(bundled))), "--dry-run"])}
    for command, result in outputs.items():
        assert result.code == 0, result.err
        lines = result.out.splitlines()
        files = lines[next(i for i, line in enumerate(lines) if WRITTEN.fullmatch(line)):]
        assert files and all(WRITTEN.fullmatch(line) for line in files), (command, result.out)
    assert outputs["lock"].out == "updated   errata-db/bits.lock\n1 of 1 file(s) changed\n"
    assert outputs["generate"].out.splitlines()[-1] == f"{len(TARGETS)} of {len(TARGETS)} file(s) changed"
    again = run_cli("generate", cwd=proj)
    assert again.out == f"0 of {len(TARGETS)} file(s) changed\n"
    assert tree.is_dir()


# --- what the text says, against what the JSON knows ------------------------------------------


def test_lookup_text_names_the_cpu_and_revision_its_json_gives_and_shortens_long_id_lists():
    # A Cortex-A76 r3p0: its SPECULATIVE_AT entry lists four erratum ids.
    text = run_cli("lookup", "--midr", "0x413fd0b0", "--registry", str(REGISTRY))
    doc = json.loads(run_cli("lookup", "--midr", "0x413fd0b0", "--registry", str(REGISTRY), "--format", "json").out)
    assert text.out.splitlines()[0].startswith(f"MIDR 0x413fd0b0 REVIDR 0x00000000 ({doc['cpu']} {doc['revision']}): ")
    long = next(e for e in doc["errata"] if len(e["errata_ids"]) > 3)
    shown = next(line for line in text.out.splitlines() if long["name"] in line)
    assert shown.endswith(f"{', '.join(long['errata_ids'][:3])} +{len(long['errata_ids']) - 3} more")


def test_json_gives_midrs_as_numbers_and_registers_as_hex_strings_as_docs_commands_says():
    doc = json.loads(run_cli("bitmap", "--cpu", "0x410fd034:0x100", "--registry", str(REGISTRY),
                             "--format", "json").out)
    assert doc["cpus"] == [{"midr": 0x410FD034, "revidr": 0x100}]
    assert all(re.fullmatch(r"0x[0-9a-f]{16}", v) for v in doc["registers"].values())
    assert re.fullmatch(r"0x[0-9a-f]+", doc["bitmap"])
    rule = (REPO / "docs/commands.md").read_text()
    assert "a MIDR, a REVIDR, a bit or a count is a JSON number" in rule
    assert "is a hex string" in rule


def test_next_bit_counts_the_errors_validate_lists_and_says_which_are_the_lock_s(proj):
    arm = proj / "errata-db/errata/arm.yaml"
    text = arm.read_text()
    # One new entry at a taken bit (duplicate-bit), one at a free bit and not in the lock yet.
    for name, eid, bit in (("WORKAROUND_9999998", "9999998", 5), ("WORKAROUND_9999999", "9999999", 38)):
        text += (f"\n  - name: {name}\n    bit: {bit}\n    vendor: ARM\n    errata_ids: [\"{eid}\"]\n"
                 f"    description: A new erratum.\n    kconfig: [ARM64_ERRATUM_{eid}]\n    affects:\n"
                 "      - cpu: cortex-a53\n        revisions: r0p0\n    status: active\n")
    arm.write_text(text)
    errors = [line for line in run_cli("validate", cwd=proj).err.splitlines() if ": error: " in line]
    lock = [line for line in errors if line.endswith("[lock]")]
    assert errors and lock and len(lock) < len(errors)
    note = run_cli("next-bit", cwd=proj).err
    assert note.startswith(f"errata-db: note: the registry has {len(errors)} error(s), {len(lock)} of them in "
                           "bits.lock (`errata-db validate` lists them)")


# --- the long commands say what they read, on a terminal only --------------------------------


def _on_a_terminal(args: list[str], cwd: Path, env: dict) -> bytes:
    """What a command writes to stderr when stderr is a terminal."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "errata_db", *args], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the process has exited
            break
        if not chunk:
            break
        out += chunk
    assert proc.wait(timeout=60) == 0
    os.close(leader)
    return out


@pytest.mark.parametrize("command", [
    ["audit", "--kernel-tree", "linux"],
    ["import", "--kernel-tree", "linux", "--dry-run"],
    ["risk", "--hosts", str(REPO / "examples/fleet.yaml"), "--guest-kernel-tree", "linux"],
])
@pytest.mark.slow
def test_a_command_reading_a_tree_says_so_on_a_terminal_and_never_in_a_pipe_or_ci(proj, bundled, command):
    full_tree(proj / "linux", bundled)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "generator"), env.get("PYTHONPATH", "")])
    shown = _on_a_terminal(command, proj, env)
    assert re.fullmatch(rb"errata-db: reading the (Linux|guest kernel's) tree linux \.\.\.\r\x1b\[K", shown), shown
    if command[0] == "audit":  # one place decides, for all three: a terminal, and no CI
        assert _on_a_terminal(command, proj, {**env, "CI": "true"}) == b""
        piped = subprocess.run([sys.executable, "-m", "errata_db", *command], cwd=proj, env=env, capture_output=True)
        assert piped.returncode == 0 and piped.stderr == b""


def test_docs_commands_lists_import_among_both_the_read_only_and_the_writing_commands():
    text = (REPO / "docs/commands.md").read_text()
    read_only = text[text.index("- the read-only commands"):text.index("- the commands that write")]
    writing = text[text.index("- the commands that write"):text.index("\n\n", text.index("- the commands that write"))]
    assert "`import --dry-run`" in read_only and "`import`" in writing
    shown = {shlex.split(c)[0] for c in re.findall(r"`([a-z][a-z-]*(?: --[a-z-]+)?)`", read_only + writing)}
    from test_docs import _subcommands
    assert shown == set(_subcommands()) - {"init"}
