"""The one reader of arch/arm64/kernel/cpu_errata.c: its errata tables as data.

It splits the file into top-level items (preprocessor lines, functions, declarations), reads
every `struct midr_range` and `struct arm64_cpu_capabilities` array, and turns the rows of
arm64_errata[] into what they mean: the kernel's macros expanded, integer expressions
evaluated, lists resolved, each row and range with the Kconfig options that guard it. Two
sources that read the same are two spellings of one table; `install --kernel-tables` compares
the tree's hand-written table with the generated one this way before it replaces it.

Pure functions of a file's text; positions are kept for messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from ..diagnostics import Pos
from ..model import LOCAL_CPU_ERRATUM, rev_str, revision_range_str

TABLE_STRUCTS = ("midr_range", "arm64_cpu_capabilities")
ERRATA_TABLE = "arm64_errata"
ALL = 0xF << 20 | 0xF  # MIDR_ALL_VERSIONS: variant 15, revision 15


class NotRecognised(Exception):
    """cpu_errata.c has something this reader cannot read as an errata table."""

    def __init__(self, pos: Pos, reason: str):
        super().__init__(f"{pos}: {reason}")
        self.pos = pos
        self.reason = reason


@dataclass(frozen=True)
class Token:
    kind: str  # pp, comment, str, chr, num, ident, punct
    text: str
    line: int
    end_line: int


_TOKEN = re.compile(r"""
    (?P<ws>[ \t\r\f\v]+|\\\n|\n)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<str>"(?:\\.|[^"\\\n])*")
  | (?P<chr>'(?:\\.|[^'\\\n])*')
  | (?P<num>(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*)
  | (?P<ident>[A-Za-z_]\w*)
  | (?P<punct>\.\.\.|->|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^!~<>=?:;,.()\[\]{}])
