"""`fleet --format qemu` and `--format libvirt`: the target implementation list as QEMU options.

Each form is read back by a parser written here from the forms' grammar (the QEMU option
syntax, openEuler's `x-target-impl-cpus=0xMIDR:0xREVIDR-...` and the RFC's
`impl-cpu.N.{midr,revidr,aidr}`), never by the code under test, and must give the list
`--format json` gives: MIDR, REVIDR and AIDR, or without AIDR (and so with targets that differ
only in AIDR as one pair) for openEuler's form.
"""

from __future__ import annotations

import json
import re
import shlex
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import REPO
from test_fleet import A53_R0P4, N1_R3P1, SAMPLE, as_json, run_fleet, write_sysfs

LIBVIRT_NS = "http://libvirt.org/schemas/domain/qemu/1.0"
OPENEULER = "openEuler's QEMU 8.2"
RFC = "upstream QEMU RFC"
HEX = r"0x[0-9a-f]{8}"  # the spelling the forms promise: 0x and 8 lowercase hex digits
WARNING = re.compile(r"errata-db: warning: openEuler's x-target-impl-cpus takes at most 3 MIDR:REVIDR pairs "
                     r".*; this list has (\d+): that QEMU refuses the option\n")


# --- parsers, from the grammar ---------------------------------------------------------------


def machine_properties(value: str) -> tuple[str | None, dict[str, str]]:
    """A QEMU -machine value, `[type,]key=value,...`: the type (None when absent) and the
    properties, each key once."""
    parts = value.split(",")
    kind = None if "=" in parts[0] else parts.pop(0)
    props: dict[str, str] = {}
    for part in parts:
        key, sep, val = part.partition("=")
        assert sep and key and key not in props, f"not key=value, or a key twice: {part!r} in {value!r}"
        props[key] = val
    return kind, props


def x_target_pairs(text: str) -> list[tuple[int, int]]:
    """openEuler's x-target-impl-cpus value: 0xMIDR:0xREVIDR pairs joined by '-'."""
    pairs = []
    for pair in text.split("-"):
        assert re.fullmatch(rf"{HEX}:{HEX}", pair), f"not a 0xMIDR:0xREVIDR pair: {pair!r}"
        midr, revidr = pair.split(":")
        pairs.append((int(midr, 16), int(revidr, 16)))
    return pairs


def rfc_targets(props: dict[str, str]) -> list[tuple[int, int, int]]:
    """The RFC's impl-cpu.N.midr/revidr/aidr properties: every index from 0, each with all three."""
    found: dict[int, dict[str, int]] = {}
    for key, val in props.items():
        m = re.fullmatch(r"impl-cpu\.(0|[1-9][0-9]*)\.(midr|revidr|aidr)", key)
        assert m, f"not an impl-cpu property: {key}"
        assert re.fullmatch(HEX, val), f"{key}={val}"
        found.setdefault(int(m.group(1)), {})[m.group(2)] = int(val, 16)
    assert sorted(found) == list(range(len(found)))
    assert all(len(regs) == 3 for regs in found.values()), found
    return [(found[i]["midr"], found[i]["revidr"], found[i]["aidr"]) for i in range(len(found))]


def qemu_options(out: str) -> dict[str, tuple[str, str]]:
    """`--format qemu`: {who takes it: (option, value)}. Every line is a `#` comment or an
    option and its value as a shell splits them; an option is labelled by the last `# For ...`
    comment before it."""
    options, label = {}, None
    for line in out.splitlines():
        if line.startswith("#"):
            if line.startswith("# For "):
                label = line
            continue
        words = shlex.split(line)
        assert len(words) == 2 and label, f"not `-OPTION VALUE` under a `# For` label: {line!r}"
        who = OPENEULER if OPENEULER in label else RFC if RFC in label else label
        assert who not in options, f"two options for {who}"
        options[who] = (words[0], words[1])
    return options


def qemu_lists(out: str) -> tuple[list[tuple[int, int]], list[tuple[int, int, int]]]:
    """openEuler's pairs and the RFC's triples, read back from `--format qemu`."""
    options = qemu_options(out)
    assert sorted(options) == sorted([OPENEULER, RFC]), options
    option, value = options[OPENEULER]
    kind, props = machine_properties(value)
    assert (option, kind, list(props)) == ("-machine", "virt", ["x-target-impl-cpus"])
    pairs = x_target_pairs(props["x-target-impl-cpus"])
    option, value = options[RFC]
    kind, props = machine_properties(value)
    assert (option, kind) == ("-M", "virt")
    return pairs, rfc_targets(props)


