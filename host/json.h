/* json.h - the little JSON the program writes: escaped strings, numbers that
 * round-trip, and the engine's result numbers. */
#ifndef EG_HOST_JSON_H
#define EG_HOST_JSON_H

#include <stddef.h>
#include <stdio.h>

#include "edgegrid.h"

/* Room for any double formatted by fmt_double, plus a ".0". */
#define FMT_DOUBLE_MAX 40

/* The shortest "%.Ng" text that reads back as exactly `v` (at most 17
 * digits, the %.17g bound); "nan", "inf", "-inf" for the non-finite. */
void fmt_double(char *buf, size_t len, double v);

/* A JSON string, quoted and escaped.  Bytes that are not valid UTF-8 (a file
 * name can hold anything) become \u00XX, so the output is always valid JSON
 * and the original bytes can still be recovered. */
void json_string(FILE *f, const char *s);

/* A double that round-trips and always reads back as a float (1.0, not 1);
 * NaN and infinities as the strings "nan", "inf", "-inf". */
void json_double(FILE *f, double v);

/* A result value: exact integers stay integers, absent values are null. */
void json_number(FILE *f, const eg_number *n);

/* The same value for a human: no quotes, "-" when absent. */
void text_number(char *buf, size_t len, const eg_number *n);

#endif
