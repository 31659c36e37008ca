"""Command line: the edge where files are read and written and results printed."""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import shlex
import sys
from pathlib import Path
from typing import Callable

# stability, gitio, fleet, risk and the kernel package are imported by the commands that use
# them: every other command would pay for them at start-up.
from . import __version__, lock
from .diagnostics import FORMATTERS, Severity, error, escape, has_errors, render as render_diags
from .errors import Unusable
from .load import is_registry_file
from .locate import Located, locate, out_dir, registry_options
from .lookup import bitmap_report, cpu_report, lookup_module
from .model import IMPACTS
from .registry import UPSTREAM, LoadResult, RegistryFiles, assemble, next_free_bit, read_directory, relock
from .render import RenderError, render
from .resources import templates_dir
from .targets import TARGETS
from .write import Interrupted, UnsafePath, held, recover, stale, write_all, writing

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
EXIT_BROKEN_PIPE = 128 + 13  # SIGPIPE
# The --format choices of commands whose modules are imported only when they run.
FLEET_FORMATS = ("json", "libvirt", "qemu", "text")
RISK_FORMATS = ("html", "json", "markdown", "text")
RISK_ABIS = ("none", "bitmap", "impl-cpus")
STABILITY_FORMATS = ("github", "json", "markdown", "text")
IMPACT_LEVELS = tuple(IMPACTS)


class UsageError(Unusable):
    """Bad arguments or environment, found by the command line itself: exit 2."""


# --- loading -------------------------------------------------------------------------------


def _registry_dir(args: argparse.Namespace, *, bundled_ok: bool = True) -> Located:
    located = locate(args.registry, args.command, Path.cwd(), bundled_ok=bundled_ok)
    if located.bundled:
        print(escape(f"errata-db: note: no errata-db/ in this directory or its parents: using the registry "
                     f"bundled with the package, {located.path}"), file=sys.stderr)
    return located


def _trees(args: argparse.Namespace, *, bundled_ok: bool = True,
           located: Located | None = None) -> tuple[RegistryFiles, tuple[RegistryFiles, ...]]:
    """The registry (found by _registry_dir unless already located) and the overlays, read."""
    located = located or _registry_dir(args, bundled_ok=bundled_ok)
    upstream = read_directory(located.path, located.display)
    return upstream, tuple(read_directory(Path(p), p, overlay=True) for p in args.overlay)


def _print_diags(result: LoadResult, fmt: str = "text", stream=None) -> None:
    if result.diagnostics or fmt != "text":
        (stream or sys.stderr).write(render_diags(result.diagnostics, fmt))


def _load_valid(args: argparse.Namespace, located: Located | None = None) -> LoadResult | None:
    """The registry if it is valid; diagnostics printed."""
    result = assemble(*_trees(args, located=located))
    _print_diags(result)
    if result.registry is None or has_errors(result.diagnostics):
        return None
    return result


# --- commands ------------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    result = assemble(*_trees(args))
    out = sys.stdout if args.format != "text" else sys.stderr
    _print_diags(result, args.format, out)
    if result.registry is None or has_errors(result.diagnostics):
        return EXIT_INVALID
    if args.format == "text":
        reg = result.registry
        print(f"{len(reg.errata)} errata, {len(reg.cpus)} CPUs: valid")
    return EXIT_OK


def _render(reg, targets) -> dict[str, str] | None:
    try:
        return render(reg, targets, templates_dir())
    except RenderError as exc:
        print(f"errata-db: error: template failed, nothing written: {exc}", file=sys.stderr)
        return None


def _write(root: Path, files: dict[str, str], shown: str) -> tuple[list[str], set[str]]:
    """write_all, as usage errors when it is refused or fails; the paths it changed, and those
    of them that are new."""
    with writing(shown):
        changed, created, left = write_all(root, files)
    if left:
        print(escape(f"errata-db: warning: the files were written, but {left}: the next run removes it"),
              file=sys.stderr)
    return changed, created


