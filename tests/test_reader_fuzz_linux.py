"""The kernel-source reader fuzzed with mutations of Linux 6.1's, 6.12's and 7.3's real
arm64_errata[] (slow tier, issue #21).

Each mutation of arch/arm64/kernel/cpu_errata.c (tests/kernel/mutate_errata.py: a class and a
seed) is built with the gcc command the kernel's own errata-on build used for cpu_errata.o, in
the proof's build directory (headers, config and flags as the kernel has them), and the table it
holds read from the object (tests/errata_object.py). Then `errata-db import --kernel-tree` runs
on a tree of the files errata-db reads with that cpu_errata.c, into a new registry, and:

- whatever the kernel makes of it, errata-db exits 0, 1 or 2 and never with a traceback;
- if the kernel builds it, errata-db either refuses it (exit 1, `PATH:LINE:COL: error:` naming a
  line of the mutated cpu_errata.c) or imports a registry that decides every MIDR/REVIDR as the
  object's table does (tests/kernel_matching.py's probes, as the import proof compares them);
- if the object's table has no meaning (a list without its terminator, a NULL list the kernel
  dereferences), only the refusal will do.

One test per kernel and class runs ERRATA_DB_FUZZ_N mutations (3) from ERRATA_DB_FUZZ_SEED (21);
a failure prints each failing mutation's seed, change, diff and the command that replays it.
Before them, the pristine table read from its object must be the oracle's facts
(ERRATA_DB_FACTS_*), and errata-db must import it.

Environment, per kernel (skipped out loud when unset): the pristine tree (ERRATA_DB_LINUX_61,
_612, _73), its proof with the errata-on build (ERRATA_DB_LINUX_PROOF_61, ERRATA_DB_LINUX_PROOF,
ERRATA_DB_LINUX_PROOF_73) and the oracle's facts (ERRATA_DB_FACTS_61, _612, _73). Nothing is
written in either: mutations are built from a directory of their own.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import multiprocessing
import os
import re
import shlex
import shutil
import subprocess
import sys
import traceback
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import path_from_env, run_cli, skip_loudly
from kernel_matching import KernelTable, differences, probe_cpus
from test_readme_tour import tree_copy

from errata_db.diagnostics import has_errors
from errata_db.lookup import lookup_module
from errata_db.registry import load_registry

try:
    import errata_object
except ImportError:  # pyelftools, of the test extra: the kernels are skipped, out loud
    errata_object = None

pytestmark = pytest.mark.slow

_SPEC = importlib.util.spec_from_file_location(
    "mutate_errata", Path(__file__).resolve().parent / "kernel" / "mutate_errata.py")
mutate_errata = importlib.util.module_from_spec(_SPEC)
sys.modules["mutate_errata"] = mutate_errata  # its dataclasses look themselves up there
_SPEC.loader.exec_module(mutate_errata)

# version: pristine tree, proof directory, oracle's facts
KERNELS = {
    "6.1": ("ERRATA_DB_LINUX_61", "ERRATA_DB_LINUX_PROOF_61", "ERRATA_DB_FACTS_61"),
    "6.12": ("ERRATA_DB_LINUX_612", "ERRATA_DB_LINUX_PROOF", "ERRATA_DB_FACTS_612"),
    "7.3": ("ERRATA_DB_LINUX_73", "ERRATA_DB_LINUX_PROOF_73", "ERRATA_DB_FACTS_73"),
}
CPU_ERRATA = "arch/arm64/kernel/cpu_errata.c"
SEED = int(os.environ.get("ERRATA_DB_FUZZ_SEED", "21"))
PER_CLASS = int(os.environ.get("ERRATA_DB_FUZZ_N", "3"))
JOBS = 2  # worker processes, each building a mutation, importing it and comparing
LOG = os.environ.get("ERRATA_DB_FUZZ_LOG")  # a file to append every mutation's outcome to, one a line


# The kernel whose mutations the forked workers examine.
_CURRENT: Kernel | None = None


@dataclass(frozen=True)
class Built:
    """What the kernel's build makes of one cpu_errata.c."""

    ok: bool
    log: str  # gcc's messages
    facts: list | None = None  # the object's table, when it has a meaning
    undefined: str | None = None  # why it has none


