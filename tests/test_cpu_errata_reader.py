"""The reader of cpu_errata.c: two spellings of one table read the same, and any difference in
what a table means is found, at its line. Small tables written for these tests in the kernel's
macros; the real 6.12 file is read by the slow tier."""

from __future__ import annotations

import pytest

from errata_db.diagnostics import Pos
from errata_db.kernel.cpu_errata import NotRecognised, differences, function_ranges, read_source
from errata_db.model import NotCovered, Registry, kernel_table_rows

PLAIN = """\
static const struct midr_range a_list[] = {
#if defined(CONFIG_ERRATUM_1) || \\
	defined(CONFIG_ERRATUM_2)
	MIDR_REV_RANGE(MIDR_CORTEX_A53, 0, 0, 2),
#endif
	MIDR_ALL_VERSIONS(MIDR_CORTEX_A72),
	{},
};

static const struct arm64_cpu_capabilities a_match_list[] = {
	{
		ERRATA_MIDR_REV_RANGE(MIDR_CORTEX_A53, 0, 0, 4),
		MIDR_FIXED(MIDR_CPU_VAR_REV(0, 4), BIT(8)),
	},
	{
		ERRATA_MIDR_RANGE_LIST(((const struct midr_range[]) {
			MIDR_REV(MIDR_BRAHMA_B53, 0, 0),
			{}
		})),
	},
	{},
};

const struct arm64_cpu_capabilities arm64_errata[] = {
#ifdef CONFIG_WORKAROUND_A
	{
		.desc = "Erratum A",
		.capability = ARM64_WORKAROUND_A,
		ERRATA_MIDR_RANGE_LIST(a_list),
	},
#endif
	{
		.desc = "Erratum B",
		.capability = ARM64_WORKAROUND_B,
		.type = ARM64_CPUCAP_LOCAL_CPU_ERRATUM,
		.matches = cpucap_multi_entry_cap_matches,
		.match_list = a_match_list,
	},
	{
	}
};
"""

# The same table as a person might write it: other names, comments, other macros for the same
# values, designators in another order, and one overridden.
HAND = """\
// SPDX-License-Identifier: GPL-2.0-only
static const struct arm64_cpu_capabilities b_entries[] = {
	{
		/* Cortex-A53 r0p[01234] */
		.matches = is_affected_midr_range,
		ERRATA_MIDR_RANGE(MIDR_CORTEX_A53, 0, 0, 0, 4),
		MIDR_FIXED(0x4, 0x100),
	},
	{
		ERRATA_MIDR_RANGE_LIST(((const struct midr_range[]) {
			MIDR_RANGE(MIDR_BRAHMA_B53, 0, 0, 0, 0),
			{},
		})),
	},
	{}
};

static bool __maybe_unused helper(int scope)
{
	return scope != 0;
}

static const __maybe_unused struct midr_range renamed[] = {
#ifdef	CONFIG_ERRATUM_2 /* a comment */
	MIDR_RANGE(MIDR_CORTEX_A53, 0, 0, 0, 2),
#endif
	MIDR_RANGE(MIDR_CORTEX_A72, 0, 0, 0xf, 0xf),
	{ }
};

const struct arm64_cpu_capabilities arm64_errata[] = {
#ifdef CONFIG_WORKAROUND_A
	{
	/* Cortex-A53 and A72 */
		.capability = ARM64_WORKAROUND_A,
		.type = ARM64_CPUCAP_WEAK_LOCAL_CPU_FEATURE,
		.desc = "Erratum " "A",
		.matches = is_affected_midr_range_list,
		.midr_range_list = renamed,
		.type = ARM64_CPUCAP_LOCAL_CPU_ERRATUM,
	},
#endif
	{
		.desc = "Erratum B",
		.capability = ARM64_WORKAROUND_B,
		.type = ARM64_CPUCAP_LOCAL_CPU_ERRATUM,
		.matches = cpucap_multi_entry_cap_matches,
		.match_list = b_entries,
	},
	{}
};
"""

AT = Pos("cpu_errata.c", 1, 1)  # where a table without rows is


def rows(text: str):
    return read_source(text, "cpu_errata.c").rows()


def test_two_spellings_of_one_table_read_the_same_but_for_the_guard_that_differs():
    found = list(differences(rows(HAND), rows(PLAIN), AT))
    assert [(str(pos), why) for pos, why in found] == [
        ("cpu_errata.c:25:1", "ARM64_WORKAROUND_A .midr_range_list: range MIDR_CORTEX_A53 r0p0..r0p2 is "
                              "guarded by (ERRATUM_2) here, by (ERRATUM_1 || ERRATUM_2) in the registry's table")]


def test_the_same_spelling_reads_the_same():
    assert list(differences(rows(PLAIN), rows(PLAIN), AT)) == []


