"""The rules every command follows when it prints: how many of one problem it lists before it
counts the rest, how it cuts a long list short, and how it annotates a file for GitHub. Each has
one home in errata_db.diagnostics; these tests pin it there."""

from __future__ import annotations

from errata_db.diagnostics import (MAX_REPEATS, Pos, capped, capped_findings, error, github_annotation, render, some,
                                   warning)
from errata_db.stability import FORMATS, Change, Level


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


def test_a_github_annotation_is_one_workflow_command_with_the_file_line_and_column():
    assert github_annotation("error", Pos("errata-db/errata/arm.yaml", 12, 7), "duplicate-bit", "bit 3 twice") == \
        "::error file=errata-db/errata/arm.yaml,line=12,col=7,title=duplicate-bit::bit 3 twice"
    assert github_annotation("notice", Pos("errata-db/bits.lock"), "lock", "missing") == \
        "::notice file=errata-db/bits.lock,title=lock::missing"
    assert github_annotation("warning", Pos("a.yaml", 3), "r", "m") == "::warning file=a.yaml,line=3,col=1,title=r::m"


def test_nothing_from_a_file_ends_a_github_annotation_or_starts_another():
    line = github_annotation("error", Pos("odd:dir,x/100%.yaml", 1, 1), "a,b:c", "one\r\n::error::two 50%")
    assert line == ("::error file=odd%3Adir%2Cx/100%25.yaml,line=1,col=1,title=a%2Cb%3Ac"
                    "::one%0D%0A::error::two 50%25")


def test_validate_and_stability_annotate_for_github_alike():
    d = error(Pos("a.yaml", 2, 5), "duplicate-bit", "bit 3 twice")
    assert render([d], "github") == github_annotation("error", d.pos, d.rule, d.message) + "\n"
    change = Change(0, "bit-moved", "moved", Pos("a.yaml", 4, 3), None, "put it back", Level.BREAKING)
    assert FORMATS["github"]([change], "HEAD").splitlines()[0] == github_annotation(
        "error", change.now, "bit-moved", "breaking: moved. Fix: put it back")
