"""Issue #21's property: whatever cpu_errata.c holds, the commands that read it (import,
install --kernel-tables, risk --guest-kernel-tree) answer or refuse at file:line, and never
fail with a traceback. The table generated from part of the bundled registry is changed a token
or a line at a time, from a fixed seed: every case goes through the functions the commands run
(the reader, import's plan, install's comparison and conversion), every 25th through the three
commands themselves."""

from __future__ import annotations

import pytest

import random
import re
from dataclasses import dataclass
from pathlib import Path

from generated_tree import table
from test_reader_classes import CPU_ERRATA, commands, made, make_tree, small  # noqa: F401 (fixtures)

from errata_db.kernel import cpu_errata
from errata_db.kernel.facts import read_facts
from errata_db.kernel.install import kernel_table_files
from errata_db.kernel.plan import plan
from errata_db.kernel.tree import IMPORT_MARKERS, Tree

CASES = 200


SEED = 21
NUMBERS = ["0", "1", "15", "16", "0x11", "0xff", "07", "08", "0b101", "1UL", "0x100000000", "0x10000000000000000",
           "99999999999"]
LINES = ["#ifdef CONFIG_X", "#else", "#endif", "#if 0", "#elif 1", "#define MIDR_REV(a, b, c) a",
         "#undef ERRATA_MIDR_ALL_VERSIONS", "#define ERRATA_MIDR_RANGE_LIST(l) .matches = x", "{},", "\t{},",
         "#ifndef CONFIG_X"]


@dataclass(frozen=True)
class Token:
    """A word or a punctuation character of the text, where it is."""

    start: int
    end: int
    text: str


def mutate(text: str, rng: random.Random) -> str:
    """The text with one change a token or a line wide, and its line endings CR LF one time in eight."""
    tokens = [Token(m.start(), m.end(), m.group()) for m in re.finditer(r"\w+|[^\s\w]", text)]
    t = rng.choice(tokens)
    kind = rng.choice(["delete", "duplicate", "swap", "number", "line", "terminator"])
    if kind == "delete":
        text = text[:t.start] + text[t.end:]
    elif kind == "duplicate":
        text = text[:t.end] + " " + text[t.start:t.end] + text[t.end:]
    elif kind == "swap":
        u = tokens[min(tokens.index(t) + 1, len(tokens) - 1)]
        text = text[:t.start] + text[u.start:u.end] + text[t.end:u.start] + text[t.start:t.end] + text[u.end:]
    elif kind == "number":
        n = rng.choice([x for x in tokens if x.text[0].isdigit()])
        text = text[:n.start] + rng.choice(NUMBERS) + text[n.end:]
    elif kind == "line":
        at = text.rfind("\n", 0, t.start) + 1
        text = text[:at] + rng.choice(LINES) + "\n" + text[at:]
    else:
        comma = rng.choice([x for x in tokens if x.text == ","])
        text = text[:comma.end] + " {}," + text[comma.end:]
    return text.replace("\n", "\r\n") if rng.random() < 0.125 else text


@pytest.mark.slow  # 200 mutations through import and install: seconds
def test_a_changed_table_is_read_or_refused_at_its_line_and_never_raises_anything_else(tmp_path, small, made):
    rng = random.Random(SEED)
    tree = make_tree(tmp_path / "linux", small)
    path = tree / CPU_ERRATA
    pristine, header = path.read_text(), table(small)
    outcomes = {"read": 0, "refused": 0}
    for case in range(CASES):
        text = mutate(pristine, rng)
        path.write_bytes(text.encode())
        try:
            plan(small, read_facts(Tree.open(tree, str(tree), IMPORT_MARKERS)))
            outcomes["read"] += 1
        except cpu_errata.NotRecognised as exc:
            assert exc.pos.path == str(path) and exc.pos.line >= 1, (case, exc)
            outcomes["refused"] += 1
        _, diags = kernel_table_files(text, str(path), header)
        assert all(d.pos.path == str(path) and d.pos.line >= 1 for d in diags), (case, diags)
        if case % 25 == 0:
            for name, run in commands(tree, made).items():
                assert run.code in (0, 1, 2), (case, name, run.err)
                assert "Traceback" not in run.err, (case, name, run.err)
                # install --check says "stale" when it would convert the file.
                if run.code == 1 and not (name == "install" and run.err.startswith(f"{path}: stale\n")):
                    assert re.match(r"^\S+:\d+:\d+: error: ", run.err), (case, name, run.err)
    # Both ways out are taken: the mutations reach past the reader's first refusal.
    assert min(outcomes.values()) > CASES // 10, outcomes
