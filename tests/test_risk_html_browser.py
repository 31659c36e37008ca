"""`risk --format html` as a browser shows it: the DOM Chromium built and the screenshot it took.

Slow, and deselected by default: run with `-m slow`. Needs Debian's `chromium-headless-shell`,
which .ci/run installs; without it every test here is skipped, and the reason is printed straight to
the terminal (past pytest's capture). tests/browser.py renders the page and reads the screenshot.

What the page means is taken from `risk --format json` of the same fleet, and its colours from the
page's own computed styles: a test here checks that the browser draws what the page says, and that
the colours tell safe from unsafe, not which colours they are.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import browser
from conftest import REGISTRY, REPO, run_cli, skip_loudly

pytestmark = pytest.mark.slow

FLEET = REPO / "examples" / "fleet.yaml"
MARKUP_NAME = "<b>x</b>"


@pytest.fixture(scope="module")
def chromium(request) -> str:
    path = browser.find_browser()
    if path is None:
        skip_loudly(f"{browser.BROWSER} not found (apt-get install {browser.BROWSER})", request)
    return path


def risk(hosts: Path, fmt: str) -> str:
    result = run_cli("risk", "--registry", str(REGISTRY), "--hosts", str(hosts), "--format", fmt)
    assert result.code == 0, result.err
    return result.out


def render_risk(hosts: Path, out: Path, chromium: str) -> tuple[browser.Rendered, dict]:
    """The HTML report of the fleet as the browser shows it, and the JSON report's data."""
    out.write_text(risk(hosts, "html"), encoding="utf-8")
    return browser.render(out, browser=chromium), json.loads(risk(hosts, "json"))


@pytest.fixture(scope="module")
def fleet_page(chromium, tmp_path_factory) -> tuple[browser.Rendered, dict]:
    return render_risk(FLEET, tmp_path_factory.mktemp("risk-html") / "risk.html", chromium)


def matrix(page: browser.Rendered, abi: str) -> browser.Element:
    """The table that follows the heading of the behaviour's section."""
    (heading,) = [h for h in page.find_all("h2") if h.text.startswith(f"{abi}:")]
    table = next(heading.following("table"), None)
    assert table is not None, f"no table after the heading {heading.text!r}"
    return table


def cells(table: browser.Element) -> tuple[list[str], dict[tuple[str, str], browser.Element]]:
    """The matrix's column headings, and its cells by (row heading, column heading)."""
    header, *rows = table.find_all("tr")
    columns = [th.text for th in header.find_all("th")[1:]]
    by_pair = {}
    for row in rows:
        heading, *row_cells = [c for c in row.children if isinstance(c, browser.Element) and c.tag in ("th", "td")]
        assert len(row_cells) == len(columns), f"row {heading.text!r} has {len(row_cells)} cells for {columns}"
        for column, cell in zip(columns, row_cells):
            assert (heading.text, column) not in by_pair, f"two rows headed {heading.text!r}"
            by_pair[heading.text, column] = cell
    return columns, by_pair


def test_each_behaviour_has_a_matrix_with_a_row_and_a_column_per_class(fleet_page):
    page, data = fleet_page
    names = sorted(c["name"] for c in data["classes"])
    for abi in data["abis"]:
        columns, by_pair = cells(matrix(page, abi))
        assert sorted(columns) == names, abi
        assert sorted({row for row, _ in by_pair}) == names, abi
        for (row, column), cell in by_pair.items():
            assert cell.box is not None and cell.box.width > 0 and cell.box.height > 0, (abi, row, column)


def test_each_cell_lists_what_the_guest_misses_on_that_pair(fleet_page):
    page, data = fleet_page
    for abi in data["abis"]:
        _, by_pair = cells(matrix(page, abi))
        for pair in data["pairs"]:
            shown = by_pair[pair["from"], pair["to"]].text
            assert all(cap in shown for cap in pair["missing"][abi]), (abi, pair["from"], pair["to"], shown)


def test_each_cell_is_drawn_in_its_computed_colour_and_safe_cells_differ_from_unsafe_ones(fleet_page):
    page, data = fleet_page
    colours: dict[bool, set] = {True: set(), False: set()}  # safe?: the backgrounds of those cells
    for abi in data["abis"]:
        _, by_pair = cells(matrix(page, abi))
        for pair in data["pairs"]:
            cell = by_pair[pair["from"], pair["to"]]
            background = cell.background()
            drawn = page.drawn_colour(cell)
            assert drawn == background, f"{abi} {pair['from']} -> {pair['to']}: drawn {drawn}, styled {background}"
            colours[not pair["missing"][abi]].add(background)
    assert colours[True] and colours[False], "examples/fleet.yaml should have safe and unsafe pairs"
    assert not colours[True] & colours[False], f"safe cells {colours[True]}, unsafe cells {colours[False]}"


