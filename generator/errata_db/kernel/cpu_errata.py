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
from dataclasses import dataclass, field, replace
from functools import cached_property
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


# The reader's bounds, some thirty times what Linux 7.3's cpu_errata.c needs (3,600 tokens, 50
# rows, brackets five deep): a file past them is refused at the place it crosses them, before
# it costs time or memory.
MAX_TOKENS = 100_000
MAX_ENTRIES = 1_000  # rows or ranges in one table or list
MAX_DEPTH = 32  # brackets inside one another

U64 = (1 << 64) - 1
U32 = (1 << 32) - 1


@dataclass(frozen=True)
class Token:
    kind: str  # pp, comment, str, chr, num, ident, punct
    text: str
    line: int
    end_line: int
    start: int = field(default=0, compare=False)  # offsets in the file's text
    end: int = field(default=0, compare=False)


# gcc reads LF, CR LF and a lone CR alike as the end of a line, line continuations included.
_NEWLINE = r"(?:\r\n|\r|\n)"
_NEWLINES = re.compile(_NEWLINE)
_TOKEN = re.compile(rf"""
    (?P<nl>{_NEWLINE})
  | (?P<ws>[ \t\f\v]+|\\{_NEWLINE})
  | (?P<comment>//(?:[^\r\n\\]|\\{_NEWLINE}|\\)*|/\*.*?\*/)
  | (?P<unclosed>/\*)
  | (?P<str>"(?:\\.|[^"\\\r\n])*")
  | (?P<chr>'(?:\\.|[^'\\\r\n])*')
  | (?P<num>\.?[0-9](?:[eEpP][-+]|[0-9A-Za-z_.])*)
  | (?P<ident>[A-Za-z_]\w*)
  | (?P<punct>\.\.\.|->|<<|>>|<=|>=|==|!=|&&|\|\||\+\+|--|[-+*/%&|^!~<>=?:;,.()\[\]{{}}])
""", re.S | re.X)
_DIRECTIVE = re.compile(rf"[ \t\f\v]*\#(?:/\*.*?\*/|[^\r\n\\/]|/(?!\*)|\\{_NEWLINE}|\\)*", re.S)


def _lines(text: str) -> int:
    return len(_NEWLINES.findall(text)) if "\n" in text or "\r" in text else 0


def tokenize(text: str, path: str) -> list[Token]:
    tokens: list[Token] = []
    i, line, at_line_start = 0, 1, True
    while i < len(text):
        if len(tokens) > MAX_TOKENS:
            raise NotRecognised(Pos(path, line, 1), f"more than {MAX_TOKENS} tokens: past what this reader "
                                "reads of one file")
        if at_line_start:
            m = _DIRECTIVE.match(text, i)
            if m:
                raw = m.group()
                body = re.sub(rf"/\*.*?\*/|//.*|\\{_NEWLINE}", " ", raw, flags=re.S)
                tokens.append(Token("pp", " ".join(body.split()), line, line + _lines(raw), m.start(), m.end()))
                line += _lines(raw)
                i = m.end()
                at_line_start = False
                continue
        m = _TOKEN.match(text, i)
        if m is None:
            raise NotRecognised(Pos(path, line, 1), f"cannot read {text[i]!r} here")
        kind, value = m.lastgroup, m.group()
        if kind == "unclosed":
            raise NotRecognised(Pos(path, line, 1), "a comment that is never closed")
        newlines = _lines(value)
        if kind not in ("ws", "nl"):
            tokens.append(Token(kind, value, line, line + newlines, m.start(), m.end()))
        at_line_start = kind == "nl" or (at_line_start and kind == "ws" and newlines == 0)
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
            if len(opened) > MAX_DEPTH:
                raise NotRecognised(Pos("", t.line, 1), f"brackets more than {MAX_DEPTH} deep: past what this "
                                    "reader reads")
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


_OPENS = ("if", "ifdef", "ifndef")


def _unsure_items(items: list[Item], path: str) -> dict[int, Token]:
    """The items (by index) inside a conditional the reader cannot evaluate, with its directive.
    The reader takes every `#ifdef CONFIG_X` (and `#if defined(CONFIG_X) || ...`) as taken, and
    a header's include guard; an #else or #elif makes both branches the kernel's, each for
    some configuration, and any other condition is one it cannot decide."""
    out: dict[int, Token] = {}
    frames: list[tuple[int, Token, Token | None]] = []  # (first index, opening directive, the unsure one)
    for i, item in enumerate(items):
        d = item.directive
        if d is None:
            continue
        kind, tok = _directive_kind(d), item.tokens[0]
        if kind in _OPENS:
            guard = kind == "ifndef" and i + 1 < len(items) and (items[i + 1].directive or "").split() == [
                "#define", d.split()[-1]]
            frames.append((i, tok, None if condition(d) is not None or guard else tok))
        elif kind in ("else", "elif", "endif"):
            if not frames:
                raise NotRecognised(Pos(path, tok.line, 1), f"'{d}' with no #if before it")
            first, opening, unsure = frames[-1]
            if kind == "endif":
                frames.pop()
                if unsure is not None:
                    for j in range(first, i):
                        out.setdefault(j, unsure)
            else:
                frames[-1] = (first, opening, unsure or tok)
    if frames:
        raise NotRecognised(Pos(path, frames[-1][1].line, 1), f"'{frames[-1][1].text}' is never closed by an #endif")
    return out


# --- numbers -----------------------------------------------------------------------------------

