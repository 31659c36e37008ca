"""The pipeline up to a checked model: read files -> parse -> schema -> build -> validate.

Reading is the only side effect and sits at the edge (a directory, or git for `stability`);
everything after works on in-memory files so that any source goes through the same checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from . import lock, schema, validate
from .diagnostics import Diagnostic, Pos, Severity, error, has_errors, warning
from .errors import Unusable
from .load import Document, SourceFile, parse, read_dir_files
from .model import (RESERVED, UPSTREAM, Erratum, Located, LockLine, Overlay, Registry, Speculation, build_cpus,
                    build_errata, build_implementers, build_not_covered, build_ranges, build_speculation)



class EnvironmentProblem(Unusable):
    """The registry cannot be read at all (missing directory, not a registry): exit 2."""


@dataclass(frozen=True)
class RegistryFiles:
    """One registry or overlay directory: display root and files keyed by relative name."""

    root: str
    files: tuple[SourceFile, ...]
    overlay: bool = False
    # What the directory holds that is not a registry file but must not pass unnoticed.
    problems: tuple[Diagnostic, ...] = ()

    def rel(self, src: SourceFile) -> str:
        return src.path[len(self.root) + 1:]

    def with_texts(self, texts: dict[str, str]) -> "RegistryFiles":
        """The directory as it would be with these files (relative path: text) written: a trial
        that must validate before anything is."""
        new = {f"{self.root}/{rel}": SourceFile(f"{self.root}/{rel}", text.encode("utf-8"))
               for rel, text in texts.items()}
        files = {**{f.path: f for f in self.files}, **new}
        return replace(self, files=tuple(files[p] for p in sorted(files)))


@dataclass(frozen=True)
class LoadResult:
    registry: Registry | None
    diagnostics: tuple[Diagnostic, ...]


def marker_file(overlay: bool) -> str:
    """The file that makes a directory a registry, or an overlay."""
    return "overlay.yaml" if overlay else "registry.yaml"


def read_directory(path: Path, display: str, *, overlay: bool = False) -> RegistryFiles:
    marker = marker_file(overlay)
    if not path.is_dir():
        what = "not a directory" if path.exists() else "no such directory"
        raise EnvironmentProblem(f"{display}: {what}")
    # Whatever stands at the marker's path is read (and refused, with what it is, if it is
    # not a regular file); only a missing marker means this is not a registry.
    if not (path / marker).exists() and not (path / marker).is_symlink():
        what = "an overlay" if overlay else "a registry"
        raise EnvironmentProblem(f"{display}: not {what} directory (it has no {marker})")
    files, diags = read_dir_files(path, display)
    if diags:
        raise EnvironmentProblem(*(f"{d.pos}: {d.message}" for d in diags))
    errata = path / "errata"
    nested = sorted(p for p in (errata.iterdir() if errata.is_dir() else ())
                    if p.is_dir() and not p.name.startswith(".") and any(p.iterdir()))
    problems = tuple(error(Pos(f"{display}/errata/{p.name}"), "unknown-file",
                           "a directory inside errata/ is not read: errata files sit directly in errata/")
                     for p in nested)
    return RegistryFiles(display, tuple(files), overlay, problems)


def _kind(rel: str, overlay: bool) -> str | None:
    if rel.startswith("errata/"):
        return "errata" if rel.endswith(".yaml") else None
    return {"registry.yaml": None if overlay else "registry", "cpus.yaml": "cpus",
            "speculation.yaml": None if overlay else "speculation",
            "overlay.yaml": "overlay" if overlay else None}.get(rel)


@dataclass
class _Parsed:
    origin_files: RegistryFiles
    docs: dict[str, tuple[Document, set[tuple]]]
    lock_text: SourceFile | None


def _parse_tree(tree: RegistryFiles, diags: list[Diagnostic]) -> _Parsed:
    docs: dict[str, tuple[Document, set[tuple]]] = {}
    lock_src = None
    for src in tree.files:
        rel = tree.rel(src)
        if rel == lock.LOCK_NAME:
            lock_src = src
            continue
        kind = _kind(rel, tree.overlay)
        if kind is None:
            hint = " (registry files end in .yaml)" if rel.endswith(".yml") else ""
            diags.append(warning(Pos(src.path), "unknown-file",
                                 f"file is not part of the registry format{hint}; ignored"))
            continue
        doc, parse_diags = parse(src)
        diags.extend(parse_diags)
        if doc is None:
            continue
        schema_diags, broken = schema.check(doc, kind)
        diags.extend(schema_diags)
        docs[rel] = (doc, broken)
    return _Parsed(tree, docs, lock_src)


def _valid_items(broken: set[tuple], section: str, doc: Document) -> set[int]:
    if (section,) in broken or () in broken:
        return set()
    items = doc.root.get(section) or []
    if not isinstance(items, list):
        return set()
    return {i for i in range(len(items)) if (section, i) not in broken}


def _overlay_of(parsed: _Parsed) -> Overlay | None:
    entry = parsed.docs.get("overlay.yaml")
    if entry is None or entry[1]:
        return None
    doc = entry[0]
    r = doc.root
    return Overlay(str(r["owner"]), str(r["range"]), r.get("first"), r.get("last"),
                   parsed.origin_files.root, Located(doc, ()), r.get("description"))


def _lock_of(parsed: _Parsed, origin: str, diags: list[Diagnostic]) -> tuple[list[LockLine], tuple]:
    """The lock lines of one directory, and its (origin, path, exists) record."""
    path = f"{parsed.origin_files.root}/{lock.LOCK_NAME}"
    if parsed.lock_text is None:
        return [], (origin, path, False)
    text, problems = lock.text_of(parsed.lock_text)
    if text is None:
        diags += problems
        return [], (origin, path, True)
    lines, lock_diags = lock.parse(path, text, origin)
    diags += lock_diags
    return lines, (origin, path, True)


def _missing_files(trees: list[_Parsed], diags: list[Diagnostic]) -> None:
    for parsed in trees:
        root = parsed.origin_files.root
        required = ("overlay.yaml",) if parsed.origin_files.overlay else ("registry.yaml", "cpus.yaml")
        for name in required:
            reported = any(d.pos.path == f"{root}/{name}" for d in diags)
            if name not in parsed.docs and not reported:
                diags.append(error(Pos(f"{root}/{name}"), "file-missing", f"{name} is missing"))


def _speculation_of(parsed: _Parsed, cpus: dict, diags: list[Diagnostic]) -> Speculation | None:
    """The upstream registry's speculation.yaml; None when it has none, or one the schema refused."""
    entry = parsed.docs.get("speculation.yaml")
    if entry is None or entry[1]:
        return None
    built, problems = build_speculation(entry[0], cpus)
    diags += problems
    return built


