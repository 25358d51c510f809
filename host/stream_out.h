/* stream_out.h - the one JSON line per closed window that `edgegrid
 * stream` and `edgegrid collect` print, and the time specs they parse. */
#ifndef EG_HOST_STREAM_OUT_H
#define EG_HOST_STREAM_OUT_H

#include <stdint.h>
#include <stdio.h>

#include "sframe.h"

/* {"window": [start, end], "key": K, "count": n, "late": k, "bad": b,
 *  "results": {op: [one value per channel]}, then "box": NAME (box set)
 *  or "boxes": [...] and, when any, "missing": [...]}.  Time windows print
 * their bounds in seconds since the epoch, count windows as record
 * indices; "key" is null without --key.  Returns 0, or -1 when a result
 * could not be finished (an integer sum past 64 bits: printed as null and
 * named on stderr). */
int stream_print_line(FILE *f, const eg_sf_window *w, const char *box,
                      const char *const *boxes, unsigned nboxes,
                      const char *const *missing, unsigned nmissing);

/* "10s", "250ms", "1.5m", "2h" into microseconds (> 0 unless zero_ok).
 * 0, or -1 if the text is not a duration. */
int stream_parse_duration(const char *text, int zero_ok, int64_t *us);

#endif