_INTEGER = re.compile(r"(?:0[xX](?P<x>[0-9a-fA-F]+)|0[bB](?P<b>[01]+)|(?P<o>0[0-7]*)|(?P<d>[1-9][0-9]*))"
                      r"(?:[uU](?:ll|LL|l|L)?|(?:ll|LL|l|L)[uU]?)?")


def integer(tok: Token, path: str) -> int:
    """A C integer constant's value: hexadecimal, binary, octal (a leading 0) or decimal, with
    any of C's suffixes."""
    m = _INTEGER.fullmatch(tok.text)
    if m is None:
        raise NotRecognised(Pos(path, tok.line, 1), f"'{tok.text}' is not a C integer constant")
    value = (int(m.group("x"), 16) if m.group("x") else int(m.group("b"), 2) if m.group("b")
             else int(m.group("o"), 8) if m.group("o") else int(m.group("d")))
    if value > U64:
        raise NotRecognised(Pos(path, tok.line, 1), f"{tok.text} does not fit in 64 bits")
    return value


# --- initializers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Element:
    """One element of an initializer list, with the guards around it inside the list."""

    tokens: tuple[Token, ...]
    guard: Guard
    line: int
    guard_line: int = field(default=0, compare=False)  # the innermost guard's directive


def elements(tokens: list[Token], path: str) -> list[Element]:
    """The comma-separated elements of the inside of a brace initializer."""
    out: list[Element] = []
    stack: list[tuple[frozenset[str], Token]] = []
    current: list[Token] = []
    depth = 0
    for t in tokens:
        if t.kind == "pp" and depth == 0:
            kind = _directive_kind(t.text)
            if kind in ("if", "ifdef"):
                cond = condition(t.text)
                if cond is None:
                    raise NotRecognised(Pos(path, t.line, 1), f"'{t.text}' is not a Kconfig guard")
                stack.append((cond, t))
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
                out.append(Element(tuple(current), tuple(g for g, _ in stack), current[0].line,
                                   stack[-1][1].line if stack else 0))
                if len(out) > MAX_ENTRIES:
                    raise NotRecognised(Pos(path, t.line, 1), f"more than {MAX_ENTRIES} entries in one "
                                        "table: past what this reader reads")
            current = []
            continue
        current.append(t)
    if stack:
        raise NotRecognised(Pos(path, stack[-1][1].line, 1), f"'{stack[-1][1].text}' is not closed inside "
                            "the table")
    if current:
        out.append(Element(tuple(current), tuple(g for g, _ in stack), current[0].line,
                           stack[-1][1].line if stack else 0))
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
            if depth < 0:
                return None  # NAME(a) + (b): the first ')' closes the call
        if t.text == "," and depth == 0:
            args.append(current)
            current = []
            continue
        current.append(t)
    args.append(current)
    return tokens[0].text, args


def _strip(tokens: list[Token]) -> list[Token]:
    while len(tokens) >= 2 and tokens[0].text == "(" and tokens[-1].text == ")" and _balanced(tokens[1:-1]):
        tokens = tokens[1:-1]
    return tokens


def evaluate(tokens: list[Token], path: str) -> int | str:
    """An integer expression of the tables (numbers, BIT(n), MIDR_CPU_VAR_REV(v, r), parens),
    computed as the kernel's macros do it, or its text when it is something else (a macro or
    function name). A value C could not hold in 64 bits is refused."""
    tokens = _strip(tokens)
    if len(tokens) == 1 and tokens[0].kind == "num":
        return integer(tokens[0], path)
    call = _args(tuple(tokens))
    if call is not None:
        name, args = call
        values = [evaluate(a, path) for a in args]
        if all(isinstance(v, int) for v in values):
            at = Pos(path, tokens[0].line, 1)
            if name == "BIT" and len(values) == 1:
                if values[0] > 63:
                    raise NotRecognised(at, f"BIT({values[0]}) is past the 64 bits of an unsigned long")
                return 1 << values[0]
            if name == "MIDR_CPU_VAR_REV" and len(values) == 2:
                value = values[0] << 20 | values[1]
                if value > U64:
                    raise NotRecognised(at, f"MIDR_CPU_VAR_REV({values[0]}, {values[1]}) does not fit in 64 bits")
                return value
    return " ".join(t.text for t in tokens)


Range = tuple[str, Any, Any]  # (model macro, rv_min, rv_max)


def midr_range(tokens: tuple[Token, ...], path: str) -> Range:
    call = _args(tokens)
    line = tokens[0].line if tokens else 0
    if call is None:
        raise NotRecognised(Pos(path, line, 1), "expected a MIDR_* range macro")
    name, args = call
    v = [evaluate(a, path) for a in args]
    at = Pos(path, line, 1)
    if name == "MIDR_ALL_VERSIONS" and len(v) == 1:
        return (v[0], 0, ALL)
    if name == "MIDR_REV" and len(v) == 3:
        return (v[0], *_compared(_rv(v[1], v[2]), _rv(v[1], v[2]), at))
    if name == "MIDR_REV_RANGE" and len(v) == 4:
        return (v[0], *_compared(_rv(v[1], v[2]), _rv(v[1], v[3]), at))
    if name == "MIDR_RANGE" and len(v) == 5:
        return (v[0], *_compared(_rv(v[1], v[2]), _rv(v[3], v[4]), at))
    raise NotRecognised(at, f"{name}() is not a MIDR range macro this reader knows")


def _rv(variant: Any, revision: Any) -> Any:
    if isinstance(variant, int) and isinstance(revision, int):
        return variant << 20 | revision
    return f"MIDR_CPU_VAR_REV({variant}, {revision})"


