"""The two ways into the loader agree: libyaml's events (ruamel.yaml.clib) and ruamel's
pure-Python parser give the same values, the same node places and the same diagnostics.

The fast path is what runs; the pure one is the fallback without the C extension and the
source of syntax-error messages, so any drift between them would change what users see.
"""

from __future__ import annotations

import platform
import random
from pathlib import Path

import pytest

from conftest import REPO
from errata_db import load

CORPUS = sorted(p for pattern in ("errata-db/**/*.yaml", "tests/fixtures/**/*.yaml", "examples/*.yaml")
                for p in REPO.glob(pattern))
# Fragments that reach every path of the event check: anchors, aliases, tags, documents,
# flow and block collections, quoting styles, scalars of every resolved type.
FRAGMENTS = ["&a ", "*a", "!!str ", "\n---\n", ": ", "- ", '"\\ud800"', "{", "[", "]", "'", '"', "#",
             "\n  ", "0x", "~", "true", "? ", "|\n  x\n", ">-\n", "1e3", "2024-01-01", "k: [a, {b: c}]\n"]


def mutations(text: str, seed: int, count: int = 12):
    rng = random.Random(seed)
    for _ in range(count):
        at = rng.randrange(len(text) + 1)
        yield text[:at] + rng.choice(FRAGMENTS) + text[at:]


def attempt(text: str, fast: bool):
    try:
        return load._load("f.yaml", text, fast=fast)
    except Exception:  # noqa: BLE001 - a syntax error, which parse() reports from the pure parser
        return None


def test_the_c_parser_is_installed_where_the_dependency_says_it_is():
    if platform.python_implementation() == "CPython":
        assert load._CParser is not None, "ruamel.yaml.clib is a dependency on CPython: pip install -e ."


@pytest.mark.slow
@pytest.mark.skipif(load._CParser is None, reason="ruamel.yaml.clib is not installed")
@pytest.mark.parametrize("path", CORPUS, ids=[str(p.relative_to(REPO)) for p in CORPUS])
def test_fast_and_pure_parsers_agree_on_the_registry_and_its_mutations(path: Path):
    text = path.read_text()
    compared = 0
    for i, variant in enumerate([text, *mutations(text, seed=len(text))]):
        fast, slow = attempt(variant, fast=True), attempt(variant, fast=False)
        # libyaml may reject more (parse() then asks the pure parser), never less: a file
        # that is an error without the C extension must be one with it.
        assert not (slow is None and fast is not None), (i, variant)
        if fast is None or slow is None:
            continue
        compared += 1
        assert (fast[0] is load._REFUSED) == (slow[0] is load._REFUSED), i
        if fast[0] is not load._REFUSED:
            assert fast[0] == slow[0], i
            assert fast[1] == slow[1], i
        assert fast[2] == slow[2], i
    assert compared >= 2


@pytest.mark.parametrize("text", ["a: 1\n\x85b: 2\n", "a: 1\u2028b: 2\n", "a: 'x\u2029y'\n"])
def test_line_breaks_libyaml_counts_differently_give_the_pure_parsers_answer(monkeypatch, text):
    with_c = load.parse(load.SourceFile("f.yaml", text.encode()))
    monkeypatch.setattr(load, "_CParser", None)
    without_c = load.parse(load.SourceFile("f.yaml", text.encode()))
    assert with_c == without_c


def test_keys_are_duplicates_when_their_values_are_equal_not_their_text():
    doc, diags = load.parse(load.SourceFile("f.yaml", b"'1': a\n1: b\n1.0: c\n"))
    assert doc.root == {"1": "a", 1: "b"}
    assert [(str(d.pos), d.message) for d in diags] == [
        ("f.yaml:3:1", "duplicate key '1.0' (first defined at line 2)")]


@pytest.mark.parametrize("path", CORPUS[:6], ids=[str(p.relative_to(REPO)) for p in CORPUS[:6]])
def test_places_found_on_demand_are_those_of_a_tracking_parse(path: Path):
    text = path.read_text()
    doc, _ = load.parse(load.SourceFile("f.yaml", text.encode()))
    assert doc.places == load._load("f.yaml", text, fast=True, track=True)[1]
    assert len(doc.places) > 10


def test_places_on_demand_come_from_the_parser_that_read_the_file(monkeypatch):
    class Failing:
        def __init__(self, text):
            raise ValueError("libyaml refuses this file")

    text = "a: 1\nb:\n  - c\n"
    monkeypatch.setattr(load, "_CParser", Failing)
    doc, _ = load.parse(load.SourceFile("f.yaml", text.encode()))
    monkeypatch.undo()
    assert not doc.fast  # the places must not be asked of the parser that failed
    assert doc.places == load._load("f.yaml", text, fast=False, track=True)[1]
    assert str(doc.pos(["b", 0])) == "f.yaml:3:5"
