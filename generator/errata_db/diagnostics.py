"""Diagnostics are values: every check yields them, the CLI prints them.

Here too are the rules for whatever a command prints, so that every report keeps them alike:
how many of one problem are listed (capped), how a long list is cut short (some), how text
from a file is kept to one harmless line (escape), and how a GitHub workflow log is annotated
(github_annotation)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from enum import Enum
from typing import Callable, Iterable, Iterator, Sequence, TypeVar


# After this many diagnostics of one rule in one entry (or one lock file), one line counts the
# rest: a hostile file of a few kilobytes must not print a million lines.
MAX_REPEATS = 10


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, order=True)
class Pos:
    """A place in a source file; line and col are 1-based, 0 means unknown."""

    path: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if not self.line:
            return self.path
        return f"{self.path}:{self.line}:{self.col or 1}"


@dataclass(frozen=True, order=True)
class Diagnostic:
    pos: Pos
    severity: Severity
    rule: str
    message: str


# A check's finding before it is given its rule and severity: where, and what is wrong.
Finding = tuple[Pos, str]
T = TypeVar("T")


def error(pos: Pos, rule: str, message: str) -> Diagnostic:
    return Diagnostic(pos, Severity.ERROR, rule, message)


def warning(pos: Pos, rule: str, message: str) -> Diagnostic:
    return Diagnostic(pos, Severity.WARNING, rule, message)


def note(pos: Pos, rule: str, message: str) -> Diagnostic:
    return Diagnostic(pos, Severity.NOTE, rule, message)


def _capped(items: Iterable[T], kind: Callable[[T], str], left_out: Callable[[T, int], T]) -> Iterator[T]:
    """The first MAX_REPEATS items of each kind, in their order, then for each kind with more
    one item, made from the first left out and how many were, where the rest begins."""
    counts: dict[str, int] = {}
    first_left_out: dict[str, T] = {}
    for item in items:
        k = kind(item)
        counts[k] = counts.get(k, 0) + 1
        if counts[k] <= MAX_REPEATS:
            yield item
        else:
            first_left_out.setdefault(k, item)
    for k, first in first_left_out.items():
        yield left_out(first, counts[k] - MAX_REPEATS)


def _more(n: int, what: str, where: str | None) -> str:
    place = f" in {where}" if where else ""
    return f"{n} more {what}{place} from here on, not listed one by one"


def capped(diags: Iterable[Diagnostic], where: str) -> list[Diagnostic]:
    """The diagnostics of one entry, with at most MAX_REPEATS of each rule and then one that
    counts the rest of that rule, placed at the first one left out."""
    return list(_capped(diags, lambda d: d.rule,
                        lambda first, n: replace(first, message=_more(n, f"{first.rule} problem(s)", where))))


def capped_findings(where: str | None, what: str, findings: Iterable[Finding]) -> Iterator[Finding]:
    """capped for findings of one kind, before they are given a rule: what names them in the
    line that counts the rest ("ranges listed twice")."""
    return _capped(findings, lambda _: what, lambda first, n: (first[0], _more(n, what, where)))


def some(items: Sequence[str], limit: int = 3) -> str:
    """The first `limit` items and how many more: "a, b, c +4 more". A report line stays short
    however long the list is."""
    rest = len(items) - limit
    more = "" if rest <= 0 else f" +{rest} more"
    return ", ".join(items[:limit]) + more


def has_errors(diags: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diags)


def escape(text: str) -> str:
    """Text for a terminal or a log, one line: control and other unprintable characters as
    Python escapes. A name from a file must not move the cursor, colour the screen, or start
    a line that reads as a diagnostic of its own."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def _text(diags: list[Diagnostic]) -> str:
    return "".join(
        escape(f"{d.pos}: {d.severity.value}: {d.message} [{d.rule}]") + "\n" for d in diags
    )


def _json(diags: list[Diagnostic]) -> str:
    rows = []
    for d in diags:
        row = asdict(d)
        row["severity"] = d.severity.value
        rows.append(row)
    return json.dumps({"diagnostics": rows}, indent=2) + "\n"


def _github_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def github_annotation(command: str, pos: Pos, title: str, message: str) -> str:
    """One GitHub workflow command (error, warning or notice) that annotates pos, as one line
    without its line break: what a file or message holds can neither end it nor start another."""
    props = [f"file={_github_escape(pos.path, True)}"]
    if pos.line:
        props.append(f"line={pos.line}")
        props.append(f"col={pos.col or 1}")
    props.append(f"title={_github_escape(title, True)}")
    return f"::{command} {','.join(props)}::{_github_escape(message)}"


# GitHub's workflow commands call a note "notice".
_GITHUB_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def _github(diags: list[Diagnostic]) -> str:
    return "".join(github_annotation(_GITHUB_COMMAND[d.severity], d.pos, d.rule, d.message) + "\n"
                   for d in diags)


FORMATTERS = {"text": _text, "json": _json, "github": _github}


def render(diags: Iterable[Diagnostic], fmt: str) -> str:
    return FORMATTERS[fmt](sorted(set(diags)))
