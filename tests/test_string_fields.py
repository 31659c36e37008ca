"""Every string field of every file the tool reads must hold what it names in full: a
trailing newline or a control character is an error, never a value that reaches generated
code (an overlay owner "acme\\n" made the Python module a SyntaxError) or slips past a rule
(a CPU id "cortex-a53\\n" is not the upstream "cortex-a53" an overlay may not redefine)."""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import FIXTURES, REGISTRY, run_cli
from errata_db.load import SourceFile, parse

VALID = FIXTURES / "valid"
ACME = FIXTURES / "overlays" / "acme"
SUFFIXES = {"newline": "\n", "control": "\x01"}


def string_fields(root) -> dict[tuple, tuple]:
    """{field, with list indexes as '*': the path of its first occurrence}."""
    found: dict[tuple, tuple] = {}

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, (*path, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, (*path, i))
        elif isinstance(node, str):
            found.setdefault(tuple("*" if isinstance(p, int) else p for p in path), path)

    walk(root, ())
    return found


def cases(trees) -> list[tuple[str, str, tuple]]:
    out = []
    for tree, base in trees:
        for path in sorted(p for p in base.rglob("*.yaml") if "schema" not in p.parts):
            rel = f"{tree}/{path.relative_to(base).as_posix()}"
            doc, _ = parse(SourceFile(rel, path.read_bytes()))
            out += [(rel, ".".join(map(str, field)), at) for field, at in string_fields(doc.root).items()]
    return out


CASES = cases((("reg", VALID), ("ov", ACME)))
# Fields the small fixture does not use (the kernel table's, not_covered...), from the bundled registry.
BUNDLED_CASES = [(rel, field, at) for rel, field, at in cases((("reg", REGISTRY),))
                 if field not in {f for _, f, _ in CASES}
                 and (rel.startswith("reg/errata/") or rel in ("reg/registry.yaml", "reg/cpus.yaml"))]
BUNDLED_CASES = list({field: (rel, field, at) for rel, field, at in BUNDLED_CASES}.values())


def set_at(node, path, value):
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("rel, field, at", CASES, ids=[f"{r}:{f}" for r, f, _ in CASES])
def test_a_string_field_with_a_trailing_newline_or_control_character_is_refused(tmp_path, rel, field, at, suffix):
    shutil.copytree(VALID, tmp_path / "reg")
    shutil.copytree(ACME, tmp_path / "ov")
    doc, _ = parse(SourceFile(rel, (tmp_path / rel).read_bytes()))
    root = doc.root
    value = root
    for key in at:
        value = value[key]
    set_at(root, at, value + SUFFIXES[suffix])
    # JSON is YAML: the value's characters are written as escapes, which YAML allows.
    (tmp_path / rel).write_text(json.dumps(root, indent=1) + "\n")
    result = run_cli("validate", "--registry", "reg", "--overlay", "ov", cwd=tmp_path)
    assert result.code == 1, (field, result.err)
    assert "Traceback" not in result.err
    assert f"{rel}:" in result.err, result.err


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("rel, field, at", BUNDLED_CASES, ids=[f for _, f, _ in BUNDLED_CASES])
def test_a_string_field_only_the_bundled_registry_has_refuses_a_trailing_newline_or_control_character(
        tmp_path, rel, field, at, suffix):
    shutil.copytree(REGISTRY, tmp_path / "reg")
    doc, _ = parse(SourceFile(rel, (tmp_path / rel).read_bytes()))
    value = doc.root
    for key in at:
        value = value[key]
    set_at(doc.root, at, value + SUFFIXES[suffix])
    (tmp_path / rel).write_text(json.dumps(doc.root, indent=1) + "\n")
    result = run_cli("validate", "--registry", "reg", cwd=tmp_path)
    assert result.code == 1, (field, result.err)
    assert "Traceback" not in result.err
    assert f"{rel}:" in result.err, result.err


FLEET_FIELDS = ("midr", "revidr", "aidr")


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("field", FLEET_FIELDS)
def test_a_register_string_in_a_fleet_file_with_a_trailing_newline_or_control_character_is_refused(
        tmp_path, field, suffix):
    cpu = {"midr": "0x410fd034", "revidr": "0x0", "aidr": "0x0"}
    cpu[field] += SUFFIXES[suffix]
    (tmp_path / "hosts.json").write_text(json.dumps({"hosts": [{"name": "a", "cpus": [cpu]}]}))
    result = run_cli("fleet", "--registry", str(REGISTRY), "--hosts", "hosts.json", cwd=tmp_path)
    assert result.code == 1 and "hosts.json:" in result.err and "[schema-oneOf]" in result.err, result.err
