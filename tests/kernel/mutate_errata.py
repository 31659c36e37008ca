#!/usr/bin/env python3
"""Mutations of arch/arm64/kernel/cpu_errata.c aimed at what its errata tables mean, for the
reader fuzz (tests/test_reader_fuzz_linux.py).

    mutate_errata.py CPU_ERRATA_C CLASS SEED [DOT_CONFIG] [--diff]

prints the mutated file (or, with --diff, a unified diff of it) that CLASS and SEED make of
CPU_ERRATA_C (DOT_CONFIG: the build's .config, whose options that are on the guards' classes
use), and the mutation on stderr: how a failure of the fuzz is replayed.

Each class is a function of the file's text and a random.Random; it picks its site (a range, a
row, a list, a line of the tables) and its change from the generator alone, so one (class, seed)
always makes the same mutation of one file. A class returns None when the file has no site for
it. The tables are found by a small scanner of C (comments, strings, directives, brackets), which
shares nothing with errata_db's reader: the mutations may make C that reader has never seen.

The classes change what the table means (a revision, a model, a range or a row dropped,
duplicated or swapped, a `{}` terminator inserted or removed, a designator repeated, a matcher,
a field dropped, the REVIDR fixes), how the preprocessor sees it (guards that are on, off or
undefined, `#else`, `#undef` of an option, a range macro redefined, a macro of our own), or only
how it is spelt (CRLF, line splices, digraphs, reflowed lines, renamed lists, descriptions,
number spellings), and some break it (a line commented out, a character deleted or inserted).
Which of them the kernel builds, and what its table then holds, the fuzz asks the kernel's own
build; the mutations do not say.
"""

from __future__ import annotations

import bisect
import difflib
import functools
import random
import re
import sys
from dataclasses import dataclass
from typing import Callable

# Options no Kconfig file defines: no kernel build has them on.
NEVER = "CONFIG_ERRATA_DB_FUZZ_NEVER"
MIDR_MATCHERS = ("is_affected_midr_range", "is_affected_midr_range_list", "is_kryo_midr",
                 "cpucap_multi_entry_cap_matches", "has_mismatched_cache_type")
_TABLE = re.compile(r"\bstruct\s+(midr_range|arm64_cpu_capabilities|arm64_midr_revidr)\s+"
                    r"(?:const\s+|__maybe_unused\s+)*(\w+)\s*\[\s*\]\s*=\s*\{")
_LITERAL = re.compile(r"\(\s*(?:const\s+)?struct\s+(midr_range|arm64_cpu_capabilities|arm64_midr_revidr)"
                      r"\s*\[\s*\]\s*\)\s*\{")
_RANGE_CALL = re.compile(r"\b(?:ERRATA_)?MIDR_(ALL_VERSIONS|REV_RANGE|REV|RANGE)\s*\(")
# Which arguments of each range macro are a variant or a revision.
_REV_ARGS = {"ALL_VERSIONS": (), "REV": (1, 2), "REV_RANGE": (1, 2, 3), "RANGE": (1, 2, 3, 4)}


@dataclass(frozen=True)
class Mutation:
    cls: str
    seed: int
    text: str
    what: str  # the change, with its line in the original file

    def diff(self, original: str, name: str = "cpu_errata.c") -> str:
        return "".join(difflib.unified_diff(original.splitlines(keepends=True), self.text.splitlines(keepends=True),
                                            f"a/{name}", f"b/{name}", n=2))


@dataclass(frozen=True)
class Element:
    """One element of a brace initializer list: [start, end) of its text, the comma after it
    (or None), and whether it has its lines to itself."""

    start: int
    end: int
    comma: int | None
    alone: bool
    terminator: bool


@dataclass(frozen=True)
class List:
    struct: str  # midr_range, arm64_cpu_capabilities or arm64_midr_revidr
    name: str | None  # None for a compound literal
    static: bool
    decl: int  # where the declaration's line starts (the literal's '(' for a compound literal)
    open: int
    close: int
    elements: tuple[Element, ...]


