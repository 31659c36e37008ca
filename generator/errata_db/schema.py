"""JSON Schema validation of parsed documents, with errors placed on the offending YAML node."""

from __future__ import annotations

import json
import re
import reprlib
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from .diagnostics import Diagnostic, capped, error
from .load import Document, quoted
from .resources import schema_dir

if TYPE_CHECKING:
    import jsonschema

SCHEMAS = ("registry", "cpus", "errata", "overlay", "fleet", "speculation")


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
        "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool)),
        validators={"uniqueItems": _unique_items(cls.VALIDATORS["uniqueItems"]), "pattern": _pattern})
    return strict(schema)


@lru_cache(maxsize=None)
def ecma_pattern(pattern: str) -> re.Pattern:
    """A schema's pattern as JSON Schema means it: an ECMA-262 regular expression, whose `$`
    matches only at the very end. Python's `$` also matches before a final newline, so
    "acme\\n" passed ^[a-z]+$ and went on into the generated Python module."""
    out, in_class, i = [], False, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "$":
            c = r"\Z"
        out.append(c)
        i += 1
    return re.compile("".join(out))


def _pattern(validator, pattern, instance, schema):
    import jsonschema

    if validator.is_type(instance, "string") and not ecma_pattern(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def _unique_items(compare_all: Callable) -> Callable:
    """jsonschema's uniqueItems compares every two items when they cannot be sorted (mappings):
    hash them instead, and keep its way only for values JSON does not have."""
    import jsonschema

    def unique_items(validator, unique, instance, schema):
        if not unique or not validator.is_type(instance, "array"):
            return
        verdict = _unique(instance)
        if verdict is None:
            yield from compare_all(validator, unique, instance, schema)
        elif not verdict:
            yield jsonschema.ValidationError(f"{reprlib.repr(instance)} has non-unique elements")
    return unique_items


# --- the fast path: is a document valid? -------------------------------------------------------
#
# jsonschema says what is wrong and where, and costs about 40 us per node. Almost every run
# checks a valid registry, so the schema is first compiled into Python closures for the
# keywords the registry's schemas use, and those decide. A check answers True (valid), False
# (invalid) or None (a keyword or value it does not handle); only True is acted on, and
# jsonschema runs otherwise. tests/test_schema_fast.py checks both answers against jsonschema.

Check = Callable[[Any], "bool | None"]

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


def _json_key(v: Any) -> Any:
    """A hashable key, the same for values JSON calls equal (true is not 1, 1 is 1.0); None for
    values JSON does not have."""
    if isinstance(v, bool):
        return ("bool", v)
    if _number(v):
        return ("number", v)
    if isinstance(v, str):
        return ("string", v)
    if v is None:
        return ("null",)
    if isinstance(v, list):
        keys = tuple(_json_key(x) for x in v)
        return None if None in keys else ("array", keys)
    if isinstance(v, dict):
        pairs = frozenset((_json_key(k), _json_key(x)) for k, x in v.items())
        return None if any(None in pair for pair in pairs) else ("object", pairs)
    return None


def _unique(v: list) -> bool | None:
    """Hashing, not comparing every two: a list of 10,000 mappings took minutes."""
    keys = [_json_key(x) for x in v]
    return None if None in keys else len(set(keys)) == len(keys)


def _verdict(results: Iterable[bool | None]) -> bool | None:
    """False if a result is False, else None if one does not know, else True."""
    unknown = False
    for r in results:
        if r is False:
            return False
        if r is None:
            unknown = True
    return None if unknown else True


def _unknown(_v: Any) -> None:
    return None


def _object(schema: dict) -> Check:
    """properties, required and additionalProperties together: one pass over the mapping."""
    props = {k: _compile(sub) for k, sub in schema.get("properties", {}).items()}
    required = tuple(schema.get("required", ()))
    extra = schema.get("additionalProperties", True)
    other = None if extra is True or extra is False else _compile(extra)

    def check(v: Any) -> bool | None:
        if not isinstance(v, dict):
            return True
        for k in required:
            if k not in v:
                return False
        unknown = False
        for k, value in v.items():
            sub = props.get(k)
            if sub is None:
                if extra is False:
                    return False
                if other is None:
                    continue
                sub = other
            r = sub(value)
            if r is False:
                return False
            if r is None:
                unknown = True
        return None if unknown else True

    return check


def _keyword(kw: str, arg: Any, schema: dict) -> Check:
    if kw == "type":
        types = [_TYPES[t] for t in ([arg] if isinstance(arg, str) else arg)]
        return types[0] if len(types) == 1 else lambda v: any(t(v) for t in types)
    if kw == "dependentRequired":
        return lambda v: all(d in v for k, deps in arg.items() if k in v for d in deps) \
            if isinstance(v, dict) else True
    if kw == "items":
        sub = _compile(arg)
        return lambda v: _verdict(map(sub, v)) if isinstance(v, list) else True
    if kw == "minItems":
        return lambda v: not isinstance(v, list) or len(v) >= arg
    if kw == "maxItems":
        return lambda v: not isinstance(v, list) or len(v) <= arg
    if kw == "uniqueItems":
        return lambda v: not arg or not isinstance(v, list) or _unique(v)
    if kw == "minLength":
        return lambda v: not isinstance(v, str) or len(v) >= arg
    if kw == "pattern":
        search = ecma_pattern(arg).search
        return lambda v: not isinstance(v, str) or search(v) is not None
    if kw == "minimum":
        return lambda v: not _number(v) or v >= arg
    if kw == "maximum":
        return lambda v: not _number(v) or v <= arg
    if kw == "const":
        return lambda v: _equal(v, arg)
    if kw == "enum":
        def enum(v: Any) -> bool | None:
            results = [_equal(v, x) for x in arg]
            return True if True in results else None if None in results else False
        return enum
    if kw == "not":
        sub = _compile(arg)

        def negated(v: Any) -> bool | None:
            r = sub(v)
            return None if r is None else not r
        return negated
    if kw == "allOf":
        subs = [_compile(x) for x in arg]
        return lambda v: _verdict([sub(v) for sub in subs])
    if kw == "oneOf":
        subs = [_compile(x) for x in arg]

        def one_of(v: Any) -> bool | None:
            results = [sub(v) for sub in subs]
            return None if None in results else results.count(True) == 1
        return one_of
    if kw == "if":
        cond = _compile(arg)
        then = _compile(schema.get("then", True))
        otherwise = _compile(schema.get("else", True))

        def if_then_else(v: Any) -> bool | None:
            r = cond(v)
            return None if r is None else (then if r else otherwise)(v)
        return if_then_else
    return _unknown


_OBJECT_KEYWORDS = frozenset({"properties", "required", "additionalProperties"})


def _compile(schema: Any) -> Check:
    if schema is True:
        return lambda v: True
    if schema is False:
        return lambda v: False
    checks = [_keyword(kw, arg, schema) for kw, arg in schema.items()
              if kw not in _ANNOTATIONS and kw not in _OBJECT_KEYWORDS and kw not in ("then", "else")]
    if _OBJECT_KEYWORDS & schema.keys():
        checks.append(_object(schema))
    if len(checks) == 1:
        return checks[0]
    return lambda v: _verdict([check(v) for check in checks])


@lru_cache(maxsize=None)
def fast_check(kind: str) -> Check:
    """The named schema's verdict on a document: True, False, or None for "ask jsonschema"."""
    return _compile(_schema(kind))


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


_LABEL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def _where(doc: Document, err: jsonschema.ValidationError) -> str:
    path = list(err.absolute_path)
    return f"'{_path_text(doc, path)}': " if path else ""


def _path_text(doc: Document, path: list) -> str:
    """The path of a node, an item of a section named by its id or name where it has one
    (`errata[WORKAROUND_843419].bit`): an index means counting entries in the file."""
    head = str(path[0])
    if len(path) > 1 and isinstance(path[1], int):
        item = doc.node(path[:2])
        label = next((str(item[k]) for k in ("id", "name") if isinstance(item, dict)
                      and isinstance(item.get(k), (str, int)) and not isinstance(item.get(k), bool)
                      and _LABEL.fullmatch(str(item[k]))), None)
        head += f"[{label}]" if label is not None else f".{path[1]}"
        path = path[2:]
    else:
        path = path[1:]
    return ".".join([head, *map(str, path)])


def check(doc: Document, kind: str) -> tuple[list[Diagnostic], set[tuple]]:
    """Validate doc against the named schema; one diagnostic per problem, on its node.

    Also returns the two-level paths (such as ('errata', 3)) that hold an error, so that the
    model can be built from the entries that are valid and check those too.
    """
    diags: list[Diagnostic] = []
    broken: set[tuple] = set()
    if fast_check(kind)(doc.root) is True:
        return diags, broken
    # Past ten of one rule in one entry, one line counts the rest: a list of ten thousand
    # wrong items is one mistake, not ten thousand lines.
    entries: dict[tuple, list[Diagnostic]] = {}
    for err in _validator(kind).iter_errors(doc.root):
        entry = tuple(err.absolute_path)[:2]
        broken.add(entry)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            found: Iterable[Diagnostic] = _unknown_keys(doc, err)
        elif err.validator == "not":
            # jsonschema's own text would print the whole subschema. The schemas' `not`s are
            # keys that exclude each other, and `retired` without status retired.
            keys = list(err.validator_value.get("required", ())) if isinstance(err.validator_value, dict) else []
            if len(keys) > 1:
                found = [error(doc.pos([*err.absolute_path, keys[-1]]), "schema-not",
                               f"{_where(doc, err)}{' and '.join(repr(k) for k in keys)} exclude each "
                               "other: give one of them")]
            else:
                found = [error(doc.pos(list(err.absolute_path)), "schema-not",
                               f"{_where(doc, err)}'retired' is required exactly when status is 'retired'")]
        else:
            # jsonschema's messages quote the whole value: shorten a long one to its start.
            text = err.message.replace(repr(err.instance), reprlib.repr(err.instance))
            found = [error(doc.pos(list(err.absolute_path)), f"schema-{err.validator}",
                           f"{_where(doc, err)}{text}")]
        entries.setdefault(entry, []).extend(found)
    for entry, found in entries.items():
        diags += capped(found, f"'{_path_text(doc, list(entry))}'" if entry else "the file")
    return diags, broken