""", re.S | re.X)
_DIRECTIVE = re.compile(r"[ \t]*#(?:[^\n\\]|\\.|\\\n)*", re.S)


def tokenize(text: str, path: str) -> list[Token]:
    tokens: list[Token] = []
    i, line, at_line_start = 0, 1, True
    while i < len(text):
        if at_line_start:
            m = _DIRECTIVE.match(text, i)
            if m:
                raw = m.group()
                body = re.sub(r"/\*.*?\*/|//.*", " ", raw.replace("\\\n", " "), flags=re.S)
                tokens.append(Token("pp", " ".join(body.split()), line, line + raw.count("\n")))
                line += raw.count("\n")
                i = m.end()
                at_line_start = False
                continue
        m = _TOKEN.match(text, i)
        if m is None:
            raise NotRecognised(Pos(path, line, 1), f"cannot read {text[i]!r} here")
        kind, value = m.lastgroup, m.group()
        newlines = value.count("\n")
        if kind != "ws":
            tokens.append(Token(kind, value, line, line + newlines))
        at_line_start = value == "\n" or (at_line_start and kind == "ws" and value != "\\\n")
        line += newlines
        i = m.end()
    return tokens


# --- top level ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """A top-level piece of the file: a directive, or a declaration or function."""

    tokens: tuple[Token, ...]
    first_line: int
    last_line: int

    @property
    def directive(self) -> str | None:
        return self.tokens[0].text if self.tokens[0].kind == "pp" else None


def _code(tokens) -> list[Token]:
    return [t for t in tokens if t.kind != "comment"]


_CLOSES = {")": "(", "}": "{", "]": "["}


def split_items(tokens: list[Token]) -> list[Item]:
    items, current, is_body = [], [], False
    opened: list[str] = []
    code = _code(tokens)
    for n, t in enumerate(code):
        if t.kind == "pp" and not opened:
            if current:
                raise NotRecognised(Pos("", t.line, 1), "a directive inside a declaration")
            items.append(Item((t,), t.line, t.end_line))
            continue
        current.append(t)
        if t.text in "({[" and t.kind == "punct":
            if t.text == "{" and not opened:
                prev = current[-2].text if len(current) > 1 else ""
                is_body = prev != "="
            opened.append(t.text)
        elif t.text in ")}]" and t.kind == "punct":
            if not opened or opened.pop() != _CLOSES[t.text]:
                raise NotRecognised(Pos("", t.line, 1), f"a '{t.text}' that closes nothing it opened")
            nxt = code[n + 1].text if n + 1 < len(code) else ""
            if not opened and t.text == "}" and is_body and nxt != ";":
                items.append(Item(tuple(current), current[0].line, t.end_line))
                current = []
        elif t.text == ";" and not opened:
            items.append(Item(tuple(current), current[0].line, t.end_line))
            current = []
    if current:
        raise NotRecognised(Pos("", current[0].line, 1), "the file ends inside a declaration")
    return items


# --- guards ------------------------------------------------------------------------------------

Guard = tuple[frozenset[str], ...]  # all of these, each any of its options
_IFDEF = re.compile(r"#\s*ifdef\s+CONFIG_(\w+)$")
_IF_DEFINED = re.compile(r"#\s*if\s+(defined\s*\(\s*CONFIG_\w+\s*\)(?:\s*\|\|\s*defined\s*\(\s*CONFIG_\w+\s*\))*)$")


def condition(directive: str) -> frozenset[str] | None:
    """The options of `#ifdef CONFIG_X` or `#if defined(CONFIG_A) || ...`; None for others."""
    m = _IFDEF.match(directive)
    if m:
        return frozenset({m.group(1)})
    m = _IF_DEFINED.match(directive)
    if m:
        return frozenset(re.findall(r"CONFIG_(\w+)", m.group(1)))
    return None


def _directive_kind(text: str) -> str:
    return re.match(r"#\s*(\w*)", text).group(1)


# --- initializers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Element:
    """One element of an initializer list, with the guards around it inside the list."""

    tokens: tuple[Token, ...]
    guard: Guard
    line: int


def elements(tokens: list[Token], path: str) -> list[Element]:
    """The comma-separated elements of the inside of a brace initializer."""
    out: list[Element] = []
    stack: list[frozenset[str]] = []
    current: list[Token] = []
    depth = 0
    for t in tokens:
        if t.kind == "pp" and depth == 0:
            kind = _directive_kind(t.text)
            if kind in ("if", "ifdef"):
                cond = condition(t.text)
                if cond is None:
                    raise NotRecognised(Pos(path, t.line, 1), f"'{t.text}' is not a Kconfig guard")
                stack.append(cond)
            elif kind == "endif" and stack:
                stack.pop()
            else:
                raise NotRecognised(Pos(path, t.line, 1), f"'{t.text}' in a table is not a Kconfig guard")
            continue
        if t.kind == "pp":
            raise NotRecognised(Pos(path, t.line, 1), f"'{t.text}' inside a table entry")
        if t.kind == "punct" and t.text in "({[":
            depth += 1
        elif t.kind == "punct" and t.text in ")}]":
            depth -= 1
        if t.kind == "punct" and t.text == "," and depth == 0:
            if current:
                out.append(Element(tuple(current), tuple(stack), current[0].line))
            current = []
            continue
        current.append(t)
    if current:
        out.append(Element(tuple(current), tuple(stack), current[0].line))
    return out


def _inside(tokens: tuple[Token, ...] | list[Token], path: str) -> list[Token]:
    """The tokens between a leading '{' and its matching last '}'."""
    if not tokens or tokens[0].text != "{" or tokens[-1].text != "}":
        raise NotRecognised(Pos(path, tokens[0].line if tokens else 0, 1), "expected a braced initializer")
    return list(tokens[1:-1])


def _args(tokens: tuple[Token, ...]) -> tuple[str, list[list[Token]]] | None:
    """NAME(arg, arg, ...) -> (NAME, [tokens of each arg])."""
    if len(tokens) < 3 or tokens[0].kind != "ident" or tokens[1].text != "(" or tokens[-1].text != ")":
        return None
    args, current, depth = [], [], 0
    for t in tokens[2:-1]:
        if t.text in "({[" and t.kind == "punct":
            depth += 1
        elif t.text in ")}]" and t.kind == "punct":
            depth -= 1
        if t.text == "," and depth == 0:
            args.append(current)
            current = []
            continue
        current.append(t)
    args.append(current)
    return tokens[0].text, args


def evaluate(tokens: list[Token]) -> int | str:
    """An integer expression of the tables (numbers, BIT(n), MIDR_CPU_VAR_REV(v, r), parens),
    or its text when it is something else (a macro or function name)."""
    while len(tokens) >= 2 and tokens[0].text == "(" and tokens[-1].text == ")":
        tokens = tokens[1:-1]
    if len(tokens) == 1 and tokens[0].kind == "num":
        return int(tokens[0].text.rstrip("uUlL"), 0)
    call = _args(tuple(tokens))
    if call is not None:
        name, args = call
        values = [evaluate(a) for a in args]
        if all(isinstance(v, int) for v in values):
            if name == "BIT" and len(values) == 1:
                return 1 << values[0]
            if name == "MIDR_CPU_VAR_REV" and len(values) == 2:
                return values[0] << 20 | values[1]
    return " ".join(t.text for t in tokens)


Range = tuple[str, Any, Any]  # (model macro, rv_min, rv_max)


def midr_range(tokens: tuple[Token, ...], path: str) -> Range:
    call = _args(tokens)
    line = tokens[0].line if tokens else 0
    if call is None:
        raise NotRecognised(Pos(path, line, 1), "expected a MIDR_* range macro")
    name, args = call
    v = [evaluate(a) for a in args]
    if name == "MIDR_ALL_VERSIONS" and len(v) == 1:
        return (v[0], 0, ALL)
    if name == "MIDR_REV" and len(v) == 3:
        return (v[0], _rv(v[1], v[2]), _rv(v[1], v[2]))
    if name == "MIDR_REV_RANGE" and len(v) == 4:
        return (v[0], _rv(v[1], v[2]), _rv(v[1], v[3]))
    if name == "MIDR_RANGE" and len(v) == 5:
        return (v[0], _rv(v[1], v[2]), _rv(v[3], v[4]))
    raise NotRecognised(Pos(path, line, 1), f"{name}() is not a MIDR range macro this reader knows")


def _rv(variant: Any, revision: Any) -> Any:
    if isinstance(variant, int) and isinstance(revision, int):
        return variant << 20 | revision
    return f"MIDR_CPU_VAR_REV({variant}, {revision})"


# What cpu_errata.c's own macros set: the fields of a row they stand for.
_RANGE_MACROS = {"ERRATA_MIDR_RANGE": "MIDR_RANGE", "ERRATA_MIDR_REV_RANGE": "MIDR_REV_RANGE",
                 "ERRATA_MIDR_REV": "MIDR_REV", "ERRATA_MIDR_ALL_VERSIONS": "MIDR_ALL_VERSIONS",
                 "CAP_MIDR_RANGE": "MIDR_RANGE", "CAP_MIDR_ALL_VERSIONS": "MIDR_ALL_VERSIONS"}


@dataclass(frozen=True)
class Table:
    name: str
    struct: str  # one of TABLE_STRUCTS
    static: bool
    elements: tuple[Element, ...]
    item: Item


def _fields(el: Element, path: str) -> dict[str, Any]:
    """A row of an arm64_cpu_capabilities array as {field: value}, macros expanded; a later
    designator wins, as in C."""
    out: dict[str, Any] = {}
    for f in elements(_inside(el.tokens, path), path):
        toks = f.tokens
        if toks[0].text == ".":
            eq = next((i for i, t in enumerate(toks) if t.text == "="), None)
            if eq is None:
                raise NotRecognised(Pos(path, f.line, 1), "a designator without a value")
            name = "".join(t.text for t in toks[1:eq])
            value_tokens = list(toks[eq + 1:])
            if name == "desc":
                out[name] = "".join(re.sub(r'^"|"$', "", t.text) for t in value_tokens)
            elif name == "midr_range":
                out["midr_range"] = midr_range(tuple(value_tokens), path)
            elif name == "midr_range.model":
                out["midr_range"] = (evaluate(value_tokens), 0, 0)
            elif name == "midr_range_list":
                out[name] = _list_value(value_tokens, path)
            elif name == "fixed_revs":
                out[name] = _fixed_revs(value_tokens, path)
            else:
                out[name] = evaluate(value_tokens)
            continue
        call = _args(toks)
        if call is None:
            raise NotRecognised(Pos(path, f.line, 1), f"'{' '.join(t.text for t in toks)}' in a row")
        name, args = call
        if name.startswith("ERRATA_"):
            out["type"] = LOCAL_CPU_ERRATUM
        if name in _RANGE_MACROS:
            out["matches"] = "is_affected_midr_range"
            inner = (Token("ident", _RANGE_MACROS[name], f.line, f.line), *toks[1:])
            out["midr_range"] = midr_range(inner, path)
        elif name in ("ERRATA_MIDR_RANGE_LIST", "CAP_MIDR_RANGE_LIST") and len(args) == 1:
            out["matches"] = "is_affected_midr_range_list"
            out["midr_range_list"] = _list_value(args[0], path)
        elif name == "MIDR_FIXED" and len(args) == 2:
            out["fixed_revs"] = ((evaluate(args[0]), evaluate(args[1])),)
        else:
            raise NotRecognised(Pos(path, f.line, 1), f"{name}() is not a table macro this reader knows")
    return out


def _fixed_revs(tokens: list[Token], path: str) -> Any:
    """REVIDR fixes written out, `(struct arm64_midr_revidr[]){ { rv, mask }, ..., {} }`, as the
    ((rv, mask), ...) that MIDR_FIXED gives; anything else as its text."""
    brace = next((i for i, t in enumerate(tokens) if t.text == "{"), None)
    if brace is None:
        return evaluate(tokens)
    fixes = []
    for el in elements(_inside(tokens[brace:], path), path):
        parts = [evaluate(list(p.tokens)) for p in elements(_inside(el.tokens, path), path)]
        if not parts:
            break  # the {} that ends the array, as for the kernel
        if len(parts) != 2 or not all(isinstance(v, int) for v in parts):
            raise NotRecognised(Pos(path, el.line, 1), "a REVIDR fix that is not { revision, mask }")
        fixes.append(tuple(parts))
    return tuple(fixes)


def _list_value(tokens: list[Token], path: str) -> Any:
    """A list's name, or the elements of a compound literal `(const struct midr_range[]) {...}`."""
    while len(tokens) >= 2 and tokens[0].text == "(" and tokens[-1].text == ")" and _balanced(tokens[1:-1]):
        tokens = tokens[1:-1]
    if len(tokens) == 1 and tokens[0].kind == "ident":
        return tokens[0].text
    brace = next((i for i, t in enumerate(tokens) if t.text == "{"), None)
    if brace is None:
        raise NotRecognised(Pos(path, tokens[0].line if tokens else 0, 1), "expected a list")
    return tuple(elements(_inside(tokens[brace:], path), path))


