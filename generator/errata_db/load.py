"""Read registry files and parse them into YAML documents that know where their nodes are.

Parsing refuses anything a registry never needs and an attacker could abuse: explicit tags
(which could construct objects), anchors and aliases (expansion bombs), several documents in
one file, deep nesting, binary or non-UTF-8 data and oversized files. Duplicate keys are
reported, all of them, rather than silently keeping the last.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, Sequence

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    MappingStartEvent,
    NodeEvent,
    ScalarEvent,
)
from ruamel.yaml.parser import Parser
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scanner import Scanner

from .diagnostics import Diagnostic, Pos, error

MAX_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_EVENTS = 50_000

PathKey = Sequence[Any]

# A double-quoted "\ud800" escape makes a lone UTF-16 surrogate: not a character, and a str
# that cannot be encoded (hashing or printing it later would raise).
_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True)
class SourceFile:
    """A file's display path (relative, as the user should see it) and its bytes."""

    path: str
    data: bytes


@dataclass(frozen=True)
class Document:
    path: str
    root: Any

    def node(self, keys: PathKey) -> Any:
        node = self.root
        for key in keys:
            node = node[key]
        return node

    def pos(self, keys: PathKey, *, key: bool = False) -> Pos:
        """Position of the node at keys (of its key, if key=True), or of its nearest ancestor."""
        line, col = 0, 0
        node = self.root
        if hasattr(node, "lc"):
            line, col = node.lc.line, node.lc.col
        for i, k in enumerate(keys):
            try:
                last = i == len(keys) - 1
                if isinstance(node, dict):
                    line, col = node.lc.key(k) if key and last else node.lc.value(k)
                elif isinstance(node, list):
                    line, col = node.lc.item(k)
                else:
                    break
                node = node[k]
            except (KeyError, IndexError, TypeError, AttributeError):
                break
        return Pos(self.path, line + 1, col + 1)


def _mark_pos(path: str, mark: Any) -> Pos:
    if mark is None:
        return Pos(path)
    return Pos(path, mark.line + 1, mark.column + 1)


def quoted(value: Any) -> str:
    """A user's key or value for a one-line message: 'as is', or escaped if it holds line
    breaks, quotes or other characters that would garble the diagnostic."""
    text = str(value)
    return f"'{text}'" if text.isprintable() and "'" not in text else ascii(text)


def _text_pos(path: str, text: str, index: int) -> Pos:
    """Line and column of text[index]; for raw bytes, pass them decoded as latin-1 (1:1)."""
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return Pos(path, line, col)


class _Refused(Exception):
    """A construct the registry never uses: nothing is built from the file."""


