/* reduce_structured.h - `edgegrid reduce --axis/--by`: the options that make
 * a reduction structured, and its output (table, JSON, .npz). */
#ifndef EG_HOST_REDUCE_STRUCTURED_H
#define EG_HOST_REDUCE_STRUCTURED_H

#include <stdio.h>

#include "edgegrid.h"

typedef struct structured_args {
    eg_struct_opts so;
    int have_axis, have_shape;
    const char *by;  /* KEYS.npy */
    const char *npz; /* -o RESULT.npz */
} structured_args;

/* 1 when the options ask for a structured reduction. */
int structured_wanted(const structured_args *s);

/* "0", "-1", "0,2": numpy axes into s->so; -1 on a malformed list. */
int structured_parse_axes(const char *text, structured_args *s);
/* "R,C,...": positive counts into s->so.shape; -1 when malformed. */
int structured_parse_shape(const char *text, structured_args *s);

/* Runs the structured reduction and prints it (JSON or table on stdout,
 * notes as the flat reduction prints them); returns the exit status. */
int structured_run(eg_engine *e, const char *path, const char *with,
                   const eg_input_opts *in, const eg_reduce_opts *o,
                   const eg_quant_opts *q, const structured_args *s, int json);

/* The structured result as `reduce --axis/--by` prints it. */
/* An array of 8-byte values of one kind (eg_number_kind) in C order, as
 * nested lists of that shape, text or JSON; and a shape as "[2, 3]". */
void structured_nested(FILE *f, eg_number_kind kind, const void *data,
                       unsigned ndim, const uint64_t *shape, int json);
void structured_shape(FILE *f, unsigned ndim, const uint64_t *shape);
void structured_print_json(FILE *f, const char *input, const eg_sresult *r);
void structured_print_table(FILE *f, const char *input, const eg_sresult *r);
/* ... with the quantile ops' arrays (q may be NULL; o gives the q values) */
void structured_print_json_quant(FILE *f, const char *input,
                                 const eg_sresult *r,
                                 const eg_squant_result *q);
void structured_print_table_quant(FILE *f, const char *input,
                                  const eg_sresult *r, const eg_quant_opts *o,
                                  const eg_squant_result *q);

/* The quantile ops' members inside the JSON "results" object (each after
 * ", " unless `first`) and their table lines (squant_output.c). */
void squant_json(FILE *f, const eg_sresult *r, const eg_squant_result *q,
                 int first);
void squant_table(FILE *f, const eg_sresult *r, const eg_quant_opts *o,
                  const eg_squant_result *q);

#endif
