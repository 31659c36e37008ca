"""How fast errata-db is, and how its costs grow with the registry.

    python3 bench/run.py [--quick] [--runs N] [--size BITSxRANGESxOVERLAYS ...] [--kernel-tree DIR]

prints Markdown tables of:

1. whole processes on the bundled registry: `validate`, `generate` (into an empty directory),
   `generate --check` and `stability --against HEAD`, with a bare `python3 -c pass` for the
   interpreter's own start-up, and `risk` on a JSON file of 10,000 hosts of 20 kinds; with
   --kernel-tree DIR, a full Linux source tree, also `audit --kernel-tree DIR` and
   `import --kernel-tree DIR --dry-run` of it (the commands that read a whole tree, beside
   `validate`, which reads the registry alone);
2. the same on synthetic registries (bench/make_registry.py) that fill 64, 128 and 256 bits
   with 1, 10 and 50 CPU ranges per erratum, with 0 and 4 overlays; the in-process cost of
   loading (read, parse, schema, model, rules) and of rendering and comparing every target,
   also per CPU range; and how that cost grows from one size to the next (linear: at most as
   much as the size, quadratic: its square);
3. the generated Python module: its import time, and the time per call of `errata_for_cpu`
   and of `bitmap_for_cpus` for 1, 64 and 1024 CPUs.

Whole-process figures are the median of --runs runs of `python3 -m errata_db` from this
checkout (PYTHONPATH=generator), after one unmeasured run: the package's modules then come
from cached bytecode, as in an installed tool. In-process figures are the fastest of --runs
calls or more, with the garbage collector paused (as timeit does). Stability runs in a temporary git
repository that holds the synthetic registry and its overlays at HEAD. --quick measures one small
synthetic registry, once, so that a test can check that the script works; --size 256x50x4
measures the synthetic registries named instead of the whole grid. The tree is only ever the
one --kernel-tree names: $ERRATA_DB_LINUX_TREE, which names the slow tier's tree, is not read,
so that the rows a run prints are the ones its command line asks for.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import itertools
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "generator"))
sys.path.insert(0, str(REPO / "bench"))

from errata_db.registry import load_registry  # noqa: E402
from errata_db.render import render  # noqa: E402
from errata_db.resources import templates_dir  # noqa: E402
from errata_db.targets import TARGETS  # noqa: E402
from errata_db.write import stale  # noqa: E402
from make_registry import check_size, write_registry  # noqa: E402

GRID = [(bits, ranges, overlays) for overlays in (0, 4) for bits in (64, 128, 256) for ranges in (1, 10, 50)]
QUICK_GRID = [(64, 1, 4)]
CPU_COUNTS = (1, 64, 1024)
COMMANDS = ("validate", "generate", "generate --check", "stability")
FLEET_HOSTS, FLEET_KINDS = 10_000, 20
SCALE_HOSTS, SCALE_KINDS, SCALE_CLASSES = 300_000, 50, 3_000


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "generator"), env.get("PYTHONPATH")]))
    # Bytecode is cached as it is for an installed package; without it every run would also
    # compile the package's source.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _wall(argv: list[str], cwd: Path, runs: int, fresh: Callable[[], list[str]] | None = None) -> float:
    """Median wall time of a process, after one unmeasured run. fresh() gives extra arguments
    per run (a new output directory)."""
    times = []
    for n in range(runs + 1):
        args = argv + (fresh() if fresh else [])
        start = time.perf_counter()
        proc = subprocess.run(args, cwd=cwd, env=_env(), capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"bench: {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
        if n:
            times.append(elapsed)
    return statistics.median(times)


def _best(fn: Callable[[], object], runs: int) -> float:
    """Fastest of at least runs in-process calls (more, up to 50, until half a second is spent:
    small sizes are the noisiest), after one warm-up call (schemas, templates), with the
    collector paused as timeit does: the growth table compares algorithms, and on this VM a
    collection or a neighbour's burst could double one run."""
    fn()
    times: list[float] = []
    gc.collect()
    gc.disable()
    try:
        while len(times) < runs or (sum(times) < 0.5 and len(times) < 50):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    finally:
        gc.enable()
    return min(times)


