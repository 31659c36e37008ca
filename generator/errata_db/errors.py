"""The one kind of error that is not a finding about the registry: an input or environment the
command cannot use at all (bad arguments, a directory that is not a registry or not a Linux
tree, a file that cannot be read, no git history). Each module raises its own subclass, with
one line per problem; the command line prints them and exits 2. Findings about the registry
or a tree's contents are diagnostics, exit 1."""

from __future__ import annotations


class Unusable(Exception):
    """Exit 2: each argument is one line to print."""