def _compared(low: Any, high: Any, at: Pos) -> tuple[Any, Any]:
    """rv_min and rv_max as the kernel's compare reads them: a MIDR's variant and revision,
    (variant << 20 | revision) with each below 16, between the two. A number past those
    fields (MIDR_RANGE(m, 0, 0, 3, 0x11)) stands for the variants and revisions it lets in
    (r0p0..r3p15)."""
    if not (isinstance(low, int) and isinstance(high, int)):
        return low, high
    for value in (low, high):
        if value > U32:
            raise NotRecognised(at, f"{value:#x} does not fit in the 32 bits of struct midr_range's rv_min "
                                "and rv_max")
    variant, revision = low >> 20, low & 0xFFFFF
    if revision > 0xF:
        variant, revision = variant + 1, 0
    top, top_revision = min(high >> 20, 0xF), (0xF if high >> 20 > 0xF else min(high & 0xFFFFF, 0xF))
    if variant > 0xF or (variant, revision) > (top, top_revision):
        raise NotRecognised(at, f"the range from {low:#x} to {high:#x} lets in no variant and revision a MIDR "
                            "can have: it matches no CPU")
    return variant << 20 | revision, top << 20 | top_revision


# What cpu_errata.c's own macros set: the fields of a row they stand for.
_RANGE_MACROS = {"ERRATA_MIDR_RANGE": "MIDR_RANGE", "ERRATA_MIDR_REV_RANGE": "MIDR_REV_RANGE",
                 "ERRATA_MIDR_REV": "MIDR_REV", "ERRATA_MIDR_ALL_VERSIONS": "MIDR_ALL_VERSIONS",
                 "CAP_MIDR_RANGE": "MIDR_RANGE", "CAP_MIDR_ALL_VERSIONS": "MIDR_ALL_VERSIONS"}
_LIST_MACROS = ("ERRATA_MIDR_RANGE_LIST", "CAP_MIDR_RANGE_LIST")

# The kernel's definitions of the macros the reader expands itself: cpu_errata.c may define them
# so (every Linux since 4.17 does), and in no other way.
KERNEL_MACROS = """
#define CAP_MIDR_RANGE(model, v_min, r_min, v_max, r_max) .matches = is_affected_midr_range, .midr_range = MIDR_RANGE(model, v_min, r_min, v_max, r_max)
#define CAP_MIDR_ALL_VERSIONS(model) .matches = is_affected_midr_range, .midr_range = MIDR_ALL_VERSIONS(model)
#define MIDR_FIXED(rev, revidr_mask) .fixed_revs = (struct arm64_midr_revidr[]){{ (rev), (revidr_mask) }, {}}
#define ERRATA_MIDR_RANGE(model, v_min, r_min, v_max, r_max) .type = ARM64_CPUCAP_LOCAL_CPU_ERRATUM, CAP_MIDR_RANGE(model, v_min, r_min, v_max, r_max)
#define CAP_MIDR_RANGE_LIST(list) .matches = is_affected_midr_range_list, .midr_range_list = list
#define ERRATA_MIDR_REV_RANGE(m, var, r_min, r_max) ERRATA_MIDR_RANGE(m, var, r_min, var, r_max)
#define ERRATA_MIDR_REV(model, var, rev) ERRATA_MIDR_RANGE(model, var, rev, var, rev)
#define ERRATA_MIDR_ALL_VERSIONS(model) .type = ARM64_CPUCAP_LOCAL_CPU_ERRATUM, CAP_MIDR_ALL_VERSIONS(model)
#define ERRATA_MIDR_RANGE_LIST(midr_list) .type = ARM64_CPUCAP_LOCAL_CPU_ERRATUM, CAP_MIDR_RANGE_LIST(midr_list)
"""
# Names whose meaning the reader builds in: a #define or #undef of one changes what it reads.
BUILT_IN = frozenset({"MIDR_ALL_VERSIONS", "MIDR_REV", "MIDR_REV_RANGE", "MIDR_RANGE", "MIDR_CPU_VAR_REV", "BIT",
                      "NULL", "true", "false", "is_midr_in_range", "is_midr_in_range_list",
                      "is_affected_midr_range", "is_affected_midr_range_list", "is_kryo_midr",
                      "cpucap_multi_entry_cap_matches", "ARM64_CPUCAP_LOCAL_CPU_ERRATUM"})


def _definition(text: str, path: str, line: int) -> tuple[str, tuple[str, ...] | None, tuple[str, ...]]:
    """A #define as (name, parameters or None, body with each parameter as its place)."""
    m = re.match(r"#\s*define\s+(\w+)(\(([^)]*)\))?(.*)$", text, re.S)
    if m is None:
        raise NotRecognised(Pos(path, line, 1), f"'{text}' defines no name")
    params = tuple(p.strip() for p in m.group(3).split(",")) if m.group(2) else None
    body = tuple(f"#{params.index(t.text)}" if params and t.text in params else t.text
                 for t in tokenize(m.group(4), path))
    return m.group(1), params and tuple(str(i) for i in range(len(params))), body


_KNOWN = {d[0]: d for d in (_definition(line, "", 0) for line in KERNEL_MACROS.strip().splitlines())}