def _commands(registry: Path, overlays: list[Path], out: Path, repo: Path, runs: int) -> dict[str, float]:
    """Whole-process medians of the four commands a pre-commit hook runs."""
    tool = [sys.executable, "-m", "errata_db"]
    where = ["--registry", str(registry), *(a for o in overlays for a in ("--overlay", str(o)))]
    scratch = Path(tempfile.mkdtemp(prefix="errata-bench-out-"))
    counter = iter(range(1 << 30))
    try:
        return {
            "validate": _wall(tool + ["validate", *where], repo, runs),
            "generate": _wall(tool + ["generate", *where], repo, runs,
                              lambda: ["--out", str(scratch / str(next(counter)))]),
            "generate --check": _wall(tool + ["generate", "--check", "--out", str(out), *where], repo, runs),
            "stability": _wall(tool + ["stability", "--against", "HEAD", *where], repo, runs),
        }
    finally:
        shutil.rmtree(scratch)


def _tree_commands(tree: Path, runs: int) -> dict[str, float]:
    """Whole-process medians of the commands that read a Linux tree, with the bundled registry."""
    tool = [sys.executable, "-m", "errata_db"]
    where = ["--registry", str(REPO / "errata-db")]
    return {
        "audit --kernel-tree DIR": _wall(tool + ["audit", "--kernel-tree", str(tree), *where], REPO, runs),
        "import --kernel-tree DIR --dry-run": _wall(
            tool + ["import", "--kernel-tree", str(tree), "--dry-run", *where], REPO, runs),
    }


def _linux_version(tree: Path) -> str:
    """The tree's version as its top Makefile gives it: 6.12.118."""
    fields = dict(re.findall(r"^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION) *= *(\S*)",
                             (tree / "Makefile").read_text(), re.M))
    numbers = ".".join(fields.get(k, "?") for k in ("VERSION", "PATCHLEVEL", "SUBLEVEL"))
    return numbers + fields.get("EXTRAVERSION", "")


def _fleet(path: Path, registry: Path) -> None:
    """FLEET_HOSTS hosts of FLEET_KINDS kinds, as JSON: the bundled registry's first CPUs at
    r0p0, every fourth kind a big.LITTLE host with the next one too; deterministic."""
    models = [c.model for c in load_registry(registry).registry.cpus]
    kinds = [[models[k]] + ([models[k + 1]] if k % 4 == 3 else []) for k in range(FLEET_KINDS)]
    hosts = [{"name": f"host-{i:05d}", "cpus": [{"midr": f"{m:#x}", "count": 64} for m in kinds[i % FLEET_KINDS]]}
             for i in range(FLEET_HOSTS)]
    path.write_text(json.dumps({"hosts": hosts}))


def _risk(runs: int) -> float:
    """Whole-process median of `risk` on the benchmark fleet."""
    scratch = Path(tempfile.mkdtemp(prefix="errata-bench-fleet-"))
    try:
        _fleet(scratch / "hosts.json", REPO / "errata-db")
        return _wall([sys.executable, "-m", "errata_db", "risk", "--hosts", str(scratch / "hosts.json")], REPO, runs)
    finally:
        shutil.rmtree(scratch)


