/* bench_plot.h - the PNG of `edgegrid bench --plot`: GB/s against input
 * size for the roof, edgegrid, numpy and OpenBLAS, drawn by gnuplot. */
#ifndef EG_HOST_BENCH_PLOT_H
#define EG_HOST_BENCH_PLOT_H

#include <stddef.h>

#include "bench_report.h"

/* 1 when gnuplot is in PATH. */
int bench_plot_available(void);

/* Draws r->sweep into `png` (replaced whole or left as it was).  Returns 0,
 * or -1 with `err` saying what failed. */
int bench_plot_draw(const bench_report *r, const char *png, char *err,
                    size_t len);

#endif
