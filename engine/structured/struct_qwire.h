/* struct_qwire.h - the wire forms of the quantile ops per axis and per
 * group on the grid (engine_grid.h; struct_qgrid.c makes and reads them,
 * struct_qwire.c checks them), little-endian.
 *
 * Parameters ("EGSQ", one per task):
 *     0 magic  4 u16 version  6 u8 dtype  7 u8 qops
 *     8 u8 method  9 u8 nan  10 u8 have_range  11 u8 0
 *     12 u32 bins  16 u32 nq  20 u32 nseg
 *     24 f64 rel_err  32 f64 lo  40 f64 hi  48 u64 first output
 *     56 f64 q[nq], then u64 lens[nseg]
 * Payload ("EGSR"):
 *     0 magic  4 u16 version  6 u8 qops  7 u8 flags (1: edges per output)
 *     8 u32 nseg  12 u32 nq  16 u32 bins  20 u32 passes
 *     24 u64 first output  32 u64 elements
 *     40 per segment: u64 n; quantile nq x (u8 kind, 8 bytes); approx the
 *        same; median (u8 kind, 8 bytes); hist: u64 counts[bins], with
 *        flag 1 f64 edges[bins + 1], u64 below, above, nan.
 */
#ifndef EG_STRUCT_QWIRE_H
#define EG_STRUCT_QWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "edgegrid.h"

#define EG_SQP_MAGIC "EGSQ"
#define EG_SQR_MAGIC "EGSR"
#define EG_SQ_VERSION 1u
#define EG_SQP_FIXED 56u
#define EG_SQR_FIXED 40u
#define EG_SQR_EDGES 1u

/* Decoded parameters; lens points into the bytes decoded. */
typedef struct eg_sqparams {
    eg_quant_opts qo;
    eg_dtype dtype;
    uint32_t nseg;
    uint64_t first;
    const uint8_t *lens; /* nseg x u64 */
} eg_sqparams;

/* Parameters checked whole (magic, version, sizes, options). */
eg_status eg_sqparams_decode(const uint8_t *p, size_t len, eg_sqparams *s,
                             eg_error *err);
/* Bytes of one output's record in a payload. */
size_t eg_sqrec_size(unsigned qops, size_t nq, unsigned bins, int edges);

#endif
