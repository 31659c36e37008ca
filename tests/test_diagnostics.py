"""The rules every command follows when it prints: how many of one problem it lists before it
counts the rest, and how it cuts a long list short. Each has one home in errata_db.diagnostics;
these tests pin it there."""

from __future__ import annotations

from errata_db.diagnostics import MAX_REPEATS, Pos, capped, capped_findings, error, some, warning


def test_after_max_repeats_of_a_kind_one_finding_counts_the_rest_where_they_begin():
    findings = [(Pos("a.yaml", n, 1), f"problem {n}") for n in range(1, 26)]
    out = list(capped_findings("'E'", "ranges listed twice", iter(findings)))
    assert out[:MAX_REPEATS] == findings[:MAX_REPEATS]
    assert out[MAX_REPEATS:] == [(Pos("a.yaml", MAX_REPEATS + 1, 1),
                                  "15 more ranges listed twice in 'E' from here on, not listed one by one")]


def test_findings_up_to_the_cap_are_listed_without_a_count():
    findings = [(Pos("a.yaml", n, 1), "x") for n in range(MAX_REPEATS)]
    assert list(capped_findings("'E'", "ranges listed twice", findings)) == findings


def test_a_count_without_a_place_says_only_from_here_on():
    findings = [(Pos("bits.lock", n, 1), "junk") for n in range(1, MAX_REPEATS + 4)]
    assert list(capped_findings(None, "malformed lock line(s)", findings))[-1] == (
        Pos("bits.lock", MAX_REPEATS + 1, 1), "3 more malformed lock line(s) from here on, not listed one by one")


def test_diagnostics_are_capped_rule_by_rule_in_their_order_with_the_counts_last():
    diags = [d for n in range(1, 13) for d in (error(Pos("a.yaml", n, 1), "one", f"one {n}"),
                                                 warning(Pos("a.yaml", n, 2), "two", f"two {n}"))]
    diags.append(error(Pos("a.yaml", 13, 1), "one", "one 13"))
    out = capped(diags, "'E'")
    assert out[:2 * MAX_REPEATS] == diags[:2 * MAX_REPEATS]
    assert out[2 * MAX_REPEATS:] == [
        error(Pos("a.yaml", 11, 1), "one", "3 more one problem(s) in 'E' from here on, not listed one by one"),
        warning(Pos("a.yaml", 11, 2), "two", "2 more two problem(s) in 'E' from here on, not listed one by one"),
    ]


def test_a_long_list_shows_its_first_items_and_counts_the_rest():
    assert some(["a", "b", "c", "d", "e", "f", "g"]) == "a, b, c +4 more"
    assert some(("a", "b", "c", "d"), 2) == "a, b +2 more"


def test_a_list_no_longer_than_the_limit_is_shown_whole():
    assert some(["a", "b", "c"]) == "a, b, c"
    assert some(["a"], 10) == "a"
    assert some([]) == ""


def test_a_list_inside_a_list_puts_its_count_aside():
    assert some(["r0p0", "r0p1", "r0p2"], 1, aside=True) == "r0p0 (+2 more)"
    assert some(["r0p0"], 1, aside=True) == "r0p0"
