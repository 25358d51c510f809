/* cdone.h - what a collector has printed: a bounded set of 128-bit ids
 * (collect.c derives them from a window, its key, a box and its epoch),
 * the newest `cap` kept, and with a state directory a journal on disk so
 * that a restarted collector knows them too.
 *
 * The journal, DIR/printed.log: "EGCJ" u32 version (1), then 24-byte
 * records: u64 a, u64 b, u64 check (a mix of a and b), little-endian.
 * eg_cdone_note takes ids into the set at once and eg_cdone_commit writes
 * all noted since in one write and one fsync (an fsync costs milliseconds:
 * a collector printing a thousand keys' windows at once pays one), so the
 * caller acknowledges only what is on disk.  A record cut
 * by a crash, or one whose check fails, ends the journal: what follows is
 * cut off when it is opened.  Past 2 x cap records the journal is
 * rewritten with the newest cap (a new file, fsync'd, renamed over the
 * old one, the directory fsync'd): a crash leaves the old one or the new
 * one, never half of either. */
#ifndef EG_STREAM_CDONE_H
#define EG_STREAM_CDONE_H

#include <stddef.h>
#include <stdint.h>

#include "engine_grid.h"

typedef struct eg_cdone_id {
    uint64_t a, b;
} eg_cdone_id;

typedef struct eg_cdone eg_cdone;

/* dir: the state directory (created if missing), or NULL for memory only.
 * Errors name the file. */
eg_status eg_cdone_open(eg_cdone **out, const char *dir, size_t cap,
                        eg_error *err);
void eg_cdone_close(eg_cdone **d);

int eg_cdone_has(const eg_cdone *d, eg_cdone_id id);
/* Takes n ids into the set; they reach the journal with the next commit. */
eg_status eg_cdone_note(eg_cdone *d, const eg_cdone_id *ids, size_t n,
                        eg_error *err);
/* Writes what was noted since the last commit, fsync'd (EG_EIO with the
 * file named when it cannot be written: then nothing may be
 * acknowledged).  Without a journal it only forgets the list. */
eg_status eg_cdone_commit(eg_cdone *d, eg_error *err);
/* note, then commit. */
eg_status eg_cdone_add(eg_cdone *d, const eg_cdone_id *ids, size_t n,
                       eg_error *err);
/* Ids read from the journal when it was opened. */
size_t eg_cdone_loaded(const eg_cdone *d);

#endif
