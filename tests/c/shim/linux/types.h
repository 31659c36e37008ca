/* SPDX-License-Identifier: GPL-2.0-only */
/* Test shim: the kernel types the generated headers use, for a host compiler. */
#ifndef SHIM_LINUX_TYPES_H
#define SHIM_LINUX_TYPES_H

#include <stdbool.h>
#include <stdint.h>

typedef uint32_t u32;
typedef uint64_t u64;
typedef uint16_t u16;

#define __maybe_unused __attribute__((__unused__))

#endif