def libvirt_pairs(out: str) -> list[tuple[int, int]]:
    """`--format libvirt`: one <qemu:commandline> in the qemu namespace, with two <qemu:arg>,
    `-machine` and a value the QEMU grammar reads as x-target-impl-cpus alone; the comment
    before it gives the declaration that goes on <domain>."""
    root = ET.fromstring(out)
    assert root.tag == f"{{{LIBVIRT_NS}}}commandline"
    assert [a.tag for a in root] == [f"{{{LIBVIRT_NS}}}arg"] * 2
    assert all(list(a.attrib) == ["value"] for a in root)
    option, value = (a.get("value") for a in root)
    assert option == "-machine"
    kind, props = machine_properties(value)
    assert (kind, list(props)) == (None, ["x-target-impl-cpus"])
    comment, _, element = out.partition("-->")
    assert comment.startswith("<!--") and element.startswith("\n<qemu:commandline ") and "<!--" not in element
    assert f"<domain type='kvm' xmlns:qemu='{LIBVIRT_NS}'>" in comment
    return x_target_pairs(props["x-target-impl-cpus"])


def json_targets(*args: str) -> list[tuple[int, int, int]]:
    doc = as_json(*args)
    cpus = doc["target_impl"]["cpus"]
    assert [c["index"] for c in cpus] == list(range(len(cpus)))
    return [(c["midr"], c["revidr"], c["aidr"]) for c in cpus]


