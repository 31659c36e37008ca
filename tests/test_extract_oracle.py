"""The tests' oracle of a kernel's errata table (tests/kernel/extract_errata.py) reads C as the
compiler sees it. These cases are the shapes Linux 6.1 and 6.12 write their table in."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from conftest import path_from_env

_SPEC = importlib.util.spec_from_file_location(
    "extract_errata", Path(__file__).resolve().parent / "kernel" / "extract_errata.py")
extract_errata = importlib.util.module_from_spec(_SPEC)
sys.modules["extract_errata"] = extract_errata  # its dataclass looks itself up there
_SPEC.loader.exec_module(extract_errata)

CPUCAPS = "#define ARM64_WORKAROUND_843419\t\t54\n#define ARM64_WORKAROUND_REPEAT_TLBI 80\n" \
          "#define ARM64_WORKAROUND_CLEAN_CACHE 76\n"
MODEL = "((((u32)(0x41)) << 24) | (0xf << 16) | ((0xD03) << 4))"

PREPROCESSED = f"""
static const struct midr_range workaround_clean_cache[] = {{
 {{ .model = {MODEL}, .rv_min = (((0) << 20) | (0)), .rv_max = (((0) << 20) | (2)), }},
# 12 "arch/arm64/kernel/cpu_errata.c"
 {{}},
}};
static const struct arm64_cpu_capabilities erratum_843419_list[] = {{
 {{ .matches = is_affected_midr_range,
  .type = (((u16)((((1UL))) << (0))) | ((u16)((((1UL))) << (5)))), .matches = is_affected_midr_range,
  .midr_range = {{ .model = {MODEL}, .rv_min = 0, .rv_max = (((0) << 20) | (4)), }},
  .fixed_revs = (struct arm64_midr_revidr[]){{{{ (0x4), (((((1UL))) << (8))) }}, {{}}}},
 }},
 {{}},
}};
static const struct arm64_cpu_capabilities tlbi_list[] = {{
 {{ .midr_range.model = ((((u32)(0x51)) << 24) | (0xf << 16) | ((0x200) << 4)), .matches = is_kryo_midr, }},
 {{ .matches = is_affected_midr_range_list,
   .midr_range_list = ((const struct midr_range[]) {{ {{ .model = {MODEL}, .rv_min = 1, .rv_max = 2 }}, {{}} }}), }},
 {{}},
}};
const struct arm64_cpu_capabilities arm64_errata[] = {{
 {{ .desc = "ARM errata 826319, " "827319", .capability = 76, .matches = is_affected_midr_range_list,
   .midr_range_list = workaround_clean_cache, .cpu_enable = cpu_enable_cache_maint_trap, }},
 {{ .desc = "ARM erratum 843419", .capability = 54, .matches = cpucap_multi_entry_cap_matches,
   .match_list = erratum_843419_list, }},
 {{ .desc = "TLBI", .capability = 80, .matches = cpucap_multi_entry_cap_matches, .match_list = tlbi_list, }},
 {{}},
}};
"""


def test_oracle_reads_lists_compound_literals_designator_chains_and_kryo():
    facts = extract_errata.extract(PREPROCESSED, CPUCAPS)
    assert [f["capability"] for f in facts] == ["WORKAROUND_CLEAN_CACHE", "WORKAROUND_843419",
                                                "WORKAROUND_REPEAT_TLBI"]
    assert facts[0]["desc"] == "ARM errata 826319, 827319"
    assert facts[0]["ranges"] == [{"model": "0x410fd030", "rv_min": "0x0", "rv_max": "0x2"}]
    sub = facts[1]["sub"]
    assert sub[0]["fixed_revs"] == [{"midr_rv": "0x4", "revidr_mask": "0x100"}]
    assert sub[0]["ranges"] == [{"model": "0x410fd030", "rv_min": "0x0", "rv_max": "0x4"}]
    kryo, listed = facts[2]["sub"]
    assert (kryo["kryo"], kryo["ranges"]) == (True, [{"model": "0x510f2000", "rv_min": "0x0",
                                                      "rv_max": "0xf0000f"}])
    assert listed["ranges"] == [{"model": "0x410fd030", "rv_min": "0x1", "rv_max": "0x2"}]


def test_oracle_names_the_construct_it_does_not_understand():
    text = PREPROCESSED.replace(".capability = 54", ".capability = sizeof(int)")
    with pytest.raises(extract_errata.Unsupported, match="sizeof"):
        extract_errata.extract(text, CPUCAPS)


@pytest.mark.slow
def test_oracle_on_debian_6_12_gives_the_reference_facts_exactly(request):
    """The facts the import proof trusts come from the same oracle that reproduces the
    reference the bundled registry was checked against (Debian's 6.12.117; later 6.12.y keep
    that table until a stable release changes it, and then this test says so)."""
    import json

    facts = path_from_env("ERRATA_DB_FACTS_612", request, usable=Path.is_file, what="the oracle's facts of 6.12")
    reference = Path(__file__).resolve().parent / "reference" / "linux-6.12-errata.json"
    assert json.loads(facts.read_text()) == json.loads(reference.read_text())
