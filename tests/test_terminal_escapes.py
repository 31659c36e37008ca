"""User strings reach text output inert: a control character is printed as an escape, so a
host name cannot drive the terminal and a name with a newline cannot forge a diagnostic line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import fake_linux
import generated_tree
from conftest import FIXTURES, REGISTRY, run_cli
from errata_db import stability
from errata_db.diagnostics import Pos
from test_fleet import A53_R0P4, write_sysfs

FORGED = "fake.yaml:1:1: note: all fine"
HOSTILE = f"evil\x1b[2J\n{FORGED}"
SHOWN = f"evil\\x1b[2J\\n{FORGED}"


def assert_inert(text: str) -> None:
    assert "\x1b" not in text
    assert FORGED not in text.splitlines()
    assert not any(line.startswith(FORGED) for line in text.splitlines())


def test_a_kconfig_name_with_a_newline_cannot_forge_a_diagnostic(tmp_path):
    shutil.copytree(FIXTURES / "valid", tmp_path / "reg")
    a = tmp_path / "reg/errata/a.yaml"
    text = a.read_text()
    first = text.index("kconfig: [") + len("kconfig: [")
    a.write_text(text[:first] + json.dumps(HOSTILE) + ", " + text[first:])
    result = run_cli("validate", "--registry", "reg", cwd=tmp_path)
    assert result.code == 1
    assert_inert(result.err)
    assert any(SHOWN in line and line.endswith("[c-identifier]") for line in result.err.splitlines()), result.err


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_host_name_with_an_escape_sequence_and_a_newline_is_printed_inert(tmp_path, fmt):
    hosts = {"hosts": [{"name": HOSTILE, "cpus": [{"midr": "0x410fff00"}]}]}  # unknown CPU: a warning names the host
    (tmp_path / "hosts.json").write_text(json.dumps(hosts))
    result = run_cli("fleet", "--registry", str(REGISTRY), "--hosts", "hosts.json", "--format", fmt, cwd=tmp_path)
    assert result.code == 0, result.err
    assert_inert(result.out)
    if fmt == "text":
        assert SHOWN in result.out
    else:
        assert json.loads(result.out)["hosts"][0]["name"] == HOSTILE


def test_a_sysfs_host_name_with_control_characters_is_printed_inert(tmp_path):
    root = write_sysfs(tmp_path / "h", [(A53_R0P4, 0)])
    result = run_cli("fleet", "--registry", str(REGISTRY), "--sysfs", f"{HOSTILE}={root}", cwd=tmp_path)
    assert result.code == 0, result.err
    assert_inert(result.out)
    assert SHOWN in result.out


def test_a_file_name_with_a_newline_cannot_forge_an_error_line(tmp_path):
    shutil.copytree(FIXTURES / "valid", tmp_path / "reg")
    (tmp_path / "reg/errata" / f"x\n{FORGED}.yaml").mkdir()
    result = run_cli("validate", "--registry", "reg", cwd=tmp_path)
    assert result.code == 2
    assert_inert(result.err)
    assert all(line.startswith("errata-db: error: ") for line in result.err.splitlines()), result.err


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_stability_text_formats_print_control_characters_as_escapes(fmt):
    change = stability._change(stability.Level.BREAKING, "bit-moved", f"entry {HOSTILE} moved",
                               Pos("errata-db/errata/a.yaml", 3, 5), None, "put it back")
    out = stability.FORMATS[fmt]([change], "main")
    assert_inert(out)
    assert SHOWN in out


def _lock_with_a_line_to_add(tmp_path: Path, registry) -> list[str]:
    reg = tmp_path / HOSTILE
    shutil.copytree(REGISTRY, reg)
    lock = reg / "bits.lock"
    lock.write_text("".join(lock.read_text().splitlines(keepends=True)[:-1]))
    return ["lock", "--registry", str(reg)]


def _import_of_a_new_erratum(tmp_path: Path, registry) -> list[str]:
    reg = tmp_path / "registry" / HOSTILE
    shutil.copytree(REGISTRY, reg)
    tree = generated_tree.write_tree(tmp_path / "linux" / HOSTILE, generated_tree.with_new_erratum(registry, 1))
    return ["import", "--registry", str(reg), "--kernel-tree", str(tree)]


@pytest.mark.parametrize("command", [
    pytest.param(lambda tmp_path, registry: ["init", str(tmp_path / HOSTILE)], id="init"),
    pytest.param(lambda tmp_path, registry: ["generate", "--registry", str(FIXTURES / "valid"),
                                             "--out", str(tmp_path / HOSTILE)], id="generate"),
    pytest.param(lambda tmp_path, registry: ["install", "--registry", str(REGISTRY), "--kernel-tree",
                                             str(fake_linux.write_tree(tmp_path / HOSTILE, registry))],
                 id="install"),
    pytest.param(_import_of_a_new_erratum, id="import"),
    pytest.param(_lock_with_a_line_to_add, id="lock"),
])
def test_a_path_with_control_characters_is_printed_inert_by_a_writing_command(tmp_path, registry, command):
    result = run_cli(*command(tmp_path, registry))
    assert result.code == 0, result.err
    assert_inert(result.out + result.err)
    assert SHOWN in result.out


def test_generate_check_names_the_stale_files_of_a_path_with_control_characters_inert(tmp_path):
    out = tmp_path / HOSTILE
    argv = ["generate", "--registry", str(FIXTURES / "valid"), "--out", str(out)]
    assert run_cli(*argv).code == 0
    next(p for p in out.rglob("*") if p.is_file()).write_text("stale\n")
    result = run_cli(*argv, "--check")
    assert result.code == 1
    assert_inert(result.err)
    assert SHOWN in result.err.splitlines()[0] and SHOWN in result.err.splitlines()[-1]


def test_stability_s_notes_print_an_overlay_path_with_control_characters_inert(tmp_path):
    """The notes stability prints name directories: one git does not track is said inert."""
    import subprocess

    repo = tmp_path / "repo"
    shutil.copytree(REGISTRY, repo / "errata-db")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base"], cwd=repo, check=True)
    overlay = tmp_path / "acme\x1b[2J"
    shutil.copytree(FIXTURES / "overlays" / "acme", overlay)
    result = run_cli("stability", "--overlay", str(overlay), "--against", "HEAD", cwd=repo)
    notes = [line for line in result.err.splitlines() if "not tracked" in line]
    assert notes and "\x1b" not in result.err and "acme\\x1b[2J" in notes[0], result.err