def _fields(el: Element, path: str) -> dict[str, Any]:
    """A row of an arm64_cpu_capabilities array as {field: value}, macros expanded. A later
    designator of a plain field wins, as in C; the range fields share a union in struct
    arm64_cpu_capabilities, so a row may set them once, and only one of them."""
    out: dict[str, Any] = {}
    lines: dict[str, int] = {}

    def put(name: str, value: Any, line: int) -> None:
        storage = "midr_range" if name.startswith("midr_range.") else name
        if storage in _ONCE:
            if storage in lines:
                raise NotRecognised(Pos(path, line, 1), f"a second .{storage} in this row (the first at line "
                                    f"{lines[storage]}): the kernel keeps the last, this reader refuses both")
            other = next((o for o in lines if o in _UNION and _UNION[o] != _UNION.get(storage)), None)
            if other is not None and storage in _UNION:
                raise NotRecognised(Pos(path, line, 1), f".{storage} and .{other} (line {lines[other]}) share a "
                                    "union in struct arm64_cpu_capabilities: the kernel keeps only the last")
        lines[storage] = line
        out[storage] = value

    for f in elements(_inside(el.tokens, path), path):
        toks = f.tokens
        if toks[0].text == ".":
            eq = next((i for i, t in enumerate(toks) if t.text == "="), None)
            if eq is None or eq + 1 == len(toks):
                raise NotRecognised(Pos(path, f.line, 1), "a designator without a value")
            name = "".join(t.text for t in toks[1:eq])
            value_tokens = list(toks[eq + 1:])
            if name not in _DESIGNATORS:
                raise NotRecognised(Pos(path, f.line, 1), f".{name} is not a field of an errata row this "
                                    "reader reads")
            if name == "desc":
                value: Any = "".join(re.sub(r'^"|"$', "", t.text) for t in value_tokens)
            elif name == "midr_range":
                value = midr_range(tuple(value_tokens), path)
            elif name == "midr_range.model":
                value = (evaluate(value_tokens, path), 0, 0)
            elif name == "midr_range_list":
                value = _list_value(value_tokens, path)
            elif name == "fixed_revs":
                value = _fixed_revs(value_tokens, path)
            else:
                value = evaluate(value_tokens, path)
            put(name, value, f.line)
            continue
        call = _args(toks)
        if call is None:
            raise NotRecognised(Pos(path, f.line, 1), f"'{' '.join(t.text for t in toks)}' in a row")
        name, args = call
        if not all(args):
            raise NotRecognised(Pos(path, f.line, 1), f"{name}() with an empty argument")
        if name.startswith("ERRATA_") and (name in _RANGE_MACROS or name in _LIST_MACROS):
            put("type", LOCAL_CPU_ERRATUM, f.line)
        if name in _RANGE_MACROS:
            put("matches", "is_affected_midr_range", f.line)
            inner = (Token("ident", _RANGE_MACROS[name], f.line, f.line), *toks[1:])
            put("midr_range", midr_range(inner, path), f.line)
        elif name in _LIST_MACROS and len(args) == 1:
            put("matches", "is_affected_midr_range_list", f.line)
            put("midr_range_list", _list_value(args[0], path), f.line)
        elif name == "MIDR_FIXED" and len(args) == 2:
            put("fixed_revs", _fixes([(evaluate(args[0], path), evaluate(args[1], path), f.line)], path), f.line)
        else:
            raise NotRecognised(Pos(path, f.line, 1), f"{name}() is not a table macro this reader knows")
    return out


_DESIGNATORS = frozenset({"desc", "capability", "type", "matches", "cpu_enable", "midr_range", "midr_range.model",
                          "midr_range_list", "fixed_revs", "match_list"})
_ONCE = frozenset({"midr_range", "fixed_revs", "midr_range_list", "match_list"})
_UNION = {"midr_range": "range", "fixed_revs": "range", "midr_range_list": "list"}


def _fixed_revs(tokens: list[Token], path: str) -> tuple[tuple[int, int], ...]:
    """REVIDR fixes written out, `(struct arm64_midr_revidr[]){ { rv, mask }, ..., {} }`."""
    brace = next((i for i, t in enumerate(tokens) if t.text == "{"), None)
    if brace is None:
        raise NotRecognised(Pos(path, tokens[0].line if tokens else 0, 1),
                            f"REVIDR fixes written as '{' '.join(t.text for t in tokens)}': this reader reads "
                            "them written out, or as MIDR_FIXED()")
    fixes = []
    for el in elements(_inside(tokens[brace:], path), path):
        parts = [evaluate(list(p.tokens), path) for p in elements(_inside(el.tokens, path), path)]
        if len(parts) > 2:
            raise NotRecognised(Pos(path, el.line, 1), "a REVIDR fix that is not { revision, mask }")
        fixes.append((*parts, *[0] * (2 - len(parts)), el.line))
    return _fixes(fixes, path, terminated=False)


def _fixes(fixes: list[tuple[Any, Any, int]], path: str, terminated: bool = True) -> tuple[tuple[int, int], ...]:
    """The fixes the kernel's loop reads: up to the first with no mask, which ends the array
    (MIDR_FIXED writes that end itself)."""
    out = []
    for rv, mask, line in fixes:
        at = Pos(path, line, 1)
        if not (isinstance(rv, int) and isinstance(mask, int)):
            raise NotRecognised(at, f"a REVIDR fix of '{rv}' and '{mask}': not numbers this reader can compute")
        if mask == 0:
            return tuple(out)
        if rv >> 20 > 0xF or rv & ~(0xF << 20 | 0xF):
            raise NotRecognised(at, f"a REVIDR fix for {rv:#x}, which is no variant and revision a MIDR can have")
        if mask > U32:
            raise NotRecognised(at, f"a REVIDR mask of {mask:#x}, past REVIDR_EL1's 32 bits")
        out.append((rv, mask))
    if not terminated:
        raise NotRecognised(Pos(path, fixes[-1][2] if fixes else 0, 1), "REVIDR fixes with no {} at their end: "
                            "the kernel reads past them")
    return tuple(out)