def _balanced(tokens: list[Token]) -> bool:
    depth = 0
    for t in tokens:
        if t.kind == "punct" and t.text in "({[":
            depth += 1
        elif t.kind == "punct" and t.text in ")}]":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


_TABLE_DECL = re.compile(r"^(?P<quals>(?:(?:static|const|__maybe_unused|__ro_after_init) )*)struct "
                         r"(?P<struct>\w+) (?P<quals2>(?:(?:const|__maybe_unused) )*)(?P<name>\w+) \[ \] = \{")


def table_of(item: Item, path: str) -> Table | None:
    """The item as an array of one of the TABLE_STRUCTS, or None."""
    code = item.tokens
    head = " ".join(t.text for t in code[: next((i for i, t in enumerate(code) if t.text == "{"), 0) + 1])
    m = _TABLE_DECL.match(head)
    if m is None or m.group("struct") not in TABLE_STRUCTS or code[-1].text != ";":
        return None
    brace = next(i for i, t in enumerate(code) if t.text == "{")
    els = tuple(elements(_inside(code[brace:-1], path), path))
    return Table(m.group("name"), m.group("struct"), "static" in m.group("quals").split(), els, item)


# --- the file ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GuardedRange:
    guard: Guard
    range: Range
    pos: Pos = field(compare=False)