def _scale_files(root: Path) -> list[tuple[str, list[str], int]]:
    """The scale rows' inputs, written under root, deterministic: (row, arguments, expected
    exit code). 300,000 hosts of 50 kinds fill most of the 16 MiB a hosts file may hold (one
    CPU each, short names, no spaces); 3,000 hosts of distinct REVIDRs are 3,000 classes of a
    few kinds; 3,000 hosts of distinct sets of CPUs that need distinct errata are as many kinds,
    past MAX_CLASSES; and MAX_CLASSES classes of as many kinds, whose names fill MAX_NAME_CHARS
    with characters that every format escapes, are the largest pair matrix `risk` lists."""
    from errata_db.lookup import lookup_module
    from errata_db.risk import MAX_CLASSES, MAX_NAME_CHARS

    reg = load_registry(REPO / "errata-db").registry
    models = [c.model for c in reg.cpus]

    def write(name: str, hosts: list[dict]) -> str:
        (root / name).write_text(json.dumps({"hosts": hosts}, separators=(",", ":")))
        return str(root / name)

    kinds = [models[k % len(models)] | (k // len(models)) << 20 for k in range(SCALE_KINDS)]
    fleet = write("fleet.json", [{"name": f"h{i:06d}", "cpus": [{"midr": f"{kinds[i % SCALE_KINDS]:#x}"}]}
                                 for i in range(SCALE_HOSTS)])
    revidrs = write("revidrs.json", [{"name": f"h{i:04d}", "cpus": [{"midr": f"{models[i % 6]:#x}", "revidr": i}]}
                                     for i in range(SCALE_CLASSES)])
    # CPUs whose errata differ, then sets of two and three of them whose errata differ too.
    module = lookup_module(reg)
    cpus: dict[int, int] = {}
    for model in models:
        for midr in (model | variant << 20 | revision for variant in range(4) for revision in range(8)):
            cpus.setdefault(module.bitmap_for_cpus([midr]), midr)
    sets: dict[int, tuple[int, ...]] = {}
    for size in (1, 2, 3):
        for combo in itertools.combinations(sorted(cpus.values()), size):
            sets.setdefault(module.bitmap_for_cpus(list(combo)), combo)
    distinct = list(sets.values())
    kinds_file = write("kinds.json", [{"name": f"h{i:04d}", "cpus": [{"midr": m} for m in distinct[i]]}
                                      for i in range(SCALE_CLASSES)])
    pattern = '\x01"&<|![x](http://e) '
    names = [(f"{i:03d}" + pattern * MAX_NAME_CHARS)[:MAX_NAME_CHARS // MAX_CLASSES] for i in range(MAX_CLASSES)]
    matrix = write("matrix.json", [{"name": name, "cpus": [{"midr": m} for m in distinct[-1 - i]]}
                                   for i, name in enumerate(names)])
    risk = ["risk", "--hosts"]
    size = Path(fleet).stat().st_size / (1 << 20)
    return [(f"`errata-db fleet`, {SCALE_HOSTS:,} hosts of {SCALE_KINDS} kinds (JSON, {size:.1f} MiB)",
             ["fleet", "--hosts", fleet], 0),
            (f"`errata-db risk`, the same {SCALE_HOSTS:,} hosts", risk + [fleet], 0),
            (f"`errata-db risk`, {SCALE_CLASSES:,} classes of distinct REVIDRs (by kind)", risk + [revidrs], 0),
            (f"`errata-db risk`, {SCALE_CLASSES:,} classes of distinct errata (refused)", risk + [kinds_file], 2),
            (f"`errata-db risk --format json`, {MAX_CLASSES} classes of distinct errata, {MAX_NAME_CHARS:,} "
             "characters of escaped names (the largest pair matrix)", risk + [matrix, "--format", "json"], 0)]


# Starts the measured process and reports its exit code, wall time and peak memory. Linux
# counts in a process's peak the memory of the process that started it, up to its exec: this
# small one adds its own 10 MB or so, where the benchmark's would add hundreds.
_LAUNCHER = ("import os, subprocess, sys, time; start = time.perf_counter(); "
             "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL); _, status, usage = os.wait4(p.pid, 0); "
             "print(os.waitstatus_to_exitcode(status), time.perf_counter() - start, usage.ru_maxrss)")


def _peak(argv: list[str], runs: int, expect: int) -> tuple[float, float]:
    """Median wall time and the largest peak memory (MB) of a process, after one unmeasured run."""
    times, peaks = [], []
    for n in range(runs + 1):
        proc = subprocess.run([sys.executable, "-c", _LAUNCHER, *argv], cwd=REPO, env=_env(), capture_output=True,
                              text=True, check=True)
        code, elapsed, peak = proc.stdout.split()
        if int(code) != expect:
            raise SystemExit(f"bench: {' '.join(argv)} exited {code}, not {expect}:\n{proc.stderr}")
        if n:
            times.append(float(elapsed))
            peaks.append(int(peak) / 1024)
    return statistics.median(times), max(peaks)


def _scale(runs: int) -> None:
    print("\n| scale, bundled registry, whole process | time | peak memory |\n|---|---|---|")
    root = Path(tempfile.mkdtemp(prefix="errata-bench-scale-"))
    try:
        for row, args, expect in _scale_files(root):
            seconds, megabytes = _peak([sys.executable, "-m", "errata_db", *args], runs, expect)
            print(f"| {row} | {_ms(seconds)} | {megabytes:.0f} MB |")
    finally:
        shutil.rmtree(root)


def _in_process(registry: Path, overlays: list[Path], out: Path, runs: int) -> tuple[float, float, int, int]:
    """Median seconds to load and check, and to render and compare; entries and CPU ranges."""
    result = load_registry(registry, tuple(overlays))
    reg = result.registry
    load = _best(lambda: load_registry(registry, tuple(overlays)), runs)
    check = _best(lambda: stale(out, render(reg, TARGETS, templates_dir()), ""), runs)
    return load, check, len(reg.errata), sum(len(e.affects) for e in reg.errata)


def _git_repo(root: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@invalid", *args],
                       cwd=root, check=True, capture_output=True)
    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "synthetic registry")


def _synthetic(bits: int, ranges: int, overlays: int, runs: int) -> dict:
    root = Path(tempfile.mkdtemp(prefix="errata-bench-"))
    try:
        registry, overlay_dirs = write_registry(root, bits, ranges, overlays)
        out = root / "generated"
        subprocess.run([sys.executable, "-m", "errata_db", "generate", "--registry", str(registry),
                        *(a for o in overlay_dirs for a in ("--overlay", str(o))), "--out", str(out)],
                       cwd=root, env=_env(), check=True, capture_output=True)
        _git_repo(root)
        row = _commands(registry, overlay_dirs, out, root, runs)
        load, check, entries, total = _in_process(registry, overlay_dirs, out, runs)
        return {**row, "load": load, "render": check, "entries": entries, "ranges": total}
    finally:
        shutil.rmtree(root)


def _module(path: Path) -> object:
    spec = importlib.util.spec_from_file_location("migrn_errata_bench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cpus(module) -> list[tuple[int, int]]:
    """MIDR/REVIDR pairs: every CPU model the module knows, at every variant and revision 0-3,
    with and without a REVIDR bit, and some unknown models; deterministic."""
    models = sorted({m for models in module._INDEX.values() for m in models})
    pairs = [(m | v << 20 | r, revidr) for m in models for v in range(4) for r in range(4)
             for revidr in (0, 0x1)]
    pairs += [(0x41000000 | 0xF << 16 | p << 4, 0) for p in range(0x100, 0x140)]
    return pairs


def _module_figures(path: Path, runs: int) -> dict[str, float]:
    """Import time of the module (from source, and from cached bytecode) and per-call times."""
    scratch = Path(tempfile.mkdtemp(prefix="errata-bench-module-"))
    try:
        shutil.copy(path, scratch / "migrn_errata.py")
        probe = ("import sys, time; sys.path.insert(0, sys.argv[1]); t = time.perf_counter(); "
                 "import migrn_errata; print(time.perf_counter() - t)")

        def imported(extra: list[str]) -> float:
            times = []
            for n in range(runs + 1):
                proc = subprocess.run([sys.executable, *extra, "-c", probe, str(scratch)], env=_env(),
                                      capture_output=True, text=True, check=True)
                if n:
                    times.append(float(proc.stdout))
            return statistics.median(times)

        cached = imported([])
        shutil.rmtree(scratch / "__pycache__", ignore_errors=True)
        source = imported(["-B"])
        module = _module(scratch / "migrn_errata.py")
    finally:
        shutil.rmtree(scratch)
    pairs = _cpus(module)
    calls = max(1000, len(pairs))
    sample = [pairs[i % len(pairs)] for i in range(calls)]

    def per_call() -> None:
        for midr, revidr in sample:
            module.errata_for_cpu(midr, revidr)

    figures = {"import (.pyc)": cached, "import (source)": source,
               "errata_for_cpu": _best(per_call, runs) / calls}
    for n in CPU_COUNTS:
        cpus = [pairs[(i * 7) % len(pairs)] for i in range(n)]
        repeat = max(1, 2048 // n)
        figures[f"bitmap_for_cpus, {n} CPU{'s' if n > 1 else ''}"] = _best(
            lambda: [module.bitmap_for_cpus(cpus) for _ in range(repeat)], runs) / repeat
    return figures


def _growth(cost: dict[tuple[int, int, int], float]) -> None:
    """How in-process load + render grows from one registry size to the next: a linear cost
    grows at most as much as the size (x2 for twice the bits, x10 and x5 for the ranges), a
    quadratic one by its square."""
    print("\n| growth of load + render | overlays | " + " | ".join(
        ["64 -> 128 bits", "128 -> 256 bits", "1 -> 10 ranges", "10 -> 50 ranges"]) + " |")
    print("|---|---|---|---|---|---|")
    for overlays in (0, 4):
        for ranges in (1, 10, 50):
            by_bits = [cost[(b, ranges, overlays)] for b in (64, 128, 256)]
            print(f"| {ranges} range(s)/erratum | {overlays} | x{by_bits[1] / by_bits[0]:.1f} | "
                  f"x{by_bits[2] / by_bits[1]:.1f} | | |")
        for bits in (64, 128, 256):
            by_ranges = [cost[(bits, r, overlays)] for r in (1, 10, 50)]
            print(f"| {bits} bits | {overlays} | | | x{by_ranges[1] / by_ranges[0]:.1f} | "
                  f"x{by_ranges[2] / by_ranges[1]:.1f} |")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.1f} ms"


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} us"


def _size(text: str) -> tuple[int, int, int]:
    try:
        bits, ranges, overlays = (int(n) for n in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not BITSxRANGESxOVERLAYS, such as 256x50x4") from None
    try:
        check_size(bits, ranges, overlays)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text}: {exc}") from None
    return bits, ranges, overlays


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one small synthetic registry, one run")
    parser.add_argument("--runs", type=int, help="runs per figure (default 5, 1 with --quick)")
    parser.add_argument("--size", action="append", type=_size, metavar="BITSxRANGESxOVERLAYS",
                        help="measure only this synthetic registry, such as 256x50x4 (repeatable)")
    parser.add_argument("--kernel-tree", type=Path, metavar="DIR",
                        help="also measure audit and import --dry-run of this Linux source tree")
    parser.add_argument("--scale", action="store_true",
                        help="measure only fleet and risk at scale (a full run measures them too)")
    args = parser.parse_args(argv)
    runs = args.runs or (1 if args.quick else 5)
    grid = args.size or (QUICK_GRID if args.quick else GRID)
    if args.scale:
        print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; median of {runs} run(s)")
        _scale(runs)
        return 0

    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; whole processes: median of {runs} "
          f"run(s), in-process: fastest of {runs} or more\n")
    startup = _wall([sys.executable, "-c", "pass"], REPO, runs)
    bundled = _commands(REPO / "errata-db", [], REPO / "generated", REPO, runs)
    print("| bundled registry, whole process | time |\n|---|---|")
    print(f"| `python3 -c pass` (interpreter start) | {_ms(startup)} |")
    for name in COMMANDS:
        print(f"| `errata-db {name}` | {_ms(bundled[name])} |")
    if args.kernel_tree:
        # Measured first: a directory that is not a tree stops the run with the tool's own message.
        figures = _tree_commands(args.kernel_tree, runs)
        for name, seconds in figures.items():
            print(f"| `errata-db {name}`, Linux {_linux_version(args.kernel_tree)} | {_ms(seconds)} |")
    print(f"| `errata-db risk`, {FLEET_HOSTS:,} hosts of {FLEET_KINDS} kinds (JSON) | {_ms(_risk(runs))} |")
    if not args.quick and not args.size:
        _scale(runs)

    rows = [((bits, ranges, overlays), _synthetic(bits, ranges, overlays, runs))
            for bits, ranges, overlays in grid]
    print("\n| bits | ranges/erratum | overlays | CPU ranges | " + " | ".join(COMMANDS)
          + " | load, in-process | render + compare | per range |")
    print("|" + "---|" * (8 + len(COMMANDS)))
    for (bits, ranges, overlays), r in rows:
        per = (r["load"] + r["render"]) / r["ranges"]
        print(f"| {bits} | {ranges} | {overlays} | {r['ranges']} | "
              + " | ".join(_ms(r[c]) for c in COMMANDS)
              + f" | {_ms(r['load'])} | {_ms(r['render'])} | {_us(per)} |")

    if grid == GRID:
        _growth({key: r["load"] + r["render"] for key, r in rows})

    modules = [("bundled", REPO / "generated" / "python" / "migrn_errata.py")]
    if not args.quick:
        # The largest registry's module, regenerated: the temporary one is gone with its directory.
        root = Path(tempfile.mkdtemp(prefix="errata-bench-"))
        try:
            registry, overlay_dirs = write_registry(root, 256, 50, 4)
            reg = load_registry(registry, tuple(overlay_dirs)).registry
            target = TARGETS["python-module"]
            (root / "migrn_errata.py").write_text(render(reg, {target.name: target}, templates_dir())[target.path])
            figures = [(name, _module_figures(path, runs)) for name, path in modules]
            figures.append(("256 bits x 50 ranges, 4 overlays", _module_figures(root / "migrn_errata.py", runs)))
        finally:
            shutil.rmtree(root)
    else:
        figures = [(name, _module_figures(path, runs)) for name, path in modules]
    print("\n| generated Python module | " + " | ".join(name for name, _ in figures) + " |")
    print("|---|" + "---|" * len(figures))
    for key in figures[0][1]:
        fmt = _ms if key.startswith("import") else _us
        print(f"| {key} | " + " | ".join(fmt(f[key]) for _, f in figures) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
