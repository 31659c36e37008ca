"""The CLI's lookups run the generated Python module itself, so that the command line, the
module and (through the differential tests) the KVM header can never disagree."""

from __future__ import annotations

import sys
import types

from .model import Registry
from .render import render
from .resources import templates_dir
from .targets import TARGETS


def lookup_module(reg: Registry) -> types.ModuleType:
    target = TARGETS["python-module"]
    source = render(reg, {target.name: target}, templates_dir())[target.path]
    name = "errata_db._rendered_migrn_errata"
    module = types.ModuleType(name)
    # dataclasses look their module up in sys.modules while the class body runs.
    sys.modules[name] = module
    exec(compile(source, target.path, "exec"), module.__dict__)  # noqa: S102 - our own template
    return module
