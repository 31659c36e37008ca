"""`risk` weighs errata: host-only ones never make a pair unsafe, the worst impact comes first
(in every list, in the HTML's colours, in the per-erratum summary), and `--fail-on ABI
[--min-impact LEVEL]` is a gate a CI step can run.

The registries here are copies of the bundled one with some entries' `guest` or `impact`
changed, so that each test decides what it compares rather than depending on the review of
any one erratum, and without speculation.yaml: the Cortex-A55 these fleets have is on the
Spectre safe lists, whose findings tests/test_risk_speculation.py checks."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from conftest import REPO, run_cli

A55_R2P0 = 0x412FD050  # needs SPECULATIVE_AT (and the repeat-TLBI cpucap)
A76_R4P0 = 0x414FD0B0  # needs SPECULATIVE_SSBS (and the repeat-TLBI cpucap)


_MADE: dict[str, Path] = {}


def registry_with(tmp_path: Path, changes: dict[str, dict]) -> Path:
    """A copy of the bundled registry whose entries named in changes get those fields (None
    removes one). The tests only read them: each set of changes is made once."""
    key = repr(sorted((name, sorted(fields.items())) for name, fields in changes.items()))
    if key not in _MADE:
        _MADE[key] = _copy_with(tmp_path, changes)
    return _MADE[key]


def _copy_with(tmp_path: Path, changes: dict[str, dict]) -> Path:
    root = tmp_path / "errata-db"
    shutil.copytree(REPO / "errata-db", root)
    (root / "speculation.yaml").unlink()
    yaml = YAML()
    yaml.width = 4096
    for path in sorted((root / "errata").glob("*.yaml")):
        doc = yaml.load(path.read_text())
        for e in doc["errata"]:
            for key, value in changes.get(str(e["name"]), {}).items():
                if value is None:
                    e.pop(key, None)
                else:
                    e[key] = value
        with path.open("w") as f:
            yaml.dump(doc, f)
    return root


def fleet(tmp_path: Path, hosts: dict[str, int]) -> str:
    path = tmp_path / "hosts.json"
    path.write_text(json.dumps({"hosts": [{"name": n, "cpus": [{"midr": f"{m:#x}"}]} for n, m in hosts.items()]}))
    return str(path)


def risk(registry: Path, hosts: str, *args: str):
    return run_cli("risk", "--registry", str(registry), "--hosts", hosts, *args)


def as_json(registry: Path, hosts: str) -> dict:
    r = risk(registry, hosts, "--format", "json")
    assert r.code == 0, r.err
    return json.loads(r.out)


def needed(name: str, impact: str) -> dict:
    return {"guest": "needed", "guest_reason": None, "impact": impact, "impact_note": f"Without it, {name} fails."}


HOST_ONLY = {"guest": "host-only", "guest_reason": "its workaround runs only in KVM's world switch: "
             "arch/arm64/kvm/hyp/include/hyp/switch.h"}

# The A55 host lacks only SPECULATIVE_SSBS after a move to the A76 host; the A76 host only
# SPECULATIVE_AT after a move to the A55 one (the repeat-TLBI cpucap both need).
TWO_HOSTS = {"a55": A55_R2P0, "a76": A76_R4P0}


def test_a_fleet_whose_only_difference_is_a_host_only_erratum_has_no_unsafe_pair(tmp_path):
    hosts = fleet(tmp_path, TWO_HOSTS)
    both_needed = registry_with(tmp_path / "needed", {"WORKAROUND_SPECULATIVE_AT": needed("AT", "corruption"),
                                                       "WORKAROUND_SPECULATIVE_SSBS": HOST_ONLY})
    doc = as_json(both_needed, hosts)
    # With SSBS host-only, only the move to the A55 host lacks something.
    assert doc["unsafe_pairs"]["none"] == 1
    both_host_only = registry_with(tmp_path / "host-only", {"WORKAROUND_SPECULATIVE_AT": HOST_ONLY,
                                                            "WORKAROUND_SPECULATIVE_SSBS": HOST_ONLY})
    doc = as_json(both_host_only, hosts)
    assert doc["unsafe_pairs"] == {"none": 0, "bitmap": 0, "impl-cpus": 0}
    assert all(not caps for p in doc["pairs"] for caps in p["missing"].values())
    # The worst impact first: the registry's SSBS is speculation, AT corruption.
    assert [(h["cpucap"], h["needed_by"]) for h in doc["host_only"]] == [
        ("WORKAROUND_SPECULATIVE_SSBS", ["a76"]), ("WORKAROUND_SPECULATIVE_AT", ["a55"])]
    assert all(h["reason"] == HOST_ONLY["guest_reason"] for h in doc["host_only"])
    text = risk(both_host_only, hosts).out
    assert "Unsafe pairs (0)" in text
    assert re.search(r"\nHost-only errata.*\n  WORKAROUND_SPECULATIVE_SSBS: on a76\n    its workaround runs only in "
                     r"KVM.*\n  WORKAROUND_SPECULATIVE_AT: on a55\n", text)


def _ranked(tmp_path: Path, at: str, ssbs: str) -> Path:
    return registry_with(tmp_path / f"{at}-{ssbs}", {"WORKAROUND_SPECULATIVE_AT": needed("AT", at),
                                                      "WORKAROUND_SPECULATIVE_SSBS": needed("SSBS", ssbs)})


def _cell_classes(html: str) -> dict[tuple[str, str, str], str]:
    """(behaviour, row, column) -> the class of that matrix cell."""
    class Cells(HTMLParser):
        def __init__(self):
            super().__init__()
            self.abi = self.row = None
            self.columns, self.cells, self.text, self.in_th = [], {}, "", False
            self.column = 0

        def handle_starttag(self, tag, attrs):
            if tag == "h2":
                self.text, self.abi = "", "h2"
            elif tag == "tr":
                self.row, self.column, self.heading_row = None, 0, self.abi not in (None, "h2") and not self.columns
            elif tag == "th":
                self.in_th, self.text = True, ""
            elif tag == "td" and self.row is not None:
                self.cells[self.abi, self.row, self.columns[self.column]] = dict(attrs).get("class")
                self.column += 1

        def handle_endtag(self, tag):
            if tag == "h2" and self.abi == "h2":
                self.abi, self.columns = self.text.split(":")[0], []
            elif tag == "th":
                self.in_th = False
                if self.heading_row and self.text != "from \\ to":
                    self.columns.append(self.text)
                elif not self.heading_row:
                    self.row = self.text

        def handle_data(self, data):
            self.text += data

    parser = Cells()
    parser.feed(html)
    return {k: v for k, v in parser.cells.items() if k[0] in ("none", "bitmap", "impl-cpus")}


@pytest.mark.parametrize("at, ssbs", [("speculation", "trace"), ("trace", "speculation")])
def test_a_missing_speculation_workaround_outranks_a_missing_trace_one(tmp_path, at, ssbs):
    registry = _ranked(tmp_path, at, ssbs)
    hosts = fleet(tmp_path, TWO_HOSTS)
    doc = as_json(registry, hosts)
    worse = "a76 -> a55" if at == "speculation" else "a55 -> a76"
    lesser = "a55 -> a76" if at == "speculation" else "a76 -> a55"
    # The ordering: the unsafe pairs and the summary give the speculation erratum first.
    text = risk(registry, hosts).out
    assert text.index(f"  {worse}\n") < text.index(f"  {lesser}\n")
    summary = text[text.index("Errata that make pairs unsafe"):]
    spec = "WORKAROUND_SPECULATIVE_AT" if at == "speculation" else "WORKAROUND_SPECULATIVE_SSBS"
    trace = "WORKAROUND_SPECULATIVE_SSBS" if at == "speculation" else "WORKAROUND_SPECULATIVE_AT"
    assert summary.index(spec) < summary.index(trace)
    assert list(doc["unsafe_by"]["none"]) == [spec, trace]
    # The colour: each cell is classed by the impact it lacks, and the legend names both.
    page = risk(registry, hosts, "--format", "html").out
    cells = _cell_classes(page)
    source, target = worse.split(" -> ")
    assert cells["none", source, target] == "impact-speculation"
    source, target = lesser.split(" -> ")
    assert cells["none", source, target] == "impact-trace"
    assert cells["bitmap", "a55", "a76"] == "safe"
    style = page[page.index("<style>"):page.index("</style>")]
    colour = {level: re.search(rf"td\.impact-{level} {{ background: (#[0-9a-f]{{6}}); }}", style).group(1)
              for level in ("speculation", "trace")}
    assert colour["speculation"] != colour["trace"]
    legend = page[page.index('<table class="legend"'):]
    assert legend.index("speculation") < legend.index("trace")
    # The exit code: a speculation gate fails for the speculation pair only.
    gate = risk(registry, hosts, "--fail-on", "none", "--min-impact", "speculation")
    assert gate.code == 1
    assert f"  {worse}: {spec} [speculation]" in gate.err and lesser not in gate.err
    assert risk(registry, hosts, "--fail-on", "none", "--min-impact", "corruption").code == 1


def test_a_trace_only_loss_passes_a_speculation_gate_and_fails_a_trace_gate(tmp_path):
    registry = _ranked(tmp_path, "trace", "performance")
    hosts = fleet(tmp_path, TWO_HOSTS)
    for level, code in (("speculation", 0), ("corruption", 0), ("hang", 0), ("trace", 1), ("performance", 1)):
        r = risk(registry, hosts, "--fail-on", "none", "--min-impact", level, "--format", "json")
        assert r.code == code, (level, r.err)
        assert json.loads(r.out)["unsafe_pairs"]["none"] == 2  # the report is printed whatever the gate says
    assert risk(registry, hosts, "--fail-on", "none").code == 1


def test_the_gate_passes_for_a_behaviour_under_which_no_pair_is_unsafe(tmp_path):
    # Cortex-A76 and Neoverse-N1 share every speculation list: only 1418040 differs, which the
    # bitmap and the target list both carry.
    hosts = fleet(tmp_path, {"a76": A76_R4P0, "n1": 0x413FD0C1})
    for abi in ("bitmap", "impl-cpus"):
        r = risk(REPO / "errata-db", hosts, "--fail-on", abi)
        assert r.code == 0 and r.err == "", abi
    r = risk(REPO / "errata-db", hosts, "--fail-on", "none")
    assert r.code == 1 and "  a76 -> n1: WORKAROUND_1418040 [corruption]" in r.err


def test_the_gate_names_at_most_five_pairs_the_worst_first(tmp_path):
    # Six hosts whose CPUs all differ: thirty pairs, most of them unsafe under none.
    hosts = fleet(tmp_path, {"a55": A55_R2P0, "a76": A76_R4P0, "n1": 0x413FD0C1, "ampere": 0xC00FAC30,
                             "a53": 0x410FD034, "a57": 0x411FD070})
    r = risk(REPO / "errata-db", hosts, "--fail-on", "none")
    assert r.code == 1
    lines = r.err.splitlines()
    assert re.fullmatch(r"errata-db: risk: \d+ of 30 pair\(s\) unsafe under none; the first:", lines[0])
    named = [line for line in lines if " -> " in line]
    assert len(named) == 5
    assert re.fullmatch(r"errata-db:   and \d+ more: the report above has them all", lines[-1])
    ranks = ["unreviewed", "speculation", "corruption", "hang", "trace", "performance"]
    worst = [ranks.index(re.search(r"\[(\w+)\]", line).group(1)) for line in named]
    assert worst == sorted(worst)


@pytest.mark.parametrize("args, message", [
    (["--min-impact", "trace"], "give --fail-on ABI as well"),
    (["--fail-on", "none", "--min-impact", "severe"], "invalid choice: 'severe'"),
    (["--fail-on", "always"], "invalid choice: 'always'"),
])
def test_a_gate_asked_wrongly_is_a_usage_error(tmp_path, args, message):
    r = risk(REPO / "errata-db", fleet(tmp_path, TWO_HOSTS), *args)
    assert r.code == 2 and message in r.err and r.out == ""


def test_an_unreviewed_entry_counts_as_needed_and_worse_than_speculation(tmp_path):
    registry = registry_with(tmp_path, {
        "WORKAROUND_SPECULATIVE_AT": {"guest": "unreviewed", "guest_reason": None, "impact": "unreviewed",
                                      "impact_note": None},
        "WORKAROUND_SPECULATIVE_SSBS": needed("SSBS", "speculation")})
    hosts = fleet(tmp_path, TWO_HOSTS)
    validate = run_cli("validate", "--registry", str(registry))
    assert validate.code == 0
    assert re.search(r"arm\.yaml:\d+:\d+: warning: 'WORKAROUND_SPECULATIVE_AT': guest and impact not reviewed yet",
                     validate.err)
    doc = as_json(registry, hosts)
    assert list(doc["unsafe_by"]["none"]) == ["WORKAROUND_SPECULATIVE_AT", "WORKAROUND_SPECULATIVE_SSBS"]
    entry = next(e for e in doc["errata"] if e["cpucap"] == "WORKAROUND_SPECULATIVE_AT")
    assert (entry["guest"], entry["impact"], entry["reviewed"]) == ("needed", "unreviewed", False)
    r = risk(registry, hosts, "--fail-on", "none", "--min-impact", "speculation")
    assert r.code == 1 and "a76 -> a55: WORKAROUND_SPECULATIVE_AT [unreviewed]" in r.err
    assert "unreviewed" in risk(registry, hosts, "--format", "html").out.split('class="legend"')[1]


def test_markdown_and_html_carry_the_per_erratum_summary_and_the_host_only_list(tmp_path):
    registry = registry_with(tmp_path, {"WORKAROUND_SPECULATIVE_AT": needed("AT", "corruption"),
                                        "WORKAROUND_SPECULATIVE_SSBS": HOST_ONLY})
    hosts = fleet(tmp_path, TWO_HOSTS)
    md = risk(registry, hosts, "--format", "markdown").out
    assert "| `WORKAROUND_SPECULATIVE_AT` | corruption | Without it\\, AT fails\\. | 1 | 0 | 0 |" in md
    assert "| `WORKAROUND_SPECULATIVE_SSBS` | a76 | its workaround runs only in KVM\\'s world switch\\:" in md
    page = risk(registry, hosts, "--format", "html").out
    summary = page[page.index('<table id="summary">'):]
    assert re.search(r"<td>WORKAROUND_SPECULATIVE_AT</td><td class=\"impact-corruption\">corruption</td>"
                     r"<td>Without it, AT fails.</td><td>1</td><td>0</td><td>0</td>", summary)
    assert "its workaround runs only in KVM&#x27;s world switch" in page[page.index('<table id="host-only">'):]


def test_markdown_shows_an_apostrophe_as_an_apostrophe(tmp_path):
    md = risk(REPO / "errata-db", fleet(tmp_path, {"bob's": A55_R2P0, "eve's": A76_R4P0}), "--format", "markdown").out
    assert "&#" not in md and "bob\\'s" in md


def test_every_erratum_in_the_json_export_says_what_a_guest_needs_and_how_bad_it_is():
    doc = json.loads((REPO / "generated" / "json" / "errata.json").read_text())
    levels = {"speculation", "corruption", "hang", "trace", "performance"}
    for e in doc["errata"]:
        if e["status"] != "active":
            continue
        assert e["guest"] in ("needed", "host-only") and e["impact"] in levels and e["reviewed"], e["name"]
        assert (e["guest_reason"] is None) == (e["guest"] == "needed"), e["name"]
        assert e["impact_note"].endswith("."), e["name"]