class Scan:
    """cpu_errata.c's text with what is code, the brackets matched and the tables found."""

    def __init__(self, text: str):
        self.text = text
        self.kind = _classify(text)  # per character: 0 blank/comment/directive, 1 code, 2 literal
        self.pair: dict[int, int] = {}
        stack: list[int] = []
        for i, c in enumerate(text):
            if self.kind[i] != 1:
                continue
            if c in "({[":
                stack.append(i)
            elif c in ")}]" and stack:
                self.pair[stack.pop()] = i
        self.newlines = [i for i, c in enumerate(text) if c == "\n"]
        lists = []
        for pattern in (_TABLE, _LITERAL):
            for m in pattern.finditer(text):
                open_ = m.end() - 1
                if self.kind[m.start()] != 1 or open_ not in self.pair:
                    continue
                named = pattern is _TABLE
                decl = self.line_start(m.start()) if named else m.start()
                head = text[decl:m.start()]
                lists.append(List(m.group(1), m.group(2) if named else None, named and "static" in head.split(),
                                  decl, open_, self.pair[open_], tuple(self.elements(open_))))
        self.lists = sorted(lists, key=lambda lst: lst.open)

    # --- positions -------------------------------------------------------------------------

    def line(self, pos: int) -> int:
        return bisect.bisect_left(self.newlines, pos) + 1

    def line_start(self, pos: int) -> int:
        return self.text.rfind("\n", 0, pos) + 1

    def line_end(self, pos: int) -> int:
        """Just past the newline that ends pos's line (the end of the text on the last line)."""
        end = self.text.find("\n", pos)
        return len(self.text) if end < 0 else end + 1

    def indent(self, pos: int) -> str:
        start = self.line_start(pos)
        return re.match(r"[ \t]*", self.text[start:]).group()

    # --- initializer lists -------------------------------------------------------------------

    def elements(self, open_: int) -> list[Element]:
        """The comma-separated elements between open_ and its matching bracket."""
        out, i, close = [], open_ + 1, self.pair[open_]
        first = last = None
        while i < close:
            k = self.kind[i]
            if k == 1 and self.text[i] == ",":
                if first is not None:
                    out.append(self._element(first, last + 1, i))
                first = last = None
                i += 1
                continue
            if k and not self.text[i].isspace():
                first = i if first is None else first
                if k == 1 and i in self.pair:
                    i = self.pair[i]
                last = i
            i += 1
        if first is not None:
            out.append(self._element(first, last + 1, None))
        return out

    def _element(self, start: int, end: int, comma: int | None) -> Element:
        after = (comma + 1) if comma is not None else end
        line_start, line_end = self.line_start(start), self.line_end(after)
        alone = (self.text[line_start:start].strip() == ""
                 and all(self.kind[j] == 0 for j in range(after, line_end))
                 and "#" not in self.text[after:line_end])
        code = "".join(c for j, c in enumerate(self.text[start:end], start) if self.kind[j] and not c.isspace())
        return Element(start, end, comma, alone, code == "{}")

    def rows(self, errata_only: bool = False) -> list[Element]:
        return [e for lst in self.lists if lst.struct == "arm64_cpu_capabilities"
                and (not errata_only or lst.name == "arm64_errata") for e in lst.elements if not e.terminator]

    def ranges(self) -> list[Element]:
        return [e for lst in self.lists if lst.struct == "midr_range" for e in lst.elements if not e.terminator]

    def in_lists(self, pos: int) -> bool:
        return any(lst.open < pos < lst.close for lst in self.lists)

    def fields(self, row: Element) -> list[Element]:
        """A row's designators and macros, as elements of its braces."""
        if self.text[row.start] != "{" or row.start not in self.pair:
            return []
        return [f for f in self.elements(row.start) if not f.terminator]

    def range_calls(self) -> list[tuple[str, int, int, list[tuple[int, int]]]]:
        """Every range macro of the tables: (kind, start, end, [(start, end) of each argument])."""
        out = []
        for m in _RANGE_CALL.finditer(self.text):
            paren = m.end() - 1
            if self.kind[m.start()] != 1 or paren not in self.pair or not self.in_lists(m.start()):
                continue
            args = [(e.start, e.end) for e in self.elements(paren)]
            out.append((m.group(1), m.start(), self.pair[paren] + 1, args))
        return out

    def capability(self, row: Element) -> str | None:
        m = re.search(r"\.capability\s*=\s*(ARM64_\w+)", self.text[row.start:row.end])
        return m.group(1) if m else None

    def options_on(self, config: set[str]) -> list[str]:
        """The Kconfig options cpu_errata.c tests that the build has on."""
        return sorted({o for o in re.findall(r"\bCONFIG_\w+", self.text) if o in config})


def _classify(text: str) -> bytearray:
    kind = bytearray(len(text))
    i, n, line_start = 0, len(text), True
    while i < n:
        c = text[i]
        if line_start and c == "#":
            j = i
            while j < n and text[j] != "\n":
                j += 2 if text[j] == "\\" and j + 1 < n and text[j + 1] in "\r\n" else 1
                if text[j - 1] == "\r" and j < n and text[j] == "\n" and text[j - 2] == "\\":
                    j += 1
            i = j
            continue
        if c == "\n":
            line_start = True
            i += 1
            continue
        if c in " \t\r\f\v":
            i += 1
            continue
        line_start = False
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            kind[i:j + 1] = b"\2" * (min(j + 1, n) - i)
            i = j + 1
            continue
        kind[i] = 1
        i += 1
    return kind


@functools.lru_cache(maxsize=4)
def _scan(text: str) -> Scan:
    return Scan(text)


# --- the classes -----------------------------------------------------------------------------


class Ctx:
    """What a class may use: the scan, the generator, the build's options that are on."""

    def __init__(self, text: str, rng: random.Random, config: set[str]):
        self.text, self.rng, self.scan, self.config = text, rng, _scan(text), config

    def at(self, pos: int) -> str:
        return f"line {self.scan.line(pos)}"

    def edit(self, start: int, end: int, new: str) -> str:
        return self.text[:start] + new + self.text[end:]

    def pick(self, seq):
        seq = list(seq)
        return self.rng.choice(seq) if seq else None

    def on_option(self) -> str:
        return self.pick(self.scan.options_on(self.config)) or "CONFIG_ARM64"

    def lines_of(self, el: Element) -> tuple[int, int]:
        end = el.comma + 1 if el.comma is not None else el.end
        return self.scan.line_start(el.start), self.scan.line_end(end)

    def alone(self, els) -> list[Element]:
        return [e for e in els if e.alone]


def _numbers(ctx: Ctx) -> list[tuple[int, int]]:
    """Every variant or revision argument of the tables' range macros that is a plain number."""
    out = []
    for kind, _, _, args in ctx.scan.range_calls():
        for k in _REV_ARGS[kind]:
            if k < len(args):
                a, b = args[k]
                if re.fullmatch(r"0[xX][0-9a-fA-F]+|\d+", ctx.text[a:b]):
                    out.append((a, b))
    return out


