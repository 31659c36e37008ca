"""The documentation stays true to the tool.

README.md is what a user reads first: the quick start, one example per command, links into
docs/, which holds the reference. Here:

- every command of `errata-db` has its row in docs/commands.md's table, and every option of a
  command (with its value's name and its choices) is in that row; nothing in a row is an option
  the command lacks;
- every `errata-db` command line the documentation shows parses as the tool parses it;
- the README shows every command (tests/test_readme_tour.py runs its examples);
- every relative link of README.md and docs/*.md reaches a file, and its anchor a heading there;
- .ci/run runs the README's test command verbatim.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shlex
from pathlib import Path


from conftest import REPO
from errata_db.cli import _parser

README = REPO / "README.md"
DOCS = REPO / "docs"
COMMANDS = DOCS / "commands.md"
PAGES = [README, *sorted(DOCS.glob("*.md"))]

ELIDED = "[...]"  # an example's output line that stands for any lines (tests/test_readme_tour.py)


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    (sub,) = [a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def _common_actions(commands: dict[str, argparse.ArgumentParser]) -> list[argparse.Action]:
    """The options every command takes from the shared parent parser (argparse gives each
    command the parent's very action objects), documented once above the table."""
    seen: dict[int, tuple[argparse.Action, int]] = {}
    for parser in commands.values():
        for action in parser._actions:
            seen[id(action)] = (action, seen.get(id(action), (action, 0))[1] + 1)
    return [action for action, count in seen.values() if count > 1]


def _is_help(action: argparse.Action) -> bool:
    return isinstance(action, (argparse._HelpAction, argparse._VersionAction))


def _rows() -> dict[str, list[tuple[str, str]]]:
    """docs/commands.md's table: each command's rows, as (synopsis, description)."""
    rows: dict[str, list[tuple[str, str]]] = {}
    for line in COMMANDS.read_text().splitlines():
        m = re.match(r"^\| `errata-db ([\w-]+)([^`]*)` \|(.*)\|$", line)
        if m:
            rows.setdefault(m.group(1), []).append((m.group(1) + m.group(2), m.group(3)))
    return rows


def test_every_command_has_its_row_in_docs_commands_and_every_row_is_a_command():
    rows, commands = _rows(), _subcommands()
    assert sorted(rows) == sorted(commands), (
        f"commands without a row in docs/commands.md: {sorted(set(commands) - set(rows))}; "
        f"rows of no command: {sorted(set(rows) - set(commands))}")


def test_every_option_of_every_command_is_in_its_row_with_its_value_and_choices():
    rows, commands = _rows(), _subcommands()
    common = {id(a) for a in _common_actions(commands)}
    for name, parser in commands.items():
        synopsis = " ".join(s for s, _ in rows.get(name, []))
        own = [a for a in parser._actions if id(a) not in common and not _is_help(a)]
        for action in own:
            where = f"docs/commands.md, the row of `errata-db {name}`"
            if not action.option_strings:  # a positional: its value's name
                assert re.search(rf"(?<![\w-]){re.escape(action.metavar or action.dest)}(?![\w-])", synopsis), (
                    f"{where} does not show {action.metavar or action.dest}: {synopsis}")
                continue
            option = max(action.option_strings, key=len)
            assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", synopsis), (
                f"{where} does not show {option}: {synopsis}")
            if action.metavar:
                assert f"{option} {action.metavar}" in synopsis, (
                    f"{where} does not show {option} {action.metavar}: {synopsis}")
            if action.choices:
                shown = re.search(rf"{re.escape(option)} ([\w\\|-]+)", synopsis)
                assert shown, f"{where} does not show the choices of {option}: {synopsis}"
                assert sorted(shown.group(1).split("\\|")) == sorted(action.choices), (
                    f"{where} shows {option} {shown.group(1)}; the command takes {sorted(action.choices)}")
        options = {o for a in parser._actions for o in a.option_strings}
        stale = set(re.findall(r"(?<![\w-])--[\w-]+", synopsis)) - options
        assert not stale, f"docs/commands.md shows {sorted(stale)} for `errata-db {name}`, which has no such option"


def test_the_options_every_command_shares_and_the_tool_s_own_are_in_docs_commands():
    text = COMMANDS.read_text()
    commands = _subcommands()
    common = [a for a in _common_actions(commands) if not _is_help(a)]
    assert common, "the commands share --registry and --overlay"
    for action in common:
        option = max(action.option_strings, key=len)
        assert f"`{option} {action.metavar}`" in text, f"docs/commands.md does not show `{option} {action.metavar}`"
    for action in _parser()._actions:
        if action.option_strings and not isinstance(action, argparse._SubParsersAction):
            option = max(action.option_strings, key=len)
            assert f"`errata-db {option}`" in text, f"docs/commands.md does not show `errata-db {option}`"
    assert "`errata-db COMMAND --help`" in text


# --- the command lines the documentation shows ---------------------------------------------------


