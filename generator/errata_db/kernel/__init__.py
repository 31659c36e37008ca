"""Everything that touches a Linux source tree: reading it (tree: cputype.h, Kconfig, cpucaps,
silicon-errata.rst; cpu_errata: the one reader of cpu_errata.c), and the commands built on
those readers: audit, install (headers and kernel tables) and import."""