def _number(ctx: Ctx, spell: Callable[[int, str], str], cls: str) -> tuple[str, str] | None:
    site = ctx.pick(_numbers(ctx))
    if site is None:
        return None
    a, b = site
    old = ctx.text[a:b]
    new = spell(int(old, 16) if old.lower().startswith("0x") else int(old, 8 if old.startswith("0") and len(old) > 1
                                                                          else 10), old)
    if new == old:
        return None
    return ctx.edit(a, b, new), f"{ctx.at(a)}: {cls} {old} -> {new}"


def m_revision(ctx: Ctx):
    """A variant or revision number changed to another one of 0-15."""
    def spell(value, old):
        v = ctx.rng.choice([x for x in range(16) if x != value])
        return hex(v) if old.lower().startswith("0x") else str(v)
    return _number(ctx, spell, "variant/revision")


def m_revision_out_of_range(ctx: Ctx):
    """A variant or revision past its four bits: the kernel's arithmetic spills into the next field."""
    return _number(ctx, lambda value, old: ctx.rng.choice(["0x10", "0x11", "16", "0x1f", "255", "0x100"]),
                   "variant/revision")


def m_revision_octal(ctx: Ctx):
    """A variant or revision written in octal, as C reads a leading 0."""
    return _number(ctx, lambda value, old: "0%o" % ctx.rng.choice([1, 2, 7, 8, 9, 10, 12, 15]), "variant/revision")


def m_number_spelling(ctx: Ctx):
    """A variant or revision spelt another way C gives the same value."""
    def spell(value, old):
        forms = [f"({old})", f"{old}U", f"{value:#x}UL", f"({value} + 0)", f"({value:#x} | 0)", f"(1 ? {old} : 9)",
                 f"'\\{value:o}'", f"(({old}))"]
        if value and value & (value - 1) == 0:
            forms.append(f"BIT({value.bit_length() - 1})")
        return ctx.rng.choice(forms)
    return _number(ctx, spell, "same value")


def m_model(ctx: Ctx):
    """A range's CPU model replaced by another model the tables name."""
    calls = ctx.scan.range_calls()
    models = sorted({ctx.text[a:b] for _, _, _, args in calls for a, b in args[:1]
                     if re.fullmatch(r"MIDR_\w+", ctx.text[a:b])})
    call = ctx.pick(c for c in calls if c[3])
    if call is None:
        return None
    a, b = call[3][0]
    old = ctx.text[a:b]
    new = ctx.pick(m for m in models if m != old)
    return ctx.edit(a, b, new), f"{ctx.at(a)}: model {old} -> {new}"


def _swap(ctx: Ctx, x: tuple[int, int], y: tuple[int, int]) -> str:
    (a, b), (c, d) = sorted([x, y])
    t = ctx.text
    return t[:a] + t[c:d] + t[b:c] + t[a:b] + t[d:]


def m_swap_ranges(ctx: Ctx):
    """Two ranges swapped: two elements of range lists (in one list or two), or the range macros of
    two rows."""
    if ctx.rng.random() < 0.5:
        pair = [(e.start, e.end) for e in ctx.scan.ranges()]
    else:
        pair = [(s, e) for kind, s, e, _ in ctx.scan.range_calls() if ctx.text[s:s + 7] == "ERRATA_"]
    if len(pair) < 2:
        return None
    x, y = ctx.rng.sample(pair, 2)
    return _swap(ctx, x, y), f"{ctx.at(x[0])} and {ctx.at(y[0])}: ranges swapped"


def _delete(ctx: Ctx, el: Element) -> str:
    if el.alone:
        a, b = ctx.lines_of(el)
        return ctx.edit(a, b, "")
    return ctx.edit(el.start, el.comma + 1 if el.comma is not None else el.end, "")


def m_drop_range(ctx: Ctx):
    """One range of a range list deleted."""
    el = ctx.pick(ctx.scan.ranges())
    if el is None:
        return None
    return _delete(ctx, el), f"{ctx.at(el.start)}: range {ctx.text[el.start:el.end]!r} deleted"


def _copy_after(ctx: Ctx, el: Element, copy: str | None = None) -> str:
    body = ctx.text[el.start:el.end] if copy is None else copy
    if el.alone:
        a, b = ctx.lines_of(el)
        block = ctx.text[a:b]
        if copy is not None:
            block = block.replace(ctx.text[el.start:el.end], copy, 1)
        return ctx.text[:b] + block + ctx.text[b:]
    if el.comma is None:
        return ctx.edit(el.end, el.end, ", " + body)
    return ctx.edit(el.comma + 1, el.comma + 1, " " + body + ",")


def m_dup_range(ctx: Ctx):
    """One range of a range list written twice."""
    el = ctx.pick(ctx.scan.ranges())
    if el is None:
        return None
    return _copy_after(ctx, el), f"{ctx.at(el.start)}: range {ctx.text[el.start:el.end]!r} duplicated"


def m_drop_row(ctx: Ctx):
    """One row of arm64_errata[] or of a match list deleted."""
    el = ctx.pick(ctx.scan.rows())
    if el is None:
        return None
    return _delete(ctx, el), f"{ctx.at(el.start)}: row deleted"


