/* progress.h - a progress bar on stderr, fed by the engine's progress_fn.
 *
 * On a terminal the bar redraws in place (at most ten times a second);
 * elsewhere (a log file, when forced with --progress) it prints one line per
 * tenth of the job, so logs stay readable.
 */
#ifndef EG_HOST_PROGRESS_H
#define EG_HOST_PROGRESS_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

typedef struct progress {
    FILE *out;
    int tty;
    int drawn;          /* something is on the line and needs clearing */
    double start;       /* monotonic seconds */
    double last_draw;
    int last_tenth;     /* non-TTY: last tenth printed */
    /* The engine may report from several scheduler threads at once. */
    pthread_mutex_t lock;
} progress;

/* Whether a bar is worth showing by default: stderr is a terminal and the
 * input is larger than 1 GiB. */
int progress_default(uint64_t input_bytes);

void progress_init(progress *p, FILE *out);

/* Matches eg_reduce_opts.progress_fn; ctx is a progress *. */
void progress_update(void *ctx, uint64_t done, uint64_t total);

/* Clears the bar (on a terminal) so what follows starts on a clean line,
 * and releases the lock. */
void progress_finish(progress *p);

#endif
