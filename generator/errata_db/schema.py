"""JSON Schema validation of parsed documents, with errors placed on the offending YAML node."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Iterator

import jsonschema

from .diagnostics import Diagnostic, error
from .load import Document, quoted
from .resources import schema_dir

SCHEMAS = ("registry", "cpus", "errata", "overlay", "fleet")


def _inline_refs(node, defs: dict):
    """The schema with every local "#/$defs/NAME" reference replaced by the definition.

    Resolving a $ref was a quarter of schema checking: it happens for every checked node,
    and the schemas are not recursive, so their references can be expanded once.
    """
    if isinstance(node, list):
        return [_inline_refs(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _inline_refs(v, defs) for k, v in node.items() if k != "$defs"}
    ref = out.pop("$ref", None)
    if ref is None:
        return out
    target = _inline_refs(defs[ref.removeprefix("#/$defs/")], defs)
    return {**target, **out}


@lru_cache(maxsize=None)
def _validator(kind: str) -> jsonschema.protocols.Validator:
    schema = json.loads((schema_dir() / f"{kind}.schema.json").read_text(encoding="utf-8"))
    schema = _inline_refs(schema, schema.get("$defs", {}))
    cls = jsonschema.validators.validator_for(schema)
    # JSON Schema counts 3.0 as an integer; the registry wants integer literals, and the model
    # would carry a float (or worse, its text) into bit, part_mask and mask arithmetic.
    strict = jsonschema.validators.extend(cls, type_checker=cls.TYPE_CHECKER.redefine(
        "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool)))
    return strict(schema)


def _unknown_keys(doc: Document, err: jsonschema.ValidationError) -> Iterator[Diagnostic]:
    import difflib  # only for a misspelt key: not worth its import on every run

    allowed = sorted(err.schema.get("properties", {}))
    for key in err.instance:
        if key in allowed:
            continue
        hint = difflib.get_close_matches(str(key), allowed, n=1)
        suggestion = f"; did you mean '{hint[0]}'?" if hint else f"; known keys: {', '.join(allowed)}"
        yield error(doc.pos([*err.absolute_path, key], key=True), "schema-unknown-key",
                    f"unknown key {quoted(key)}{suggestion}")


def _where(err: jsonschema.ValidationError) -> str:
    parts = [str(p) for p in err.absolute_path]
    return ("'" + ".".join(parts) + "': ") if parts else ""


def check(doc: Document, kind: str) -> tuple[list[Diagnostic], set[tuple]]:
    """Validate doc against the named schema; one diagnostic per problem, on its node.

    Also returns the two-level paths (such as ('errata', 3)) that hold an error, so that the
    model can be built from the entries that are valid and check those too.
    """
    diags: list[Diagnostic] = []
    broken: set[tuple] = set()
    for err in _validator(kind).iter_errors(doc.root):
        broken.add(tuple(err.absolute_path)[:2])
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            diags.extend(_unknown_keys(doc, err))
            continue
        if err.validator == "not":
            # The schemas' only `not`: jsonschema's own text would print the whole subschema.
            message = f"{_where(err)}'retired' is required exactly when status is 'retired'"
        else:
            message = f"{_where(err)}{err.message}"
        diags.append(error(doc.pos(list(err.absolute_path)), f"schema-{err.validator}", message))
    return diags, broken
