/* SPDX-License-Identifier: GPL-2.0-only */
/* The recording's region columns, shared by its writer and its reader (not public). */
#ifndef MEMSLEUTH_RECORDING_COLUMNS_H
#define MEMSLEUTH_RECORDING_COLUMNS_H

#include <stddef.h>

/* A sample's regions are rows; the header names their columns in this order. */
extern const char *const recording_region_columns[];
#define RECORDING_NCOLS 9

enum { COL_NAME, COL_KIND, COL_VMAS, COL_SIZE, COL_RSS, COL_PSS, COL_ANON, COL_DIRTY, COL_SWAP };

#endif