def _shown_command_lines() -> list[tuple[str, str]]:
    """(page, command line) for every `errata-db ...` the documentation shows as a command: in a
    code block (after `$ `, or between `&&`, `|`, `;` and `>`), or in a code span that gives
    options and no placeholder syntax."""
    found = []
    for page in PAGES:
        text = page.read_text()
        for line in text.splitlines():
            if not line.startswith("    "):
                continue
            for part in re.split(r"&&|\|\|?|;|>", line.strip().removeprefix("$ ")):
                if part.strip().startswith("errata-db "):
                    found.append((page.name, part.strip()))
        for span in re.findall(r"`(errata-db [^`]*)`", text):
            if " --" in span and not re.search(r"[\[(]|\.\.\.|COMMAND", span):
                found.append((page.name, span))
    return found


def _parses(argv: list[str]) -> str | None:
    """None if `errata-db ARGV` parses, else what argparse says."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            _parser().parse_args(argv)
    except SystemExit as exc:
        return None if exc.code == 0 else err.getvalue().strip().splitlines()[-1]
    return None


def test_every_command_line_the_documentation_shows_parses():
    lines = _shown_command_lines()
    assert len({p for p, _ in lines}) >= 5 and len(lines) > 30, lines  # the scan finds them
    problems = [f"{page}: `{line}`: {why}" for page, line in lines
                if (why := _parses(shlex.split(line)[1:])) is not None]
    assert not problems, "\n".join(problems)


# --- the README's tour ---------------------------------------------------------------------------


def _readme_examples() -> list[tuple[str, list[str]]]:
    """(command, output lines) of every `$ errata-db ...` line in the README's code blocks; the
    output is the indented lines that follow it, up to a blank line or the next `$`."""
    examples, lines = [], README.read_text().splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^    \$ (errata-db .*)$", line)
        if not m:
            continue
        output = []
        for following in lines[i + 1:]:
            if not following.startswith("    ") or following.startswith("    $ ") or not following.strip():
                break
            output.append(following[4:])
        examples.append((m.group(1), output))
    return examples


def test_the_readme_shows_every_command():
    shown = {command.split()[1] for command, _ in _readme_examples()}
    missing = sorted(set(_subcommands()) - shown)
    assert not missing, f"README.md has no `$ errata-db COMMAND` example for {missing}"


def _pattern(expected: list[str]) -> str:
    """A regex for the whole output, where a line `[...]` stands for any lines."""
    return "".join("(?:.*\n)*?" if line == ELIDED else re.escape(line) + "\n" for line in expected)


def test_an_elided_example_still_has_to_match():
    """The `[...]` matching is no wildcard for the lines shown."""
    out = "a\nb\nc\nd\n"
    assert re.fullmatch(_pattern(["a", ELIDED, "c", ELIDED]), out)
    assert re.fullmatch(_pattern(["a", "b", "c", "d"]), out)
    assert not re.fullmatch(_pattern(["a", ELIDED, "x", ELIDED]), out)
    assert not re.fullmatch(_pattern(["a", ELIDED, "c"]), out)  # d is not shown nor elided
    assert not re.fullmatch(_pattern(["b", ELIDED]), out)  # a is not shown nor elided
    assert not re.fullmatch(_pattern(["a", ELIDED, "c", "b", ELIDED]), out)  # order


def test_ci_runs_the_readme_s_test_command_verbatim():
    commands = [line.strip() for line in README.read_text().splitlines()
                if line.startswith("    ") and "python3 -m pytest" in line]
    assert len(commands) == 1, commands
    ci = (REPO / ".ci/run").read_text().splitlines()
    assert commands[0] in ci, f".ci/run does not run the README's test command `{commands[0]}` verbatim"


# --- links ---------------------------------------------------------------------------------------


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    anchors: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", page.read_text(), re.M):
        slug, n = _slug(heading), 0
        while (slug if n == 0 else f"{slug}-{n}") in anchors:
            n += 1
        anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


def test_every_relative_link_reaches_a_file_and_a_heading():
    problems, count = [], 0
    for page in PAGES:
        for target in re.findall(r"\[[^\]\n]*\]\(([^)\s]+)\)", page.read_text()):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue  # https:, mailto:
            count += 1
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists() or REPO not in (file, *file.parents):
                problems.append(f"{page.relative_to(REPO)}: {target}: no such file in the repository")
            elif anchor and (file.suffix != ".md" or anchor not in _anchors(file)):
                problems.append(f"{page.relative_to(REPO)}: {target}: no heading #{anchor} there")
    assert count > 30, count  # the scan finds them
    assert not problems, "\n".join(problems)


def test_the_slug_is_github_s():
    assert _slug("errata/*.yaml") == "erratayaml"
    assert _slug("Writes: failed and interrupted runs") == "writes-failed-and-interrupted-runs"
    assert _slug("One actual guest kernel: `--guest-kernel-tree DIR`") == "one-actual-guest-kernel---guest-kernel-tree-dir"


def test_the_readme_leads_to_every_page_of_docs():
    linked = {(README.parent / t.partition("#")[0]).resolve()
              for t in re.findall(r"\]\(([^)\s#]+)(?:#[^)\s]*)?\)", README.read_text())}
    unlinked = [p.name for p in DOCS.glob("*.md") if p.resolve() not in linked]
    assert not unlinked, f"README.md links to no docs/{unlinked}"
