"""Shared test helpers: the repository's paths, a way to run the CLI in-process, the write edge
made to fail, the host files `fleet` and `risk` refuse, and the Linux trees of the slow tier."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import shutil
import sys
import types
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, NoReturn

import pytest

import errata_db.write
from errata_db.cli import main
from errata_db.diagnostics import has_errors
from errata_db.registry import load_registry
from errata_db.render import render
from errata_db.resources import templates_dir
from errata_db.targets import TARGETS

REPO = Path(__file__).resolve().parent.parent
REGISTRY = REPO / "errata-db"
GENERATED = REPO / "generated"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests that hold a child process to a peak memory (tests/test_special_files.py) run
    first: Linux counts a child's peak from its parent's at the fork, and a pytest process that
    has run the large-fleet and property tests is past the budget itself."""
    items.sort(key=lambda item: item.path.name != "test_special_files.py")


def run_cli(*args: str, cwd: Path | None = None) -> Run:
    """Run `errata-db ARGS` in-process (fast), capturing its exit code and output."""
    out, err = io.StringIO(), io.StringIO()
    old = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse usage errors
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        os.chdir(old)
    return Run(code, out.getvalue(), err.getvalue())


# --- host files `fleet` and `risk` refuse ----------------------------------------------------------

NO_HOSTS = "errata-db: error: no hosts: pass --hosts FILE (YAML or JSON) or --sysfs ROOT, each repeatable\n"

# hosts.yaml's text, and the line of the error both commands give for it (None: libyaml's own
# words for a syntax error).
BAD_HOSTS = [
    pytest.param("hosts: []\n", "hosts.yaml:1:8: error: 'hosts': [] should be non-empty [schema-minItems]",
                 id="no-hosts"),
    pytest.param('{"hosts": []}', "hosts.yaml:1:11: error: 'hosts': [] should be non-empty [schema-minItems]",
                 id="no-hosts-json"),
    pytest.param("", "hosts.yaml:1:1: error: file is empty: expected a YAML mapping [file-empty]", id="empty"),
    pytest.param("hosts:\n  - name: a\n    cpus: []\n",
                 "hosts.yaml:3:11: error: 'hosts[a].cpus': [] should be non-empty [schema-minItems]", id="no-cpus"),
    pytest.param("hosts:\n  - name: a\n    cpus: [{midr: 0x1ffffffff}]\n",
                 "hosts.yaml:3:19: error: 'hosts[a].cpus.0.midr': 8589934591 is not valid under any of the given "
                 "schemas [schema-oneOf]", id="midr-over-32-bits"),
    pytest.param("hosts:\n  - name: a\n    cpus: [{midr: '9999999999'}]\n",
                 "hosts.yaml:3:19: error: midr '9999999999' does not fit in 32 bits [fleet-value]",
                 id="midr-string-over-32-bits"),
    pytest.param("hosts:\n  - name: a\n    cpus: [{midr: 1, revidr: x}]\n",
                 "hosts.yaml:3:30: error: 'hosts[a].cpus.0.revidr': 'x' is not valid under any of the given "
                 "schemas [schema-oneOf]", id="revidr-not-a-number"),
    pytest.param("hosts:\n  - name: a\n    cpus: [{mdir: 1}]\n",
                 "hosts.yaml:3:13: error: unknown key 'mdir'; did you mean 'midr'? [schema-unknown-key]",
                 id="misspelt-key"),
    pytest.param("hosts:\n  - name: a\n    cpus: [{midr: 1}]\n  - name: a\n    cpus: [{midr: 2}]\n",
                 "hosts.yaml:4:11: error: host 'a' is already defined at hosts.yaml:2:11 [fleet-duplicate-host]",
                 id="duplicate-host"),
    pytest.param("hosts:\n  - name: a\n    cpus: [{midr: 1, count: 2000000}]\n",
                 "hosts.yaml:3:29: error: 'hosts[a].cpus.0.count': 2000000 is greater than the maximum of 1048576 "
                 "[schema-maximum]", id="count-too-large"),
    pytest.param("hosts: [\n", None, id="yaml-syntax"),
]


def assert_hosts_refused(result: Run, expected: str | None) -> None:
    """Exit 1, nothing on stdout, and the error at its place in the file."""
    assert (result.code, result.out) == (1, ""), result.err
    if expected is None:
        assert result.err.startswith("hosts.yaml:") and "[yaml-syntax]" in result.err, result.err
    else:
        assert expected in result.err.splitlines(), result.err