def _list_value(tokens: list[Token], path: str) -> Any:
    """A list's name, or the elements of a compound literal `(const struct midr_range[]) {...}`."""
    tokens = _strip(tokens)
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


@dataclass(frozen=True)
class Table:
    name: str
    struct: str  # one of TABLE_STRUCTS
    static: bool
    elements: tuple[Element, ...]
    item: Item
    unsure: tuple[int, str] | None = None  # (line, why) when the reader cannot say the kernel compiles it


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
    guard_pos: Pos | None = field(default=None, compare=False)  # where its guard opens


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
    guard_pos: Pos | None = field(default=None, compare=False)  # where its guard opens

    def get(self, name: str) -> Any:
        return dict(self.fields).get(name)


def _ends(fields: dict[str, Any]) -> bool:
    """Whether a row ends its array: the kernel walks an arm64_cpu_capabilities array up to
    the first row without a matcher."""
    return fields.get("matches") in (None, 0, "NULL")


@dataclass(frozen=True)
class Source:
    """cpu_errata.c (or the generated table) read."""

    path: str
    text: str
    tokens: tuple[Token, ...]  # comments included
    items: tuple[Item, ...]
    tables: dict[str, Table]
    includes: tuple[tuple[str, int], ...]  # (#include "name", line)
    unsure: dict[int, Token]  # item index -> the conditional around it the reader cannot evaluate

    @cached_property
    def config_order(self) -> dict[str, int]:
        """Each Kconfig option the file names -> the place it first does."""
        found: dict[str, int] = {}
        for m in re.finditer(r"\bCONFIG_(\w+)", self.text):
            found.setdefault(m.group(1), m.start())
        return found

    def rows(self) -> tuple[Row, ...]:
        """arm64_errata[]'s rows, up to the row that ends it."""
        table = self.table(ERRATA_TABLE, 1)
        self.check_definitions(self.used_names())
        return tuple(self._rows(table, set()))

    def table(self, name: str, line: int) -> Table:
        """The table the kernel compiles under that name; `line` names it."""
        table = self.tables.get(name)
        if table is None:
            what = f"no {ERRATA_TABLE}[] initializer" if name == ERRATA_TABLE else f"{name} is not a table of this file"
            raise NotRecognised(Pos(self.path, line, 1), what)
        if table.unsure is not None:
            raise NotRecognised(Pos(self.path, table.unsure[0], 1), table.unsure[1])
        return table

    def used_names(self) -> frozenset[str]:
        """Every name the tables use, and the names the reader builds in."""
        return BUILT_IN | frozenset(_KNOWN) | {t.text for table in self.tables.values()
                                               for t in table.item.tokens if t.kind == "ident"}

    def check_definitions(self, names: frozenset[str]) -> None:
        """Refuses a #define or #undef of a name the tables' meaning depends on, but for the
        kernel's own definitions of the macros the reader expands, and any of a Kconfig option:
        the reader takes every `#ifdef CONFIG_X` as the enabled build takes it, which a
        `#define CONFIG_X` or `#undef CONFIG_X` in the file turns around."""
        for tok in self.tokens:
            kind = _directive_kind(tok.text) if tok.kind == "pp" else ""
            option = re.match(r"#\s*(?:define|undef)\s+(CONFIG_\w+)", tok.text) if tok.kind == "pp" else None
            if option:
                raise NotRecognised(Pos(self.path, tok.line, 1), f"an #{kind} of {option.group(1)} in this file: the "
                                    "reader reads each Kconfig option as the kernel's configuration sets it, "
                                    "and cannot follow the file changing it")
            if kind == "define":
                definition = _definition(tok.text, self.path, tok.line)
                if definition[0] in names and _KNOWN.get(definition[0]) != definition:
                    raise NotRecognised(Pos(self.path, tok.line, 1), f"a #define of {definition[0]}, which the "
                                        f"errata table uses: the reader reads {definition[0]} as the kernel's "
                                        "headers define it, and cannot follow another definition")
            elif kind == "undef":
                name = tok.text.split()[-1] if len(tok.text.split()) > 1 else ""
                if name in names:
                    raise NotRecognised(Pos(self.path, tok.line, 1), f"an #undef of {name}, which the errata "
                                        f"table uses: the reader reads {name} as the kernel's headers define it")

    def function(self, name: str) -> tuple[Item, int, int] | None:
        """The definition of a function of the file, the index of its name and that of its body's
        '{', or None."""
        found = None
        for i, item in enumerate(self.items):
            code = item.tokens
            body = next((j for j, t in enumerate(code) if t.text == "{"), len(code))
            # The definition names the function before its body; a caller names it inside one.
            names = [j for j, t in enumerate(code[:body]) if t.kind == "ident" and t.text == name]
            if not names or code[-1].text != "}" or code[names[0] + 1].text != "(":
                continue
            if i in self.unsure:
                raise NotRecognised(Pos(self.path, self.unsure[i].line, 1), f"'{self.unsure[i].text}' around "
                                    f"{name}(): the reader cannot say which definition the kernel compiles")
            if found is not None:
                raise NotRecognised(Pos(self.path, item.first_line, 1), f"{name}() is defined a second time "
                                    f"(first at line {found[0].first_line})")
            found = (item, names[0], body)
        return found

    def _rows(self, table: Table, seen: set[str]) -> Iterator[Row]:
        if table.struct != "arm64_cpu_capabilities":
            raise NotRecognised(Pos(self.path, table.item.first_line, 1), f"{table.name} is not a list of rows")
        for el in table.elements:
            fields = _fields(el, self.path)
            if _ends(fields):
                if el.guard:
                    raise NotRecognised(Pos(self.path, el.line, 1), f"a row without a matcher under a Kconfig "
                                        f"guard: it ends {table.name}[] for the kernel only in some configurations")
                return
            for name in ("midr_range_list", "match_list"):
                if name in fields:
                    fields[name] = self._resolve(fields[name], name, el.line, seen)
            yield Row(el.guard, tuple(sorted(fields.items())), Pos(self.path, el.line, 1),
                      Pos(self.path, el.guard_line, 1) if el.guard else None)
        raise NotRecognised(Pos(self.path, table.item.last_line, 1), f"{table.name}[] has no {{}} at its end: "
                            "the kernel reads past its last row")

    def _resolve(self, value: Any, kind: str, line: int, seen: set[str]) -> Any:
        if isinstance(value, tuple):
            return self._ranges(value, None, "the list", line)
        table = self.table(value, line)
        if table.name in seen:
            raise NotRecognised(Pos(self.path, line, 1), f"{value} refers to itself")
        if kind == "match_list":
            return tuple(self._rows(table, seen | {table.name}))
        if table.struct != "midr_range":
            raise NotRecognised(Pos(self.path, line, 1), f"{value} is not a list of MIDR ranges")
        # A list used outside this file keeps its name and linkage.
        exported = None if table.static else table.name
        return self._ranges(table.elements, exported, table.name, table.item.last_line)

    def _ranges(self, els: tuple[Element, ...], exported: str | None, name: str, last: int) -> RangeList:
        """The ranges the kernel's is_midr_in_range_list() walks: up to the first whose model is
        0, as `{}` is."""
        out = []
        for el in els:
            texts = [t.text for t in el.tokens]
            r = None if texts in (["{", "}"], ["{", "0", "}"]) else midr_range(el.tokens, self.path)
            if r is None or r[0] == 0:
                if el.guard:
                    raise NotRecognised(Pos(self.path, el.line, 1), f"the end of {name} under a Kconfig guard: "
                                        "the kernel stops there only in some configurations")
                return RangeList(exported, tuple(out))
            out.append(GuardedRange(el.guard, r, Pos(self.path, el.line, 1),
                                    Pos(self.path, el.guard_line, 1) if el.guard else None))
        raise NotRecognised(Pos(self.path, last, 1), f"{name} has no {{}} at its end: the kernel reads past its "
                            "last range")


