"""The CLI's lookups run the generated Python module itself, so that the command line, the
module and (through the differential tests) the KVM header can never disagree."""

from __future__ import annotations

import types

from .model import Registry
from .render import render
from .resources import templates_dir
from .targets import TARGETS


def lookup_module(reg: Registry) -> types.ModuleType:
    target = TARGETS["python-module"]
    source = render(reg, {target.name: target}, templates_dir())[target.path]
    module = types.ModuleType("migrn_errata")
    # dont_inherit: this file's `from __future__ import annotations` must not leak into the
    # module, whose dataclass would then resolve string annotations through sys.modules.
    code = compile(source, target.path, "exec", dont_inherit=True)
    exec(code, module.__dict__)  # noqa: S102 - our own template
    return module