def m_dup_row(ctx: Ctx):
    """A row of arm64_errata[] written twice: the same, or with one copy's range changed (the kernel
    takes the first row of a capability and warns of the others)."""
    el = ctx.pick(ctx.scan.rows(errata_only=True))
    if el is None:
        return None
    row = ctx.text[el.start:el.end]
    how = ctx.rng.choice(["same", "later changed", "earlier changed"])
    changed = re.sub(r"\bMIDR_(ALL_VERSIONS|REV_RANGE|REV|RANGE)\(\s*(MIDR_\w+)",
                     lambda m: f"MIDR_{m.group(1)}(MIDR_CORTEX_A57" if m.group(2) != "MIDR_CORTEX_A57"
                     else f"MIDR_{m.group(1)}(MIDR_CORTEX_A72", row, count=1)
    if how == "same" or changed == row:
        return _copy_after(ctx, el), f"{ctx.at(el.start)}: row duplicated"
    if how == "later changed":
        return _copy_after(ctx, el, changed), f"{ctx.at(el.start)}: row duplicated, the copy after it on another model"
    text = _copy_after(ctx, el)  # the first copy is el's place: change it
    return (text[:el.start] + changed + text[el.end:],
            f"{ctx.at(el.start)}: row duplicated, the copy before it on another model")


def m_swap_rows(ctx: Ctx):
    """Two rows of one capabilities list swapped (their guards stay where they were)."""
    lst = ctx.pick(lst for lst in ctx.scan.lists if lst.struct == "arm64_cpu_capabilities"
                   and sum(not e.terminator for e in lst.elements) >= 2)
    if lst is None:
        return None
    x, y = ctx.rng.sample([e for e in lst.elements if not e.terminator], 2)
    return _swap(ctx, (x.start, x.end), (y.start, y.end)), f"{ctx.at(x.start)} and {ctx.at(y.start)}: rows swapped"


def m_terminator(ctx: Ctx):
    """A `{}` inserted before an element of a list: the kernel stops reading the list there."""
    lst = ctx.pick(lst for lst in ctx.scan.lists if any(not e.terminator for e in lst.elements))
    if lst is None:
        return None
    el = ctx.pick(e for e in lst.elements if not e.terminator)
    if el.alone:
        a = ctx.scan.line_start(el.start)
        text = ctx.edit(a, a, ctx.scan.indent(el.start) + "{},\n")
    else:
        text = ctx.edit(el.start, el.start, "{}, ")
    return text, f"{ctx.at(el.start)}: {{}} inserted in {lst.name or 'a compound literal'}"


def m_drop_terminator(ctx: Ctx):
    """The `{}` that ends a list deleted: the kernel reads past the list's end."""
    lst = ctx.pick(lst for lst in ctx.scan.lists if lst.elements and lst.elements[-1].terminator)
    if lst is None:
        return None
    el = lst.elements[-1]
    return _delete(ctx, el), f"{ctx.at(el.start)}: the terminator of {lst.name or 'a compound literal'} deleted"


def _add_field(ctx: Ctx, row: Element, field: str, first: bool = False) -> str:
    if first:
        return ctx.edit(row.start + 1, row.start + 1, f" {field},")
    close = row.end - 1
    j = close - 1
    while j > row.start and (ctx.scan.kind[j] != 1 or ctx.text[j].isspace()):
        j -= 1
    sep = "" if ctx.text[j] in ",{" else ","
    at = ctx.scan.line_start(close)
    if ctx.text[at:close].strip() == "" and not sep:
        return ctx.text[:at] + ctx.scan.indent(row.start) + f"\t{field},\n" + ctx.text[at:]
    return ctx.text[:j + 1] + sep + f" {field}" + ctx.text[j + 1:]


def m_second_capability(ctx: Ctx):
    """A second `.capability =` in a row of arm64_errata[], naming another row's cpucap: after the
    first (it wins, as in C) or before it (it loses)."""
    rows = ctx.scan.rows(errata_only=True)
    caps = sorted({c for c in map(ctx.scan.capability, rows) if c})
    row = ctx.pick(r for r in rows if ctx.scan.capability(r))
    if row is None or len(caps) < 2:
        return None
    other = ctx.pick(c for c in caps if c != ctx.scan.capability(row))
    first = ctx.rng.random() < 0.3
    return (_add_field(ctx, row, f".capability = {other}", first),
            f"{ctx.at(row.start)}: .capability = {other} added {'before' if first else 'after'} "
            f"{ctx.scan.capability(row)}")


def m_override_range(ctx: Ctx):
    """A row given a second range designator after its own: `.midr_range = ...` (which shares a union
    with `.midr_range_list`) or `.midr_range_list = <another list>`."""
    row = ctx.pick(ctx.scan.rows())
    if row is None:
        return None
    lists = [lst.name for lst in ctx.scan.lists if lst.struct == "midr_range" and lst.name]
    models = sorted({ctx.text[a:b] for _, _, _, args in ctx.scan.range_calls() for a, b in args[:1]
                     if re.fullmatch(r"MIDR_\w+", ctx.text[a:b])})
    if ctx.rng.random() < 0.5 and lists:
        field = f".midr_range_list = {ctx.pick(lists)}"
    else:
        field = f".midr_range = MIDR_ALL_VERSIONS({ctx.pick(models)})"
    return _add_field(ctx, row, field), f"{ctx.at(row.start)}: {field} added to the row"


def m_matcher(ctx: Ctx):
    """A row's matcher changed: its `.matches =` rewritten, or a second one added after its macro's."""
    rows = ctx.scan.rows()
    explicit = []
    for row in rows:
        for m in re.finditer(r"\.matches\s*=\s*(\w+)", ctx.text[row.start:row.end]):
            explicit.append((row.start + m.start(1), row.start + m.end(1)))
    new = ctx.pick(MIDR_MATCHERS)
    if explicit and ctx.rng.random() < 0.6:
        a, b = ctx.pick(explicit)
        if ctx.text[a:b] == new:
            return None
        return ctx.edit(a, b, new), f"{ctx.at(a)}: .matches = {ctx.text[a:b]} -> {new}"
    row = ctx.pick(rows)
    if row is None:
        return None
    return _add_field(ctx, row, f".matches = {new}"), f"{ctx.at(row.start)}: .matches = {new} added to the row"


