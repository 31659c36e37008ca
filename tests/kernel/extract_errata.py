#!/usr/bin/env python3
"""Read a kernel's arm64_errata[] out of its own preprocessed cpu_errata.c, as reference facts.

    extract_errata.py CPU_ERRATA_I CPUCAPS_H > errata.json

CPU_ERRATA_I is `make O=B arch/arm64/kernel/cpu_errata.i` of a tree configured with every
erratum option on; CPUCAPS_H is the cpucap numbers the same build generated
(`B/arch/arm64/include/generated/asm/cpucap-defs.h`, `cpucaps.h` before 6.3).

This is the tests' oracle, so it shares nothing with errata_db's reader of kernel sources: it
reads what the compiler sees after every macro and #ifdef is resolved, the way
tests/reference/linux-6.12-errata.json was made, and prints the same format. Only the C this
table is written in is understood (designated initializers, compound literals, integer
expressions with casts); anything else stops it with the offending token.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass

_TOKEN = re.compile(r"""
    (?P<ws>\s+|//[^\n]*|/\*.*?\*/)
  | (?P<str>"(?:\\.|[^"\\])*")
  | (?P<num>0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*)
  | (?P<id>[A-Za-z_]\w*)
  | (?P<op><<|>>|[{}()\[\];,.=|&^~+\-*/%!<>?:])