def read_source(text: str, path: str) -> Source:
    tokens = tokenize(text, path)
    try:
        items = split_items(tokens)
    except NotRecognised as exc:
        raise NotRecognised(Pos(path, exc.pos.line, 1), exc.reason) from None
    unsure = _unsure_items(items, path)
    tables: dict[str, Table] = {}
    includes = []
    for i, item in enumerate(items):
        if item.directive:
            m = re.match(r'#\s*include\s+"([^"]+)"', item.directive)
            if m:
                includes.append((m.group(1), item.first_line))
            continue
        table = table_of(item, path)
        if table is None:
            continue
        if i in unsure:
            table = replace(table, unsure=(unsure[i].line, f"'{unsure[i].text}' around {table.name}[]: the reader "
                                                            "takes each #ifdef CONFIG_ as enabled, and cannot say "
                                                            "which definition the kernel compiles"))
        elif table.name in tables:
            table = replace(table, unsure=(item.first_line, f"{table.name}[] is defined a second time (first at "
                                                           f"line {tables[table.name].item.first_line})"))
        tables[table.name] = table
    return Source(path, text, tuple(tokens), tuple(items), tables, tuple(includes), unsure)


def read_code(text: str, path: str) -> Source:
    """A C file read for its functions alone, none of its tables: cpufeature.c's feature tables
    are written in ways no errata table is (an #ifdef inside a row)."""
    tokens = tokenize(text, path)
    try:
        items = split_items(tokens)
    except NotRecognised as exc:
        raise NotRecognised(Pos(path, exc.pos.line, 1), exc.reason) from None
    return Source(path, text, tuple(tokens), tuple(items), {}, (), _unsure_items(items, path))


def function_lists(src: Source, function: str) -> tuple[tuple[Token, ...], dict[str, tuple[RangeList, Pos]]] | None:
    """The body of a function of the file without the midr_range lists it declares
    (`static const struct midr_range name[] = {...};`), and those lists by name, each read as
    is_midr_in_range_list() walks it, with where it is declared; None when the file does not
    define the function."""
    found = src.function(function)
    if found is None:
        return None
    item, _, brace = found
    body = item.tokens[brace + 1:-1]
    rest: list[Token] = []
    lists: dict[str, tuple[RangeList, Pos]] = {}
    i = 0
    while i < len(body):
        texts = [t.text for t in body[i:i + 7]]
        if texts[:2] == ["struct", "midr_range"] and texts[3:7] == ["[", "]", "=", "{"]:
            name, opened = texts[2], i + 6
            depth, close = 0, opened
            for close in range(opened, len(body)):
                depth += body[close].text == "{"
                depth -= body[close].text == "}"
                if depth == 0:
                    break
            if close + 1 >= len(body) or body[close + 1].text != ";":
                raise NotRecognised(Pos(src.path, body[i].line, 1), f"{name}[] in {function}() has no ';' after it")
            if name in lists:
                raise NotRecognised(Pos(src.path, body[i].line, 1), f"{name}[] is declared a second time in "
                                    f"{function}()")
            els = tuple(elements(_inside(body[opened:close + 1], src.path), src.path))
            lists[name] = (src._ranges(els, None, name, body[close].line), Pos(src.path, body[i].line, 1))
            while rest and rest[-1].text in ("static", "const"):
                rest.pop()
            i = close + 2
            continue
        rest.append(body[i])
        i += 1
    return tuple(rest), lists


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