def _report_files(shown: str, rels, changed, created, *, dry_run: bool = False) -> None:
    """What every writing command prints: each file it changed, new or updated, then how many
    of the files it keeps were changed (the rest are unchanged). Escaped, as every line naming
    a path from outside: a directory's name must not drive the terminal or forge a line."""
    for rel in sorted(changed):
        print(escape(f"{'new' if rel in created else 'updated':9} {shown}/{rel}"))
    print(f"{len(changed)} of {len(rels)} file(s) {'would change' if dry_run else 'changed'}")


def _recover(root: Path, rels, shown: str) -> None:
    """Finish what an interrupted run left in root before anything there is read."""
    with writing(shown):
        recover(root, rels)


def _check_stale(out: Path, files: dict[str, str], label: str, what: str, fix: str) -> int:
    """--check: every stale file named on stderr, its diff on stdout, and the command that fixes it."""
    try:
        problems = stale(out, files, label)
    except Interrupted as exc:
        print(escape(f"errata-db: error: {exc}; run: {fix}"), file=sys.stderr)
        return EXIT_INVALID
    except UnsafePath as exc:
        raise UsageError(str(exc)) from exc
    except OSError as exc:
        raise UsageError(f"cannot read {out}: {exc.strerror or exc}") from exc
    missing = [rel for rel, diff in problems if diff is None]
    for rel, diff in problems:
        print(escape(f"{out / rel}: {'missing' if diff is None else 'stale'}"), file=sys.stderr)
    for _, diff in problems:
        sys.stdout.write(diff or "")
    if problems:
        counts = [f"{n} {state}" for n, state in ((len(missing), "missing"),
                                                  (len(problems) - len(missing), "out of date")) if n]
        print(escape(f"errata-db: {counts[0].replace(' ', f' {what} ', 1)}{''.join(', ' + c for c in counts[1:])}; "
                     f"run: {fix}"), file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK


def _writes_bundled_ok(args: argparse.Namespace) -> bool:
    """Whether a command that writes files may work from the bundled registry: only to check
    (it writes nothing), or as the upstream that overlays extend. Otherwise a run in the wrong
    directory would quietly write files from a registry nobody edits."""
    return args.check or bool(args.overlay)


def cmd_generate(args: argparse.Namespace) -> int:
    if args.out == "":
        raise UsageError("--out needs a directory")
    located = _registry_dir(args, bundled_ok=_writes_bundled_ok(args))
    out_arg = out_dir(args.out, args.registry, located)
    result = _load_valid(args, located=located)
    if result is None:
        return EXIT_INVALID
    files = _render(result.registry, TARGETS)
    if files is None:
        return EXIT_INVALID
    out = Path(out_arg)
    shown = out_arg.rstrip("/")
    if os.path.islink(shown):
        # generated/ is committed: a link there would send --check's diff and the writes elsewhere.
        raise UsageError(f"{shown} is a symbolic link: errata-db does not read or write through one; "
                         "put the directory itself there, or pass --out with the path it points to")
    if args.check:
        fix = " ".join(["errata-db generate", *registry_options(args.registry, args.overlay, located), f"--out {shlex.quote(out_arg)}"])
        return _check_stale(out, files, "" if out.is_absolute() else shown, "generated file(s)", fix)
    _report_files(shown, files, *_write(out, files, out_arg))
    return EXIT_OK


def _int(text: str, what: str, bits: int = 32) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise UsageError(f"{what} '{text}' is not a number (write it as 0x410fd034 or decimal)") from None
    if not 0 <= value < 1 << bits:
        raise UsageError(f"{what} '{text}' does not fit in {bits} bits")
    return value


def cmd_lookup(args: argparse.Namespace) -> int:
    midr = _int(args.midr, "--midr")
    revidr = _int(args.revidr, "--revidr")
    result = _load_valid(args)
    if result is None:
        return EXIT_INVALID
    sys.stdout.write(cpu_report(result.registry, midr, revidr, args.format))
    return EXIT_OK


def _cpu_arg(text: str) -> tuple[int, int]:
    midr, _, revidr = text.partition(":")
    return _int(midr, "--cpu MIDR"), _int(revidr or "0", "--cpu REVIDR")


def cmd_bitmap(args: argparse.Namespace) -> int:
    cpus = [_cpu_arg(c) for c in args.cpu]
    result = _load_valid(args)
    if result is None:
        return EXIT_INVALID
    sys.stdout.write(bitmap_report(result.registry, cpus, args.format))
    return EXIT_OK


def cmd_lock(args: argparse.Namespace) -> int:
    located = _registry_dir(args, bundled_ok=bool(args.overlay))
    own = [] if located.bundled else [(located.path, located.display)]
    dirs = own + [(Path(p), p) for p in args.overlay]
    with held(dirs):
        for root, shown in dirs:
            # Whatever errata-db wrote in a registry directory (lock, or import: any of its files)
            # is finished here, so that lock never turns a user away from a half-switched registry.
            _recover(root, is_registry_file, shown)
        update = relock(*_trees(args, located=located))
        if not update.valid:
            sys.stderr.write(render_diags(update.diagnostics, "text"))
            if update.new_meaning:
                print("errata-db: the lock was not changed: a locked bit cannot be given a new meaning",
                      file=sys.stderr)
            return EXIT_INVALID
        if located.bundled and update.locks[0][1] != update.locks[0][2]:
            raise UsageError("the bundled upstream registry's lock is not yours to change: pass "
                             "--registry DIR for an upstream checkout")
        for tree, old, new in update.locks[1:] if located.bundled else update.locks:
            written = _write(Path(tree.root), {lock.LOCK_NAME: new}, tree.root) if old != new else ([], set())
            _report_files(tree.root, [lock.LOCK_NAME], *written)
    return EXIT_OK


def cmd_next_bit(args: argparse.Namespace) -> int:
    # It answers on a registry with errors: the duplicate-bit error sends users here. Only the
    # ranges must be readable; every bit an entry or a lock line holds, broken or not, is taken.
    upstream, overlays = _trees(args)
    result = assemble(upstream, overlays)
    reg = result.registry
    if reg is None or (args.range is None and len(reg.overlays) != len(overlays)):
        _print_diags(result)
        what = "registry.yaml" if reg is None else "each overlay's overlay.yaml"
        print(f"errata-db: error: next-bit needs the bit ranges of {what}: fix the errors above",
              file=sys.stderr)
        return EXIT_INVALID
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    lock_errors = sum(d.rule == "lock" for d in errors)
    if len(errors) > lock_errors:
        # The lock's own errors are what adding an entry makes, until `lock`: not worth a note,
        # but counted, so that the number is the one validate gives.
        besides = f", {lock_errors} of them in bits.lock" if lock_errors else ""
        print(f"errata-db: note: the registry has {len(errors)} error(s){besides} (`errata-db validate` "
              "lists them); every bit its entries and locks hold counts as taken", file=sys.stderr)
    free, name, first, last = next_free_bit(upstream, overlays, reg, args.range)
    if free is None:
        print(escape(f"errata-db: error: bits {first}..{last} of range '{name}' are all given"), file=sys.stderr)
        return EXIT_INVALID
    print(free)
    return EXIT_OK


def cmd_stability(args: argparse.Namespace) -> int:
    from . import history, stability

    upstream, overlays = _trees(args, bundled_ok=bool(args.overlay))
    trees = (upstream, *overlays)
    new = assemble(upstream, overlays)
    owners = [UPSTREAM, *(o.owner for o in new.registry.overlays)] if new.registry else []
    base = history.resolve(Path.cwd(), args.against, trees)
    if new.registry is None or not new.registry.complete or len(owners) != len(trees):
        _print_diags(new)
        print("errata-db: entries of the working tree's registry cannot be read; fix them "
              "before comparing", file=sys.stderr)
        return EXIT_INVALID
    old_trees, notes = history.trees_at(base, trees, owners)
    for text in notes:
        print(escape(f"errata-db: note: {text}"), file=sys.stderr)
    _print_diags(new)
    old = assemble(old_trees[0], tuple(t for t in old_trees[1:] if t.files))
    if old.registry is None or not old.registry.complete:
        _print_diags(old)
        raise UsageError(f"the registry at {base.ref} has entries that cannot be read (above), so "
                         "comparing with it would report false changes")
    changes = stability.compare(old.registry, new.registry)
    sys.stdout.write(stability.FORMATS[args.format](changes, base.ref))
    if has_errors(new.diagnostics):
        print("errata-db: the working tree's registry is invalid (errors above)", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_INVALID if stability.has_breaking(changes) else EXIT_OK


@contextlib.contextmanager
def _progress(text: str):
    """Say on a terminal what a command that reads a whole Linux tree is doing, and erase it when
    done: stderr only, and never into a pipe, a file or a CI log, where it would be noise."""
    show = sys.stderr is not None and sys.stderr.isatty() and not os.environ.get("CI")
    if show:
        sys.stderr.write(f"errata-db: {escape(text)} ...")
        sys.stderr.flush()
    try:
        yield
    finally:
        if show:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _open_tree(args_tree: str, markers_name: str):
    """The Linux tree of --kernel-tree or --guest-kernel-tree, or a usage error."""
    from .kernel import tree as kernel_tree

    return kernel_tree.Tree.open(Path(args_tree), args_tree, getattr(kernel_tree, markers_name))


def _not_recognised(exc, rule: str) -> None:
    """A table the kernel-source reader does not know how to read, at its line."""
    sys.stderr.write(render_diags([error(exc.pos, rule, exc.reason)], "text"))


def cmd_install(args: argparse.Namespace) -> int:
    from .kernel import install

    tree = _open_tree(args.kernel_tree, "INSTALL_MARKERS")
    located = _registry_dir(args, bundled_ok=_writes_bundled_ok(args))
    result = _load_valid(args, located=located)
    if result is None:
        return EXIT_INVALID
    shown = tree.display
    if not args.check:
        _recover(tree.root, install.all_tree_paths(TARGETS), shown)
    try:
        files, diags, note = install.files_for(result.registry, tree, templates_dir(), args.kernel_tables)
    except RenderError as exc:
        print(f"errata-db: error: template failed, nothing written: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if diags:
        sys.stderr.write(render_diags(diags, "text"))
        print(escape(f"errata-db: {shown} was left as it is: its tables are replaced only by tables that "
                     "mean the same (make the registry say what the tree says first)"), file=sys.stderr)
        return EXIT_INVALID
    if note:
        print(escape(note))
    what, extra = ("kernel table file(s)", ["--kernel-tables"]) if args.kernel_tables else ("installed header(s)", [])
    if args.check:
        fix = " ".join(["errata-db install", *registry_options(args.registry, args.overlay, located),
                        f"--kernel-tree {shlex.quote(args.kernel_tree)}", *extra])
        return _check_stale(tree.root, files, "", what, fix)
    with writing(shown):
        foreign = install.foreign(tree.root, files)
    if foreign and not args.force:
        raise UsageError(f"{shown}/{foreign[0]} exists and was not written by errata-db: refusing to "
                         "overwrite it (move it away, or pass --force)")
    _report_files(shown, files, *_write(tree.root, files, shown))
    return EXIT_OK


def cmd_audit(args: argparse.Namespace) -> int:
    from .kernel import audit

    tree = _open_tree(args.kernel_tree, "AUDIT_MARKERS")
    result = _load_valid(args)
    if result is None:
        return EXIT_INVALID
    reg = result.registry
    with _progress(f"reading the Linux tree {tree.display}"):
        diags = audit.audit(reg, tree)
    sys.stdout.write(render_diags(diags, args.format))
    if args.format == "text":
        counts = audit.summary(diags)
        print(escape(f"Linux {tree.version} at {tree.display}: {len(reg.errata)} errata, {len(reg.cpus)} CPUs, "
                     f"{len(tree.table)} silicon-errata.rst rows checked: {counts['error']} mismatch(es), "
                     f"{counts['warning']} warning(s), {counts['note']} note(s)"))
    return EXIT_INVALID if has_errors(diags) else EXIT_OK


def _fleet(args: argparse.Namespace):
    """The hosts of --hosts and --sysfs and the registry, or None when either is invalid
    (diagnostics printed)."""
    from . import fleet

    if not args.sources:
        raise UsageError("no hosts: pass --hosts FILE (YAML or JSON) or --sysfs ROOT, each repeatable")
    hosts, diags = fleet.read_hosts(args.sources, sys.stdin)
    if diags:
        sys.stderr.write(render_diags(diags, "text"))
    if has_errors(diags):
        return None
    result = _load_valid(args)
    return None if result is None else (hosts, result.registry)


def cmd_fleet(args: argparse.Namespace) -> int:
    from . import fleet, vmm

    loaded = _fleet(args)
    if loaded is None:
        return EXIT_INVALID
    hosts, reg = loaded
    answer = fleet.plan(reg, lookup_module(reg), hosts)
    # A list that a --format qemu or libvirt form cannot take: said in the output too.
    for message in vmm.warnings(answer, args.format):
        print(f"errata-db: warning: {message}", file=sys.stderr)
    sys.stdout.write(fleet.FORMATS[args.format](answer))
    return EXIT_OK


def cmd_risk(args: argparse.Namespace) -> int:
    from . import risk

    if args.min_impact and not args.fail_on:
        raise UsageError("--min-impact says which errata --fail-on counts: give --fail-on ABI as well")
    loaded = _fleet(args)
    if loaded is None:
        return EXIT_INVALID
    hosts, reg = loaded
    if args.guest_kernel_tree is None:
        analysis = risk.analyse(reg, hosts)
    else:
        guest = _guest(args.guest_kernel_tree)
        if guest is None:
            return EXIT_INVALID
        analysis = risk.analyse_guest(reg, hosts, guest)
    sys.stdout.write(risk.FORMATS[args.format](analysis))
    if args.fail_on:
        lines = risk.gate(analysis, args.fail_on, args.min_impact or risk.LEAST_IMPACT)
        if lines:
            sys.stderr.write("".join(f"errata-db: {escape(line)}\n" for line in lines))
            return EXIT_INVALID
    return EXIT_OK


def _guest(path: str):
    """risk --guest-kernel-tree: the guest kernel's own errata table as a registry, or None
    with the reasons printed."""
    from .kernel import cpu_errata
    from .kernel.guest import read_guest

    tree = _open_tree(path, "IMPORT_MARKERS")
    try:
        with _progress(f"reading the guest kernel's tree {tree.display}"):
            guest, diags = read_guest(tree)
    except cpu_errata.NotRecognised as exc:
        _not_recognised(exc, "guest-kernel-tree")
        return None
    if guest is None:
        sys.stderr.write(render_diags(diags, "text"))
        print(escape(f"errata-db: error: the errata table of {path} cannot be read as a registry"), file=sys.stderr)
    return guest


def cmd_import(args: argparse.Namespace) -> int:
    """import --kernel-tree: the registry brought up to the tree's arm64_errata[], all files
    written at once after the result validates, or none."""
    from .kernel import cpu_errata, importer
    from .kernel.facts import read_facts
    from .kernel.plan import NoFreeBit, parse_renames

    located = _registry_dir(args, bundled_ok=args.dry_run)
    # The registry is held from before it is read to after it is written: a second import
    # planned from the same files would undo this one's, and give its bits again.
    with held([] if args.dry_run else [(located.path, located.display)]):
        if not args.dry_run:
            # A killed import may have written any registry file: finish it before reading.
            _recover(located.path, is_registry_file, located.display)
        upstream, overlays = _trees(args, located=located)
        result = assemble(upstream, overlays)
        if result.registry is None or has_errors(result.diagnostics):
            _print_diags(result)
            print("errata-db: error: import needs a valid registry: fix the errors above first", file=sys.stderr)
            return EXIT_INVALID
        tree = _open_tree(args.kernel_tree, "IMPORT_MARKERS")
        try:
            with _progress(f"reading the Linux tree {tree.display}"):
                facts = read_facts(tree)
                imported = importer.into(upstream, overlays, result.registry, facts, parse_renames(args.rename))
        except cpu_errata.NotRecognised as exc:
            _not_recognised(exc, "import")
            why = "" if isinstance(exc, NoFreeBit) else ": import reads only what it understands"
            print(escape(f"errata-db: {upstream.root} was left as it is{why}"), file=sys.stderr)
            return EXIT_INVALID
        if not imported.valid:
            _print_diags(imported.result)
            print(escape(f"errata-db: error: the imported registry would not validate (above): {upstream.root} "
                         "was left as it is"), file=sys.stderr)
            return EXIT_INVALID
        changed = imported.changed
        created = {rel for rel in changed if all(upstream.rel(f) != rel for f in upstream.files)}
        if changed and not args.dry_run:
            _write(located.path, changed, upstream.root)
    sys.stdout.write(importer.report(imported.plan, facts, bool(changed) and not args.dry_run,
                                     {i.code for i in result.registry.implementers}))
    if changed:  # else the report's last line says "nothing to change"
        kept = {upstream.rel(f) for f in upstream.files} | set(changed)
        _report_files(upstream.root, kept, changed, created, dry_run=args.dry_run)
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from .scaffold import create, skeleton

    create(Path(args.dir), skeleton())
    print(escape(f"created an empty registry in {args.dir}: registry.yaml, cpus.yaml, errata/upstream.yaml, "
                 f"bits.lock, schema/"))
    return EXIT_OK


# --- argument parsing ----------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--registry", metavar="DIR",
                        help="registry directory (default: errata-db/ here or in a parent directory, "
                        "else the copy bundled with the package)")
    common.add_argument("--overlay", metavar="DIR", action="append", default=[],
                        help="add a downstream overlay directory (repeatable)")
    parser = argparse.ArgumentParser(
        prog="errata-db",
        description="Permanent migration-safe bit numbers for arm64 errata, and the headers generated from them.")
    parser.add_argument("--version", action="version", version=f"errata-db {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, fn: Callable, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        p.set_defaults(fn=fn)
        return p

    p = sub.add_parser("init", help="create a new, empty registry in DIR",
                       description="create a new, empty registry in DIR")
    p.set_defaults(fn=cmd_init)
    p.add_argument("dir", metavar="DIR", help="a new or empty directory")
    p = add("validate", cmd_validate, "check the registry: schema, semantic rules and the lock")
    p.add_argument("--format", choices=sorted(FORMATTERS), default="text")
    p = add("generate", cmd_generate, "render the headers, Python module, docs and JSON")
    p.add_argument("--out", metavar="DIR",
                   help="output directory (default: generated/ beside the registry directory, "
                   "./generated for the copy bundled with the package)")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 and show a diff if any output is stale or missing")
    p = add("lookup", cmd_lookup, "list the errata of one CPU")
    p.add_argument("--midr", required=True, help="MIDR_EL1 value, e.g. 0x410fd034")
    p.add_argument("--revidr", default="0", help="REVIDR_EL1 value (default 0)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p = add("bitmap", cmd_bitmap, "the R0-R3 bitmap for a set of CPUs")
    p.add_argument("--cpu", required=True, action="append", metavar="MIDR[:REVIDR]",
                   help="a CPU the VM may run on (repeatable)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    add("lock", cmd_lock, "append new bits to bits.lock and mark retirements")
    p = add("next-bit", cmd_next_bit, "print the lowest bit never given in a range")
    p.add_argument("--range", metavar="NAME",
                   help="bit range (default: the overlay's range with --overlay, else upstream)")
    p = add("stability", cmd_stability, "classify every change against a git ref")
    p.add_argument("--against", metavar="REF", help="git ref (default: merge-base with the main branch)")
    p.add_argument("--format", choices=STABILITY_FORMATS, default="text")
    p = add("install", cmd_install, "write the generated kernel and KVM headers into a Linux tree")
    p.add_argument("--kernel-tree", required=True, metavar="DIR", help="top directory of a Linux source tree")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 and show a diff if the tree's headers are stale or missing")
    p.add_argument("--force", action="store_true",
                   help="overwrite headers there that errata-db did not write")
    p.add_argument("--kernel-tables", action="store_true",
                   help="instead: write the generated errata table and make cpu_errata.c use it")
    p = add("audit", cmd_audit, "cross-check the registry against a Linux tree")
    p.add_argument("--kernel-tree", required=True, metavar="DIR", help="top directory of a Linux source tree")
    p.add_argument("--format", choices=sorted(FORMATTERS), default="text")
    p = add("import", cmd_import, "bring the registry up to a Linux tree's arm64 errata table")
    p.add_argument("--kernel-tree", required=True, metavar="DIR", help="top directory of a Linux source tree")
    p.add_argument("--dry-run", action="store_true", help="print what would change; write nothing")
    p.add_argument("--rename", metavar="OLD=NEW", action="append", default=[],
                   help="the tree's cpucap NEW is the registry's OLD, renamed (repeatable); import "
                   "recognises a rename itself when it is sure")
    p = add("fleet", cmd_fleet, "what the VMM, KVM and the guest need for a VM that may run on these hosts")
    _host_options(p)
    p.add_argument("--format", choices=FLEET_FORMATS, default="text")
    p = add("risk", cmd_risk, "which migrations between these hosts leave a guest without a workaround, "
            "under each guest behaviour")
    _host_options(p)
    p.add_argument("--guest-kernel-tree", metavar="DIR",
                   help="answer for this guest kernel, from its Linux source tree: its own ranges, and its "
                   "cpucaps under the bitmap")
    p.add_argument("--format", choices=RISK_FORMATS, default="text")
    p.add_argument("--fail-on", choices=RISK_ABIS,
                   help=f"exit 1 when a pair is unsafe under this guest behaviour ({', '.join(RISK_ABIS)}), "
                   "after printing the report; the first such pairs go to stderr")
    p.add_argument("--min-impact", choices=IMPACT_LEVELS,
                   help="with --fail-on, count only errata of this impact or worse "
                   f"({', '.join(IMPACT_LEVELS)}, worst first); an unreviewed entry always counts")
    return parser


class _HostSource(argparse.Action):
    """--hosts and --sysfs, kept in the order given: a class of hosts is named after its first
    host in input order, whichever option brought it."""

    def __call__(self, parser, namespace, values, option_string=None):
        namespace.sources = [*(getattr(namespace, "sources", None) or []), (self.dest, values)]


def _host_options(p: argparse.ArgumentParser) -> None:
    p.set_defaults(sources=[])
    p.add_argument("--hosts", metavar="FILE", action=_HostSource,
                   help="YAML or JSON file of hosts and their MIDR/REVIDR values ('-' for stdin; repeatable)")
    p.add_argument("--sysfs", metavar="[NAME=]ROOT", action=_HostSource,
                   help="a host's root directory holding sys/devices/system/cpu, as ROOT or NAME=ROOT "
                   "(default name: ROOT; repeatable)")


def _run(args: argparse.Namespace) -> int:
    try:
        try:
            return args.fn(args)
        finally:
            # What was written must come out however the command ended: main() may leave with
            # os._exit, which flushes nothing. (No stdout at all when it was closed: `>&-`.)
            if sys.stdout is not None:
                sys.stdout.flush()
    except Unusable as exc:
        # One line per problem, each escaped: a path or ref from outside cannot start a line.
        for problem in exc.args:
            print(f"errata-db: error: {escape(str(problem))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Whoever read the output stopped (`| head`): say nothing more. The status is the one
        # SIGPIPE gives, as for git.
        return EXIT_BROKEN_PIPE


def main(argv: list[str] | None = None) -> int:
    """Run one command; with argv None, as the process itself (the console script)."""
    whole_process = argv is None
    if whole_process:
        # Loading a registry makes tens of thousands of objects that live to the end and form
        # no cycles: the collector's default thresholds walked them again and again, a seventh
        # of `generate --check` on a full registry. Young garbage is still collected, less often.
        gc.set_threshold(100_000, 50, 100)
    code = _run(_parser().parse_args(argv))
    if whole_process:
        # Freeing those objects one by one at exit took another 20-30 ms; the output is
        # flushed and the files are closed, so there is nothing left to do (mypy exits so too).
        # Output a closed pipe did not take is dropped, not flushed again at exit.
        try:
            if sys.stderr is not None:
                sys.stderr.flush()
        except OSError:  # stderr is a closed pipe too: nobody is left to tell
            pass
        os._exit(code)
    return code
