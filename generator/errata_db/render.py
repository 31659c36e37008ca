"""Render targets from a checked model. Pure: model in, {relative path: text} out."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .model import Registry

if TYPE_CHECKING:
    import jinja2


@dataclass(frozen=True)
class Target:
    """One output file: its template, where it goes, and the context its template needs."""

    name: str
    template: str
    path: str
    context: Callable[[Registry], dict[str, Any]]


class RenderError(Exception):
    """A template failed: a defect of the tool, reported without writing anything."""


def include_guard(path: str) -> str:
    """Kernel-style include guard from a header's path in the kernel tree."""
    rel = path.split("linux/", 1)[-1]
    rel = rel.removeprefix("arch/arm64/include/")
    if rel.startswith("asm/"):
        return "__" + re.sub(r"[^A-Za-z0-9]", "_", rel.removesuffix(".h")).upper() + "_H"
    rel = rel.removeprefix("arch/")
    return "__" + re.sub(r"[^A-Za-z0-9]", "_", rel.removesuffix(".h")).upper() + "_H"


def c_comment(text: str) -> str:
    """Text for a C comment. Validation refuses comment delimiters; this is the last guard."""
    if "*/" in text or "/*" in text:
        raise RenderError(f"text would break out of a C comment: {text!r}")
    return text


def c_block_comment(text: str, indent: str = "", width: int = 80) -> str:
    """A C comment of text: on one line if it fits, else wrapped in kernel block style."""
    text = " ".join(c_comment(text).split())
    one = f"{indent}/* {text} */"
    if len(one.expandtabs(8)) <= width:
        return one
    lines = textwrap.wrap(text, width - len(indent.expandtabs(8)) - 3, break_long_words=False,
                          break_on_hyphens=False)
    body = "".join(f"{indent} * {line}\n" for line in lines)
    return f"{indent}/*\n{body}{indent} */"


def hexa(value: int, width: int = 0) -> str:
    return f"{value:#0{width + 2}x}" if width else f"{value:#x}"


def rst_escape(text: str) -> str:
    return re.sub(r"([\\`*_|])", r"\\\1", text)


def _bytecode_cache(jinja2: Any) -> Any:
    """Templates compiled by an earlier run, kept in jinja2's private per-user temporary
    directory: compiling them was a sixth of `generate --check`. Jinja2 recompiles a template
    whose source changed. Without a usable directory, templates are compiled every run."""

    class QuietCache(jinja2.FileSystemBytecodeCache):
        def dump_bytecode(self, bucket: Any) -> None:
            try:
                super().dump_bytecode(bucket)
            except OSError:
                pass

    try:
        return QuietCache()
    except (OSError, RuntimeError):
        return None


@lru_cache(maxsize=None)
def environment(templates: Path) -> jinja2.Environment:
    # Imported here: validate and stability never render, and jinja2 is a fifth of start-up.
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        bytecode_cache=_bytecode_cache(jinja2),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters.update(c_block_comment=c_block_comment, hex=hexa, py=repr,
                       rst=rst_escape, include_guard=include_guard)
    return env


def source_label(reg: Registry) -> str:
    """What the banner says the output was generated from: never an absolute path."""
    owners = "".join(f" + overlay '{o.owner}'" for o in reg.overlays)
    return f"errata-db/{owners}"


def render(reg: Registry, targets: dict[str, Target], templates: Path) -> dict[str, str]:
    env = environment(templates)
    out = {}
    for target in targets.values():
        # Any exception here is a defect of a target or template, never of the registry
        # (which is valid by now): report it as such instead of a traceback.
        try:
            context = {"registry": reg, "source": source_label(reg), "path": target.path,
                       **target.context(reg)}
            out[target.path] = env.get_template(target.template).render(context)
        except Exception as exc:  # noqa: BLE001
            raise RenderError(f"{target.template}: {type(exc).__name__}: {exc}") from exc
    return out
