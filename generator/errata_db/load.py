"""Read registry files and parse them into YAML documents that know where their nodes are.

Parsing refuses anything a registry never needs and an attacker could abuse: explicit tags
(which could construct objects), anchors and aliases (expansion bombs), several documents in
one file, deep nesting, binary or non-UTF-8 data and oversized files. Duplicate keys are
reported, all of them, rather than silently keeping the last.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, NoReturn, Sequence

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.reader import ReaderError

try:
    from _ruamel_yaml import CParser as _CParser
except ImportError:
    _CParser = None

from .diagnostics import Diagnostic, Pos, error
from .inputs import Refused, TooLarge, read_limited

MAX_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_EVENTS = 50_000

PathKey = Sequence[Any]

# A double-quoted "\ud800" escape makes a lone UTF-16 surrogate: not a character, and a str
# that cannot be encoded (hashing or printing it later would raise).
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# libyaml ends an anchor or alias name at the first character outside [0-9A-Za-z_-]; the pure
# parser follows YAML 1.2 and reads on (`*a: x` is alias 'a' to one, 'a:' to the other). The
# diagnostic names it as libyaml does, so it does not depend on whether the C parser is installed.
_ANCHOR_NAME = re.compile(r"[0-9A-Za-z_-]+")


def _anchor_name(name: str) -> str:
    m = _ANCHOR_NAME.match(name)
    return m.group(0) if m else name


@dataclass(frozen=True)
class SourceFile:
    """A file's display path (relative, as the user should see it) and its bytes."""

    path: str
    data: bytes
    # Why the file was not read, when it holds more than the tool reads ("is N bytes, more
    # than..."): it is then reported, as a file of the registry, not skipped as unreadable.
    oversize: str = ""


# (key line, key column, value line, value column), 0-based, of the node at a path of keys.
Place = tuple[int, int, int, int]


@dataclass(frozen=True)
class Document:
    """Plain dicts, lists and scalars, and where each node of them starts in the file."""

    path: str
    root: Any
    text: str = field(default="", compare=False, repr=False)
    fast: bool = field(default=False, compare=False, repr=False)  # parsed by libyaml
    max_events: int = field(default=MAX_EVENTS, compare=False, repr=False)

    @cached_property
    def places(self) -> dict[tuple, Place]:
        """Where each node is, found by parsing the text again when a message first asks.
        Most runs print no message, and recording the places of the 75,000 nodes of a full
        registry on every parse was a quarter of the parsing."""
        return _load(self.path, self.text, self.fast, track=True, max_events=self.max_events)[1]

    def node(self, keys: PathKey) -> Any:
        node = self.root
        for key in keys:
            node = node[key]
        return node

    def pos(self, keys: PathKey, *, key: bool = False) -> Pos:
        """Position of the node at keys (of its key, if key=True), or of its nearest ancestor."""
        keys = tuple(keys)
        for depth in range(len(keys), -1, -1):
            place = self.places.get(keys[:depth])
            if place is not None:
                line, col = place[:2] if key and depth == len(keys) else place[2:]
                return Pos(self.path, line + 1, col + 1)
        return Pos(self.path, 1, 1)


def _mark_pos(path: str, mark: Any) -> Pos:
    if mark is None:
        return Pos(path)
    return Pos(path, mark.line + 1, mark.column + 1)


def quoted(value: Any) -> str:
    """A user's key or value for a one-line message: 'as is', or escaped if it holds line
    breaks, quotes or other characters that would garble the diagnostic."""
    text = str(value)
    return f"'{text}'" if text.isprintable() and "'" not in text else ascii(text)


def text_pos(path: str, text: str, index: int) -> Pos:
    """Line and column of text[index]; for raw bytes, pass them decoded as latin-1 (1:1)."""
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return Pos(path, line, col)


class _Refused(Exception):
    """A construct the registry never uses: nothing is built from the file."""