def differences(tree: tuple[Row, ...], ours: tuple[Row, ...], at: Pos, what: str = "") -> Iterator[tuple[Pos, str]]:
    """Where the tree's rows mean something else than ours: (position in the tree, reason).
    Rows are paired by capability (entries of a match list, which have none, by place), so
    that one missing row is one message; `at` is where a table without rows is."""
    def key(i: int, row: Row) -> Any:
        return row.get("capability") or f"entry {i}"

    mine = {key(i, r): (i, r) for i, r in enumerate(ours)}
    theirs = {key(i, r): (i, r) for i, r in enumerate(tree)}
    last = tree[-1].pos if tree else at
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
                yield from differences(a, b, t.pos, f"{here} .match_list ")
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


def _line_start(text: str, at: int) -> int:
    return max(text.rfind("\n", 0, at), text.rfind("\r", 0, at)) + 1


def _line_end(text: str, at: int) -> int:
    """The offset after the end of the line `at` is on, its newline included."""
    m = _NEWLINES.search(text, at)
    return m.end() if m else len(text)


def _span(src: Source, item: Item) -> tuple[int, int]:
    """The text (offsets) that goes with a table: whole lines, from a guard around it alone
    and the comments right above it, each on lines of their own, to its end and a comment
    on its last line; and one blank line after it when one is left before it. A table that
    shares a line with other code is refused."""
    text, tokens = src.text, src.tokens
    index = {t.start: n for n, t in enumerate(tokens)}
    first, last = index[item.tokens[0].start], index[item.tokens[-1].start]
    i = src.items.index(item)
    before = src.items[i - 1] if i else None
    after = src.items[i + 1] if i + 1 < len(src.items) else None
    if (before is not None and after is not None and before.directive and after.directive
            and _directive_kind(before.directive) in ("if", "ifdef")
            and _directive_kind(after.directive) == "endif"):
        first, last = index[before.tokens[0].start], index[after.tokens[0].start]
    while (first > 0 and tokens[first - 1].kind == "comment" and tokens[first - 1].end_line >= tokens[first].line - 1
           and not text[_line_start(text, tokens[first - 1].start):tokens[first - 1].start].strip()):
        first -= 1
    if last + 1 < len(tokens) and tokens[last + 1].kind == "comment" and tokens[last + 1].line == tokens[
            last].end_line == tokens[last + 1].end_line:
        last += 1
    start, end = _line_start(text, tokens[first].start), _line_end(text, tokens[last].end)
    if text[start:tokens[first].start].strip() or text[tokens[last].end:end].strip():
        line = tokens[first].line if text[start:tokens[first].start].strip() else tokens[last].end_line
        raise NotRecognised(Pos(src.path, line, 1), f"{item.tokens[0].text if item.directive else 'a table'} "
                            "shares this line with other code: the tables are taken out by whole lines")
    if (start == 0 or not text[_line_start(text, start - 1):start].strip()) and end < len(text) and not text[
            end:_line_end(text, end)].strip():
        end = _line_end(text, end)
    return start, end


def convert(src: Source, generated: Source, include: str) -> str:
    """cpu_errata.c with its tables replaced by an #include of the generated ones. The caller
    has checked that both spell the same table (differences() is empty). The result is read
    again: it must be the file's own tokens, comments included, less those of the tables and
    what goes with them, or it is refused."""
    tables = _references(src)
    spans = sorted(_span(src, t.item) for t in tables)
    for (_, a_end), (b_start, _) in zip(spans, spans[1:]):
        if b_start < a_end:
            raise NotRecognised(Pos(src.path, src.text.count("\n", 0, b_start) + 1, 1), "two tables share lines")
    gone = {t.name for t in tables}
    errata_start = _span(src, src.tables[ERRATA_TABLE].item)[0]
    errata_first = next(t.line for t in src.tokens if t.start >= errata_start)
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
    newline = m.group() if (m := _NEWLINES.search(src.text)) else "\n"
    added = INCLUDE_COMMENT + newline + f'#include "{include}"' + newline
    out: list[str] = []
    kept: list[Token] = []
    at = 0
    for start, end in spans:
        out.append(src.text[at:start])
        kept += [t for t in src.tokens if at <= t.start < start]
        if start == errata_start:
            out.append(added)
            kept += tokenize(added, src.path)
        at = end
    out.append(src.text[at:])
    kept += [t for t in src.tokens if t.start >= at]
    result = "".join(out)
    again = tokenize(result, src.path)
    if [(t.kind, t.text) for t in again] != [(t.kind, t.text) for t in kept]:
        wrong = next((a for a, b in zip(kept, again) if (a.kind, a.text) != (b.kind, b.text)), kept[-1] if kept else None)
        raise NotRecognised(Pos(src.path, wrong.line if wrong else 1, 1), "taking the tables out would change the "
                            "code around them here")
    return result


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
    found = src.function(function)
    if found is None:
        return ()
    code = found[0].tokens
    out = []
    for i in range(len(code) - 3):
        if [t.text for t in code[i:i + 2]] == ["struct", "midr_range"] and code[i + 3].text == "=":
            end = next((j for j in range(i + 4, len(code)) if code[j].text == ";"), None)
            if end is None:
                raise NotRecognised(Pos(src.path, code[i].line, 1), f"the range {function}() declares has no ';'")
            out.append(GuardedRange((), midr_range(tuple(code[i + 4:end]), src.path),
                                    Pos(src.path, code[i].line, 1)))
    return tuple(out)


