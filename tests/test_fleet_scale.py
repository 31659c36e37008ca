"""`fleet` and `risk` at scale (#21): the work grows with the hosts, never with their square,
`risk` past its bounds reports by kind what it would pair by pair, and what comes from input
(host names, what a sysfs file holds) reaches each format inert.

Counted, not timed (tests/cost.py): a host name here is a str whose comparisons and hashes are
Python calls, so that a membership test on a list (one comparison per element) shows in the
count as well as a dict's lookups (one hash each). How fast it is belongs to bench/run.py.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import subprocess
import sys

import pytest

from conftest import REGISTRY, REPO, run_cli
from cost import counted
from errata_db import fleet, risk, schema
from errata_db.diagnostics import Pos
from errata_db.load import SourceFile, parse
from errata_db.lookup import lookup_module
from errata_db.model import SPECULATION_CPUCAPS

N1_R3P1 = 0x413FD0C1
A53_R0P4 = 0x410FD034
A76_R4P0 = 0x414FD0B0
A55_R2P0 = 0x412FD050
AMPEREONE = 0xC00FAC30
KINDS = [(N1_R3P1,), (A53_R0P4, A76_R4P0), (A55_R2P0,), (AMPEREONE,)]
HOSTS = 20_000


class Name(str):
    """A host name whose every comparison and hash is a call that counted() sees."""

    def __eq__(self, other):
        return str.__eq__(self, other)

    def __hash__(self):
        return str.__hash__(self)


def many_hosts(n: int) -> list[fleet.Host]:
    kinds = [tuple(fleet.HostCpu(midr, 0, 4) for midr in kind) for kind in KINDS]
    return [fleet.Host(Name(f"host-{i:05d}"), kinds[i % len(kinds)], None) for i in range(n)]


def fleet_json(n: int, indent: int | None = None) -> str:
    return json.dumps({"hosts": [{"name": f"host-{i:05d}", "cpus": [{"midr": f"{m:#x}", "count": 4}
                                                                      for m in KINDS[i % len(KINDS)]]}
                                 for i in range(n)]}, indent=indent)


@pytest.fixture(scope="module")
def module(registry):
    return lookup_module(registry)


# --- fleet -------------------------------------------------------------------------------------


@pytest.mark.slow  # every call of twenty thousand hosts counted: seconds
def test_planning_twenty_thousand_hosts_costs_a_few_calls_per_host(registry, module):
    hosts = many_hosts(HOSTS)
    with counted(10 * HOSTS):
        plan = fleet.plan(registry, module, hosts)
        text = fleet.format_text(plan)
    assert [len(t.hosts) for t in plan.targets] == [HOSTS // 4] * 5
    assert [len(c.hosts) for c in plan.impl_cpus] == [HOSTS // 4] * 5
    assert text.startswith(f"{HOSTS} host(s), {HOSTS * 5} CPU(s), 5 distinct MIDR/REVIDR pair(s)\n")


@pytest.mark.slow  # every call of twenty thousand hosts counted: seconds
def test_a_json_fleet_of_twenty_thousand_hosts_is_read_with_a_few_calls_per_host():
    src = SourceFile("hosts.json", fleet_json(HOSTS).encode())
    with counted(10 * HOSTS):
        hosts, diags = fleet.parse_hosts(src)
    assert not diags and len(hosts) == HOSTS
    assert hosts[1] == fleet.Host("host-00001", (fleet.HostCpu(A53_R0P4, 0, 4), fleet.HostCpu(A76_R4P0, 0, 4)),
                                  hosts[1].where)


@pytest.mark.slow  # every call of twenty thousand hosts counted: seconds
def test_a_duplicate_in_a_json_fleet_of_twenty_thousand_hosts_is_placed_as_yaml_would_and_cheaply():
    # The json module records no places; parsing the file again as YAML to find them took longer
    # than all the rest, and past a million nodes could not.
    text = fleet_json(HOSTS, indent=1).replace(f'"host-{HOSTS - 1:05d}"', '"host-00007"')
    src = SourceFile("hosts.json", text.encode())
    with counted(10 * HOSTS):
        hosts, diags = fleet.parse_hosts(src)
        diags += fleet.duplicate_hosts(hosts)
    # Where its value starts, as YAML places it (the fuzzed test below compares with YAML itself).
    first, again = (Pos("hosts.json", text.count("\n", 0, i) + 1, i - text.rfind("\n", 0, i))
                    for i in (text.index('"host-00007"'), text.rindex('"host-00007"')))
    assert [(d.pos, d.message) for d in diags] == [(again, f"host 'host-00007' is already defined at {first}")]
    assert again.line > 1 and again.col > 1


def _fuzzed_fleets():
    """Fleets in JSON that are mostly valid, each value now and then one the schema refuses or
    that only looks like a valid one (true for 1, 1.0, "0x123456789")."""
    from hypothesis import strategies as st

    def mostly(valid, odd):
        return st.integers(0, 15).flatmap(lambda n: odd if n == 0 else valid)

    odd = st.one_of(st.sampled_from([-1, 1 << 32, True, False, None, 1.0, 0.5, "0x123456789", "9999999999",
                                     "", "x", " 1", "0x", "1\n", "-1"]), st.lists(st.integers(0, 1), max_size=1))
    u32 = mostly(st.one_of(st.integers(0, 0xFFFFFFFF), st.sampled_from(["0x1f", "0X41", "17", "4294967295"])), odd)
    count = mostly(st.sampled_from([1, 2, 1 << 20]), st.sampled_from([0, (1 << 20) + 1, True, "2", 2.0]))
    cpu = mostly(st.fixed_dictionaries({"midr": u32}, optional={"revidr": u32, "aidr": u32, "count": count}),
                 st.one_of(st.fixed_dictionaries({"midr": u32, "mdir": u32}), st.fixed_dictionaries({"revidr": u32})))
    cpus = mostly(st.lists(cpu, min_size=1, max_size=2), st.one_of(st.just([]), odd))
    name = mostly(st.sampled_from(["a", "b", "a: b", "name", "é"]),
                  st.one_of(st.sampled_from(["", "true", "x, true", "[n", "é\t"]), odd))
    host = mostly(st.fixed_dictionaries({"name": name, "cpus": cpus}),
                  st.one_of(st.fixed_dictionaries({"name": name, "cpus": cpus, "aidr": u32}),
                            st.fixed_dictionaries({"cpus": cpus})))
    hosts = mostly(st.lists(host, min_size=1, max_size=4), st.one_of(st.just([]), odd))
    root = mostly(st.fixed_dictionaries({"hosts": hosts}), st.fixed_dictionaries({"hosts": hosts, "x": odd}))
    layout = st.tuples(st.sampled_from([None, 0, 2]), st.sampled_from([(", ", ": "), (",", ":"), (",", " : ")]),
                       st.sampled_from([False, False, False, True]), st.booleans())
    return st.tuples(root, layout)


@pytest.mark.slow
def test_the_json_fast_path_accepts_nothing_the_schema_refuses_and_reads_what_yaml_reads(monkeypatch):
    """The fast path checks the fleet schema itself: whatever it accepts, the YAML parser and the
    schema accept too, and give the same hosts, with each name where YAML places it."""
    from hypothesis import given, settings

    @settings(max_examples=100, deadline=None)
    @given(_fuzzed_fleets())
    def check(case):
        root, (indent, separators, duplicate, crlf) = case
        text = json.dumps(root, indent=indent, separators=separators, ensure_ascii=False)
        if duplicate:  # a key twice: json keeps the last, YAML refuses the file
            text = text.replace('"cpus"', '"name": "z", "cpus"', 1)
        if crlf:
            text = text.replace("\n", "\r\n")
        src = SourceFile("hosts.json", text.encode())
        fast = fleet._json_hosts(src)
        if fast is None:
            return
        doc, diags = parse(src, fleet.MAX_BYTES, fleet.MAX_NODES)
        assert doc is not None and not diags and not schema.check(doc, "fleet")[0], text
        with monkeypatch.context() as m:
            m.setattr(fleet, "_json_hosts", lambda src: None)
            slow, problems = fleet.parse_hosts(src)
        assert not problems
        assert [(h.name, h.cpus) for h in fast] == [(h.name, h.cpus) for h in slow]
        assert [h.where() for h in fast] == [doc.pos(("hosts", i, "name")) for i in range(len(fast))]

    check()
    # Not vacuous: a valid file takes the fast path.
    assert fleet._json_hosts(SourceFile("h.json", b'{"hosts": [{"name": "a", "cpus": [{"midr": "0x1"}]}]}'))


# --- risk ------------------------------------------------------------------------------------

KRYO_201 = 0x510F2011  # a part-family CPU: its errata are missing after a move under impl-cpus too
MODELS = [N1_R3P1, A53_R0P4, A76_R4P0, A55_R2P0, AMPEREONE, KRYO_201]


def classes_of(n: int, big_little: bool = False) -> list[fleet.Host]:
    """n hosts of n classes, the REVIDR making each its own: a few kinds of class (and more with
    big.LITTLE hosts of two models)."""
    return [fleet.Host(f"h{i}", (fleet.HostCpu(MODELS[i % 6], i, 1),)
                       + ((fleet.HostCpu(MODELS[i // 6 % 6], 0, 1),) if big_little and i % 5 == 0 else ()), None)
            for i in range(n)]


@pytest.mark.slow
def test_three_thousand_classes_are_reported_by_kind_with_work_and_output_that_grow_linearly(registry):
    hosts = classes_of(3000)
    with counted(150 * len(hosts)):
        result = risk.analyse(registry, hosts)
    assert len(result.classes) == 3000 and result.pairs == ()
    assert [len(k.classes) for k in result.kinds] == [500, 256, 500, 500, 500, 500, 244]  # REVIDR bit 8 fixes 843419
    assert len(result.kind_pairs) == 7 * 7
    assert sum(p.weight for p in result.kind_pairs) == result.pair_count == 3000 * 2999
    with counted(400 * len(hosts)):
        text = risk.format_text(result)
    assert "By kind: more than 200 classes, so the pairs are given between 7 kind(s) of class" in text
    # The report is the kinds', not the classes': a fifth of the hosts, of the same seven kinds,
    # print the same lines but for the numbers in them (and the columns they widen).
    fifth = risk.format_text(risk.analyse(registry, classes_of(600)))
    assert "between 7 kind(s) of class" in fifth

    def shape(report: str) -> list[str]:
        return sorted(re.sub(r" +", " ", re.sub(r"\d+", "N", line)) for line in report.splitlines())
    assert shape(text) == shape(fifth)


@pytest.mark.parametrize("guest_kind", ["the registry", "a guest with half of its rows", "one without a target list"])
def test_the_report_by_kind_counts_what_the_report_pair_by_pair_counts(registry, monkeypatch, guest_kind):
    hosts = classes_of(40, big_little=True)
    half = dataclasses.replace(registry, errata=registry.errata[::2])
    guest = {"the registry": risk.Guest("r", registry, frozenset(e.enables for e in registry.errata), None),
             "a guest with half of its rows": risk.Guest("g", half, frozenset(e.enables for e in half.errata), None),
             "one without a target list": risk.Guest("o", half, frozenset(e.enables for e in registry.errata[:9]),
                                                     "no cpu_errata_set_target_impl()")}[guest_kind]
    by_pair = risk.analyse_guest(registry, hosts, guest)
    monkeypatch.setattr(risk, "MAX_CLASSES", 20)
    by_kind = risk.analyse_guest(registry, hosts, guest)
    assert not by_pair.kinds and len(by_kind.kinds) < len(by_kind.classes) == 40
    for abi in risk.ABIS:
        assert by_kind.unsafe(abi) == by_pair.unsafe(abi)
        assert by_kind.culprits(abi) == by_pair.culprits(abi)
    kind_of = {c: k.name for k in by_kind.kinds for c in k.classes}
    answers = {(p.source, p.target): p for p in by_kind.kind_pairs}
    for p in by_pair.pairs:
        answer = answers[kind_of[p.source], kind_of[p.target]]
        assert (answer.missing, answer.conditional, answer.learned, answer.unknown) == (
            p.missing, p.conditional, p.learned, p.unknown)
    assert sum(1 for p in by_pair.pairs if any(p.missing.values())) > 0


def test_long_class_names_give_the_report_by_kind_whose_matrices_name_kinds(tmp_path):
    name = "n" * (risk.MAX_NAME_CHARS // 2)
    path = tmp_path / "hosts.json"
    path.write_text(json.dumps({"hosts": [{"name": f"{name}{i}", "cpus": [{"midr": f"{m:#x}"}]}
                                          for i, m in enumerate([A53_R0P4, AMPEREONE, A55_R2P0])]}))
    result = run_cli("risk", "--registry", str(REGISTRY), "--hosts", str(path))
    assert result.code == 0, result.err
    assert f"By kind: class names of {3 * len(name) + 3} characters, more than {risk.MAX_NAME_CHARS}" in result.out
    assert re.search(r"\n  from \\ to  kind 1 +kind 2 +kind 3\n", result.out)
    # Each name once, in the list of kinds: not once per pair.
    assert result.out.count(name) == 3


def test_more_kinds_than_the_limit_are_refused_with_the_numbers(tmp_path, monkeypatch):
    path = tmp_path / "hosts.json"
    path.write_text(json.dumps({"hosts": [{"name": f"h{i}", "cpus": [{"midr": f"{m:#x}"}]}
                                          for i, m in enumerate([N1_R3P1, AMPEREONE, A55_R2P0])]}))
    monkeypatch.setattr(risk, "MAX_CLASSES", 2)
    result = run_cli("risk", "--registry", str(REGISTRY), "--hosts", str(path))
    assert (result.code, result.out) == (2, "")
    assert result.err == ("errata-db: error: 3 host(s) in 3 classes of identical CPUs, of 3 kinds (classes whose "
                          "CPUs need and enable the same errata): risk compares at most 2 kinds. A fleet has many "
                          "hosts but few kinds of CPU; `errata-db fleet` gives what it needs as a whole\n")


def test_the_json_report_by_kind_keeps_the_documented_keys_and_adds_the_kinds(registry, monkeypatch):
    hosts = classes_of(12)
    full = json.loads(risk.format_json(risk.analyse(registry, hosts)))
    monkeypatch.setattr(risk, "MAX_CLASSES", 10)
    doc = json.loads(risk.format_json(risk.analyse(registry, hosts)))
    assert doc["pairs"] == [] and len(full["pairs"]) == 12 * 11
    for key in ("classes", "abis", "unsafe_pairs", "unsafe_by", "conditions", "warnings"):
        assert doc[key] == full[key], key
    assert [k["classes"] for k in doc["kinds"]] == [[f"h{i}", f"h{i + 6}"] for i in range(6)]
    assert sum(p["class_pairs"] for p in doc["kind_pairs"]) == 12 * 11
    first = doc["kind_pairs"][0]
    assert set(first) == {"from", "to", "missing", "worst_impact", "conditional", "speculation", "class_pairs"}
    # Two classes of one kind lack no erratum of each other's; the speculation mitigations a target
    # list leaves off are tests/test_risk_speculation.py's.
    assert (first["from"], first["to"], first["class_pairs"]) == ("kind 1", "kind 1", 2)
    assert {abi: [c for c in caps if c not in SPECULATION_CPUCAPS] for abi, caps in first["missing"].items()} == {
        abi: [] for abi in risk.ABIS}
    assert first["conditional"] == {abi: [] for abi in risk.ABIS}
    assert doc["needed_by"]["WORKAROUND_1418040"] == 2 and doc["by_kind"].startswith("By kind: more than 10 classes")


# --- JSON --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_json_of_fleet_and_risk_is_what_json_dumps_with_an_indent_gives():
    """Their own encoder (the standard library's, with an indent, is pure Python) writes byte for
    byte what json.dumps(indent=2) writes, for any document of their kinds of values."""
    from hypothesis import given, settings, strategies as st

    scalar = st.one_of(st.text(max_size=4), st.integers(-(1 << 70), 1 << 70), st.booleans(), st.none())
    value = st.recursive(scalar, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(st.text(max_size=3), inner, max_size=3)),
                         max_leaves=12)

    @settings(max_examples=100, deadline=None)
    @given(value)
    def check(document):
        assert fleet.json_text(document) == json.dumps(document, indent=2)

    check()
    assert fleet.json_text({"a": (n for n in (1, 2)), "b": ()}) == json.dumps({"a": [1, 2], "b": []}, indent=2)


@pytest.mark.slow  # every call of twenty thousand hosts counted: seconds
def test_the_json_of_a_fleet_of_twenty_thousand_hosts_costs_a_few_calls_per_host(registry, module):
    plan = fleet.plan(registry, module, many_hosts(HOSTS))
    with counted(40 * HOSTS):
        text = fleet.format_json(plan)
    assert [len(t["hosts"]) for t in json.loads(text)["targets"]] == [HOSTS // 4] * 5


# --- the benchmark -----------------------------------------------------------------------------


@pytest.mark.slow  # whole processes on 300,000 hosts, each once: some 15 s
@pytest.mark.skipif(not (REPO / "bench/run.py").is_file(), reason="needs the checkout's bench/")
def test_the_benchmark_measures_fleet_and_risk_at_scale_and_the_refusal_past_the_kinds():
    proc = subprocess.run([sys.executable, str(REPO / "bench/run.py"), "--scale", "--runs", "1"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split(" | ")[0] for line in proc.stdout.splitlines() if line.startswith("| `errata-db")]
    assert rows == ["| `errata-db fleet`, 300,000 hosts of 50 kinds (JSON, 14.3 MiB)",
                    "| `errata-db risk`, the same 300,000 hosts",
                    "| `errata-db risk`, 3,000 classes of distinct REVIDRs (by kind)",
                    "| `errata-db risk`, 3,000 classes of distinct errata (refused)",
                    "| `errata-db risk --format json`, 200 classes of distinct errata, 16,384 characters of escaped "
                    "names (the largest pair matrix)"]


# --- what input reaches the output -------------------------------------------------------------


def test_a_sysfs_register_linked_to_another_file_is_refused_without_showing_its_content(tmp_path):
    from test_fleet import write_sysfs

    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\nsecret-token-1234\n")
    root = write_sysfs(tmp_path / "h", [(A53_R0P4, 0)])
    midr = root / "sys/devices/system/cpu/cpu0/regs/identification/midr_el1"
    midr.unlink()
    midr.symlink_to(secret)
    result = run_cli("fleet", "--registry", str(REGISTRY), "--sysfs", str(root))
    assert result.code == 1
    assert result.err == (f"{midr}:1:1: error: the file (50 bytes, not shown) is not a register value like "
                          "0x00000000410fd034 [fleet-sysfs]\n")


HOSTILE_MARKDOWN = ("![x](http://evil.example/a.png) <img src=x> www.evil.example me@evil.example "
                    "[l](javascript:x) *e* `c` a|b \\")


@pytest.mark.parametrize("by_kind", [False, True])
def test_a_host_name_reaches_markdown_and_html_as_text_with_no_link_image_or_markup(tmp_path, monkeypatch, by_kind):
    path = tmp_path / "hosts.json"
    path.write_text(json.dumps({"hosts": [{"name": HOSTILE_MARKDOWN, "cpus": [{"midr": f"{KRYO_201:#x}"}]},
                                          {"name": "a53", "cpus": [{"midr": f"{A53_R0P4:#x}"}]}]}))
    if by_kind:
        monkeypatch.setattr(risk, "MAX_NAME_CHARS", 10)
    markdown = run_cli("risk", "--registry", str(REGISTRY), "--hosts", str(path), "--format", "markdown").out
    for raw in ("![", "](", "http://", "www.", "<img", "me@", "*e*", "`c`", "a|b"):
        assert not re.search(r"(?<!\\)" + re.escape(raw), markdown), raw
    # CommonMark shows a backslash and a punctuation mark as the mark: the name as it was given.
    assert HOSTILE_MARKDOWN in re.sub(r"\\([!-/:-@[-`{-~])", r"\1", markdown)
    assert ("| kind 1 |" in markdown) == by_kind
    page = run_cli("risk", "--registry", str(REGISTRY), "--hosts", str(path), "--format", "html").out
    assert "<img" not in page and "<a " not in page and html.unescape(page).count(HOSTILE_MARKDOWN) >= 2