class _Composer:
    """Builds plain Python values from parser events (and, when tracking, the place of every
    node), refusing the constructs the registry never uses as it goes.

    Replaces ruamel's composer and round-trip constructor: those keep comments and build
    node objects that nothing here reads. Scalars are resolved and constructed by ruamel's
    own YAML 1.2 resolver and safe constructor, so values are what ruamel would give.
    Refusals that make the rest of the file meaningless stop the parse; anchors and
    duplicate keys are collected, all of them.
    """

    def __init__(self, path: str, track: bool, max_events: int = MAX_EVENTS) -> None:
        self.path = path
        self.track = track
        self.max_events = max_events
        self.diagnostics: list[Diagnostic] = []
        self.places: dict[tuple, Place] = {}
        # Each open collection: [container, its path, the pending mapping key and its mark,
        # {key: mark} of the keys a mapping has had].
        self.stack: list[list] = []
        self.root: Any = None

    def refuse(self, mark: Any, rule: str, message: str) -> NoReturn:
        pos = Pos(self.path, 1, 1) if mark is None else _mark_pos(self.path, mark)
        self.diagnostics.append(error(pos, rule, message))
        raise _Refused

    def _attach(self, value: Any, mark: Any, text: str = "") -> None:
        if not self.stack:
            self.root = value
            if self.track:
                self.places[()] = (mark.line, mark.column, mark.line, mark.column)
            return
        frame = self.stack[-1]
        container, path = frame[0], frame[1]
        if type(container) is list:
            if path is not None:
                self.places[(*path, len(container))] = (mark.line, mark.column, mark.line, mark.column)
            container.append(value)
        elif frame[2] is None:
            if isinstance(value, (dict, list)):
                self.refuse(mark, "yaml-complex-key",
                            "a mapping or sequence as a mapping key refused: keys are scalars")
            # Keys are compared as values, as the mapping holds them: 1, 1.0 and true are one key.
            first = frame[4].get(value)
            if first is not None:
                self.diagnostics.append(error(
                    _mark_pos(self.path, mark), "duplicate-key",
                    f"duplicate key {quoted(text)} (first defined at line {first.line + 1})"))
            else:
                frame[4][value] = mark
            frame[2], frame[3] = (value,), mark
        else:
            (key,), key_mark = frame[2], frame[3]
            frame[2] = None
            # The first value of a duplicate key stays.
            if key not in container:
                container[key] = value
                if path is not None:
                    self.places[(*path, key)] = (key_mark.line, key_mark.column, mark.line, mark.column)

    def _path(self) -> tuple | None:
        """The path of the collection about to open; None inside a duplicate key's value,
        which is dropped, so that its nodes do not take the places of the first value's; None
        for every collection when places are not tracked."""
        if not self.stack:
            return () if self.track else None
        frame = self.stack[-1]
        container, path = frame[0], frame[1]
        if path is None:
            return None
        if type(container) is list:
            return (*path, len(container))
        if frame[2] is None or frame[2][0] in container:
            return None
        return (*path, frame[2][0])

    def run(self, next_event: Callable[[], Any], text: str) -> None:
        """Take events until the end of the stream. One loop with the checks inline: a full
        registry is some 90,000 events, and a call per check per event was a third of loading."""
        scalars = _Scalars()
        known, attach, stack = scalars.known.get, self._attach, self.stack
        # Tags start with '!' and a lone surrogate can only come from a \u or \U escape: most
        # files have neither character, and their events need not be looked at for them.
        may_tag, may_escape = "!" in text, "\\" in text
        count = documents = 0
        max_events = self.max_events
        while True:
            event = next_event()
            kind = type(event)
            if count > max_events:
                self.refuse(None, "yaml-too-complex", f"file has more than {max_events} YAML nodes")
            count += 1
            if kind is ScalarEvent or kind is MappingStartEvent or kind is SequenceStartEvent:
                if event.anchor is not None:
                    self.diagnostics.append(error(
                        _mark_pos(self.path, event.start_mark), "yaml-alias",
                        f"anchor '&{_anchor_name(event.anchor)}' refused: the registry does not use "
                        "anchors or aliases"))
                if may_tag:
                    tag = getattr(event, "ctag", None) or getattr(event, "tag", None)
                    if tag is not None and str(tag) not in ("None", ""):
                        self.refuse(event.start_mark, "yaml-tag", f"explicit YAML tag '{tag}' refused")
                if kind is ScalarEvent:
                    if may_escape:
                        bad = _SURROGATE.search(event.value)
                        if bad is not None:
                            self.refuse(event.start_mark, "file-encoding",
                                        f"escape for U+{ord(bad.group(0)):04X} (a lone UTF-16 surrogate) "
                                        "refused: it is not a character")
                    raw = event.value
                    if event.style or not event.implicit[0]:
                        value = raw  # quoted, literal or folded: always a string
                    else:
                        value = known(raw, _UNKNOWN)
                        if value is _UNKNOWN:
                            try:
                                value = scalars.construct(event)
                            except (ValueError, OverflowError) as exc:  # 2001-13-45, a huge integer
                                self.refuse(event.start_mark, "yaml-syntax",
                                            f"YAML error: {' '.join(str(exc).split())}")
                    attach(value, event.start_mark, raw)
                    continue
                if len(stack) >= MAX_DEPTH:
                    self.refuse(event.start_mark, "yaml-too-deep", f"nesting deeper than {MAX_DEPTH} levels")
                container: Any = {} if kind is MappingStartEvent else []
                path = self._path()
                attach(container, event.start_mark)
                stack.append([container, path, None, None, {}])
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                stack.pop()
            elif kind is AliasEvent:
                self.refuse(event.start_mark, "yaml-alias",
                            f"alias '*{_anchor_name(event.anchor)}' refused: the registry does not use "
                            "anchors or aliases")
            elif kind is DocumentStartEvent:
                documents += 1
                if documents > 1:
                    self.refuse(event.start_mark, "yaml-multiple-documents",
                                "a registry file holds exactly one YAML document")
            elif kind is StreamEndEvent or event is None:
                return


