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

#include "edgegrid.h"
#include "source.h"

/* Elements handed to fn per call. */
#define EG_QSCAN_BLOCK (64u * 1024u)
/* Elements asked of a source that hands out its map (no buffer) at a
 * time, fed to fn a block at a time: each get maps its range's pages in
 * with one call, whose fixed cost, paid per block, made a pass's gets
 * cost twice a flat sum's (a 1 GiB float32 file in the page cache, 4,100
 * gets of a block against the sum's 70 of its chunks). */
#define EG_QSCAN_SPAN (4u << 20)
#define EG_QSCAN_MAX_THREADS 64

/* fn(ctx, thread, data, n): n elements of the source's dtype at data. */
typedef void (*eg_qscan_fn)(void *ctx, unsigned thread, const void *data,
                            uint64_t n);

/* Threads to use for `count` elements: the online cores (at most
 * EG_QSCAN_MAX_THREADS), one for small inputs. */
unsigned eg_qscan_threads(uint64_t count);

/* Elements [first, first + n) of src to fn(ctx, thread, ...) in blocks of
 * at most EG_QSCAN_BLOCK, read into scratch (EG_QSCAN_BLOCK elements) when
 * the source needs a buffer; the first failed read's status. */
eg_status eg_qscan_feed(const eg_source *src, uint64_t first, uint64_t n,
                        void *scratch, eg_qscan_fn fn, void *ctx,
                        unsigned thread, eg_error *err);

/* Runs the pass with `threads` threads (from eg_qscan_threads). */
eg_status eg_qscan(const eg_source *src, unsigned threads, eg_qscan_fn fn,
                   void *ctx, eg_error *err);

/* ------------------------------------------- passes on the engine's devices
 * (quant_devs.c).  With OpenCL devices among the engine's, a pass is cut
 * into units handed out in turn to one thread per OpenCL device (its
 * count_hist / count_select) and, when the host backend is among them too,
 * to host threads (fn); each thread fills the private state of its slot,
 * which the caller merges by addition as before.  Small inputs, and
 * engines without OpenCL devices, run eg_qscan on the host's cores. */

typedef struct eg_device eg_device;

/* dev_fn(ctx, slot, dev, data, n, err): n elements counted on dev into
 * slot's state, added only on success (the unit is then redone by fn). */
typedef eg_status (*eg_qdev_fn)(void *ctx, unsigned slot, eg_device *dev,
                                const void *data, uint64_t n, eg_error *err);

typedef struct eg_qdevs {
    eg_device *cl[EG_MAX_DEVICES]; /* the OpenCL devices that count */
    size_t ncl;
    int off[EG_MAX_DEVICES]; /* cl[i] failed a pass: the host takes its
                                share of the later ones */
    int host;            /* the host backend is among the devices */
    unsigned host_index; /* its eg_devices_list index */
    /* per device: the elements it counted in the first pass (each pass
     * reads every element once, so over the devices they add up to the
     * input's count) and its busy time over every pass */
    eg_device_stats stats[EG_MAX_DEVICES];
    unsigned passes; /* passes finished so far */
    size_t nstats;
    char notes[512];
} eg_qdevs;

/* The host's cores alone (no engine). */
void eg_qdevs_host(eg_qdevs *d);
/* The engine's devices, prepared for dtype t. */
eg_status eg_qdevs_open(eg_qdevs *d, eg_engine *e, eg_dtype t, eg_error *err);
/* Slots (private states) a pass over `count` elements fills. */
unsigned eg_qdevs_slots(const eg_qdevs *d, uint64_t count);
/* One pass; dev_fn may be NULL (the pass then runs on the host). `what`
 * names the op in notes. */
eg_status eg_qdevs_scan(const eg_source *src, eg_qdevs *d, const char *what,
                        eg_qscan_fn fn, eg_qdev_fn dev_fn, void *ctx,
                        eg_error *err);
/* Adds seconds to the entry of device `index`, and elements while the
 * first pass runs (later passes read the same elements again). */
void eg_qdevs_credit(eg_qdevs *d, unsigned index, const char *name,
                     uint64_t elements, double seconds);
/* Ends a pass that was not eg_qdevs_scan's (hist's min/max range). */
void eg_qdevs_pass_done(eg_qdevs *d);

#endif
