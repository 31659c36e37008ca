"""`errata-db risk`: classes of hosts, ordered pairs, and what each guest behaviour misses.

The matching is checked against the generated Python module (the two halves `risk` splits the
registry into must add up to it), and the behaviours against facts of target-impl.md: a 6.15
guest sees every target CPU through is_midr_in_range(), but the Kryo part-family match only on
the CPU it booted on.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import BAD_HOSTS, NO_HOSTS, REPO, assert_hosts_refused, run_cli
from errata_db import fleet, risk
from errata_db.load import SourceFile, parse
from errata_db.lookup import lookup_module
from errata_db.model import SPECULATION_CPUCAPS

SAMPLE = REPO / "examples" / "fleet.yaml"
A53_R0P4 = 0x410FD034
N1_R3P1 = 0x413FD0C1
A76_R3P0 = 0x413FD0B0
KRYO_201 = 0x510F2011  # Qualcomm part 0x201: not in cpus.yaml, in the Kryo 0x2xx family
UNKNOWN = 0x410FFFF0  # Arm Ltd, part 0xfff: no such CPU and no family


def run_risk(*args: str, cwd: Path = REPO):
    return run_cli("risk", "--registry", str(REPO / "errata-db"), *args, cwd=cwd)


def hosts_file(tmp_path: Path, hosts: list[tuple[str, list[int]]]) -> str:
    path = tmp_path / "hosts.json"
    path.write_text(json.dumps({"hosts": [{"name": name, "cpus": [{"midr": f"{m:#x}"} for m in midrs]}
                                          for name, midrs in hosts]}))
    return str(path)


def as_json(*args: str) -> dict:
    result = run_risk(*args, "--format", "json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def errata(missing: dict) -> dict:
    """A pair's missing lists without the speculation mitigations (tests/test_risk_speculation.py
    has those): what the erratum rows decide."""
    return {abi: [cap for cap in caps if cap not in SPECULATION_CPUCAPS] for abi, caps in missing.items()}


def unsafe_for_errata(doc: dict) -> dict:
    """How many pairs lack an erratum workaround, by behaviour."""
    return {abi: sum(bool(errata(p["missing"])[abi]) for p in doc["pairs"]) for abi in doc["abis"]}


def pair(doc: dict, source: str, target: str) -> dict:
    return next(p for p in doc["pairs"] if (p["from"], p["to"]) == (source, target))


def test_the_sample_fleet_has_the_contracted_json_shape():
    doc = as_json("--hosts", str(SAMPLE))
    assert {"classes", "abis", "pairs", "unsafe_pairs"} <= set(doc)
    assert doc["abis"] == ["none", "bitmap", "impl-cpus"]
    assert [(c["name"], c["hosts"]) for c in doc["classes"]] == [
        ("altra-01", ["altra-01", "altra-02"]), ("ampereone-01", ["ampereone-01"]), ("devkit-01", ["devkit-01"])]
    assert doc["classes"][2]["cpus"] == [{"midr": 0x412FD050, "revidr": 0, "aidr": 0},
                                         {"midr": 0x414FD0B0, "revidr": 0, "aidr": 0}]
    assert len(doc["pairs"]) == 6
    for p in doc["pairs"]:
        assert {"from", "to", "missing"} <= set(p) and p["from"] != p["to"]
        assert sorted(p["missing"]) == sorted(doc["abis"])
    # AmpereOne's AC03_CPU_38 is host-only (KVM's own code): no pair lacks it, it is listed apart.
    assert errata(pair(doc, "altra-01", "ampereone-01")["missing"]) == {"none": [], "bitmap": [], "impl-cpus": []}
    # Given the fleet's target list, the guest takes the devkit's Cortex-A55, on the safe lists, for every
    # target: it leaves those mitigations off on the AmpereOne too.
    assert pair(doc, "altra-01", "ampereone-01")["missing"]["impl-cpus"] == [
        "SPECTRE_V2", "SPECTRE_V4", "SPECTRE_BHB", "UNMAP_KERNEL_AT_EL0"]
    assert [(h["cpucap"], h["needed_by"]) for h in doc["host_only"]] == [
        ("WORKAROUND_SPECULATIVE_AT", ["devkit-01"]), ("WORKAROUND_AMPERE_AC03_CPU_38", ["ampereone-01"])]
    # risk names the cpucaps a guest enables, as Linux 7.3 (the registry's kernel) names them, the
    # worst impact first (speculation, then corruption in bit order).
    # AmpereOne's Spectre-BHB loop count (k=11) is below Neoverse-N1's (k=24): without a target
    # list, and with the bitmap, which carries no speculation mitigation, the guest keeps k=11.
    assert pair(doc, "ampereone-01", "altra-01")["missing"]["none"] == [
        "WORKAROUND_SPECULATIVE_SSBS", "SPECTRE_BHB", "WORKAROUND_REPEAT_TLBI_SYNC", "WORKAROUND_1418040"]
    assert pair(doc, "ampereone-01", "altra-01")["missing"]["bitmap"] == ["SPECTRE_BHB"]
    assert pair(doc, "ampereone-01", "altra-01")["worst_impact"] == {
        "none": "speculation", "bitmap": "speculation", "impl-cpus": "speculation"}
    assert doc["unsafe_pairs"] == {"none": 3, "bitmap": 2, "impl-cpus": 6}


def test_a_kryo_family_host_makes_pairs_unsafe_under_impl_cpus_and_safe_under_bitmap(tmp_path):
    doc = as_json("--hosts", hosts_file(tmp_path, [("a53", [A53_R0P4]), ("kryo", [KRYO_201])]))
    to_kryo = errata(pair(doc, "a53", "kryo")["missing"])
    # Both errata come from the is_kryo_midr() row only, which a 6.15 guest reads on its boot CPU.
    assert to_kryo == {"none": ["WORKAROUND_QCOM_FALKOR_E1003", "WORKAROUND_REPEAT_TLBI_SYNC"], "bitmap": [],
                       "impl-cpus": ["WORKAROUND_QCOM_FALKOR_E1003", "WORKAROUND_REPEAT_TLBI_SYNC"]}
    # Booted on the Kryo, the guest sees the A53's ranges through the target list.
    assert errata(pair(doc, "kryo", "a53")["missing"]) == {
        "none": ["WORKAROUND_843419", "WORKAROUND_845719"], "bitmap": [], "impl-cpus": []}
    assert unsafe_for_errata(doc) == {"none": 2, "bitmap": 0, "impl-cpus": 1}
    assert errata(doc["unsafe_by"])["impl-cpus"] == ["WORKAROUND_QCOM_FALKOR_E1003", "WORKAROUND_REPEAT_TLBI_SYNC"]


def test_a_range_in_the_target_list_covers_a_guest_booted_elsewhere(tmp_path):
    doc = as_json("--hosts", hosts_file(tmp_path, [("n1", [N1_R3P1]), ("a53", [A53_R0P4])]))
    assert pair(doc, "n1", "a53")["missing"] == {
        "none": ["WORKAROUND_843419", "WORKAROUND_845719"], "bitmap": [], "impl-cpus": []}


def test_identical_hosts_are_one_class_with_no_pair_to_be_unsafe(tmp_path):
    path = hosts_file(tmp_path, [(f"h{i}", [N1_R3P1, A53_R0P4]) for i in range(5)]
                      + [("h5", [A53_R0P4, N1_R3P1, N1_R3P1])])
    doc = as_json("--hosts", path)
    assert [(c["name"], len(c["hosts"])) for c in doc["classes"]] == [("h0", 6)]
    assert doc["pairs"] == [] and doc["unsafe_pairs"] == {"none": 0, "bitmap": 0, "impl-cpus": 0}
    text = run_risk("--hosts", path).out
    assert "6 host(s) in 1 class(es) of identical CPUs, 0 ordered pair(s)" in text
    assert "Unsafe pairs (0)\n  (none)\n" in text


def test_classes_are_named_after_their_first_host_in_input_order(tmp_path):
    doc = as_json("--hosts", hosts_file(tmp_path, [("z", [N1_R3P1]), ("b", [A53_R0P4]), ("a", [N1_R3P1])]))
    assert [(c["name"], c["hosts"]) for c in doc["classes"]] == [("z", ["z", "a"]), ("b", ["b"])]
    assert [(p["from"], p["to"]) for p in doc["pairs"]] == [("z", "b"), ("b", "z")]


def test_aidr_alone_makes_another_class(tmp_path):
    path = tmp_path / "hosts.yaml"
    path.write_text(f"hosts:\n  - {{name: a, cpus: [{{midr: {N1_R3P1}}}]}}\n"
                    f"  - {{name: b, cpus: [{{midr: {N1_R3P1}, aidr: 1}}]}}\n")
    doc = as_json("--hosts", str(path))
    assert [c["cpus"][0]["aidr"] for c in doc["classes"]] == [0, 1]
    assert doc["unsafe_pairs"] == {"none": 0, "bitmap": 0, "impl-cpus": 0}


def test_errata_that_need_hyp_mode_are_reported_apart_and_never_as_missing(tmp_path):
    # Cortex-A76 r3p0 has 1463225, whose matcher needs the kernel in hyp mode.
    doc = as_json("--hosts", hosts_file(tmp_path, [("n1", [N1_R3P1]), ("a76", [A76_R3P0])]))
    assert all("WORKAROUND_1463225" not in p["missing"][abi] + p["conditional"][abi]
               for p in doc["pairs"] for abi in doc["abis"])
    hyp = next(c for c in doc["conditions"] if c["cpucap"] == "WORKAROUND_1463225")
    assert hyp["needed_by"] == ["a76"]
    # The registry's reason (guest: host-only) says why, citing the kernel file.
    assert re.search(r"has_cortex_a76_erratum_1463225 \(arch/arm64/kernel/cpu_errata\.c\) requires "
                     r"is_kernel_in_hyp_mode\(\)", hyp["el1_never"])
    assert next(h for h in doc["host_only"] if h["cpucap"] == "WORKAROUND_1463225")["reason"] == hyp["el1_never"]
    text = run_risk("--hosts", hosts_file(tmp_path, [("n1", [N1_R3P1]), ("a76", [A76_R3P0])])).out
    host_only = text[text.index("\nHost-only errata"):]
    assert f"  WORKAROUND_1463225: on a76\n    {hyp['el1_never']}\n" in host_only
    assert "WORKAROUND_1463225" not in text[text.index("\nUnsafe pairs"):text.index("\nHost-only errata")]


def test_the_tx2_tvm_erratum_is_said_to_need_hyp_mode(tmp_path):
    doc = as_json("--hosts", hosts_file(tmp_path, [("tx2", [0x431F0AF0]), ("n1", [N1_R3P1])]))
    tvm = next(c for c in doc["conditions"] if c["cpucap"] == "WORKAROUND_CAVIUM_TX2_219_TVM")
    assert "needs_tx2_tvm_workaround (arch/arm64/kernel/cpu_errata.c) requires is_hyp_mode_available()" in tvm["el1_never"]
    assert pair(doc, "n1", "tx2")["missing"]["none"] == ["WORKAROUND_CAVIUM_TX2_219_PRFM"]


def test_an_erratum_with_a_condition_is_missing_apart_with_its_condition(tmp_path):
    doc = as_json("--hosts", hosts_file(tmp_path, [("a53", [A53_R0P4]), ("n1", [N1_R3P1])]))
    p = pair(doc, "a53", "n1")
    assert "WORKAROUND_1542419" not in p["missing"]["none"]
    assert p["conditional"] == {"none": ["WORKAROUND_1542419"], "bitmap": [], "impl-cpus": []}
    dic = next(c for c in doc["conditions"] if c["cpucap"] == "WORKAROUND_1542419")
    assert dic["condition"].startswith("CTR_EL0.DIC is set on the CPU") and dic["el1_never"] is None


def test_the_two_halves_of_the_matching_add_up_to_the_generated_module(registry):
    """Every model of the registry, every revision, with and without each REVIDR fix bit, and
    the Kryo family's other parts: the rows read on any target CPU, plus those read on the
    local CPU, give what the generated module (and so the KVM table) gives."""
    anywhere, local = risk.matchers(registry)
    whole = lookup_module(registry)
    fixes = {f.mask for e in registry.errata for a in e.affects for f in a.revidr_fixes}
    midrs = [c.model | v << 20 | r for c in registry.cpus for v in range(16) for r in range(16)]
    midrs += [0x510F0000 | part << 4 for part in range(0x200, 0x300)]
    for midr in midrs:
        for revidr in (0, *fixes):
            assert (anywhere.bitmap_for_cpus([(midr, revidr)]) | local.bitmap_for_cpus([(midr, revidr)])
                    == whole.bitmap_for_cpus([(midr, revidr)])), hex(midr)
    assert local.bitmap_for_cpus([KRYO_201]) and not anywhere.bitmap_for_cpus([KRYO_201])


def test_bitmap_is_the_fleet_command_answer(tmp_path):
    """Under bitmap the guest enables what `fleet` says KVM returns: nothing the fleet needs is missing."""
    path = hosts_file(tmp_path, [("a", [A53_R0P4]), ("b", [N1_R3P1, A76_R3P0]), ("c", [0xC00FAC30])])
    plan = run_cli("fleet", "--registry", str(REPO / "errata-db"), "--hosts", path, "--format", "json")
    enabled = {e["enables"] for e in json.loads(plan.out)["errata"]}
    doc = as_json("--hosts", path)
    needed_none = {cap for p in doc["pairs"] for cap in errata(p["missing"])["none"]}
    assert needed_none and needed_none <= enabled
    assert all(not errata(p["missing"])["bitmap"] for p in doc["pairs"])


# --- output formats ------------------------------------------------------------------------------


def test_text_shows_one_matrix_per_behaviour_and_the_summary():
    result = run_risk("--hosts", str(SAMPLE))
    assert result.code == 0 and result.err == ""
    for abi in ("none", "bitmap", "impl-cpus"):
        assert f"\n{abi}: " in result.out
    assert ("  none       3 of 6  SPECTRE_BHB (2), WORKAROUND_SPECULATIVE_SSBS (2), WORKAROUND_1418040 (2), "
            "WORKAROUND_REPEAT_TLBI_SYNC (2)\n") in result.out
    assert "  bitmap     2 of 6  SPECTRE_BHB (2)\n" in result.out


def test_text_escapes_control_characters_in_host_names(tmp_path):
    path = hosts_file(tmp_path, [("evil\x1b[2J\nfake: ok", [N1_R3P1]), ("b", [A53_R0P4])])
    text = run_risk("--hosts", path).out
    assert "\x1b" not in text and "\nfake: ok" not in text
    assert "evil\\x1b[2J\\nfake: ok" in text


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_one_self_contained_page_with_a_coloured_matrix_per_behaviour(tmp_path):
    path = hosts_file(tmp_path, [("<b>a53</b>", [A53_R0P4]), ("kryo", [KRYO_201])])
    result = run_risk("--hosts", path, "--format", "html")
    assert result.code == 0
    page = _Tags()
    page.feed(result.out)
    names = [tag for tag, _ in page.tags]
    assert "script" not in names and "link" not in names and "img" not in names
    assert not any(k in ("src", "href") for _, attrs in page.tags for k in attrs)
    assert "url(" not in result.out and "@import" not in result.out
    # The classes, the legend, one matrix per behaviour, the per-erratum summary and the speculation findings.
    assert names.count("table") == 1 + 1 + 3 + 1 + 1
    assert "&lt;b&gt;a53&lt;/b&gt;" in result.out and "<b>a53" not in result.out
    cells = [attrs["class"] for tag, attrs in page.tags if tag == "td" and "class" in attrs]
    assert cells.count("self") == 6 and "impact-corruption" in cells and "safe" in cells
    assert "WORKAROUND_QCOM_FALKOR_E1003" in "".join(page.text)


def test_markdown_has_a_table_per_behaviour(tmp_path):
    path = hosts_file(tmp_path, [("a|53", [A53_R0P4]), ("kryo", [KRYO_201])])
    out = run_risk("--hosts", path, "--format", "markdown").out
    assert "## `impl-cpus`: 1 of 2 pair(s) unsafe" in out
    assert "| from \\ to | a\\|53 | kryo |" in out
    # Cortex-A53 is on the speculation safe lists and the Kryo part is not: the worst is speculation.
    assert ("| a\\|53 | - | **6** speculation: `SPECTRE_V2`, `SPECTRE_V4`, `SPECTRE_BHB`, `UNMAP_KERNEL_AT_EL0`, "
            "`WORKAROUND_QCOM_FALKOR_E1003`, `WORKAROUND_REPEAT_TLBI_SYNC` |") in out
    # Every row of a table has as many cells as its header.
    tables = [block.splitlines() for block in re.findall(r"(?:^\|.*\n)+", out, re.M)]
    assert len(tables) == 1 + 3 + 1 + 1  # the classes, a matrix per behaviour, the per-erratum summary, speculation
    for rows in tables:
        assert len({len(re.split(r"(?<!\\)\|", line)) for line in rows}) == 1, rows


def test_the_readme_risk_example_is_what_the_command_prints():
    text = (REPO / "docs/fleets-and-risk.md").read_text()
    m = re.search(r"^    \$ errata-db risk --hosts examples/fleet.yaml\n((?:    (?!\$).*\n|\n)+?)\n(?!    )",
                  text, re.M)
    assert m, "docs/fleets-and-risk.md has no `$ errata-db risk --hosts examples/fleet.yaml` example"
    expected = "".join(line[4:] + "\n" for line in m.group(1).splitlines())
    assert run_risk("--hosts", "examples/fleet.yaml").out == expected


# --- bad input -----------------------------------------------------------------------------------


def test_no_hosts_at_all_is_a_usage_error():
    result = run_risk()
    assert result.code == 2
    assert result.err == NO_HOSTS


@pytest.mark.parametrize("text, expected", BAD_HOSTS)
def test_bad_hosts_files_get_positioned_errors_and_exit_1(tmp_path, text, expected):
    (tmp_path / "hosts.yaml").write_text(text)
    assert_hosts_refused(run_risk("--hosts", "hosts.yaml", cwd=tmp_path), expected)


def test_a_cpu_missing_from_cpus_yaml_warns_and_a_kryo_part_still_matches_its_family(tmp_path):
    doc = as_json("--hosts", hosts_file(tmp_path, [("kryo", [KRYO_201]), ("odd", [UNKNOWN])]))
    warnings = {w["message"].split(" ")[1]: w for w in doc["warnings"] if w["kind"] == "unknown-cpu"}
    assert warnings["0x510f2011"]["message"] == (
        "MIDR 0x510f2011 (implementer 0x51, part 0x201, on kryo) is not in cpus.yaml: it matches the part "
        "family of Kryo (0x2xx family), and has that family's errata")
    assert warnings["0x410ffff0"]["message"].endswith(
        "is not in cpus.yaml: the registry knows no errata for it, which does not mean it has none")
    assert pair(doc, "odd", "kryo")["missing"]["none"] == ["WORKAROUND_QCOM_FALKOR_E1003", "WORKAROUND_REPEAT_TLBI_SYNC"]


def test_fleet_says_so_too_for_a_kryo_part(tmp_path):
    result = run_cli("fleet", "--registry", str(REPO / "errata-db"),
                     "--hosts", hosts_file(tmp_path, [("kryo", [KRYO_201])]))
    assert "it matches the part family of Kryo (0x2xx family)" in result.out


# --- the JSON fast path --------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    '{"hosts": [{"name": "a", "cpus": [{"midr": "0x410fd034", "revidr": 256, "aidr": "7", "count": 3}]}]}',
    '{"hosts": [{"name": "\\u00e9\\t", "cpus": [{"midr": 1}]}]}',  # escapes: the YAML parser reads it
    '{"hosts": [{"name": "a\u2028b", "cpus": [{"midr": 1}]}]}',  # a break YAML would fold
    '  {"hosts": [{"name": "\u00e9", "cpus": [{"midr": 1}]}]}\n',
])
def test_json_read_by_the_json_module_gives_what_the_yaml_parser_gives(text, monkeypatch):
    src = SourceFile("h.json", text.encode())
    doc, diags = parse(src, fleet.MAX_BYTES, fleet.MAX_NODES)
    assert not diags
    fast = fleet._json_hosts(src)
    monkeypatch.setattr(fleet, "_json_hosts", lambda src: None)
    hosts, problems = fleet.parse_hosts(src)
    assert not problems and hosts[0].name == doc.root["hosts"][0]["name"]
    if fast is not None:
        assert [(h.name, h.cpus) for h in fast] == [(h.name, h.cpus) for h in hosts]


def test_json_that_the_fast_path_refuses_still_gets_the_yaml_parsers_message(tmp_path):
    path = tmp_path / "hosts.json"
    path.write_text('{"hosts": [{"name": "a", "name": "b", "cpus": [{"midr": 1}]}]}')
    result = run_risk("--hosts", str(path))
    assert result.code == 1
    assert result.err == f"{path}:1:26: error: duplicate key 'name' (first defined at line 1) [duplicate-key]\n"


def test_a_fleet_larger_than_a_registry_file_may_be(tmp_path):
    path = tmp_path / "hosts.yaml"
    path.write_text("hosts:\n" + "".join(f"  - {{name: h{i}, cpus: [{{midr: {N1_R3P1 if i % 2 else A53_R0P4}}}]}}\n"
                                         for i in range(5000)))
    doc = as_json("--hosts", str(path))
    assert [len(c["hosts"]) for c in doc["classes"]] == [2500, 2500]


def test_sysfs_trees_and_files_make_classes_together(tmp_path):
    from test_fleet import write_sysfs

    root = write_sysfs(tmp_path / "h", [(KRYO_201, 0), (KRYO_201, 0)])
    doc = as_json("--sysfs", f"kryo-07={root}", "--hosts", hosts_file(tmp_path, [("a53", [A53_R0P4]),
                                                                                   ("kryo-08", [KRYO_201])]))
    # In the order given: the sysfs host comes first, so its class bears its name.
    assert [(c["name"], c["hosts"]) for c in doc["classes"]] == [("kryo-07", ["kryo-07", "kryo-08"]),
                                                                 ("a53", ["a53"])]
    assert unsafe_for_errata(doc) == {"none": 2, "bitmap": 0, "impl-cpus": 1}


def test_a_revidr_fix_counts_with_each_target_cpus_own_revidr(tmp_path):
    """Cortex-A53 r0p4 with REVIDR bit 8 has 843419 fixed; a guest booted there lacks it on an
    unfixed one, unless the target list shows it the unfixed one."""
    path = tmp_path / "hosts.yaml"
    path.write_text(f"hosts:\n  - {{name: fixed, cpus: [{{midr: {A53_R0P4}, revidr: 0x100}}]}}\n"
                    f"  - {{name: plain, cpus: [{{midr: {A53_R0P4}}}]}}\n")
    doc = as_json("--hosts", str(path))
    assert pair(doc, "fixed", "plain")["missing"] == {"none": ["WORKAROUND_843419"], "bitmap": [], "impl-cpus": []}
    assert pair(doc, "plain", "fixed")["missing"] == {"none": [], "bitmap": [], "impl-cpus": []}


@pytest.mark.slow
def test_the_behaviours_are_ordered_for_any_fleet(registry):
    """bitmap never misses anything, impl-cpus misses a subset of what none misses, and only
    errata that have a part-family row."""
    from hypothesis import given, settings, strategies as st

    models = sorted({c.model for c in registry.cpus} | {KRYO_201 & ~0xF, UNKNOWN})
    cpu = st.builds(lambda m, v, r: m | v << 20 | r, st.sampled_from(models), st.integers(0, 4), st.integers(0, 4))
    family = {e.enables for e in registry.errata if any(a.part_mask is not None for a in e.affects)}

    @settings(max_examples=25, deadline=None)
    @given(st.lists(st.lists(cpu, min_size=1, max_size=3), min_size=1, max_size=6))
    def check(fleet_cpus):
        hosts = [fleet.Host(f"h{i}", tuple(fleet.HostCpu(m, 0, 1) for m in cpus), None)
                 for i, cpus in enumerate(fleet_cpus)]
        result = risk.analyse(registry, hosts)
        for p in result.pairs:
            missing = errata(p.missing)
            assert not missing["bitmap"] and not p.conditional["bitmap"]
            assert set(missing["impl-cpus"]) <= set(missing["none"])
            assert set(missing["impl-cpus"]) <= family
            # The bitmap carries no speculation mitigation: the boot class decides, as under none.
            assert set(p.missing["bitmap"]) == set(p.missing["none"]) - set(missing["none"])

    check()