class _Scalars:
    """Plain scalars' values exactly as ruamel's YAML 1.2 resolver and safe constructor make
    them, each text resolved once per file."""

    def __init__(self) -> None:
        yaml = YAML(typ="safe", pure=True)
        self._resolver, self._constructor = yaml.resolver, yaml.constructor
        self.known: dict[str, Any] = {}

    def construct(self, event: Any) -> Any:
        value = event.value
        tag = self._resolver.resolve(ScalarNode, value, (True, False))
        if tag == "tag:yaml.org,2002:str":
            result = value
        else:
            node = ScalarNode(tag, value, event.start_mark, event.end_mark)
            result = self._constructor.construct_object(node)
        if isinstance(result, (str, int, float, bool)) or result is None:
            self.known[value] = result
        return result


def _next_event(text: str, fast: bool) -> Callable[[], Any]:
    """The file's parser, event by event: libyaml through ruamel.yaml.clib when it is installed
    (some twenty times faster), else ruamel's pure-Python scanner and parser."""
    if fast and _CParser is not None and not _OTHER_BREAKS.search(text):
        return _CParser(text).get_event
    events = YAML(typ="safe", pure=True).parse(text)
    return lambda: next(events, None)


def _load(path: str, text: str, fast: bool, track: bool = True,
          max_events: int = MAX_EVENTS) -> tuple[Any, dict[tuple, Place], list[Diagnostic]]:
    """The file's value, the places of its nodes if track (else {}), and its diagnostics."""
    composer = _Composer(path, track, max_events)
    try:
        composer.run(_next_event(text, fast), text)
    except _Refused:
        return _REFUSED, {}, composer.diagnostics
    return composer.root, composer.places, composer.diagnostics


_REFUSED = object()
_UNKNOWN = object()
# NEL, LS and PS: libyaml takes them for line breaks, ruamel's scanner does not. Files with
# them take the pure parser, so that the result never depends on the C extension.
_OTHER_BREAKS = re.compile("[\x85\u2028\u2029]")


def parse(src: SourceFile, max_bytes: int = MAX_BYTES,
          max_events: int = MAX_EVENTS) -> tuple[Document | None, list[Diagnostic]]:
    """Parse one file; never raises for any input. The limits suit a registry file; a file
    that lists a fleet's hosts may be larger."""
    path, data = src.path, src.data
    if src.oversize or len(data) > max_bytes:
        return None, [error(Pos(path, 1, 1), "file-too-large",
                            f"file {src.oversize or TooLarge(len(data), max_bytes)}")]
    raw = data.decode("latin-1")
    if b"\0" in data:
        return None, [error(text_pos(path, raw, data.index(b"\0")), "file-binary",
                            "file contains NUL bytes: not a YAML text file")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [error(text_pos(path, raw, exc.start), "file-encoding",
                            f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})")]
    text = text.removeprefix("\ufeff")
    try:
        fast = True
        try:
            root, _, diags = _load(path, text, fast, track=False, max_events=max_events)
        except Exception:  # noqa: BLE001 - libyaml's messages differ: ruamel's own say what went wrong
            fast = False
            root, _, diags = _load(path, text, fast, track=False, max_events=max_events)
        if root is _REFUSED:
            return None, diags
    except ReaderError as exc:
        # Control characters YAML forbids; the reader names the offset, not the line.
        what = (f"character #x{exc.character:04x}" if isinstance(exc.character, int)
                else "character")
        return None, [error(text_pos(path, text, exc.position), "yaml-syntax",
                            f"YAML syntax error: unacceptable {what}: {exc.reason}")]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "malformed YAML"
        if "'\\t'" in problem:
            problem += "; indent with spaces: YAML does not allow tabs for indentation"
        return None, [error(_mark_pos(path, mark), "yaml-syntax", f"YAML syntax error: {problem}")]
    except (YAMLError, RecursionError, ValueError, TypeError, OverflowError, AssertionError) as exc:
        one_line = " ".join(str(exc).split())
        return None, [error(Pos(path, 1, 1), "yaml-syntax", f"YAML error: {one_line}")]
    if any(d.rule != "duplicate-key" for d in diags):
        return None, diags
    if root is None:
        return None, diags + [error(Pos(path, 1, 1), "file-empty", "file is empty: expected a YAML mapping")]
    if not isinstance(root, dict):
        kind = "a list" if isinstance(root, list) else f"a {type(root).__name__} scalar"
        return None, diags + [error(Pos(path, 1, 1), "file-top-level",
                                    f"top level is {kind}: expected a YAML mapping")]
    return Document(path, root, text, fast, max_events), diags


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
        try:
            files.append(read_source(path, rel))
        except Refused as exc:
            diags.append(error(Pos(rel), "file-unreadable", f"cannot read file: {exc}"))
        except OSError as exc:
            diags.append(error(Pos(rel), "file-unreadable", f"cannot read file: {exc.strerror}"))
    return files, diags


def read_source(path: Path, shown: str, limit: int = MAX_BYTES) -> SourceFile:
    """A registry-format file (YAML, JSON or the lock) from disk, read no further than the
    limit. Raises Refused for what is not a regular file, or OSError."""
    try:
        return SourceFile(shown, read_limited(path, limit))
    except TooLarge as exc:
        return SourceFile(shown, b"", str(exc))
