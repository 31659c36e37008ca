"""User strings reach text output inert: a control character is printed as an escape, so a
host name cannot drive the terminal and a name with a newline cannot forge a diagnostic line."""

from __future__ import annotations

import json
import shutil

import pytest

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
