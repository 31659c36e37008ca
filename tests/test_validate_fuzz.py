"""Property: whatever is done to the text of a registry file, checking it never raises.

The files are mutated in memory and checked with errata_db.registry.assemble, the whole
pipeline after reading (parse, schema, model, rules, lock), and every diagnostic is rendered in
every output format, as the CLI would print it. For speed, the parse of the files left as they
are is done once and reused; every mutated file is parsed afresh.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import errata_db.registry
from conftest import FIXTURES, run_cli
from errata_db.diagnostics import Diagnostic, FORMATTERS, Severity, has_errors, render
from errata_db.load import SourceFile, parse
from errata_db.registry import RegistryFiles, assemble, read_directory

VALID = FIXTURES / "valid"
BASE = read_directory(VALID, "reg")
PATHS = {f.path for f in BASE.files}
ERRATA = "reg/errata/a.yaml"

# Pieces of YAML syntax that random text rarely produces on its own.
TOKENS = ["&a ", "*a", "!!str ", "!!python/object:os.system ", "{", "}", "[", "]", ": ", "- ",
          "? ", "\t", "'", '"', "\\u00e9", "\\ud800", "\\x01", "#", "\n---\n", "%YAML 1.1\n",
          "<<: ", "|", ">-", "0x", "1e400", "-1", "r99p99", "null", "~", "yes", "2024-01-01",
          ".nan", "*/", "\\", "\u00e9", "\x00", "\x85", "\u2028", "\ufeff", "9" * 5]


@pytest.fixture(scope="module", autouse=True)
def _reuse_parses_of_unmutated_files():
    cache = {f: parse(f) for f in BASE.files}

    def cached_parse(src: SourceFile):
        hit = cache.get(src)
        return (hit[0], list(hit[1])) if hit is not None else parse(src)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(errata_db.registry, "parse", cached_parse)
        yield


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


@st.composite
def mutation(draw, data: bytes) -> bytes:
    op = draw(st.sampled_from(["delete", "duplicate", "swap", "truncate", "text", "bytes",
                               "tokens"]))
    lines = _lines(data)
    if op in ("delete", "duplicate", "swap") and lines:
        i = draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        else:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        return b"\n".join(lines)
    if op == "truncate":
        return data[:draw(st.integers(0, len(data)))]
    start = draw(st.integers(0, len(data)))
    end = draw(st.integers(start, min(len(data), start + 24)))
    if op == "text":
        new = draw(st.text(max_size=24)).encode("utf-8", "surrogatepass")
    elif op == "bytes":
        new = draw(st.binary(max_size=24))
    else:
        new = "".join(draw(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=4))).encode(
            "utf-8", "surrogatepass")
    return data[:start] + new + data[end:]


@st.composite
def mutated_file(draw, path: str) -> bytes:
    data = next(f.data for f in BASE.files if f.path == path)
    for _ in range(draw(st.integers(1, 3))):
        data = draw(mutation(data))
    return data


def _check(files: dict[str, bytes]) -> int:
    tree = RegistryFiles(BASE.root, tuple(SourceFile(f.path, files.get(f.path, f.data))
                                          for f in BASE.files))
    result = assemble(tree)  # must not raise
    for d in result.diagnostics:
        assert isinstance(d, Diagnostic)
        assert isinstance(d.severity, Severity)
        assert d.pos.path in PATHS
        assert d.pos.line >= 0 and d.pos.col >= 0
        if d.rule.startswith(("yaml-", "file-", "schema-")) or d.rule == "duplicate-key":
            # Parsing and schema messages quote what they show, so one diagnostic is one line.
            assert "\n" not in d.message, d
    for fmt in FORMATTERS:
        text = render(result.diagnostics, fmt)
        text.encode("utf-8")  # printable to any UTF-8 stream
    json.loads(render(result.diagnostics, "json"))
    code = 1 if result.registry is None or has_errors(result.diagnostics) else 0
    if files == {}:
        assert code == 0
    return code


def test_the_unmutated_fixture_is_valid() -> None:
    assert _check({}) == 0


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated_file(ERRATA))
def test_mutated_errata_file_never_raises(data: bytes) -> None:
    code = _check({ERRATA: data})
    if data == next(f.data for f in BASE.files if f.path == ERRATA):
        assert code == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(PATHS)).flatmap(lambda p: st.tuples(st.just(p), mutated_file(p))))
def test_mutating_any_registry_file_never_raises(mutated: tuple[str, bytes]) -> None:
    path, data = mutated
    _check({path: data})


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated_file(ERRATA), fmt=st.sampled_from(sorted(FORMATTERS)))
def test_cli_exits_0_or_1_for_any_errata_file_content(data: bytes, fmt: str) -> None:
    """The same through the command line and a real directory: content is never exit 2."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "reg"
        os.makedirs(root / "errata")
        for f in BASE.files:
            rel = f.path[len("reg/"):]
            (root / rel).write_bytes(data if f.path == ERRATA else f.data)
        result = run_cli("validate", "--registry", "reg", "--format", fmt, cwd=Path(tmp))
        assert result.code in (0, 1), result.err
        assert "Traceback" not in result.err
        if fmt == "json":
            json.load(io.StringIO(result.out))