def assemble(upstream: RegistryFiles, overlays: tuple[RegistryFiles, ...] = ()) -> LoadResult:
    """Parse, check and model an upstream registry and its overlays; never raises for bad input."""
    diags: list[Diagnostic] = [d for t in (upstream, *overlays) for d in t.problems]
    trees = [_parse_tree(t, diags) for t in (upstream, *overlays)]
    _missing_files(trees, diags)
    head = trees[0].docs.get("registry.yaml")
    if head is None or head[1]:
        return LoadResult(None, tuple(sorted(set(diags))))

    # Each directory's documents with the origin its entries belong to; an overlay whose
    # overlay.yaml is broken contributes nothing (its errors are already reported).
    origins = [(UPSTREAM, trees[0])]
    overlay_models = []
    for parsed in trees[1:]:
        ov = _overlay_of(parsed)
        if ov is not None:
            overlay_models.append(ov)
            origins.append((ov.owner, parsed))

    cpu_docs = [(origin, parsed.docs["cpus.yaml"]) for origin, parsed in origins if "cpus.yaml" in parsed.docs]
    implementers = [i for origin, (doc, broken) in cpu_docs
                    for i in build_implementers(doc, _valid_items(broken, "implementers", doc), origin)]
    imp_by_id = {i.id: i for i in reversed(implementers)}
    cpus = []
    for origin, (doc, broken) in cpu_docs:
        built, cpu_diags = build_cpus(doc, _valid_items(broken, "cpus", doc), origin, imp_by_id)
        cpus += built
        diags += cpu_diags
    cpu_by_id = {c.id: c for c in reversed(cpus)}

    errata: list[Erratum] = []
    lock_lines: list[LockLine] = []
    lock_files = []
    for origin, parsed in origins:
        for rel, (doc, broken) in sorted(parsed.docs.items()):
            if rel.startswith("errata/"):
                built, e_diags = build_errata(doc, _valid_items(broken, "errata", doc), origin, cpu_by_id)
                errata += built
                diags += e_diags
        lines, record = _lock_of(parsed, origin, diags)
        lock_lines += lines
        lock_files.append(record)

    speculation = _speculation_of(trees[0], cpu_by_id, diags)
    r = head[0].root
    registry = Registry(
        format=int(r["format"]), hypercall_name=str(r["hypercall"]["name"]),
        hypercall_description=str(r["hypercall"]["description"]),
        registers=tuple(str(x) for x in r["bit_space"]["registers"]),
        register_bits=int(r["bit_space"]["register_bits"]), ranges=build_ranges(head[0]),
        implementers=tuple(implementers), cpus=tuple(cpus),
        errata=tuple(sorted(errata, key=lambda e: (e.bit, e.name))),
        overlays=tuple(overlay_models), lock=tuple(lock_lines),
        lock_files=tuple(lock_files), not_covered=build_not_covered(head[0]),
        complete=not has_errors(diags),
        where=Located(head[0], ()), speculation=speculation)
    diags += validate.check(registry)
    return LoadResult(registry, tuple(sorted(set(diags))))


# A `bit:` line of an errata file, read from its text only when the file does not parse.
_BIT_LINE = re.compile(r"^[ \t-]*bit[ \t]*:[ \t]*(0[xX][0-9a-fA-F]+|[0-9]+)[ \t]*(?:#.*)?$", re.M)


