/* output.h - how `edgegrid reduce` shows a result: a table for people, one
 * JSON object for programs (the format DESIGN.md fixes). */
#ifndef EG_HOST_OUTPUT_H
#define EG_HOST_OUTPUT_H

#include <stdio.h>

#include "edgegrid.h"

/* Bytes per second over 1e9; 0 when no time was measured. */
double output_gbps(const eg_result *r);

/* {"input", "dtype", "shape", "count", "mode", "results", "devices",
 *  "seconds", "gbps"} on one line.  `input` is the name the user gave. */
void output_json(FILE *f, const char *input, const eg_result *r);

/* The parts of both that structured results share: the object's first
 * fields up to "mode" (no comma after), and from "devices" to the end. */
void output_json_head(FILE *f, const char *input, const eg_result *r);
void output_json_tail(FILE *f, const eg_result *r);
/* The table's first line (input, dtype, shape, mode); its device lines. */
void output_table_header(FILE *f, const char *input, const eg_result *r);
void output_table_devices(FILE *f, const eg_result *r);

/* Aligned op/value lines, one line per device, the throughput, and the
 * engine's notes as "note: ..." lines. */
void output_table(FILE *f, const char *input, const eg_result *r);

/* The same with more results from `extra`, called inside the JSON
 * "results" object (first: nothing printed there yet) or after the table's
 * op lines. */
typedef void (*output_extra_fn)(FILE *f, const void *ctx, int first);
void output_json_ext(FILE *f, const char *input, const eg_result *r,
                     output_extra_fn extra, const void *ctx);
void output_table_ext(FILE *f, const char *input, const eg_result *r,
                      output_extra_fn extra, const void *ctx);

/* Each line of `notes` as "<prefix>note: <line>"; nothing for "". */
void output_notes(FILE *f, const char *prefix, const char *notes);

#endif