def test_a_host_name_with_markup_is_shown_as_its_text(chromium, tmp_path):
    hosts = tmp_path / "hosts.yaml"
    hosts.write_text(f"hosts:\n  - name: '{MARKUP_NAME}'\n    cpus: [{{midr: 0x413fd0c1}}]\n"
                     "  - name: devkit\n    cpus: [{midr: 0x414fd0b0}, {midr: 0x412fd050}]\n")
    page, data = render_risk(hosts, tmp_path / "risk.html", chromium)
    assert MARKUP_NAME in [c["name"] for c in data["classes"]]
    assert not [b for b in page.find_all("b") if b.text == "x"], f"the name {MARKUP_NAME} became markup"
    for abi in data["abis"]:
        columns, by_pair = cells(matrix(page, abi))
        assert MARKUP_NAME in columns and (MARKUP_NAME, "devkit") in by_pair, abi


# A Cortex-A73 host and a Cortex-A76 one: moved to the A76, a guest booted on the A73 lacks a
# speculation workaround (SSBS); moved the other way, only a trace one (858921's timer reads).
MIXED_IMPACTS = "hosts:\n  - name: a73\n    cpus: [{midr: 0x410fd090}]\n  - name: a76\n    cpus: [{midr: 0x414fd0b0}]\n"


@pytest.fixture(scope="module")
def impact_page(chromium, tmp_path_factory) -> tuple[browser.Rendered, dict]:
    root = tmp_path_factory.mktemp("risk-impact")
    (root / "hosts.yaml").write_text(MIXED_IMPACTS)
    return render_risk(root / "hosts.yaml", root / "risk.html", chromium)


def legend(page: browser.Rendered) -> dict[str, tuple[int, ...]]:
    """Each impact level of the legend, in its order, and the colour its swatch is drawn in."""
    (table,) = page.find_all("table", cls="legend")
    levels = {}
    for row in table.find_all("tr")[1:]:
        swatch, level, _ = row.find_all("td")
        levels[level.text] = page.drawn_colour(swatch)
    return levels


def test_a_cell_is_drawn_in_the_legend_colour_of_the_worst_impact_it_lacks(impact_page):
    page, data = impact_page
    shown = legend(page)
    assert list(shown)[:5] == ["speculation", "corruption", "hang", "trace", "performance"]
    assert shown["speculation"] != shown["trace"] != shown["safe"]
    for abi in data["abis"]:
        _, by_pair = cells(matrix(page, abi))
        for pair in data["pairs"]:
            worst = pair["worst_impact"][abi] or "safe"
            cell = by_pair[pair["from"], pair["to"]]
            assert page.drawn_colour(cell) == shown[worst], (abi, pair["from"], pair["to"], worst)
            assert worst == "safe" or worst in cell.text
    _, by_pair = cells(matrix(page, "none"))
    assert page.drawn_colour(by_pair["a73", "a76"]) == shown["speculation"]
    assert page.drawn_colour(by_pair["a76", "a73"]) == shown["trace"]


def test_the_per_erratum_summary_is_drawn_the_worst_impact_first(impact_page):
    page, data = impact_page
    (table,) = [t for t in page.find_all("table") if t.attrs.get("id") == "summary"]
    rows = table.find_all("tr")[1:]
    caps = [row.find_all("td")[0].text for row in rows]
    assert caps == list(data["unsafe_by"]["none"])
    # The speculation ones (SSBS, and the A76's Spectre-BHB loop the A73 lacks) above the
    # repeat-TLBI corruption, above 858921's trace.
    levels = [row.find_all("td")[1].text for row in rows]
    assert levels == sorted(levels, key=data["impact_levels"].index)
    assert levels[0] == "speculation" and levels[-1] == "trace"
    assert caps.index("WORKAROUND_SPECULATIVE_SSBS") < caps.index("WORKAROUND_REPEAT_TLBI_SYNC") < caps.index(
        "WORKAROUND_858921")
    # Drawn in that order, top to bottom, each impact cell in its legend colour.
    assert [row.box.y for row in rows] == sorted(row.box.y for row in rows)
    shown = legend(page)
    for row in rows:
        impact = row.find_all("td")[1]
        assert page.drawn_colour(impact) == shown[impact.text], impact.text
