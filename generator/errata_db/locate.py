"""Which registry a command works on, and where `generate` writes: --registry, else errata-db/
in this directory or a parent, else the copy bundled with the package.

The commands that write the lock or compare history use the bundled copy only under overlays,
as the upstream those overlays extend: it is never the registry the user is working on.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from .errors import Unusable
from .resources import bundled_registry, inside_package


class NoRegistry(Unusable):
    """No registry was found, and the command may not use the bundled copy: usage, exit 2."""


@dataclass(frozen=True)
class Located:
    path: Path
    display: str  # the path as the user should see it
    bundled: bool  # the copy bundled with the package


def locate(registry: str | None, command: str, cwd: Path, *, bundled_ok: bool) -> Located:
    if registry is not None:
        return Located(Path(registry), registry, False)
    for parent in (cwd, *cwd.parents):
        if (parent / "errata-db" / "registry.yaml").is_file():
            return Located(parent / "errata-db", os.path.relpath(parent / "errata-db", cwd), False)
    bundled = bundled_registry()
    if not bundled_ok:
        # The bundled copy is worth naming to the commands that only read it to write elsewhere;
        # lock would write into the installed package, and stability finds no history there.
        offer = (f" (that copy is --registry {shlex.quote(str(bundled))})"
                 if command in ("generate", "install") else "")
        raise NoRegistry(f"no errata-db/ registry in this directory or its parents, and {command} "
                         "does not work on the copy bundled with the package: run it in the checkout "
                         f"that holds errata-db/, or pass --registry DIR{offer}")
    return Located(bundled, str(bundled), True)


def out_dir(out: str | None, registry: str | None, located: Located) -> str:
    """--out, else generated/ beside the registry directory: beside --registry DIR, or beside
    the errata-db/ found in this directory or a parent (run from a subdirectory of a checkout,
    the output still goes where it is committed). The bundled copy lives inside the installed
    package, so its output goes to ./generated, even when --registry names it."""
    if out is not None:
        return out
    if located.bundled or inside_package(located.path):
        return "generated"
    if registry is not None:
        return str(Path(registry).parent / "generated")
    return os.path.relpath(located.path.parent / "generated")


def registry_options(registry: str | None, overlays: list[str], located: Located) -> list[str]:
    """The options that name this registry, for a command line to suggest. The bundled copy is
    named too: the writing commands do not fall back to it on their own."""
    options = [f"--registry {shlex.quote(registry)}"] if registry else []
    if located.bundled and not overlays:
        options = [f"--registry {shlex.quote(str(located.path))}"]
    return options + [f"--overlay {shlex.quote(p)}" for p in overlays]
