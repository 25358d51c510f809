/* quant_devs.c - the counting passes on the engine's devices (see
 * quant_scan.h): units of the input handed out in turn to one thread per
 * OpenCL device and to the host's threads.  The counts are integers, so
 * which thread took which unit never changes them. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device.h"
#include "engine_devs.h"
#include "error.h"
#include "quant_scan.h"

/* Elements a thread takes at a time: a launch's worth on a device (its
 * fixed cost spread thin), small enough that the last units even out. */
#define EG_QDEV_UNIT (1u << 20)

void eg_qdevs_host(eg_qdevs *d)
{
    memset(d, 0, sizeof *d);
    d->host = 1;
    d->host_index = EG_INDEX_UNLISTED;
}

eg_status eg_qdevs_open(eg_qdevs *d, eg_engine *e, eg_dtype t, eg_error *err)
{
    eg_engine_devs ed;
    eg_qdevs_host(d);
    d->host = 0;
    eg_status st = eg_engine_devices(e, t, 0, &ed, err);
    if (st != EG_OK)
        return st;
    d->host_index = ed.host_index;
    for (size_t i = 0; i < ed.ndev; i++) {
        eg_device *dev = ed.devs[i];
        if (dev->info.kind == EG_DEV_HOST) {
            d->host = 1;
            d->host_index = dev->info.index;
        } else if (dev->ops->count_hist && dev->ops->count_select &&
                   d->ncl < EG_MAX_DEVICES) {
            d->cl[d->ncl++] = dev;
        }
    }
    return EG_OK;
}

static int on_devices(const eg_qdevs *d, uint64_t count)
{
    return d && d->ncl > 0 && count >= EG_SMALL_INPUT_ELEMS;
}

/* Host threads beside the devices: the cores less one per device (each
 * device's thread mostly waits, but a CPU device computes on them). */
static unsigned host_threads(const eg_qdevs *d, uint64_t count)
{
    if (!d->host)
        return 0;
    unsigned t = eg_qscan_threads(count);
    t = t > d->ncl ? t - (unsigned)d->ncl : 1;
    if (t + d->ncl > EG_QSCAN_MAX_THREADS)
        t = EG_QSCAN_MAX_THREADS - (unsigned)d->ncl;
    return t;
}

unsigned eg_qdevs_slots(const eg_qdevs *d, uint64_t count)
{
    if (!on_devices(d, count))
        return eg_qscan_threads(count);
    return (unsigned)d->ncl + host_threads(d, count);
}

void eg_qdevs_credit(eg_qdevs *d, unsigned index, const char *name,
                     uint64_t elements, double seconds)
{
    size_t i = 0;
    while (i < d->nstats && d->stats[i].index != index)
        i++;
    if (i == d->nstats) {
        if (d->nstats == EG_MAX_DEVICES)
            return;
        memset(&d->stats[i], 0, sizeof d->stats[i]);
        d->stats[i].index = index;
        snprintf(d->stats[i].name, sizeof d->stats[i].name, "%s", name);
        d->nstats++;
    }
    if (d->passes == 0)
        d->stats[i].elements += elements;
    d->stats[i].seconds += seconds;
    d->stats[i].chunks++;
    d->stats[i].calls++;
}

void eg_qdevs_pass_done(eg_qdevs *d)
{
    if (d)
        d->passes++;
}

typedef struct qworker {
    const eg_source *src;
    eg_qdevs *d;
    const char *what;
    eg_qscan_fn fn;
    eg_qdev_fn dev_fn;
    void *ctx;
    unsigned slot;
    eg_device *dev; /* NULL: the host's cores */
    eg_device *asked; /* the device it started with */
    atomic_uint_fast64_t *next;
    atomic_int *stop;
    pthread_mutex_t *lock; /* the notes */
    void *scratch;
    uint64_t count, elements;
    double seconds;
    int started;
    eg_status st;
    eg_error err;
} qworker;

/* The host's way through one unit: blocks of EG_QSCAN_BLOCK. */
static eg_status host_unit(qworker *w, uint64_t first, uint64_t n)
{
    return eg_qscan_feed(w->src, first, n, w->scratch, w->fn, w->ctx, w->slot,
                         &w->err);
}

static eg_status dev_unit(qworker *w, uint64_t first, uint64_t n)
{
    const void *p = NULL;
    eg_status st = eg_source_get(w->src, first, n, w->scratch, &p, &w->err);
    if (st != EG_OK)
        return st;
    eg_error why;
    eg_error_clear(&why);
    if (w->dev_fn(w->ctx, w->slot, w->dev, p, n, &why) == EG_OK)
        return EG_OK;
    /* the device failed: this unit and the rest of its share go to the
     * host's cores, and the notes say why */
    pthread_mutex_lock(w->lock);
    eg_notes_append(w->d->notes, sizeof w->d->notes,
                    "%s: device %u stopped counting (%s); the host's cores "
                    "counted the rest",
                    w->what, w->dev->info.index, why.msg);
    w->d->off[w->slot] = 1;
    pthread_mutex_unlock(w->lock);
    w->dev = NULL;
    return host_unit(w, first, n);
}