@dataclass(frozen=True)
class RangeList:
    """A midr_range list as it means: its ranges, and its name only if code outside
    cpu_errata.c uses it (it is not static)."""

    exported: str | None
    ranges: tuple[GuardedRange, ...]


@dataclass(frozen=True)
class Row:
    """A row of arm64_errata[] (or of a match list), as it means: fields with the lists
    resolved into ((guard, range), ...) and match lists into rows."""

    guard: Guard
    fields: tuple[tuple[str, Any], ...]
    pos: Pos = field(compare=False)

    def get(self, name: str) -> Any:
        return dict(self.fields).get(name)


@dataclass(frozen=True)
class Source:
    """cpu_errata.c (or the generated table) read."""

    path: str
    text: str
    items: tuple[Item, ...]
    tables: dict[str, Table]
    includes: tuple[tuple[str, int], ...]  # (#include "name", line)

    def rows(self) -> tuple[Row, ...]:
        table = self.tables.get(ERRATA_TABLE)
        if table is None:
            raise NotRecognised(Pos(self.path, 1, 1), f"no {ERRATA_TABLE}[] initializer")
        return tuple(self._rows(table, set()))

    def _rows(self, table: Table, seen: set[str]) -> Iterator[Row]:
        if table.struct != "arm64_cpu_capabilities":
            raise NotRecognised(Pos(self.path, table.item.first_line, 1), f"{table.name} is not a list of rows")
        for el in table.elements:
            fields = _fields(el, self.path)
            if not fields:
                continue  # the terminator
            for name in ("midr_range_list", "match_list"):
                if name in fields:
                    fields[name] = self._resolve(fields[name], name, el.line, seen)
            yield Row(el.guard, tuple(sorted(fields.items())), Pos(self.path, el.line, 1))

    def _resolve(self, value: Any, kind: str, line: int, seen: set[str]) -> Any:
        if isinstance(value, tuple):
            return self._ranges(value, None)
        table = self.tables.get(value)
        if table is None:
            raise NotRecognised(Pos(self.path, line, 1), f"{value} is not a table of this file")
        if table.name in seen:
            raise NotRecognised(Pos(self.path, line, 1), f"{value} refers to itself")
        if kind == "match_list":
            return tuple(self._rows(table, seen | {table.name}))
        # A list used outside this file keeps its name and linkage.
        exported = None if table.static else table.name
        return self._ranges(table.elements, exported)

    def _ranges(self, els: tuple[Element, ...], exported: str | None) -> RangeList:
        return RangeList(exported, tuple(GuardedRange(el.guard, midr_range(el.tokens, self.path),
                                                      Pos(self.path, el.line, 1))
                                         for el in els if [t.text for t in el.tokens] != ["{", "}"]))