class Build:
    """The kernel's own command for cpu_errata.o (its .cpu_errata.o.cmd in the proof's errata-on
    build), run on a file outside the tree: headers from the pristine tree and the build."""

    def __init__(self, proof: Path, pristine: Path, work: Path):
        self.cwd = proof / "o-errata-on"
        line = (self.cwd / "arch/arm64/kernel/.cpu_errata.o.cmd").read_text().splitlines()[0]
        argv, skip = [], False
        for arg in shlex.split(line.split(":=", 1)[1]):
            if skip or arg.startswith("-Wp,-MMD"):
                skip = False
                continue
            if arg == "-o":
                skip = True
                continue
            if arg.endswith(CPU_ERRATA):
                continue
            argv.append(arg.replace(str(proof / "src"), str(pristine)))
        self.argv = argv
        caps_dir = self.cwd / "arch/arm64/include/generated/asm"
        header = caps_dir / "cpucap-defs.h" if (caps_dir / "cpucap-defs.h").exists() else caps_dir / "cpucaps.h"
        cpufeature = (pristine / "arch/arm64/kernel/cpufeature.c").read_text()
        self.caps = errata_object.Cpucaps.read(header.read_text(), cpufeature)
        (work / "layout.c").write_text(errata_object.LAYOUT_C)
        ok, log = self.compile(work / "layout.c", work / "layout.o")
        assert ok, f"the structures' layout does not build:\n{log}"
        self.layout = errata_object.Layout.read(work / "layout.o")
        # What the rest of the kernel links against (cavium_erratum_27456_cpus before 7.3): a
        # mutation that no longer defines one does not link.
        (work / "pristine.c").write_bytes((pristine / CPU_ERRATA).read_bytes())
        ok, log = self.compile(work / "pristine.c", work / "pristine.o")
        assert ok, f"the pristine cpu_errata.c does not build:\n{log}"
        self.globals = errata_object.defined_globals(work / "pristine.o")

    def compile(self, source: Path, obj: Path) -> tuple[bool, str]:
        done = subprocess.run([*self.argv, "-c", "-o", str(obj), str(source)], cwd=self.cwd, capture_output=True,
                              text=True, errors="replace", timeout=300)
        return done.returncode == 0 and obj.is_file(), done.stderr

    def build(self, text: str, work: Path) -> Built:
        work.mkdir(parents=True, exist_ok=True)
        source, obj = work / "cpu_errata.c", work / "cpu_errata.o"
        source.write_bytes(text.encode("utf-8", "surrogateescape"))
        ok, log = self.compile(source, obj)
        if not ok:
            return Built(False, log)
        lost = sorted(self.globals - errata_object.defined_globals(obj))
        if lost:
            return Built(False, f"{log}the kernel would not link: cpu_errata.o no longer defines {', '.join(lost)}")
        try:
            return Built(True, log, facts=errata_object.Table(obj, self.layout, self.caps).facts())
        except errata_object.Undefined as exc:
            return Built(True, log, undefined=str(exc))
        finally:
            obj.unlink()


@dataclass(frozen=True)
class Ran:
    code: int | None
    err: str
    registry: Path
    traceback: str | None