static void *worker_run(void *arg)
{
    qworker *w = arg;
    while (!atomic_load(w->stop)) {
        uint64_t u = atomic_fetch_add(w->next, 1);
        uint64_t first = u * EG_QDEV_UNIT;
        if (first >= w->count)
            break;
        uint64_t n =
            w->count - first < EG_QDEV_UNIT ? w->count - first : EG_QDEV_UNIT;
        double t0 = eg_now();
        eg_device *dev = w->dev;
        w->st = dev ? dev_unit(w, first, n) : host_unit(w, first, n);
        double dt = eg_now() - t0;
        if (w->st != EG_OK) {
            atomic_store(w->stop, 1);
            break;
        }
        /* a unit a failed device handed over counts as the host's */
        if (w->dev) {
            w->elements += n;
            w->seconds += dt;
        } else {
            pthread_mutex_lock(w->lock);
            eg_qdevs_credit(w->d, w->d->host_index, "host (quantile passes)",
                            n, dt);
            pthread_mutex_unlock(w->lock);
        }
    }
    return NULL;
}

/* The host's cores alone: eg_qscan's contiguous slices, credited to the
 * host. */
static eg_status host_pass(const eg_source *src, eg_qdevs *d, const char *what,
                           eg_qscan_fn fn, void *ctx, eg_error *err)
{
    uint64_t count = eg_source_info(src)->count;
    double t0 = eg_now();
    unsigned th = eg_qscan_threads(count);
    eg_status st = eg_qscan(src, th, fn, ctx, err);
    if (st == EG_OK && d) {
        eg_qdevs_credit(d, d->host_index, "host (quantile passes)", count,
                        eg_now() - t0);
        if (d->ncl > 0 && !strstr(d->notes, what))
            eg_notes_append(d->notes, sizeof d->notes,
                            "%s counted on the host's cores (%u thread%s), "
                            "not on OpenCL devices: %s",
                            what, th, th == 1 ? "" : "s",
                            count < EG_SMALL_INPUT_ELEMS
                                ? "the input is below the small-input "
                                  "threshold"
                                : "no device kernel for it yet");
    }
    eg_qdevs_pass_done(d);
    return st;
}

eg_status eg_qdevs_scan(const eg_source *src, eg_qdevs *d, const char *what,
                        eg_qscan_fn fn, eg_qdev_fn dev_fn, void *ctx,
                        eg_error *err)
{
    uint64_t count = eg_source_info(src)->count;
    if (!dev_fn || !on_devices(d, count))
        return host_pass(src, d, what, fn, ctx, err);
    unsigned nw = eg_qdevs_slots(d, count);
    size_t sz = eg_dtype_size(eg_source_info(src)->dtype);
    qworker *w = calloc(nw, sizeof *w);
    pthread_t *tid = calloc(nw, sizeof *tid);
    atomic_uint_fast64_t next;
    atomic_int stop;
    pthread_mutex_t lock;
    eg_status st = EG_OK;
    atomic_init(&next, 0);
    atomic_init(&stop, 0);
    pthread_mutex_init(&lock, NULL);
    if (!w || !tid)
        st = eg_error_set(err, EG_ENOMEM, "%s: out of memory for a pass",
                          eg_source_name(src));
    for (unsigned i = 0; st == EG_OK && i < nw; i++) {
        w[i] = (qworker){.src = src,
                         .d = d,
                         .what = what,
                         .fn = fn,
                         .dev_fn = dev_fn,
                         .ctx = ctx,
                         .slot = i,
                         .dev = i < d->ncl && !d->off[i] ? d->cl[i] : NULL,
                         .next = &next,
                         .stop = &stop,
                         .lock = &lock,
                         .count = count};
        w[i].asked = w[i].dev;
        /* a device reads a whole unit; the host a block at a time */
        size_t bytes = (w[i].dev ? EG_QDEV_UNIT : EG_QSCAN_BLOCK) * sz;
        w[i].scratch = malloc(bytes);
        if (!w[i].scratch)
            st = eg_error_set(err, EG_ENOMEM, "%s: out of memory for a pass",
                              eg_source_name(src));
    }
    if (st == EG_OK) {
        /* worker 0 runs in the caller; one that cannot start runs there
         * after it, so no unit is lost */
        for (unsigned i = 1; i < nw; i++)
            w[i].started = pthread_create(&tid[i], NULL, worker_run, &w[i]) == 0;
        worker_run(&w[0]);
        for (unsigned i = 1; i < nw; i++) {
            if (w[i].started)
                pthread_join(tid[i], NULL);
            else
                worker_run(&w[i]);
        }
        for (unsigned i = 0; i < nw; i++) {
            if (st == EG_OK && w[i].st != EG_OK) {
                st = w[i].st;
                if (err)
                    *err = w[i].err;
            }
            if (w[i].asked)
                eg_qdevs_credit(d, w[i].asked->info.index,
                                w[i].asked->info.name, w[i].elements,
                                w[i].seconds);
        }
    }
    eg_qdevs_pass_done(d);
    for (unsigned i = 0; w && i < nw; i++)
        free(w[i].scratch);
    free(w);
    free(tid);
    pthread_mutex_destroy(&lock);
    return st;
}
