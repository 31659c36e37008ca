"""The output targets: one module and one template each, listed in one table."""

from __future__ import annotations

from ..render import Target
from . import docs_rst, guest_header, json_export, kernel_tables, kvm_header, python_module

TARGETS: dict[str, Target] = {
    t.name: t
    for t in (guest_header.TARGET, kvm_header.TARGET, python_module.TARGET,
              docs_rst.TARGET, json_export.TARGET, kernel_tables.TARGET)
}
