"""JSON Schema validation of parsed documents, with errors placed on the offending YAML node."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Iterator

from .diagnostics import Diagnostic, error
from .load import Document, quoted
from .resources import schema_dir

if TYPE_CHECKING:
    import jsonschema

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
def _schema(kind: str) -> dict:
    schema = json.loads((schema_dir() / f"{kind}.schema.json").read_text(encoding="utf-8"))
    return _inline_refs(schema, schema.get("$defs", {}))


@lru_cache(maxsize=None)
def _validator(kind: str) -> jsonschema.protocols.Validator:
    # Imported here: a valid registry never needs it (see _valid), and it is a fifth of start-up.
    import jsonschema

    schema = _schema(kind)
    cls = jsonschema.validators.validator_for(schema)
    # JSON Schema counts 3.0 as an integer; the registry wants integer literals, and the model
    # would carry a float (or worse, its text) into bit, part_mask and mask arithmetic.
    strict = jsonschema.validators.extend(cls, type_checker=cls.TYPE_CHECKER.redefine(
        "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool)))
    return strict(schema)


# --- the fast path: is a document valid? -------------------------------------------------------
#
# jsonschema says what is wrong and where, and costs about 40 us per node. Almost every run
# checks a valid registry, so the schema is first evaluated by this small interpreter of the
# keywords the registry's schemas use. It answers True (valid), False (invalid) or None (a
# keyword or value it does not handle); only True is acted on, and jsonschema runs otherwise.
# tests/test_schema_fast.py checks both answers against jsonschema.

_ANNOTATIONS = frozenset({"description", "title", "$schema", "$id", "$comment", "default",
                          "examples", "format"})
_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _equal(a: Any, b: Any) -> bool | None:
    """JSON equality (true is not 1, 1 is 1.0); None for values JSON does not have."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if _number(a) and _number(b):
        return a == b
    if a is None or b is None or isinstance(a, str) or isinstance(b, str):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return False
        results = [_equal(x, y) for x, y in zip(a, b)]
        return None if None in results else all(results)
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return False
        results = [_equal(a[k], b[k]) for k in a]
        return None if None in results else all(results)
    return None


def _all(results) -> bool | None:
    """False if any is False, else None if any is unknown, else True."""
    unknown = False
    for r in results:
        if r is False:
            return False
        unknown = unknown or r is None
    return None if unknown else True


def _keyword(kw: str, arg: Any, schema: dict, v: Any) -> bool | None:
    if kw == "type":
        return any(_TYPES[t](v) for t in ([arg] if isinstance(arg, str) else arg))
    if kw == "properties":
        return _all(_valid(sub, v[k]) for k, sub in arg.items() if k in v) if isinstance(v, dict) else True
    if kw == "required":
        return all(k in v for k in arg) if isinstance(v, dict) else True
    if kw == "additionalProperties":
        if not isinstance(v, dict) or arg is True:
            return True
        known = schema.get("properties", {})
        extra = [v[k] for k in v if k not in known]
        return not extra if arg is False else _all(_valid(arg, x) for x in extra)
    if kw == "dependentRequired":
        return all(d in v for k, deps in arg.items() if k in v for d in deps) if isinstance(v, dict) else True
    if kw == "items":
        return _all(_valid(arg, x) for x in v) if isinstance(v, list) else True
    if kw in ("minItems", "maxItems"):
        return not isinstance(v, list) or (len(v) >= arg if kw == "minItems" else len(v) <= arg)
    if kw == "uniqueItems":
        if not arg or not isinstance(v, list):
            return True
        pairs = [_equal(v[i], v[j]) for i in range(len(v)) for j in range(i + 1, len(v))]
        return None if None in pairs else not any(pairs)
    if kw == "minLength":
        return not isinstance(v, str) or len(v) >= arg
    if kw == "pattern":
        return not isinstance(v, str) or _pattern(arg).search(v) is not None
    if kw in ("minimum", "maximum"):
        return not _number(v) or (v >= arg if kw == "minimum" else v <= arg)
    if kw == "const":
        return _equal(v, arg)
    if kw == "enum":
        results = [_equal(v, x) for x in arg]
        return True if True in results else None if None in results else False
    if kw == "not":
        r = _valid(arg, v)
        return None if r is None else not r
    if kw == "oneOf":
        results = [_valid(sub, v) for sub in arg]
        return None if None in results else results.count(True) == 1
    if kw == "if":
        r = _valid(arg, v)
        branch = schema.get("then" if r else "else")
        return None if r is None else True if branch is None else _valid(branch, v)
    if kw in ("then", "else"):
        return True  # evaluated with "if"
    return None


@lru_cache(maxsize=None)
def _pattern(text: str) -> re.Pattern:
    return re.compile(text)


def _valid(schema: Any, v: Any) -> bool | None:
    if schema is True:
        return True
    if schema is False:
        return False
    return _all(_keyword(kw, arg, schema, v) for kw, arg in schema.items() if kw not in _ANNOTATIONS)


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
    if _valid(_schema(kind), doc.root) is True:
        return diags, broken
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