class _EventCheck:
    """Checks each YAML event, as the composer takes it, for constructs we refuse.

    Refusals that make the rest of the file meaningless stop the parse; anchors and duplicate
    keys are collected, all of them.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.diagnostics: list[Diagnostic] = []
        self._frames: list[dict | None] = []
        self._documents = 0
        self._count = 0

    def _refuse(self, pos: Pos, rule: str, message: str) -> NoReturn:
        self.diagnostics.append(error(pos, rule, message))
        raise _Refused

    def __call__(self, event: Any) -> None:
        if self._count > MAX_EVENTS:
            self._refuse(Pos(self.path, 1, 1), "yaml-too-complex",
                         f"file has more than {MAX_EVENTS} YAML nodes")
        self._count += 1
        if isinstance(event, DocumentStartEvent):
            self._documents += 1
            if self._documents > 1:
                self._refuse(_mark_pos(self.path, event.start_mark), "yaml-multiple-documents",
                             "a registry file holds exactly one YAML document")
        if isinstance(event, CollectionEndEvent):
            self._frames.pop()
            return
        if not isinstance(event, NodeEvent):
            return
        if isinstance(event, AliasEvent):
            self._refuse(_mark_pos(self.path, event.start_mark), "yaml-alias",
                         f"alias '*{event.anchor}' refused: the registry does not use anchors or aliases")
        if event.anchor is not None:
            self.diagnostics.append(error(
                _mark_pos(self.path, event.start_mark), "yaml-alias",
                f"anchor '&{event.anchor}' refused: the registry does not use anchors or aliases"))
        tag = getattr(event, "ctag", None) or getattr(event, "tag", None)
        if tag is not None and str(tag) not in ("None", ""):
            self._refuse(_mark_pos(self.path, event.start_mark), "yaml-tag",
                         f"explicit YAML tag '{tag}' refused")
        if isinstance(event, ScalarEvent):
            bad = _SURROGATE.search(event.value)
            if bad is not None:
                self._refuse(_mark_pos(self.path, event.start_mark), "file-encoding",
                             f"escape for U+{ord(bad.group(0)):04X} (a lone UTF-16 surrogate) "
                             "refused: it is not a character")
        parent = self._frames[-1] if self._frames else None
        if parent is not None:
            is_key = parent["expect_key"]
            parent["expect_key"] = not is_key
            if is_key and isinstance(event, ScalarEvent):
                first = parent["keys"].get(event.value)
                where = _mark_pos(self.path, event.start_mark)
                if first is not None:
                    self.diagnostics.append(error(
                        where, "duplicate-key",
                        f"duplicate key {quoted(event.value)} (first defined at line {first.line})"))
                else:
                    parent["keys"][event.value] = where
        if isinstance(event, CollectionStartEvent):
            if len(self._frames) >= MAX_DEPTH:
                self._refuse(_mark_pos(self.path, event.start_mark), "yaml-too-deep",
                             f"nesting deeper than {MAX_DEPTH} levels")
            self._frames.append({"expect_key": True, "keys": {}}
                                if isinstance(event, MappingStartEvent) else None)


class _CheckedParser(Parser):
    """ruamel's plain parser, each event checked as the composer takes it.

    One pass builds the round-trip document (whose nodes know their line and column) and
    checks it. The round-trip parser is not used: it also gathers comments, which nothing
    here reads, and that took half the time of a parse.
    """

    def get_event(self) -> Any:
        event = super().get_event()
        self.loader.event_check(event)
        return event


def _load(text: str, check: _EventCheck) -> Any:
    yaml = YAML(typ="rt", pure=True)
    yaml.Scanner, yaml.Parser = Scanner, _CheckedParser
    yaml.allow_duplicate_keys = True
    yaml.event_check = check
    return yaml.load(text)


def parse(src: SourceFile) -> tuple[Document | None, list[Diagnostic]]:
    """Parse one file; never raises for any input."""
    path, data = src.path, src.data
    if len(data) > MAX_BYTES:
        return None, [error(Pos(path, 1, 1), "file-too-large",
                            f"file is {len(data)} bytes, more than the {MAX_BYTES} byte limit")]
    raw = data.decode("latin-1")
    if b"\0" in data:
        return None, [error(_text_pos(path, raw, data.index(b"\0")), "file-binary",
                            "file contains NUL bytes: not a YAML text file")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [error(_text_pos(path, raw, exc.start), "file-encoding",
                            f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})")]
    text = text.removeprefix("\ufeff")
    check = _EventCheck(path)
    try:
        root = _load(text, check)
    except _Refused:
        return None, check.diagnostics
    except ReaderError as exc:
        # Control characters YAML forbids; the reader names the offset, not the line.
        what = (f"character #x{exc.character:04x}" if isinstance(exc.character, int)
                else "character")
        return None, [error(_text_pos(path, text, exc.position), "yaml-syntax",
                            f"YAML syntax error: unacceptable {what}: {exc.reason}")]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "malformed YAML"
        return None, [error(_mark_pos(path, mark), "yaml-syntax", f"YAML syntax error: {problem}")]
    except (YAMLError, RecursionError, ValueError, TypeError, OverflowError) as exc:
        one_line = " ".join(str(exc).split())
        return None, [error(Pos(path, 1, 1), "yaml-syntax", f"YAML error: {one_line}")]
    diags = check.diagnostics
    if any(d.rule != "duplicate-key" for d in diags):
        return None, diags
    if root is None:
        return None, diags + [error(Pos(path, 1, 1), "file-empty", "file is empty: expected a YAML mapping")]
    if not isinstance(root, dict):
        kind = "a list" if isinstance(root, list) else f"a {type(root).__name__} scalar"
        return None, diags + [error(Pos(path, 1, 1), "file-top-level",
                                    f"top level is {kind}: expected a YAML mapping")]
    return Document(path, root), diags


def is_registry_file(rel: str) -> bool:
    """Whether a path relative to a registry directory is one of its files, by name alone.

    Near misses (.yml) are included so that they are reported, not silently skipped.
    """
    parts = rel.split("/")
    yaml = rel.endswith((".yaml", ".yml"))
    return (len(parts) == 1 and (yaml or rel == "bits.lock")) or (
        len(parts) == 2 and parts[0] == "errata" and yaml)


def read_dir_files(root: Path, display: str) -> tuple[list[SourceFile], list[Diagnostic]]:
    """Read every registry file under root. Unreadable files become diagnostics."""
    files: list[SourceFile] = []
    diags: list[Diagnostic] = []
    errata = root / "errata"
    if errata.is_symlink():
        diags.append(error(Pos(f"{display}/errata"), "file-unreadable",
                           "is a symbolic link: put the directory itself here"))
    listed = [*root.iterdir(), *(errata.iterdir() if errata.is_dir() and not errata.is_symlink() else ())]
    candidates = sorted(p for p in listed if is_registry_file(p.relative_to(root).as_posix()))
    for path in candidates:
        rel = f"{display}/{path.relative_to(root).as_posix()}"
        if path.is_symlink():
            # git records the link, not the file: history would compare a path with a file.
            diags.append(error(Pos(rel), "file-unreadable", "is a symbolic link: put the file itself here"))
            continue
        if path.exists() and not path.is_file():
            # A directory, FIFO or device (a link to /dev/zero, say) would fail, block or never end.
            diags.append(error(Pos(rel), "file-unreadable", "cannot read file: not a regular file"))
            continue
        try:
            files.append(SourceFile(rel, path.read_bytes()))
        except OSError as exc:
            diags.append(error(Pos(rel), "file-unreadable", f"cannot read file: {exc.strerror}"))
    return files, diags