def m_drop_field(ctx: Ctx):
    """One field of a row deleted: its capability, matcher, list, model, range macro or fixes."""
    sites = []
    for row in ctx.scan.rows():
        for f in ctx.scan.fields(row):
            body = ctx.text[f.start:f.end]
            if re.match(r"\.(capability|matches|midr_range_list|match_list|midr_range)\b|ERRATA_|MIDR_FIXED", body):
                sites.append(f)
    f = ctx.pick(sites)
    if f is None:
        return None
    return _delete(ctx, f), f"{ctx.at(f.start)}: field {ctx.text[f.start:f.end].split('(')[0].strip()!r} deleted"


def m_fixed_revs(ctx: Ctx):
    """The REVIDR fixes changed: a MIDR_FIXED()'s revision or mask, MIDR_FIXED() deleted, or added to
    a row that has none."""
    calls = []
    for m in re.finditer(r"\bMIDR_FIXED\s*\(", ctx.text):
        paren = m.end() - 1
        if ctx.scan.kind[m.start()] == 1 and paren in ctx.scan.pair and ctx.scan.in_lists(m.start()):
            calls.append((m.start(), paren))
    how = ctx.rng.choice(["revision", "mask", "add"])
    if how != "add" and calls:
        start, paren = ctx.pick(calls)
        args = [(e.start, e.end) for e in ctx.scan.elements(paren)]
        if len(args) != 2:
            return None
        a, b = args[0] if how == "revision" else args[1]
        old = ctx.text[a:b]
        new = (ctx.pick(["0x0", "0x1", "0x100002", "MIDR_CPU_VAR_REV(0, 3)", "MIDR_CPU_VAR_REV(1, 0x11)"])
               if how == "revision" else ctx.pick(["BIT(0)", "BIT(31)", "0", "0xffffffff", "BIT(8) | BIT(9)"]))
        return ctx.edit(a, b, new), f"{ctx.at(a)}: MIDR_FIXED {how} {old} -> {new}"
    rows = [r for r in ctx.scan.rows() if re.search(r"ERRATA_MIDR_(REV|RANGE|REV_RANGE|ALL_VERSIONS)\(",
                                                    ctx.text[r.start:r.end])
            and "MIDR_FIXED" not in ctx.text[r.start:r.end]]
    row = ctx.pick(rows)
    if row is None:
        return None
    fix = f"MIDR_FIXED(MIDR_CPU_VAR_REV({ctx.rng.randrange(3)}, {ctx.rng.randrange(4)}), BIT({ctx.rng.randrange(32)}))"
    return _add_field(ctx, row, fix), f"{ctx.at(row.start)}: {fix} added"


def _wrap(ctx: Ctx, el: Element, before: str, after: str = "#endif\n", else_: str | None = None) -> str:
    a, b = ctx.lines_of(el)
    block = ctx.text[a:b]
    if else_ is not None:
        return ctx.text[:a] + before + else_ + "#else\n" + block + after + ctx.text[b:]
    return ctx.text[:a] + before + block + after + ctx.text[b:]


def _element_to_wrap(ctx: Ctx) -> Element | None:
    return ctx.pick(ctx.alone(ctx.scan.rows() + ctx.scan.ranges()))


def _guarded(ctx: Ctx, directive: str, cls: str):
    el = _element_to_wrap(ctx)
    if el is None:
        return None
    return _wrap(ctx, el, directive + "\n"), f"{ctx.at(el.start)}: wrapped in {directive} ... #endif"


def m_ifdef_on(ctx: Ctx):
    """A row or range wrapped in `#ifdef` of an option the build has on."""
    return _guarded(ctx, f"#ifdef {ctx.on_option()}", "ifdef-on")


def m_if_is_enabled(ctx: Ctx):
    """A row or range wrapped in `#if IS_ENABLED(...)` of an option the build has on."""
    return _guarded(ctx, f"#if IS_ENABLED({ctx.on_option()})", "if-is-enabled")


def m_ifdef_undefined_option(ctx: Ctx):
    """A row or range wrapped in `#ifdef` of an option no Kconfig defines (off in every build)."""
    return _guarded(ctx, ctx.rng.choice([f"#ifdef {NEVER}", f"#if defined({NEVER})"]), "ifdef-undefined")


def m_if_0(ctx: Ctx):
    """A row or range wrapped in `#if 0` (or `#if 1`, which keeps it)."""
    return _guarded(ctx, ctx.rng.choice(["#if 0", "#if 0", "#if 1"]), "if-0")


def m_ifndef(ctx: Ctx):
    """A row or range wrapped in `#ifndef` of an option the build has on."""
    option = ctx.on_option()
    return _guarded(ctx, ctx.rng.choice([f"#ifndef {option}", f"#if !defined({option})"]), "ifndef")


def m_else_branch(ctx: Ctx):
    """A row or range moved into the `#else` of an option the build has on (with nothing, or another
    element of its list, in the branch the build takes)."""
    el = _element_to_wrap(ctx)
    if el is None:
        return None
    option = ctx.on_option()
    lst = next(lst for lst in ctx.scan.lists if lst.open < el.start < lst.close)
    other = ctx.pick(e for e in ctx.alone(lst.elements) if e != el and not e.terminator)
    if other is not None and ctx.rng.random() < 0.5:
        a, b = ctx.lines_of(other)
        taken = ctx.text[a:b]
        what = f"#ifdef {option} / a copy of line {ctx.scan.line(other.start)} / #else / it / #endif"
    else:
        taken, what = "", f"#ifdef {option} / #else / it / #endif"
    return _wrap(ctx, el, f"#ifdef {option}\n", else_=taken), f"{ctx.at(el.start)}: {what}"