@pytest.mark.parametrize("old, new, line, reason", [
    ("MIDR_FIXED(MIDR_CPU_VAR_REV(0, 4), BIT(8))", "MIDR_FIXED(MIDR_CPU_VAR_REV(0, 4), BIT(9))", 11,
     "ARM64_WORKAROUND_B .match_list entry 0: .fixed_revs is ((4, 512),) here, ((4, 256),) in the registry's table"),
    ("\t\t\tMIDR_REV(MIDR_BRAHMA_B53, 0, 0),\n", "", 15,
     "ARM64_WORKAROUND_B .match_list entry 1 .midr_range_list: the registry's range MIDR_BRAHMA_B53 "
     "r0p0 is not in this list"),
    ('"Erratum B"', '"Erratum C"', 32,
     "ARM64_WORKAROUND_B: .desc is 'Erratum C' here, 'Erratum B' in the registry's table"),
    ("#ifdef CONFIG_WORKAROUND_A\n", "#ifdef CONFIG_WORKAROUND_Z\n", 26,
     "ARM64_WORKAROUND_A is guarded by (WORKAROUND_Z), the registry's by (WORKAROUND_A)"),
])
def test_a_change_of_meaning_is_found_at_its_line(old, new, line, reason):
    assert PLAIN.count(old) == 1
    found = list(differences(rows(PLAIN.replace(old, new)), rows(PLAIN), AT))
    assert [(pos.line, why) for pos, why in found] == [(line, reason)]


@pytest.mark.parametrize("old, new, line, reason", [
    ("#endif\n\tMIDR_ALL", "#else\n\tMIDR_ALL", 5, "'#else' in a table is not a Kconfig guard"),
    ("MIDR_ALL_VERSIONS(MIDR_CORTEX_A72)", "MIDR_CPU_MODEL(1, 2)", 6,
     "MIDR_CPU_MODEL() is not a MIDR range macro this reader knows"),
    ("\t\t.match_list = a_match_list,\n", "\t\t.match_list = nowhere,\n", 32,
     "nowhere is not a table of this file"),
    ("ERRATA_MIDR_RANGE_LIST(a_list)", "ERRATA_MIDR_LIST(a_list)", 29,
     "ERRATA_MIDR_LIST() is not a table macro this reader knows"),
])
def test_what_the_reader_does_not_know_is_refused_at_its_line(old, new, line, reason):
    assert PLAIN.count(old) == 1
    with pytest.raises(NotRecognised) as info:
        rows(PLAIN.replace(old, new))
    assert (info.value.pos.line, info.value.reason) == (line, reason)


def test_a_closer_that_closes_nothing_is_refused_at_its_line():
    with pytest.raises(NotRecognised) as info:
        read_source("int a;\nint b = ( };\n", "cpu_errata.c")
    assert (info.value.pos.path, info.value.pos.line, info.value.reason) == (
        "cpu_errata.c", 2, "a '}' that closes nothing it opened")


MATCHER = """\
static bool caller(void)
{
	return has_one_range(NULL, 0);
}

static bool has_one_range(const struct arm64_cpu_capabilities *entry, int scope)
{
	const struct midr_range range = MIDR_ALL_VERSIONS(MIDR_NEOVERSE_N1);

	return is_midr_in_range(&range);
}
"""


def test_the_ranges_a_matcher_declares_come_from_its_definition_not_a_caller():
    found = function_ranges(read_source(MATCHER, "cpu_errata.c"), "has_one_range")
    assert [r.pos.line for r in found] == [8]


def test_a_range_a_matcher_declares_without_its_semicolon_is_refused_at_its_line():
    src = read_source(MATCHER.replace("(MIDR_NEOVERSE_N1);", "(MIDR_NEOVERSE_N1)")
                      .replace("\n\treturn is_midr_in_range(&range);\n", ""), "cpu_errata.c")
    with pytest.raises(NotRecognised) as info:
        function_ranges(src, "has_one_range")
    assert (info.value.pos.line, info.value.reason) == (8, "the range has_one_range() declares has no ';'")


def _registry(*not_covered: NotCovered) -> Registry:
    return Registry(1, "H", "d", ("R0",), 64, (), (), (), (), not_covered=not_covered)


def test_rows_after_the_same_row_keep_their_order_and_a_cycle_is_never_placed():
    a, b, c = (NotCovered(n, "m", "r", after=after) for n, after in (("A", None), ("B", "A"), ("C", "A")))
    placed, waiting = kernel_table_rows(_registry(c, b, a))
    assert [r.cpucap for r in placed] == ["A", "C", "B"] and waiting == []
    x, y = NotCovered("X", "m", "r", after="Y"), NotCovered("Y", "m", "r", after="X")
    placed, waiting = kernel_table_rows(_registry(a, x, y))
    assert [r.cpucap for r in placed] == ["A"] and [r.cpucap for r in waiting] == ["X", "Y"]
