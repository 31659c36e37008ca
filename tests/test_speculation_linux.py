"""The proof of the speculation lists (slow tier): what errata_db's reader reads from Linux 6.1, 6.12
and 7.3 is what each tree's own build compiles, and the bundled speculation.yaml is 7.3's.

The oracle is the build: tests/kernel/kernel-facts.sh preprocesses proton-pack.c and
cpufeature.c with the tree's configured build and tests/kernel/extract_speculation.py reads the
lists and the Spectre-BHB loop-count chain out of the preprocessed files, without the reader under
test. Then, for every variant and revision of every model the lists name, the model
(errata_db.speculation) on the reader's lists answers as the oracle's lists do.

Environment (set by .ci/run): ERRATA_DB_LINUX_61, ERRATA_DB_LINUX_612 and ERRATA_DB_LINUX_73,
pristine source trees; ERRATA_DB_FACTS_61, ERRATA_DB_FACTS_612 and ERRATA_DB_FACTS_73, the
oracle's errata facts of each, with speculation-facts.json beside them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import REGISTRY, path_from_env, skip_loudly
from errata_db.kernel.speculation import as_data, read_lists
from errata_db.kernel.tree import Tree
from errata_db.model import rv
from errata_db.registry import load_registry
from errata_db.speculation import needs

pytestmark = pytest.mark.slow

VERSIONS = {"61": "6.1", "612": "6.12", "73": "7.3"}


def _inputs(version: str, request) -> tuple[Path, dict]:
    tree = path_from_env(f"ERRATA_DB_LINUX_{version}", request, usable=Path.is_dir, what="a directory")
    facts = path_from_env(f"ERRATA_DB_FACTS_{version}", request)
    oracle = facts.parent / "speculation-facts.json"
    if not oracle.is_file():
        skip_loudly(f"{oracle} is missing: tests/kernel/kernel-facts.sh {tree} {facts.parent} writes it", request)
    return tree, json.loads(oracle.read_text())


def _ranges(lst) -> list[dict]:
    return [{"model": hex(r.cpu.model), "rv_min": hex(rv(r.low)), "rv_max": hex(rv(r.high))} for r in lst.ranges]


@pytest.mark.parametrize("version", VERSIONS, ids=VERSIONS.values())
def test_the_reader_reads_the_lists_and_loop_counts_the_tree_s_build_compiles(version, request):
    root, oracle = _inputs(version, request)
    read = read_lists(Tree(root, str(root)))
    assert read.version.startswith(VERSIONS[version] + ".")
    assert {lst.name: _ranges(lst) for lst in read.lists if lst.means != "loop"} == oracle["lists"]
    assert [{"list": lst.name, "k": lst.k, "ranges": _ranges(lst)} for lst in read.lists if lst.means == "loop"] \
        == oracle["loops"]


@pytest.mark.parametrize("version", VERSIONS, ids=VERSIONS.values())
def test_the_model_on_the_reader_s_lists_answers_as_the_oracle_s_lists_for_every_model_they_name(version, request):
    root, oracle = _inputs(version, request)
    reg = load_registry(REGISTRY).registry
    data = as_data(read_lists(Tree(root, str(root))), reg.cpus)

    def on(ranges, midr: int) -> bool:
        return any(int(r["model"], 16) == midr & 0xFF0FFFF0 and int(r["rv_min"], 16) <= midr & 0xF0000F
                   <= int(r["rv_max"], 16) for r in ranges)

    models = {int(r["model"], 16) for ranges in (*oracle["lists"].values(), *(x["ranges"] for x in oracle["loops"]))
              for r in ranges}
    checked = 0
    for model in sorted(models):
        for variant in range(16):
            for revision in range(16):
                midr = model | variant << 20 | revision
                got = {s.cpucap: s for s in needs(data, ((midr, 0, 0),))}
                bhb_safe = on(oracle["lists"]["spectre_bhb_safe_list"], midr)
                k = next((x["k"] for x in oracle["loops"] if on(x["ranges"], midr)), 0)
                assert (got["SPECTRE_BHB"].on, got["SPECTRE_BHB"].k) == (not bhb_safe, 0 if bhb_safe else k), hex(midr)
                assert got["SPECTRE_V2"].on is not on(oracle["lists"]["spectre_v2_safe_list"], midr)
                assert got["SPECTRE_V3A"].on is on(oracle["lists"]["spectre_v3a_unsafe_list"], midr)
                assert got["SPECTRE_V4"].on is not on(oracle["lists"]["spectre_v4_safe_list"], midr)
                assert got["UNMAP_KERNEL_AT_EL0"].on is not on(oracle["lists"]["kpti_safe_list"], midr)
                checked += 1
    assert checked == len(models) * 256 and len(models) >= 37


def test_the_bundled_speculation_yaml_is_linux_7_3_s_and_gives_the_issue_s_loop_counts(request):
    root, oracle = _inputs("73", request)
    reg = load_registry(REGISTRY).registry
    tree = as_data(read_lists(Tree(root, str(root))), reg.cpus)

    def key(spec) -> list:
        return [(lst.name, lst.cpucap, lst.means, lst.k, [(r.model, r.low, r.high, r.cpu) for r in lst.ranges])
                for lst in spec.lists]

    assert key(reg.speculation) == key(tree)
    assert reg.speculation.linux == read_lists(Tree(root, str(root))).linux
    k = {loop["list"]: loop["k"] for loop in oracle["loops"]}
    # Cortex-A76 and Neoverse-N1 k=24, Cortex-A78 k=32; Cortex-A55 on the BHB safe list.
    a76, n1, a78, a55 = "0x410fd0b0", "0x410fd0c0", "0x410fd410", "0x410fd050"
    for model, expected in ((a76, 24), (n1, 24), (a78, 32)):
        assert [k[x["list"]] for x in oracle["loops"] if any(r["model"] == model for r in x["ranges"])] == [expected]
    assert any(r["model"] == a55 for r in oracle["lists"]["spectre_bhb_safe_list"])