def m_undef_config(ctx: Ctx):
    """`#undef CONFIG_X` of an option the build has on, before the table's first test of it: the
    kernel takes the rest of the file as built without X. Or `#define` of an option no Kconfig
    defines, and a row or range wrapped in it."""
    if ctx.rng.random() < 0.7:
        tests = [m for m in re.finditer(r"^[ \t]*#\s*(?:ifdef|if)\b[^\n]*\b(CONFIG_\w+)", ctx.text, re.M)
                 if m.group(1) in ctx.config and ctx.scan.in_lists(m.start())
                 or m.group(1) in ctx.config and any(lst.decl > m.start() and lst.decl - m.start() < 200
                                                     for lst in ctx.scan.lists)]
        m = ctx.pick(tests)
        if m is None:
            return None
        return (ctx.edit(m.start(), m.start(), f"#undef {m.group(1)}\n"),
                f"{ctx.at(m.start())}: #undef {m.group(1)} before its #if")
    el = _element_to_wrap(ctx)
    if el is None:
        return None
    text = _wrap(ctx, el, f"#ifdef {NEVER}\n")
    lst = next(lst for lst in ctx.scan.lists if lst.open < el.start < lst.close and lst.name)
    return (text[:lst.decl] + f"#define {NEVER} 1\n" + text[lst.decl:],
            f"{ctx.at(el.start)}: wrapped in #ifdef {NEVER}, #defined before {lst.name}")


# Redefinitions of the range macros (before a table, after any function that uses them) and edits
# of cpu_errata.c's own macros: some change the tables' meaning, some keep it, some break the build.
_REDEFINITIONS = [
    "#undef MIDR_ALL_VERSIONS\n#define MIDR_ALL_VERSIONS(m) MIDR_REV(m, 0, 0)\n",
    "#undef MIDR_ALL_VERSIONS\n#define MIDR_ALL_VERSIONS(m) MIDR_RANGE(m, 0, 0, 0xf, 0xf)\n",
    "#undef MIDR_REV\n#define MIDR_REV(m, v, r) MIDR_RANGE(m, 0, 0, v, r)\n",
    "#undef MIDR_REV_RANGE\n#define MIDR_REV_RANGE(m, v, r_min, r_max) MIDR_RANGE(m, v, r_min, v, r_max + 1)\n",
    "#undef ERRATA_MIDR_ALL_VERSIONS\n#define ERRATA_MIDR_ALL_VERSIONS(model) ERRATA_MIDR_REV(model, 1, 0)\n",
    "#undef ERRATA_MIDR_REV\n#define ERRATA_MIDR_REV(model, var, rev) ERRATA_MIDR_RANGE(model, var, rev, var, rev)\n",
    "#undef MIDR_CPU_VAR_REV\n#define MIDR_CPU_VAR_REV(var, rev) (((var) << MIDR_VARIANT_SHIFT) | (rev) | 1)\n",
    "#define MIDR_ALL_VERSIONS(m) MIDR_REV(m, 0, 0)\n",
    "#undef MIDR_ALL_VERSIONS\n",
    "#undef MIDR_FIXED\n#define MIDR_FIXED(rev, revidr_mask) .fixed_revs = NULL\n",
]
_OWN_MACRO_EDITS = [
    ("ERRATA_MIDR_RANGE(model, var, rev, var, rev)", "ERRATA_MIDR_RANGE(model, 0, 0, var, rev)"),
    ("ERRATA_MIDR_RANGE(m, var, r_min, var, r_max)", "ERRATA_MIDR_RANGE(m, var, r_min, 0xf, r_max)"),
    (".midr_range = MIDR_ALL_VERSIONS(model)", ".midr_range = MIDR_REV(model, 0, 0)"),
    (".matches = is_affected_midr_range_list,", ".matches = is_affected_midr_range,"),
    ("{{ (rev), (revidr_mask) }, {}}", "{{ (rev), (revidr_mask) }, { 0x1, BIT(1) }, {}}"),
]


def m_redefine_macro(ctx: Ctx):
    """A range macro `#undef`ined and `#define`d again before a table (or only one of the two), or
    one of cpu_errata.c's own macros (ERRATA_MIDR_REV(), MIDR_FIXED(), ...) edited."""
    if ctx.rng.random() < 0.3:
        edits = [(old, new) for old, new in _OWN_MACRO_EDITS if old in ctx.text]
        pair = ctx.pick(edits)
        if pair is None:
            return None
        at = ctx.text.index(pair[0])
        return ctx.text.replace(pair[0], pair[1], 1), f"{ctx.at(at)}: macro body {pair[0]!r} -> {pair[1]!r}"
    # After the last function that declares a range in its body (has_neoverse_n1_erratum_1542419):
    # the fuzz's model of that function's range is fixed.
    fn = ctx.text.find("has_neoverse_n1_erratum_1542419(const")
    lst = ctx.pick(lst for lst in ctx.scan.lists if lst.name and lst.decl > fn)
    if lst is None:
        return None
    redefinition = ctx.pick(_REDEFINITIONS)
    return (ctx.edit(lst.decl, lst.decl, redefinition),
            f"{ctx.at(lst.decl)}: before {lst.name}: {redefinition.strip()!r}")


