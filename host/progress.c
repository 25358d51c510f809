/* progress.c - the progress bar behind `edgegrid reduce --progress`. */
#include "progress.h"

#include <unistd.h>

#include "edgegrid.h" /* eg_now */

#define BAR_WIDTH 30
#define GIB (1024.0 * 1024.0 * 1024.0)

int progress_default(uint64_t input_bytes)
{
    return isatty(STDERR_FILENO) && (double)input_bytes > GIB;
}

void progress_init(progress *p, FILE *out)
{
    p->out = out;
    p->tty = isatty(fileno(out));
    p->drawn = 0;
    p->start = eg_now();
    p->last_draw = 0;
    p->last_tenth = -1;
    pthread_mutex_init(&p->lock, NULL);
}

static void draw_bar(progress *p, double frac, double elapsed)
{
    char bar[BAR_WIDTH + 1];
    int filled = (int)(frac * BAR_WIDTH);

    for (int i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '-';
    bar[BAR_WIDTH] = '\0';
    fprintf(p->out, "\r[%s] %5.1f%%  %6.1f s", bar, frac * 100.0, elapsed);
    if (frac > 0.01 && frac < 1.0)
        fprintf(p->out, "  eta %6.1f s", elapsed * (1.0 - frac) / frac);
    else
        fputs("              ", p->out);  /* wipe an earlier eta */
    fflush(p->out);
    p->drawn = 1;
}

void progress_update(void *ctx, uint64_t done, uint64_t total)
{
    progress *p = ctx;

    if (total == 0)
        return;
    double frac = done >= total ? 1.0 : (double)done / (double)total;
    double t = eg_now();

    pthread_mutex_lock(&p->lock);
    if (p->tty) {
        /* Redrawing on every chunk would cost more than the chunk. */
        if (frac >= 1.0 || t - p->last_draw >= 0.1) {
            draw_bar(p, frac, t - p->start);
            p->last_draw = t;
        }
    } else {
        int tenth = (int)(frac * 10.0);
        if (tenth > p->last_tenth) {
            fprintf(p->out, "progress: %3d%%  %.1f s\n", tenth * 10,
                    t - p->start);
            fflush(p->out);
            p->last_tenth = tenth;
        }
    }
    pthread_mutex_unlock(&p->lock);
}

void progress_finish(progress *p)
{
    if (p->tty && p->drawn) {
        fputs("\r\033[K", p->out);  /* carriage return, erase the line */
        fflush(p->out);
    }
    p->drawn = 0;
    pthread_mutex_destroy(&p->lock);
}
