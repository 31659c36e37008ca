"""errata-db: permanent migration-safe bit numbers for arm64 CPU errata."""

__version__ = "0.1.0"