def m_define_range_macro(ctx: Ctx):
    """A range, or a row's range macro, written through a macro of our own (object- or function-like)
    defined just before its table."""
    if ctx.rng.random() < 0.5:
        el = ctx.pick(ctx.scan.ranges())
        if el is None:
            return None
        body = ctx.text[el.start:el.end]
        use = "ERRATA_DB_FUZZ_RANGE"
    else:
        calls = [(s, e) for kind, s, e, _ in ctx.scan.range_calls()]
        pick = ctx.pick(calls)
        if pick is None:
            return None
        s, e = pick
        body, use = ctx.text[s:e], "ERRATA_DB_FUZZ_RANGE"
        el = Element(s, e, None, False, False)
    if "\n" in body or "//" in body:
        return None
    lst = max((lst for lst in ctx.scan.lists if lst.name and lst.decl <= el.start), key=lambda lst: lst.decl)
    if ctx.rng.random() < 0.5:
        m = re.match(r"(\w+)\s*\(", body)
        define, new = f"#define ERRATA_DB_FUZZ_CALL(...) {m.group(1)}(__VA_ARGS__)\n", \
            "ERRATA_DB_FUZZ_CALL" + body[m.end() - 1:]
    else:
        define, new = f"#define {use} {body}\n", use
    text = ctx.edit(el.start, el.end, new)
    return text[:lst.decl] + define + text[lst.decl:], f"{ctx.at(el.start)}: {body!r} -> {new!r}, {define.strip()!r}"


def m_crlf(ctx: Ctx):
    """CRLF line endings: the whole file, the tables' lines, or every other line."""
    how = ctx.rng.choice(["file", "tables", "some lines"])
    lines = ctx.text.split("\n")
    if how == "file":
        return "\r\n".join(lines), "every line ends in CRLF"
    first = ctx.scan.line(min(lst.decl for lst in ctx.scan.lists)) - 1
    last = ctx.scan.line(max(lst.close for lst in ctx.scan.lists))
    out = []
    for i, line in enumerate(lines[:-1]):
        cr = first <= i < last if how == "tables" else ctx.rng.random() < 0.5
        out.append(line + ("\r\n" if cr else "\n"))
    out.append(lines[-1])
    return "".join(out), f"CRLF on {how} (lines {first + 1}-{last})" if how == "tables" else "CRLF on some lines"


def m_comment_out(ctx: Ctx):
    """A line of the tables commented out with `//`, or a row or range inside `/* */`."""
    if ctx.rng.random() < 0.5:
        el = ctx.pick(e for e in ctx.alone(ctx.scan.rows() + ctx.scan.ranges())
                      if "*/" not in ctx.text[e.start:(e.comma or e.end) + 1])
        if el is None:
            return None
        end = (el.comma + 1) if el.comma is not None else el.end
        return (ctx.text[:el.start] + "/* " + ctx.text[el.start:end] + " */" + ctx.text[end:],
                f"{ctx.at(el.start)}: element inside /* */")
    # The lines that start inside a table, but not its directives (`//#endif` is another test).
    starts = sorted({i + 1 for lst in ctx.scan.lists for i in range(lst.open, lst.close) if ctx.text[i] == "\n"})
    starts = [s for s in starts if ctx.text[s:ctx.scan.line_end(s)].strip()
              and not ctx.text[s:ctx.scan.line_end(s)].lstrip().startswith("#")]
    at = ctx.pick(starts)
    if at is None:
        return None
    at += len(ctx.scan.indent(at))
    return ctx.edit(at, at, "//"), f"{ctx.at(at)}: line commented out: {ctx.text[at:ctx.scan.line_end(at)].strip()!r}"


def m_line_splice(ctx: Ctx):
    """A backslash-newline inside a range macro (C joins the lines before it reads any token)."""
    call = ctx.pick(ctx.scan.range_calls())
    if call is None:
        return None
    _, s, e, _ = call
    at = ctx.rng.randrange(s + 1, e)
    return ctx.edit(at, at, "\\\n"), f"{ctx.at(s)}: backslash-newline in {ctx.text[s:at]!r}|{ctx.text[at:e]!r}"


def m_reflow(ctx: Ctx):
    """A row's lines joined into one line, or a range macro's arguments one to a line."""
    if ctx.rng.random() < 0.5:
        rows = [r for r in ctx.alone(ctx.scan.rows()) if "//" not in ctx.text[r.start:r.end]
                and "#" not in ctx.text[r.start:r.end]]
        row = ctx.pick(rows)
        if row is None:
            return None
        joined = re.sub(r"\s*\n\s*", " ", ctx.text[row.start:row.end])
        return ctx.edit(row.start, row.end, joined), f"{ctx.at(row.start)}: row on one line"
    call = ctx.pick(c for c in ctx.scan.range_calls() if len(c[3]) > 1)
    if call is None:
        return None
    _, s, e, args = call
    text = ctx.text
    for a, _ in reversed(args):
        text = text[:a] + "\n\t\t\t" + text[a:]
    return text, f"{ctx.at(s)}: range macro's arguments one to a line"


def m_digraph(ctx: Ctx):
    """A row's or list's braces, or a declaration's `[]`, spelt as digraphs."""
    how = ctx.rng.choice(["row", "list", "brackets"])
    if how == "row":
        row = ctx.pick(r for r in ctx.scan.rows() if ctx.text[r.start] == "{")
        if row is None:
            return None
        return (ctx.text[:row.start] + "<%" + ctx.text[row.start + 1:row.end - 1] + "%>" + ctx.text[row.end:],
                f"{ctx.at(row.start)}: row's braces as <% %>")
    lst = ctx.pick(lst for lst in ctx.scan.lists if lst.name)
    if lst is None:
        return None
    if how == "list":
        return (ctx.text[:lst.open] + "<%" + ctx.text[lst.open + 1:lst.close] + "%>" + ctx.text[lst.close + 1:],
                f"{ctx.at(lst.open)}: {lst.name}'s braces as <% %>")
    m = re.compile(r"\[\s*\]").search(ctx.text, lst.decl, lst.open)
    return ctx.edit(m.start(), m.end(), "<::>"), f"{ctx.at(lst.decl)}: {lst.name}[] as {lst.name}<::>"