""", re.X | re.S)

_INT_TYPES = {"u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "int", "unsigned", "long",
              "short", "char", "signed"}
_BINARY = {"*": 10, "/": 10, "%": 10, "+": 9, "-": 9, "<<": 8, ">>": 8, "&": 5, "^": 4, "|": 3}


class Unsupported(Exception):
    pass


@dataclass(frozen=True)
class Ref:
    """An identifier used as a value: a function or an array named elsewhere in the file."""

    name: str


def tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise Unsupported(f"cannot tokenize at {text[pos:pos + 40]!r}")
        pos = m.end()
        if m.lastgroup == "ws":
            continue
        out.append(m.group())
    return out


class Parser:
    def __init__(self, toks: list[str]):
        self.toks, self.i = toks, 0

    def peek(self, k: int = 0) -> str:
        return self.toks[self.i + k] if self.i + k < len(self.toks) else ""

    def take(self, want: str | None = None) -> str:
        tok = self.peek()
        if want is not None and tok != want:
            raise Unsupported(f"expected {want!r}, found {tok!r} near {self.context()}")
        self.i += 1
        return tok

    def context(self) -> str:
        return " ".join(self.toks[max(self.i - 8, 0):self.i + 8])

    def initializer(self):
        if self.peek() != "{":
            return self.expr()
        self.take("{")
        fields: dict[str, object] = {}
        items: list[object] = []
        while self.peek() != "}":
            if self.peek() == ".":
                path = []
                while self.peek() == ".":  # `.midr_range.model = ...` sets a member's member
                    self.take(".")
                    path.append(self.take())
                self.take("=")
                target = fields
                for name in path[:-1]:
                    target = target.setdefault(name, {})
                target[path[-1]] = self.initializer()  # a repeated designator overrides, as in C
            else:
                items.append(self.initializer())
            if self.peek() == ",":
                self.take(",")
            elif self.peek() != "}":
                raise Unsupported(f"unexpected {self.peek()!r} near {self.context()}")
        self.take("}")
        if fields and items:
            raise Unsupported("mixed positional and designated initializers")
        return fields if fields or not items else items

    def expr(self, min_prec: int = 0):
        left = self.unary()
        while self.peek() in _BINARY and _BINARY[self.peek()] > min_prec:
            op = self.take()
            right = self.expr(_BINARY[op])
            left = _apply(op, left, right)
        return left

    def unary(self):
        tok = self.peek()
        if tok in ("~", "-", "!"):
            self.take()
            value = self.unary()
            return {"~": lambda v: ~v, "-": lambda v: -v, "!": lambda v: int(not v)}[tok](value)
        if tok == "(":
            if self.peek(1) in ("struct", "const"):  # compound literal: (struct T[]){ ... }
                self.take("(")
                while self.peek() != ")":
                    self.take()
                self.take(")")
                return self.initializer()
            if self.peek(1) in _INT_TYPES:  # a cast: integers here are all small and unsigned
                self.take("(")
                while self.peek() != ")":
                    self.take()
                self.take(")")
                return self.unary()
            self.take("(")
            value = self.expr()
            self.take(")")
            return value
        self.take()
        if tok.startswith('"'):
            text = json.loads(tok)
            while self.peek().startswith('"'):
                text += json.loads(self.take())
            return text
        if tok[0].isdigit():
            return int(tok.rstrip("uUlL"), 0)
        if re.fullmatch(r"[A-Za-z_]\w*", tok):
            return Ref(tok)
        raise Unsupported(f"unexpected {tok!r} near {self.context()}")


def _apply(op: str, a, b):
    if not isinstance(a, int) or not isinstance(b, int):
        raise Unsupported(f"operator {op} on a non-integer")
    return {"*": a * b, "/": a // b if b else 0, "%": a % b if b else 0, "+": a + b, "-": a - b,
            "<<": a << b, ">>": a >> b, "&": a & b, "^": a ^ b, "|": a | b}[op]


def arrays(text: str) -> dict[str, list]:
    """Every `struct midr_range` and `struct arm64_cpu_capabilities` array initializer, by name."""
    found = {}
    for m in re.finditer(r"\bstruct\s+(?:midr_range|arm64_cpu_capabilities|arm64_midr_revidr)\s+"
                         r"(\w+)\s*\[\s*\]\s*=\s*\{", text):
        start = m.end() - 1
        depth, end = 0, start
        for end in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0:
                break
        value = Parser(tokens(text[start:end + 1])).initializer()
        found[m.group(1)] = value if isinstance(value, list) else [value]
    return found


def _hex(v: int) -> str:
    return hex(v)


def _ranges(values: list) -> list[dict]:
    # An unset member is zero, as in C.
    return [{"model": _hex(r.get("model", 0)), "rv_min": _hex(r.get("rv_min", 0)),
             "rv_max": _hex(r.get("rv_max", 0))} for r in values if r]


def _resolve(value, named: dict[str, list]):
    return named[value.name] if isinstance(value, Ref) else value


def _entry(cap: dict, named: dict[str, list], caps: dict[int, str]) -> dict:
    matches = cap["matches"].name if isinstance(cap.get("matches"), Ref) else None
    ranges: list[dict] = []
    if matches == "is_kryo_midr":
        # The part-family matcher reads only the model; the reference format writes that as
        # every variant and revision.
        ranges = _ranges([{**cap["midr_range"], "rv_min": 0, "rv_max": 0xF0000F}])
    elif "midr_range" in cap:
        ranges = _ranges([cap["midr_range"]])
    elif "midr_range_list" in cap:
        ranges = _ranges(_resolve(cap["midr_range_list"], named))
    fixed = [{"midr_rv": _hex(f[0]), "revidr_mask": _hex(f[1])}
             for f in (_resolve(cap["fixed_revs"], named) if "fixed_revs" in cap else []) if f]
    out = {"desc": cap.get("desc"),
           "capability": caps[cap["capability"]] if "capability" in cap else None,
           "matches": matches, "ranges": ranges, "fixed_revs": fixed,
           "kryo": matches == "is_kryo_midr"}
    if "match_list" in cap:
        out["sub"] = [_entry(sub, named, caps) for sub in _resolve(cap["match_list"], named) if sub]
    return out


def extract(preprocessed: str, cpucaps_h: str) -> list[dict]:
    # The preprocessor's line markers (`# 271 "file"`) may sit inside an initializer.
    preprocessed = re.sub(r"^#.*$", "", preprocessed, flags=re.M)
    caps = {int(n): name for name, n in re.findall(r"#define\s+ARM64_(\w+)\s+(\d+)\s*$", cpucaps_h, re.M)}
    named = arrays(preprocessed)
    if "arm64_errata" not in named:
        raise Unsupported("no arm64_errata[] initializer in the preprocessed file")
    return [_entry(cap, named, caps) for cap in named["arm64_errata"] if cap]


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as pre, open(argv[2], encoding="utf-8") as hdr:
        try:
            facts = extract(pre.read(), hdr.read())
        except Unsupported as exc:
            print(f"{argv[1]}: error: {exc}", file=sys.stderr)
            return 1
    json.dump(facts, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