def read_source(text: str, path: str) -> Source:
    tokens = tokenize(text, path)
    try:
        items = split_items(tokens)
    except NotRecognised as exc:
        raise NotRecognised(Pos(path, exc.pos.line, 1), exc.reason) from None
    tables = {}
    includes = []
    for item in items:
        if item.directive:
            m = re.match(r'#\s*include\s+"([^"]+)"', item.directive)
            if m:
                includes.append((m.group(1), item.first_line))
            continue
        table = table_of(item, path)
        if table is not None:
            tables[table.name] = table
    return Source(path, text, tuple(items), tables, tuple(includes))


# --- comparing two spellings of the table ------------------------------------------------------


def _show(value: Any) -> str:
    if value is None:
        return "absent"
    if isinstance(value, RangeList):
        return f"a list of {len(value.ranges)} range(s)"
    if isinstance(value, tuple) and value and isinstance(value[0], Row):
        return f"a list of {len(value)} entries"
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, tuple) and len(value) == 3:
        model, low, high = value
        if isinstance(low, int) and isinstance(high, int):
            # As the registry and every report write a range: "all", "r1p2", "r0p0..r3p1".
            return f"{model} {revision_range_str((low >> 20, low & 0xF), (high >> 20, high & 0xF))}"
        return f"{model} {_rev(low)}..{_rev(high)}"
    return repr(value)


def _rev(rv: Any) -> str:
    return rev_str((rv >> 20, rv & 0xF)) if isinstance(rv, int) else str(rv)