# --- what a matcher of the file requires ---------------------------------------------------------

# The calls that are true only on a match of the ranges a row holds, by where it holds them: the
# entry's list or range (read by the kernel's own matchers, or passed to the MIDR compare), or a
# range the matcher declares.
READS = {
    "midr_range_list": "is_affected_midr_range_list(entry, scope)",
    "midr_range": "is_affected_midr_range(entry, scope)",
    "body": "is_midr_in_range(&range)",
}


def requires(src: Source, function: str, holds: str, fixes: bool = False) -> str | None:
    """None when the matcher function of the file returns true only where the ranges the row
    holds (`holds`, one of READS) match, so that they are the CPUs it affects, and something
    else may only narrow them; else why the reader cannot tell. Every return must be false, or
    a conjunction (&&) of such a call and anything else, or come after an `if (!call || ...)
    return false;` at the top of the body."""
    found = src.function(function)
    if found is None:
        return f"is not a function of {src.path.rsplit('/', 1)[-1]}"
    item, name_at, brace = found
    code = list(item.tokens)
    # Its parameters follow its name: an attribute before the name has brackets of its own.
    params = code[name_at + 2:brace]
    entry = next((t.text for t in reversed(params[:next((i for i, t in enumerate(params) if t.text == ","),
                                                         len(params))]) if t.kind == "ident"), "")
    body = code[brace + 1:-1]
    locals_ = {body[i + 2].text for i in range(1, len(body) - 3)
               if [t.text for t in body[i - 1:i + 2]] == ["const", "struct", "midr_range"] and body[i + 3].text == "="}
    for t in body:
        if t.kind == "pp" or t.text == "goto":
            return f"has '{t.text}' in its body (line {t.line}), which this reader does not follow"
    for i, t in enumerate(body):
        before, after = (body[j].text if 0 <= j < len(body) else "" for j in (i - 1, i + 1))
        if t.text == entry and ({before, after} & {"=", "++", "--"} or before == "&" and after != "->"):
            return f"changes or passes on the address of its {entry} (line {t.line})"

    def matches(tokens: list[Token]) -> bool:
        call = _args(tuple(_strip(tokens)))
        if call is None:
            return False
        name, args = call
        texts = [[t.text for t in a] for a in args]
        if holds == "midr_range_list":
            return (name == "is_affected_midr_range_list" and texts[:1] == [[entry]]
                    or name == "is_midr_in_range_list" and [entry, "->", "midr_range_list"] in texts)
        if holds == "midr_range":
            # is_midr_in_range() compares the MIDR alone: a row with REVIDR fixes needs the kernel's own matcher.
            return (name == "is_affected_midr_range" and texts[:1] == [[entry]]
                    or name == "is_midr_in_range" and not fixes and ["&", entry, "->", "midr_range"] in texts)
        return name == "is_midr_in_range" and any(a[:1] == ["&"] and a[1:] and a[1] in locals_ and len(a) == 2
                                                  for a in texts)

    def split(tokens: list[Token], op: str) -> list[list[Token]]:
        parts, current, depth = [], [], 0
        for t in tokens:
            depth += t.text in "([{" and t.kind == "punct"
            depth -= t.text in ")]}" and t.kind == "punct"
            if t.text == op and depth == 0:
                parts.append(current)
                current = []
            else:
                current.append(t)
        return parts + [current]

    def ends(i: int) -> int:
        """The index of the ';' that ends the statement of body[i] at its depth."""
        depth = 0
        for j in range(i, len(body)):
            depth += body[j].text in "([" and body[j].kind == "punct"
            depth -= body[j].text in ")]" and body[j].kind == "punct"
            if body[j].text == ";" and depth == 0:
                return j
        return len(body)

    # The first `if (!call || ...) return false;` directly in the body: every return after it
    # comes after a match.
    sure, depth = len(body), 0
    for i, t in enumerate(body):
        if t.text == "if" and depth == 0 and i + 1 < len(body) and body[i + 1].text == "(":
            close, level = i + 1, 0
            for close in range(i + 1, len(body)):
                level += body[close].text == "("
                level -= body[close].text == ")"
                if level == 0:
                    break
            rest = [x.text for x in body[close + 1:close + 6]]
            if (rest[:3] == ["return", "false", ";"] or rest[:5] == ["{", "return", "false", ";", "}"]) and any(
                    d and d[0].text == "!" and matches(d[1:]) for d in split(body[i + 2:close], "||")):
                sure = close
                break
        depth += t.text == "{"
        depth -= t.text == "}"
    for i, t in enumerate(body):
        if t.text != "return" or i > sure:
            continue
        value = _strip(body[i + 1:ends(i)])
        if [x.text for x in value] in (["false"], ["0"]) or any(matches(c) for c in split(value, "&&")):
            continue
        return f"returns '{' '.join(x.text for x in value)}' at line {t.line}, which {READS[holds]} does not decide"
    return None
