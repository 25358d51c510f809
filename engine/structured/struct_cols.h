/* struct_cols.h - lane records of side-by-side columns read in place
 * (struct_cols.c), for the host threads of struct_run.c. */
#ifndef EG_STRUCT_COLS_H
#define EG_STRUCT_COLS_H

#include <stddef.h>
#include <stdint.h>

#include "structured.h"

/* Positions (slot, column) one call holds: 8 slots of up to 512 columns. */
#define EG_COLS_POS 4096u

/* The stride (elements) between a segment's consecutive positions when the
 * plan's columns can be read in place: output e's segment starting at
 * element e of x (and y, laid out alike), position q at q * stride, a float
 * dtype in fast mode, native order, aligned; f64 with l2 excluded.
 * 0 when not. */
uint64_t eg_struct_cols_stride(const eg_struct_plan *p, unsigned groups);

/* Bytes of the scratch eg_struct_cols_lanes needs (64-byte aligned). */
size_t eg_struct_cols_scratch(void);

/* The lane records (EG_LANE_WORDS each, indices from the lane's start) of
 * positions [p0, p0 + n) of outputs [e0, e0 + nb): one lane each (n at most
 * EG_LANE_ELEMS, nb at most EG_COLS_POS / 8), the bits of eg_lanes_fast on
 * each output's gathered lane.  st: eg_struct_cols_stride's. */
void eg_struct_cols_lanes(const eg_struct_plan *p, unsigned groups, uint64_t st,
                          uint64_t e0, uint64_t nb, uint64_t p0, uint64_t n,
                          void *scratch, uint64_t *words);

#endif