def _guard_text(guard: Guard) -> str:
    return " && ".join("(" + " || ".join(sorted(g)) + ")" for g in guard) or "no guard"


def _list_differences(what: str, at: Pos, t: RangeList, o: RangeList) -> Iterator[tuple[Pos, str]]:
    if t.exported != o.exported:
        yield at, f"{what}: the list is {_linkage(t.exported)} here, {_linkage(o.exported)} in the registry's table"
    for tr, orr in zip(t.ranges, o.ranges):
        if tr.range != orr.range:
            yield tr.pos, f"{what}: range {_show(tr.range)} here, {_show(orr.range)} in the registry's table"
        elif tr.guard != orr.guard:
            yield (tr.pos, f"{what}: range {_show(tr.range)} is guarded by {_guard_text(tr.guard)} here, "
                   f"by {_guard_text(orr.guard)} in the registry's table")
    for tr in t.ranges[len(o.ranges):]:
        yield tr.pos, f"{what}: range {_show(tr.range)} is not in the registry's table"
    for orr in o.ranges[len(t.ranges):]:
        yield at, f"{what}: the registry's range {_show(orr.range)} is not in this list"


def _linkage(name: str | None) -> str:
    return f"{name}, used outside this file" if name else "static"


def differences(tree: tuple[Row, ...], ours: tuple[Row, ...], what: str = "") -> Iterator[tuple[Pos, str]]:
    """Where the tree's rows mean something else than ours: (position in the tree, reason).
    Rows are paired by capability (entries of a match list, which have none, by place), so
    that one missing row is one message."""
    def key(i: int, row: Row) -> Any:
        return row.get("capability") or f"entry {i}"

    mine = {key(i, r): (i, r) for i, r in enumerate(ours)}
    theirs = {key(i, r): (i, r) for i, r in enumerate(tree)}
    last = tree[-1].pos if tree else Pos("", 1, 1)
    for k, (i, t) in theirs.items():
        if k not in mine:
            yield t.pos, f"{what}{k} is not in the registry's table"
    for k, (i, o) in mine.items():
        if k not in theirs:
            yield last, f"{what}the registry's {k} is not in this table"
    common = [k for k in theirs if k in mine]
    for k in common:
        (i, t), (_, o) = theirs[k], mine[k]
        if t == o:
            continue
        here = f"{what}{k}"
        if t.guard != o.guard:
            yield t.pos, f"{here} is guarded by {_guard_text(t.guard)}, the registry's by {_guard_text(o.guard)}"
        tf, of = dict(t.fields), dict(o.fields)
        for name in sorted(tf.keys() | of.keys()):
            a, b = tf.get(name), of.get(name)
            if a == b:
                continue
            if isinstance(a, RangeList) and isinstance(b, RangeList):
                yield from _list_differences(f"{here} .{name}", t.pos, a, b)
            elif isinstance(a, tuple) and isinstance(b, tuple) and name == "match_list":
                yield from differences(a, b, f"{here} .match_list ")
            else:
                yield t.pos, f"{here}: .{name} is {_show(a)} here, {_show(b)} in the registry's table"
    order = sorted(common, key=lambda k: mine[k][0])
    for k, expected in zip(common, order):
        if k != expected:
            i, t = theirs[k]
            yield t.pos, f"{what}{k} comes here, where the registry's table has {expected}"
            break


# --- replacing the hand-written tables -----------------------------------------------------------

INCLUDE_COMMENT = "/* The errata tables, generated from the errata registry by errata-db */"


def _references(src: Source) -> list[Table]:
    """arm64_errata[] and every table it names, directly or through another table."""
    found: dict[str, Table] = {}
    todo = [ERRATA_TABLE]
    while todo:
        name = todo.pop()
        if name in found or name not in src.tables:
            continue
        found[name] = src.tables[name]
        todo += [t.text for t in src.tables[name].item.tokens if t.kind == "ident" and t.text in src.tables]
    return list(found.values())


