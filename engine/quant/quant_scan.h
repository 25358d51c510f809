/* quant_scan.h - one pass over a source on the host's cores, for the
 * counting states (histograms, selection passes, sketches).
 *
 * The range is cut into one contiguous slice per thread; each thread feeds
 * its slice, block by block in native byte order, to `fn` with its own
 * index, so every thread fills a private state that the caller merges by
 * integer addition afterwards: the counts do not depend on the cut. */
#ifndef EG_QUANT_SCAN_H
#define EG_QUANT_SCAN_H

#include <stdint.h>

#include "source.h"

/* Elements handed to fn per call. */
#define EG_QSCAN_BLOCK (64u * 1024u)
#define EG_QSCAN_MAX_THREADS 64

/* fn(ctx, thread, data, n): n elements of the source's dtype at data. */
typedef void (*eg_qscan_fn)(void *ctx, unsigned thread, const void *data,
                            uint64_t n);

/* Threads to use for `count` elements: the online cores (at most
 * EG_QSCAN_MAX_THREADS), one for small inputs. */
unsigned eg_qscan_threads(uint64_t count);

/* Runs the pass with `threads` threads (from eg_qscan_threads). */
eg_status eg_qscan(const eg_source *src, unsigned threads, eg_qscan_fn fn,
                   void *ctx, eg_error *err);

#endif