class Kernel:
    """One kernel: its pristine table, its build, a scratch tree for errata-db, and the
    mutations, queued for the build as soon as the kernel is set up."""

    def __init__(self, version: str, pristine: Path, proof: Path, facts: Path, work: Path):
        self.version, self.pristine, self.proof, self.facts_file, self.work = version, pristine, proof, facts, work
        with open(pristine / CPU_ERRATA, encoding="utf-8", errors="surrogateescape", newline="") as f:
            self.text = f.read()
        self.config_file = proof / "o-errata-on" / ".config"
        self.config = set(re.findall(r"^(CONFIG_\w+)=y", self.config_file.read_text(), re.M))
        self.build = Build(proof, pristine, work)
        self.tree = work / "tree"
        tree_copy(pristine, self.tree)
        self.template = work / "empty-registry"
        init = run_cli("init", str(self.template))
        assert init.code == 0, init.err
        self.runs = 0
        self.compared: dict[tuple[str, str], list[str]] = {}
        # Forked workers inherit this kernel (and the modules loaded) and examine the mutations
        # while the tests wait for them, class by class.
        global _CURRENT
        _CURRENT = self
        self.pool = ProcessPoolExecutor(JOBS, mp_context=multiprocessing.get_context("fork"))
        self.mutations: dict[str, list[tuple[object, Future]]] = {}
        for cls in mutate_errata.CLASSES:
            self.mutations[cls] = [(m, self.pool.submit(_examine, m)) for m in self._mutations(cls)]

    def _mutations(self, cls: str) -> list:
        out, texts = [], set()
        for k in range(PER_CLASS * 5):
            m = mutate_errata.mutate(self.text, cls, SEED * 1000 + k, self.config)
            if m is not None and m.text not in texts:
                texts.add(m.text)
                out.append(m)
            if len(out) == PER_CLASS:
                break
        return out

    def import_(self, text: str) -> Ran:
        """`errata-db import --kernel-tree` of the scratch tree with this cpu_errata.c, into a new
        registry (in-process: a traceback is an exception that leaves main())."""
        tree = self.work / f"tree-{os.getpid()}"  # each process its own
        if not tree.exists():
            shutil.copytree(self.tree, tree)
        (tree / CPU_ERRATA).write_bytes(text.encode("utf-8", "surrogateescape"))
        self.runs += 1
        registry = self.work / "registries" / f"{os.getpid()}-{self.runs}"
        shutil.copytree(self.template, registry)
        try:
            done = run_cli("import", "--kernel-tree", str(tree), "--registry", str(registry))
        except BaseException:  # noqa: BLE001 - what escapes main() is the traceback a user sees
            return Ran(None, "", registry, traceback.format_exc())
        return Ran(done.code, done.err, registry, None)

    def disagreements(self, registry: Path, facts: list) -> list[str]:
        """Where the imported registry decides a CPU otherwise than the table (kernel_matching's
        probes); the same registry files and table are compared once."""
        digest = hashlib.sha256()
        for path in sorted(p for p in registry.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(registry)).encode() + b"\0" + path.read_bytes() + b"\0")
        key = (digest.hexdigest(), json.dumps(facts, sort_keys=True))
        if key not in self.compared:
            result = load_registry(registry)
            if result.registry is None or has_errors(result.diagnostics):
                self.compared[key] = ["the registry import wrote does not load: "
                                      + "; ".join(str(d) for d in result.diagnostics)[:2000]]
            else:
                reg = result.registry
                self.compared[key] = differences(facts, lookup_module(reg), {e.name: e.enables for e in reg.errata},
                                                 {c.model for c in reg.cpus}, limit=8)
        return self.compared[key]


@pytest.fixture(scope="module", params=list(KERNELS))
def kernel(request, tmp_path_factory):
    version = request.param
    tree_env, proof_env, facts_env = KERNELS[version]
    tree = path_from_env(tree_env, request, usable=Path.is_dir, what="a Linux source tree")
    proof = path_from_env(proof_env, request, usable=Path.is_dir, what="a proof directory")
    facts = path_from_env(facts_env, request, usable=Path.is_file, what="the oracle's facts file")
    if not (proof / "o-errata-on/arch/arm64/kernel/.cpu_errata.o.cmd").is_file():
        skip_loudly(f"{proof}/o-errata-on has not built cpu_errata.o (tests/kernel/prepare-proof.sh)", request)
    if shutil.which("aarch64-linux-gnu-gcc") is None:
        skip_loudly("aarch64-linux-gnu-gcc is not installed (gcc-aarch64-linux-gnu)", request)
    if errata_object is None:
        skip_loudly("pyelftools is not installed (pip install -e '.[test]')", request)
    k = Kernel(version, tree, proof, facts, tmp_path_factory.mktemp(f"fuzz-{version}"))
    yield k
    k.pool.shutdown(cancel_futures=True)


def test_the_pristine_table_read_from_its_object_is_the_oracle_s_and_errata_db_imports_it(kernel):
    """The object reader against the preprocessed-source oracle, CPU by CPU, on the table as
    released; and errata-db's import of it agreeing with both."""
    built = kernel.build.build(kernel.text, kernel.work / "pristine")
    assert built.ok and built.facts is not None, built.log + str(built.undefined)
    oracle = json.loads(kernel.facts_file.read_text())
    assert [(e["capability"], e["matches"]) for e in built.facts] == [(e["capability"], e["matches"]) for e in oracle]
    ours, theirs = KernelTable(built.facts), KernelTable(oracle)
    assert [cpu for cpu in probe_cpus(oracle) if ours.cpucaps(*cpu) != theirs.cpucaps(*cpu)] == []
    ran = kernel.import_(kernel.text)
    assert (ran.code, ran.traceback) == (0, None), ran.err + (ran.traceback or "")
    assert kernel.disagreements(ran.registry, built.facts) == []


_REFUSAL = re.compile(r"cpu_errata\.c:(\d+):(\d+): error: ")