def m_rename_list(ctx: Ctx):
    """A static list renamed, everywhere the file names it."""
    lst = ctx.pick(lst for lst in ctx.scan.lists if lst.name and lst.static)
    if lst is None:
        return None
    new = f"errata_db_fuzz_{lst.name}"
    return re.sub(rf"\b{lst.name}\b", new, ctx.text), f"{ctx.at(lst.decl)}: {lst.name} renamed {new}"


_DESCS = ['"ARM erratum \\"quoted\\""', '"a /* not a comment */ b"', '"a // b"', '"back\\\\slash"',
          '"split " "in" " three"', '"Cortex-A53 \u00e9\u00e8 r0p4"', '"line\\nbreak"', '"brace } and , comma"',
          '"x" /* between */ "y"', '""']


def m_desc(ctx: Ctx):
    """A row's `.desc` string rewritten: escapes, comment markers, concatenation, UTF-8, braces."""
    sites = []
    for row in ctx.scan.rows():
        for m in re.finditer(r'\.desc\s*=\s*("(?:\\.|[^"\\])*"(?:\s*"(?:\\.|[^"\\])*")*)', ctx.text[row.start:row.end]):
            sites.append((row.start + m.start(1), row.start + m.end(1)))
    site = ctx.pick(sites)
    if site is None:
        return None
    new = ctx.pick(_DESCS)
    return ctx.edit(site[0], site[1], new), f"{ctx.at(site[0])}: .desc -> {new}"


def m_garbage(ctx: Ctx):
    """The tables broken: a character deleted, one inserted, or the file cut short."""
    code = [i for lst in ctx.scan.lists for i in range(lst.open, lst.close + 1) if ctx.scan.kind[i] == 1
            and not ctx.text[i].isspace()]
    at = ctx.pick(code)
    if at is None:
        return None
    how = ctx.rng.choice(["delete", "insert", "truncate"])
    if how == "delete":
        return ctx.edit(at, at + 1, ""), f"{ctx.at(at)}: {ctx.text[at]!r} deleted"
    if how == "insert":
        c = ctx.pick(["{", "}", "(", ")", ",", ";", '"', "'", "#", "\\", "=", ".", "0", "\x00", "\u00e9"])
        return ctx.edit(at, at, c), f"{ctx.at(at)}: {c!r} inserted"
    return ctx.text[:at], f"{ctx.at(at)}: the file ends here"


CLASSES: dict[str, Callable[[Ctx], tuple[str, str] | None]] = {
    "revision": m_revision,
    "revision-out-of-range": m_revision_out_of_range,
    "revision-octal": m_revision_octal,
    "number-spelling": m_number_spelling,
    "model": m_model,
    "swap-ranges": m_swap_ranges,
    "drop-range": m_drop_range,
    "dup-range": m_dup_range,
    "drop-row": m_drop_row,
    "dup-row": m_dup_row,
    "swap-rows": m_swap_rows,
    "terminator": m_terminator,
    "drop-terminator": m_drop_terminator,
    "second-capability": m_second_capability,
    "override-range": m_override_range,
    "matcher": m_matcher,
    "drop-field": m_drop_field,
    "fixed-revs": m_fixed_revs,
    "ifdef-on": m_ifdef_on,
    "if-is-enabled": m_if_is_enabled,
    "ifdef-undefined-option": m_ifdef_undefined_option,
    "if-0": m_if_0,
    "ifndef": m_ifndef,
    "else-branch": m_else_branch,
    "undef-config": m_undef_config,
    "redefine-macro": m_redefine_macro,
    "define-range-macro": m_define_range_macro,
    "crlf": m_crlf,
    "comment-out": m_comment_out,
    "line-splice": m_line_splice,
    "reflow": m_reflow,
    "digraph": m_digraph,
    "rename-list": m_rename_list,
    "desc": m_desc,
    "garbage": m_garbage,
}


def mutate(text: str, cls: str, seed: int, config: set[str] = frozenset()) -> Mutation | None:
    """The mutation class cls makes of text with seed; None when it finds no site or the change is
    none. config: the options the build has on (CONFIG_X=y), for the guards' classes."""
    made = CLASSES[cls](Ctx(text, random.Random(f"{cls}:{seed}"), set(config)))
    if made is None or made[0] == text:
        return None
    return Mutation(cls, seed, *made)


def main(argv: list[str]) -> int:
    args = [a for a in argv[1:] if not a.startswith("--")]
    if len(args) not in (3, 4) or args[1] not in CLASSES:
        print(__doc__.strip().splitlines()[3], file=sys.stderr)
        print(f"classes: {', '.join(CLASSES)}", file=sys.stderr)
        return 2
    with open(args[0], encoding="utf-8", newline="") as f:
        text = f.read()
    config = set()
    if len(args) == 4:  # the build's .config, for the options that are on
        with open(args[3], encoding="utf-8") as f:
            config = set(re.findall(r"^(CONFIG_\w+)=y", f.read(), re.M))
    made = mutate(text, args[1], int(args[2]), config)
    if made is None:
        print(f"{args[1]} seed {args[2]}: no site for this class in {args[0]}", file=sys.stderr)
        return 1
    print(f"{made.cls} seed {made.seed}: {made.what}", file=sys.stderr)
    sys.stdout.write(made.diff(text) if "--diff" in argv else made.text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