def without_aidr(targets: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
    return list(dict.fromkeys((m, r) for m, r, _ in targets))


def fleet_file(tmp_path: Path, cpus: list[tuple[int, int, int]], name: str = "h") -> Path:
    path = tmp_path / "hosts.json"
    path.write_text(json.dumps({"hosts": [{"name": f"{name}{i}", "cpus": [
        {"midr": f"{m:#x}", "revidr": f"{r:#x}", "aidr": f"{a:#x}"}]} for i, (m, r, a) in enumerate(cpus)]}))
    return path


def run(*args: str, fmt: str):
    result = run_fleet(*args, "--format", fmt)
    assert result.code == 0, result.err
    return result


# --- each form gives the list --format json gives ----------------------------------------------

MIXED = [(N1_R3P1, 0, 0x551), (A53_R0P4, 0x100, 0), (N1_R3P1, 0, 0x552), (0xC00FAC30, 0x1, 0xFFFFFFFF)]


@pytest.mark.parametrize("cpus", [None, MIXED, MIXED[:1]], ids=["sample", "mixed-aidr", "one"])
def test_each_form_parses_back_to_the_json_list(tmp_path, cpus):
    args = ("--hosts", str(SAMPLE if cpus is None else fleet_file(tmp_path, cpus)))
    expected = json_targets(*args)
    pairs, triples = qemu_lists(run(*args, fmt="qemu").out)
    assert triples == expected
    assert pairs == without_aidr(expected)
    assert libvirt_pairs(run(*args, fmt="libvirt").out) == without_aidr(expected)


def test_sysfs_hosts_give_the_same_options_as_the_equivalent_file(tmp_path):
    root = write_sysfs(tmp_path / "h", [(N1_R3P1, 0), (A53_R0P4, 0x100)])
    file = fleet_file(tmp_path, [(N1_R3P1, 0, 0), (A53_R0P4, 0x100, 0)])
    for fmt in ("qemu", "libvirt"):
        assert run("--sysfs", f"x={root}", fmt=fmt).out == run("--hosts", str(file), fmt=fmt).out


def test_every_value_is_0x_and_eight_lowercase_hex_digits(tmp_path):
    out = run("--hosts", str(fleet_file(tmp_path, MIXED)), fmt="qemu").out
    options = "".join(line for line in out.splitlines(True) if not line.startswith("#"))
    numbers = re.findall(r"0[xX][0-9a-fA-F]+", options)
    assert len(numbers) == 2 * 3 + 3 * 4  # openEuler's 3 pairs, the RFC's 4 triples
    assert all(re.fullmatch(HEX, n) for n in numbers), numbers
    assert "0xffffffff" in options and "0x00000000" in options


# --- what the x-target form drops, and a list longer than it takes -----------------------------


def test_the_x_target_form_says_it_has_no_aidr_and_merges_targets_that_differ_only_in_aidr(tmp_path):
    args = ("--hosts", str(fleet_file(tmp_path, MIXED)))
    # Targets in DISCOVER_IMPL_CPUS order: 0 A53, 1 N1 (AIDR 0x551), 2 N1 (AIDR 0x552), 3 AmpereOne.
    assert json_targets(*args) == [MIXED[1], MIXED[0], MIXED[2], MIXED[3]]
    for fmt in ("qemu", "libvirt"):
        out = run(*args, fmt=fmt).out
        assert "No AIDR in this form" in out
        assert "dropped here, the AIDR of target(s) 1, 2 and 3." in out
        assert f"Targets 1 and 2 differ only in AIDR: one pair here, 0x{N1_R3P1:08x}:0x00000000." in out
        assert "So 3 pair(s) for 4 target(s)." in out


def test_without_aidrs_there_is_nothing_to_merge(tmp_path):
    out = run("--hosts", str(fleet_file(tmp_path, [(N1_R3P1, 0, 0), (A53_R0P4, 0, 0)])), fmt="qemu").out
    assert "every target's AIDR is 0 here." in out
    assert "differ only in AIDR" not in out and "pair(s) for" not in out


@pytest.mark.parametrize("fmt", ["qemu", "libvirt"])
def test_a_list_longer_than_openeuler_takes_is_a_warning_on_stderr_and_in_the_output(fmt):
    result = run("--hosts", str(SAMPLE), fmt=fmt)  # four targets, four pairs
    assert WARNING.fullmatch(result.err), result.err
    assert WARNING.fullmatch(result.err).group(1) == "4"
    assert "warning: openEuler's x-target-impl-cpus takes at most 3 MIDR:REVIDR pairs" in result.out
    # The option is printed all the same, whole.
    pairs = libvirt_pairs(result.out) if fmt == "libvirt" else qemu_lists(result.out)[0]
    assert len(pairs) == 4


@pytest.mark.parametrize("cpus, warned", [
    pytest.param(MIXED[:3], False, id="three-pairs"),
    pytest.param(MIXED, False, id="four-targets-three-pairs"),  # the merge brings it under the limit
    pytest.param([*MIXED, (A53_R0P4, 0, 0)], True, id="five-targets-four-pairs"),
])
def test_the_limit_counts_pairs_not_targets(tmp_path, cpus, warned):
    for fmt in ("qemu", "libvirt"):
        result = run("--hosts", str(fleet_file(tmp_path, cpus)), fmt=fmt)
        assert bool(result.err) == warned, result.err
        assert ("# warning:" in result.out or "warning: openEuler" in result.out) == warned


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_the_other_formats_say_nothing_of_the_limit(fmt):
    result = run("--hosts", str(SAMPLE), fmt=fmt)
    assert result.err == ""
    assert "x-target-impl-cpus" not in result.out


# --- hostile host names ----------------------------------------------------------------------

MARK = "HOSTILE"
HOSTILE_NAMES = [
    f"{MARK}'/><qemu:arg value='-device'/><!--",
    f"{MARK}\"&amp;<!-- -- -->]]>",
    f"{MARK}$(touch pwned) `id` ;rm -rf x\n-machine evil",
    f"{MARK}\x1b[2J\r\n# For openEuler's QEMU 8.2\n-machine virt,x-target-impl-cpus=0x1:0x2",
]


@pytest.mark.parametrize("fmt", ["qemu", "libvirt"])
def test_host_names_never_reach_the_options_or_the_comments(tmp_path, fmt):
    named = [(HOSTILE_NAMES[0], N1_R3P1), (HOSTILE_NAMES[1], A53_R0P4), (HOSTILE_NAMES[3], 0x412FD050)]
    path = tmp_path / "hosts.json"
    path.write_text(json.dumps({"hosts": [{"name": name, "cpus": [{"midr": f"{midr:#x}"}]} for name, midr in named]}))
    root = write_sysfs(tmp_path / "s", [(0xC00FAC30, 0)])
    args = ("--hosts", str(path), "--sysfs", f"{HOSTILE_NAMES[2]}={root}")
    result = run(*args, fmt=fmt)
    assert MARK not in result.out and MARK not in result.err
    expected = json_targets(*args)
    assert json.loads(run_fleet(*args, "--format", "json").out)["hosts"][0]["name"] == HOSTILE_NAMES[0]
    if fmt == "qemu":
        assert qemu_lists(result.out) == (without_aidr(expected), expected)
    else:
        assert libvirt_pairs(result.out) == without_aidr(expected)


# --- the option itself -----------------------------------------------------------------------


def test_an_unknown_format_is_a_usage_error_naming_the_choices():
    result = run_fleet("--hosts", str(SAMPLE), "--format", "virsh")
    assert result.code == 2
    assert result.out == ""
    assert "argument --format: invalid choice: 'virsh'" in result.err
    for choice in ("json", "libvirt", "qemu", "text"):
        assert f"'{choice}'" in result.err


def test_the_documented_examples_are_what_the_command_prints():
    text = (REPO / "docs/fleets-and-risk.md").read_text()
    m = re.search(r"^    \$ errata-db fleet --hosts examples/fleet.yaml --format qemu\n((?:    (?!\$).*\n)+)",
                  text, re.M)
    assert m, "docs/fleets-and-risk.md has no `$ errata-db fleet --hosts examples/fleet.yaml --format qemu` example"
    assert run("--hosts", "examples/fleet.yaml", fmt="qemu").out == "".join(
        line[4:] + "\n" for line in m.group(1).splitlines())
    m = re.search(r"^    (<qemu:commandline .*\n(?:    .*\n)*?    </qemu:commandline>\n)", text, re.M)
    assert m, "docs/fleets-and-risk.md shows no <qemu:commandline> element"
    element = "".join(line[4:] + "\n" for line in m.group(1).splitlines())
    assert run("--hosts", "examples/fleet.yaml", fmt="libvirt").out.endswith(element)


def test_a_long_run_of_indexes_is_counted_not_listed(tmp_path):
    cpus = [(N1_R3P1, 0, aidr) for aidr in range(1, 14)]  # 13 targets, one pair
    out = run("--hosts", str(fleet_file(tmp_path, cpus)), fmt="qemu").out
    assert "dropped here, the AIDR of target(s) 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 +3 more." in out
    assert "Targets 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 +3 more differ only in AIDR: one pair here" in out
    assert qemu_lists(out)[0] == [(N1_R3P1, 0)]
