"""Where the templates, schemas and bundled registry live: the checkout, or the installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_BUNDLED = _PACKAGE / "_data"
_CHECKOUT = _PACKAGE.parent.parent


def data_root() -> Path:
    return _BUNDLED if _BUNDLED.is_dir() else _CHECKOUT


def templates_dir() -> Path:
    return data_root() / "templates"


def bundled_registry() -> Path:
    return data_root() / "errata-db"


def schema_dir() -> Path:
    return bundled_registry() / "schema"


def inside_package(path: Path) -> bool:
    """Whether a path is part of the installed package (the wheel's copy of the registry), where
    nothing may be written."""
    return path.resolve().is_relative_to(_PACKAGE)
