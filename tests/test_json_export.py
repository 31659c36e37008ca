"""The JSON export's own encoder writes what the standard library's indented encoder would."""

from __future__ import annotations

import json

import pytest

from conftest import GENERATED
from errata_db.targets.json_export import dumps, export


def standard(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True)


def test_export_of_the_bundled_registry_is_encoded_as_the_standard_library_does(registry):
    document = export(registry)
    assert dumps(document) == standard(document)


def test_committed_export_is_in_the_standard_layout():
    text = (GENERATED / "json" / "errata.json").read_text()
    assert text == standard(json.loads(text)) + "\n"


@pytest.mark.parametrize("value", [
    {},
    [],
    {"b": [], "a": {}},
    {"z": 1, "a": True, "m": False, "n": None, "neg": -3, "big": 1 << 70},
    ["quote \" backslash \\ slash /", "tab\tnewline\ncr\r", "\x00\x1f\x7f", "é ✓ 𝄞", ""],
    {"nested": [{"deep": [[1, 2], [], [{"k": "v"}]]}], "é": "key not ASCII"},
    [0, 1, True, False],
    {"{a}": "}{", "b{}": {"}": 1, "{": [{"{0}": None}]}, "%s": "{0} {}"},
    [{"a": 1, "b": "x"}, {"b": "y", "a": 2}, {"a": {"a": {"a": []}}}],  # one shape, two orders
])
def test_tricky_values_are_encoded_as_the_standard_library_does(value):
    assert dumps(value) == standard(value)


def test_a_value_an_export_never_holds_is_refused():
    with pytest.raises(TypeError, match="float"):
        dumps({"a": 1.5})