def _raw_bit(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if len(text) > 10:  # no bit is that long, and int() of thousands of digits is refused
        return None
    try:
        # A leading zero is a decimal number to YAML (0123), and a syntax error to int(.., 0).
        return int(text, 10) if text.isdigit() else int(text, 0)
    except ValueError:
        return None


def taken_bits(trees: tuple[RegistryFiles, ...]) -> set[int]:
    """Every bit an errata file or a lock of these directories gives, however broken they are.

    `next-bit` is what the duplicate-bit error sends the user to, so it runs on a registry
    with errors, and must never offer a bit some entry holds: an entry the schema refused or
    whose CPU is unknown holds its bit all the same, and so does an entry of a file that YAML
    cannot read, whose `bit:` lines are then read from its text.
    """
    bits: set[int] = set()
    for tree in trees:
        for src in tree.files:
            rel = tree.rel(src)
            if rel == lock.LOCK_NAME:
                bits |= lock.recorded_bits(lock.decoded(src.data))
                continue
            if _kind(rel, tree.overlay) != "errata":
                continue
            doc, _ = parse(src)
            if doc is None:
                found = (_raw_bit(m.group(1)) for m in _BIT_LINE.finditer(src.data.decode("utf-8", "replace")))
                bits |= {bit for bit in found if bit is not None}
                continue
            items = doc.root.get("errata")
            for item in items if isinstance(items, list) else ():
                bit = _raw_bit(item.get("bit")) if isinstance(item, dict) else None
                if bit is not None:
                    bits.add(bit)
    return bits


class NoSuchRange(Unusable):
    """next-bit --range names no range, or one nobody may take bits of: usage, exit 2."""


@dataclass(frozen=True)
class LockUpdate:
    """What `errata-db lock` would write: each directory's lock, old and new text, or why none."""

    valid: bool  # the registry but for its locks is valid, and the new locks keep every meaning
    diagnostics: tuple[Diagnostic, ...]  # to show when it is not
    locks: tuple[tuple[RegistryFiles, str, str], ...] = ()
    new_meaning: bool = False  # refused: a new lock would give a locked bit a new meaning


def relock(upstream: RegistryFiles, overlays: tuple[RegistryFiles, ...]) -> LockUpdate:
    """New bits appended to each directory's lock and retirements marked. Only a lock that makes
    the registry valid is offered: never one that gives a locked bit a new meaning."""
    result = assemble(upstream, overlays)
    if result.registry is None or any(d.rule != "lock" for d in result.diagnostics
                                      if d.severity is Severity.ERROR):
        return LockUpdate(False, result.diagnostics)
    reg = result.registry
    # Every other error is ruled out above, so each overlay's overlay.yaml was read.
    owners = [UPSTREAM, *(o.owner for o in reg.overlays)]
    locks = []
    for tree, origin in zip((upstream, *overlays), owners):
        src = next((f for f in tree.files if tree.rel(f) == lock.LOCK_NAME), None)
        old = lock.text_of(src)[0] if src is not None else ""
        locks.append((tree, old, lock.updated(old, [e for e in reg.errata if e.origin == origin])))
    trial = [tree.with_texts({lock.LOCK_NAME: new}) for tree, _, new in locks]
    check = assemble(trial[0], tuple(trial[1:]))
    if has_errors(check.diagnostics):
        # The registry's own diagnostics point at real lines; the trial lock is never written.
        return LockUpdate(False, result.diagnostics or check.diagnostics, new_meaning=True)
    return LockUpdate(True, (), tuple(locks))


def next_free_bit(upstream: RegistryFiles, overlays: tuple[RegistryFiles, ...], reg: Registry,
                  range_name: str | None) -> tuple[int | None, str, int, int]:
    """The lowest bit never given in a range (default: the first overlay's, else upstream's),
    with the range's name and bounds; None when all are given. Raises NoSuchRange for a range
    that does not exist or is reserved."""
    overlay = reg.overlays[0] if reg.overlays and range_name is None else None
    name = range_name or (overlay.range if overlay else UPSTREAM)
    rng = next((r for r in reg.ranges if r.name == name), None)
    if rng is None:
        raise NoSuchRange(f"no bit range named '{name}' (ranges: {', '.join(r.name for r in reg.ranges)})")
    if rng.status == RESERVED:
        raise NoSuchRange(f"range '{name}' is Reserved: nobody may be given its bits")
    first, last = rng.first, rng.last
    if overlay is not None and overlay.first is not None:
        first, last = overlay.first, overlay.last
    used = taken_bits((upstream, *overlays))
    return next((b for b in range(first, last + 1) if b not in used), None), name, first, last


def load_registry(path: Path, overlays: tuple[Path, ...] = (), display: str | None = None) -> LoadResult:
    """Read and check a registry directory and its overlays. Raises EnvironmentProblem only."""
    upstream = read_directory(path, display or str(path))
    trees = tuple(read_directory(p, str(p), overlay=True) for p in overlays)
    return assemble(upstream, trees)