def _span(src: Source, item: Item, lines: list[str]) -> tuple[int, int]:
    """The lines (1-based, inclusive) that go with a table: a guard around it alone, the
    comment right above, and one blank line after it when one is left before it."""
    i = src.items.index(item)
    first, last = item.first_line, item.last_line
    before = src.items[i - 1] if i else None
    after = src.items[i + 1] if i + 1 < len(src.items) else None
    if (before is not None and after is not None and before.directive and after.directive
            and _directive_kind(before.directive) in ("if", "ifdef")
            and _directive_kind(after.directive) == "endif"):
        first, last = before.first_line, after.last_line
    while first > 1 and lines[first - 2].strip().startswith(("/*", "*", "//")):
        first -= 1
    if (first == 1 or not lines[first - 2].strip()) and last < len(lines) and not lines[last].strip():
        last += 1
    return first, last


def convert(src: Source, generated: Source, include: str) -> str:
    """cpu_errata.c with its tables replaced by an #include of the generated ones. The caller
    has checked that both spell the same table (differences() is empty)."""
    lines = src.text.splitlines(keepends=True)
    tables = _references(src)
    spans = sorted(_span(src, t.item, lines) for t in tables)
    for (_, a_last), (b_first, _) in zip(spans, spans[1:]):
        if b_first <= a_last:
            raise NotRecognised(Pos(src.path, b_first, 1), "two tables share lines")
    gone = {t.name for t in tables}
    errata_first = _span(src, src.tables[ERRATA_TABLE].item, lines)[0]
    for item in src.items:
        if any(item is t.item for t in tables):
            continue
        for tok in item.tokens:
            if tok.kind == "ident" and tok.text in gone and (
                    tok.text not in generated.tables or item.first_line > errata_first):
                raise NotRecognised(Pos(src.path, tok.line, 1),
                                    f"{tok.text} is used here, outside the tables that are replaced")
            if tok.kind == "ident" and tok.text in generated.tables and tok.text not in gone and table_of(item, src.path):
                raise NotRecognised(Pos(src.path, tok.line, 1), f"{tok.text} is defined here and by {include}")
    out: list[str] = []
    line = 1
    for first, last in spans:
        out += lines[line - 1:first - 1]
        if first == errata_first:
            out += [INCLUDE_COMMENT + "\n", f'#include "{include}"\n']
        line = last + 1
    out += lines[line - 1:]
    return "".join(out)


def tested_configs(text: str) -> frozenset[str]:
    """Every Kconfig symbol cpu_errata.c names: the options of arm64_errata[] and its code."""
    return frozenset(re.findall(r"\bCONFIG_([A-Za-z0-9_]+)", text))


def defines_function(text: str, function: str) -> bool:
    """Whether a C file defines the function: its name at the start of a declaration, then
    its parameters (a call sits inside a body, indented)."""
    return re.search(rf"^\w[^;]*\b{function}\s*\(", text, re.M) is not None


def is_converted(src: Source, include: str) -> bool:
    return ERRATA_TABLE not in src.tables and any(name == include for name, _ in src.includes)


def function_ranges(src: Source, function: str) -> tuple[GuardedRange, ...]:
    """The MIDR ranges a matcher function of the file declares in its own body
    (`const struct midr_range range = MIDR_ALL_VERSIONS(...);`): the ranges of a row whose
    matcher keeps them out of the table."""
    for item in src.items:
        code = item.tokens
        body = next((i for i, t in enumerate(code) if t.text == "{"), len(code))
        # The definition names the function before its body; a caller names it inside one.
        names = [i for i, t in enumerate(code[:body]) if t.kind == "ident" and t.text == function]
        if not names or code[-1].text != "}" or code[names[0] + 1].text != "(":
            continue
        out = []
        for i in range(len(code) - 3):
            if [t.text for t in code[i:i + 2]] == ["struct", "midr_range"] and code[i + 3].text == "=":
                end = next((j for j in range(i + 4, len(code)) if code[j].text == ";"), None)
                if end is None:
                    raise NotRecognised(Pos(src.path, code[i].line, 1),
                                        f"the range {function}() declares has no ';'")
                out.append(GuardedRange((), midr_range(tuple(code[i + 4:end]), src.path),
                                        Pos(src.path, code[i].line, 1)))
        return tuple(out)
    return ()