def _verdict(kernel: Kernel, mutation, built: Built, ran: Ran) -> tuple[str, str] | None:
    """What is wrong with errata-db's answer to this mutation, (kind, why), or None."""
    if ran.traceback is not None:
        return "traceback", f"errata-db raised:\n{ran.traceback}"
    if ran.code not in (0, 1, 2) or "Traceback" in ran.err:
        return "traceback", f"errata-db exited {ran.code} with a traceback:\n{ran.err}"
    if not built.ok:
        return None
    lines = mutation.text.count("\n") + 1
    refused = [m for m in _REFUSAL.finditer(ran.err) if 1 <= int(m.group(1)) <= lines]
    if ran.code == 1 and refused:
        return None
    if built.undefined is not None:
        return "undefined table accepted", (
            f"the kernel builds it, but its table has no meaning ({built.undefined}): errata-db had to refuse it "
            f"at a line, and exited {ran.code}")
    if ran.code == 1:
        return "refused without a line of cpu_errata.c", \
            "the kernel builds it; errata-db refused it without naming a line of cpu_errata.c"
    if ran.code != 0:
        return f"exit {ran.code}", f"the kernel builds it; errata-db exited {ran.code}"
    wrong = kernel.disagreements(ran.registry, built.facts)
    if wrong:
        return "wrong answer", ("the kernel builds it; errata-db imported it, and decides otherwise than its "
                                "table:\n  " + "\n  ".join(wrong))
    return None


def _report(kernel: Kernel, mutation, built: Built, ran: Ran, kind: str, problem: str) -> tuple[str, str]:
    """A summary line and the whole story: the mutation, how to replay it, both answers."""
    proof_env = KERNELS[kernel.version][1]
    diff = mutation.diff(kernel.text)
    if len(diff) > 2500:
        diff = diff[:2500] + "\n[...]\n"
    kernel_said = ("does not build it: " + (built.log.strip().splitlines() or [""])[-1][:300] if not built.ok else
                   f"builds it; its table {'has no meaning: ' + built.undefined if built.undefined else 'is read'}")
    said = ran.err.strip().splitlines()
    head = f"Linux {kernel.version}, {mutation.cls} seed {mutation.seed}: {kind} ({mutation.what})"
    return head, (f"=== {head}\n"
                  f"replay: python3 tests/kernel/mutate_errata.py ${KERNELS[kernel.version][0]}/{CPU_ERRATA} "
                  f"{mutation.cls} {mutation.seed} ${proof_env}/o-errata-on/.config --diff\n"
                  f"{diff}"
                  f"the kernel {kernel_said}\n"
                  f"errata-db exited {ran.code}: {' / '.join(said[:3])[:600]}\n"
                  f"{problem}")


def _examine(mutation) -> tuple[str, str] | None:
    """In a worker: the kernel's build of the mutation, errata-db's import of it, and the report
    of what is wrong with errata-db's answer (None: nothing)."""
    kernel = _CURRENT
    built = kernel.build.build(mutation.text, kernel.work / "m" / f"{mutation.cls}-{mutation.seed}")
    ran = kernel.import_(mutation.text)
    try:
        problem = _verdict(kernel, mutation, built, ran)
        if LOG:
            said = "traceback" if ran.traceback else f"exit {ran.code}"
            refusal = next(iter(ran.err.strip().splitlines()), "") if ran.code == 1 else ""
            kernel_said = ("does not build" if not built.ok else "undefined" if built.undefined else "builds")
            with open(LOG, "a", encoding="utf-8") as log:
                log.write(f"{kernel.version}\t{mutation.cls}\t{mutation.seed}\t{kernel_said}\t{said}\t"
                          f"{problem[0] if problem else 'ok'}\t{mutation.what}\t{refusal[-200:]}\n")
        return None if problem is None else _report(kernel, mutation, built, ran, *problem)
    finally:
        shutil.rmtree(ran.registry, ignore_errors=True)


@pytest.mark.parametrize("cls", list(mutate_errata.CLASSES))
def test_a_mutation_is_refused_at_its_line_or_read_as_the_kernel_builds_it(kernel, cls):
    mutations = kernel.mutations[cls]
    assert mutations, f"{cls} found nothing to mutate in Linux {kernel.version}'s cpu_errata.c"
    # errata_object.UnknownMatcher raised here: a matcher the fuzz must be taught the fields of.
    failures = [report for report in (future.result() for _, future in mutations) if report is not None]
    if failures:
        pytest.fail(f"{len(failures)} of {len(mutations)} mutation(s) of class {cls}:\n"
                    + "".join(f"- {head}\n" for head, _ in failures) + "\n"
                    + "\n\n".join(story for _, story in failures), pytrace=False)
