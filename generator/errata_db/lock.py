"""bits.lock: the append-only record of every bit ever given.

One line per bit: bit, status, fingerprint, name. The fingerprint covers an erratum's identity
(name, vendor, erratum ids) and not its CPU ranges, which may legitimately widen.
"""

from __future__ import annotations

import hashlib
import re

from .diagnostics import Diagnostic, Pos, capped_findings, error
from .load import MAX_BYTES, SourceFile, TooLarge, text_pos
from .model import Erratum, LockLine, Where

LOCK_NAME = "bits.lock"
HEADER = """\
# errata-db bit lock: every bit ever given, one line each. Do not edit by hand:
# `errata-db lock` appends lines for new errata and marks retirements, and never
# changes a line's bit, fingerprint or name. See docs/stability.md.
# bit status fingerprint name
"""
_LEADING_BIT = re.compile(r"[ \t]*([0-9]{1,6})(?![0-9A-Za-z_])")
_LINE = re.compile(r"([0-9]{1,6})[ \t]+(active|retired)[ \t]+([0-9a-f]{16})[ \t]+([A-Za-z_][A-Za-z0-9_]*)")


def fingerprint(name: str, vendor: str, errata_ids: tuple[str, ...]) -> str:
    identity = "\n".join([name, vendor, *sorted(errata_ids)])
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]


def erratum_fingerprint(e: Erratum) -> str:
    return fingerprint(e.name, e.vendor, e.errata_ids)


def decoded(data: bytes) -> str:
    """The lock's text, as every reader of its bytes takes it: UTF-8 with a byte order mark
    dropped. A byte that is not UTF-8 reads as U+FFFD rather than failing, so that a damaged
    lock still gives up the bits it records; text_of is what refuses such a lock."""
    return data.decode("utf-8", "replace").removeprefix("\ufeff")


def text_of(src: SourceFile) -> tuple[str | None, list[Diagnostic]]:
    """The lock's text (decoded), under the limits of the YAML files: size, NUL bytes, UTF-8."""
    path, data = src.path, src.data
    if src.oversize or len(data) > MAX_BYTES:
        return None, [error(Pos(path, 1, 1), "file-too-large",
                            f"file {src.oversize or TooLarge(len(data), MAX_BYTES)}")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [error(text_pos(path, data.decode("latin-1"), exc.start), "lock-syntax",
                            "bits.lock is not valid UTF-8")]
    if "\0" in text:
        return None, [error(text_pos(path, text, text.index("\0")), "file-binary",
                            "file contains NUL bytes: not a text file")]
    return decoded(data), []


def parse(path: str, text: str, origin: str) -> tuple[list[LockLine], list[Diagnostic]]:
    lines, malformed = [], []
    for n, raw in enumerate(text.splitlines(), start=1):
        body = raw.strip()
        if not body or body.startswith("#"):
            continue
        m = _LINE.fullmatch(body)
        if m is None:
            malformed.append(n)
            continue
        lines.append(LockLine(int(m.group(1)), m.group(2), m.group(3), m.group(4), origin,
                              Where(Pos(path, n, 1))))
    # A file of junk lines must not make a message per line.
    findings = ((Pos(path, n, 1), "malformed lock line: expected '<bit> <active|retired> "
                 "<16 hex digits> <name>'") for n in malformed)
    return lines, [error(pos, "lock-syntax", message)
                   for pos, message in capped_findings(None, "malformed lock line(s)", findings)]


def recorded_bits(text: str) -> set[int]:
    """The bit of every line that is not a comment, well formed or not: a damaged line still
    records that its bit was given, and `next-bit` must never hand that bit out again."""
    bits = set()
    for raw in text.splitlines():
        m = _LEADING_BIT.match(raw)
        if m is not None:
            bits.add(int(m.group(1)))
    return bits


def format_line(bit: int, status: str, fp: str, name: str) -> str:
    return f"{bit:<3} {status:<7} {fp} {name}\n"


def updated(text: str, errata: list[Erratum]) -> str:
    """The lock text with lines appended for new bits and retirements marked.

    Lines for bits the lock already holds keep their bit, fingerprint and name; only an
    active -> retired status change is written into them. Disagreements are for `validate`
    to report, never for this function to paper over.
    """
    current = text if text.strip() else HEADER
    known = set()
    out = []
    by_bit: dict[int, Erratum] = {}
    for x in errata:
        by_bit.setdefault(x.bit, x)
    for raw in current.splitlines(keepends=True):
        m = _LINE.fullmatch(raw.strip())
        if m:
            bit = int(m.group(1))
            known.add(bit)
            e = by_bit.get(bit)
            if (e is not None and m.group(2) == "active" and not e.active
                    and e.name == m.group(4) and erratum_fingerprint(e) == m.group(3)):
                raw = format_line(bit, "retired", m.group(3), m.group(4))
        out.append(raw if raw.endswith("\n") else raw + "\n")
    for e in sorted(errata, key=lambda x: x.bit):
        if e.bit not in known:
            out.append(format_line(e.bit, e.status, erratum_fingerprint(e), e.name))
    return "".join(out)