def review_imported(registry: Path) -> None:
    """What a person does after `import` into an empty registry: decide every entry's guest and
    impact, so that validate has nothing to warn about."""
    for path in (registry / "errata").glob("*.yaml"):
        text = path.read_text()
        path.write_text(text.replace("    guest: unreviewed\n", "    guest: needed\n").replace(
            "    impact: unreviewed\n", "    impact: corruption\n    impact_note: Reviewed by the test.\n"))


@pytest.fixture
def registry_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled registry."""
    dest = tmp_path / "errata-db"
    shutil.copytree(REGISTRY, dest)
    return dest


@pytest.fixture(scope="session")
def registry():
    """The bundled registry's model, loaded once and known to be valid."""
    result = load_registry(REGISTRY, display="errata-db")
    assert result.registry is not None and not has_errors(result.diagnostics)
    return result.registry


@pytest.fixture(scope="session")
def fresh(tmp_path_factory, registry) -> Path:
    """Every target rendered now from errata-db/ into a temporary tree (shared: do not modify)."""
    out = tmp_path_factory.mktemp("fresh")
    for rel, text in render(registry, TARGETS, templates_dir()).items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    return out


# --- the write edge, failing on purpose ---------------------------------------------------------


def os_namespace() -> types.SimpleNamespace:
    """The os module's functions in a namespace of their own, for errata_db.write to use instead
    of os: a test replaces there the ones it fails or watches."""
    return types.SimpleNamespace(**{k: getattr(os, k) for k in dir(os) if not k.startswith("__")})


@pytest.fixture
def write_os(monkeypatch) -> types.SimpleNamespace:
    """The os errata_db.write calls, for the test to replace functions of (os again after it)."""
    fake = os_namespace()
    monkeypatch.setattr(errata_db.write, "os", fake)
    return fake


@pytest.fixture
def failing_rename(write_os):
    """fail(n): the n-th rename of a new content onto its destination fails with EIO (renames
    inside the transaction directory, and the old files put back after, pass). fail returns
    the destinations renamed onto, the failing one last."""
    def fail(n: int) -> list[str]:
        real, calls = os.replace, []

        def replace(src, dst):
            if len(calls) < n and errata_db.write.TXN not in Path(dst).parts:
                calls.append(dst)
                if len(calls) == n:
                    raise OSError(errno.EIO, "Input/output error")
            return real(src, dst)

        write_os.replace = replace
        return calls
    return fail


@pytest.fixture
def failing_stage(write_os):
    """fail(n, error): creating the n-th file errata_db.write stages a new content in fails
    with that OSError."""
    def fail(n: int, error: OSError) -> None:
        real, calls = os.open, []

        def open_(path, flags, *args, **kwargs):
            if flags & os.O_CREAT and Path(path).parent.name == "new":
                calls.append(path)
                if len(calls) == n:
                    raise error
            return real(path, flags, *args, **kwargs)

        write_os.open = open_
    return fail


# --- the Linux trees of the slow tier -----------------------------------------------------------


class SlowTierSkipped(pytest.PytestWarning):
    """A slow-tier test did not run for want of a Linux tree, a tool or the browser (shown in
    pytest's warnings summary)."""


def skip_loudly(reason: str, request: pytest.FixtureRequest) -> NoReturn:
    """Skip, and say so on the terminal past pytest's capture and in its warnings summary: pytest
    alone shows skip reasons only with -rs, and a CI job that meant to run the test must not miss it."""
    text = f"SKIPPING {request.node.nodeid or request.fixturename}: {reason}"
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print(f"\n*** {text}", file=sys.stderr, flush=True)
    warnings.warn(SlowTierSkipped(text), stacklevel=2)
    pytest.skip(reason)


def path_from_env(name: str, request: pytest.FixtureRequest, *, how: str = ".ci/run sets it",
                  usable: Callable[[Path], bool] = Path.exists, what: str = "an existing path") -> Path:
    """The path the variable name gives; a loud skip when it is unset (saying how to set it) or
    the path is not usable (saying what it must be)."""
    value = os.environ.get(name)
    if not value:
        skip_loudly(f"${name} is not set ({how})", request)
    if not usable(Path(value)):
        skip_loudly(f"${name}={value} is not {what}", request)
    return Path(value)
