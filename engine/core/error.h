/* error.h - filling an eg_error: the one error convention of the library. */
#ifndef EG_ERROR_H
#define EG_ERROR_H

#include "edgegrid.h"

#if defined(__GNUC__)
#define EG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define EG_PRINTF(a, b)
#endif

/* Sets err (if non-NULL) to `code` and a formatted one-line message; returns
 * `code` so callers can write `return eg_error_set(err, EG_EINPUT, ...)`. */
eg_status eg_error_set(eg_error *err, eg_status code, const char *fmt, ...)
    EG_PRINTF(3, 4);

/* Prefixes the message already in err with "prefix: " (keeps the code). */
void eg_error_prefix(eg_error *err, const char *fmt, ...) EG_PRINTF(2, 3);

/* Clears err to EG_OK with an empty message. */
void eg_error_clear(eg_error *err);

/* Appends a sentence to a notes buffer ("" or earlier sentences, "; "
 * between them), truncating at len - 1 characters: the notes of a run
 * (eg_result.notes) say what fell back and why, without failing it. */
void eg_notes_append(char *notes, size_t len, const char *fmt, ...)
    EG_PRINTF(3, 4);

#endif
