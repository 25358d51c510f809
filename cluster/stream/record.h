/* record.h - parsers of the records a stream box reads from outside:
 * CSV lines and JSON objects (raw records need no parsing, only cutting).
 *
 * These read bytes from sensors, brokers and pipes, so they trust nothing:
 * every function takes a length, never reads past it, needs no NUL, and a
 * record that does not parse yields a short reason instead of a value.  A
 * bad record is the caller's to count; it is never fatal. */
#ifndef EG_STREAM_RECORD_H
#define EG_STREAM_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define EG_REC_MAX_CHANNELS 64
#define EG_REC_KEY_MAX 127
/* Longest CSV line or JSON message taken; longer ones are bad records. */
#define EG_REC_LINE_MAX 65536

typedef enum eg_rec_format {
    EG_FMT_RAW,
    EG_FMT_CSV,
    EG_FMT_JSON
} eg_rec_format;

typedef struct eg_rec_cfg {
    eg_rec_format format;
    /* csv: the first number of a line is its event time.  json: the time
     * is the field time_field (NULL: no time). */
    int csv_time;
    const char *time_field;
    /* json: the channels, in order. */
    const char *fields[EG_REC_MAX_CHANNELS];
    unsigned nfields;
    /* json: the field whose value is the record's key (--key field:NAME). */
    const char *key_field;
} eg_rec_cfg;

typedef struct eg_rec {
    double t; /* event time in seconds, when has_time */
    int has_time;
    unsigned n; /* channels parsed */
    double v[EG_REC_MAX_CHANNELS];
    int has_key;
    char key[EG_REC_KEY_MAX + 1];
} eg_rec;

/* Parses one CSV line (no line end): numbers as C's strtod reads them,
 * separated by commas, blanks around them allowed; with cfg->csv_time the
 * first is the time.  *channels is the number of values a record must
 * have; 0 takes the first good line's count and sets it.  NULL on
 * success, else why the line is bad. */
const char *eg_rec_parse_csv(const eg_rec_cfg *cfg, const char *line,
                             size_t len, unsigned *channels, eg_rec *out);

/* Parses one JSON object (RFC 8259; nesting up to 32 levels, skipped): the
 * fields cfg->fields as numbers, the time field as a number of seconds or,
 * when it is 1e11 or more, milliseconds since the epoch, and the key field
 * as a string or number.  A missing or non-numeric channel, or a field
 * given twice, makes the record bad.  NULL on success, else why. */
const char *eg_rec_parse_json(const eg_rec_cfg *cfg, const char *msg,
                              size_t len, eg_rec *out);

/* Event times of 1e11 and more are milliseconds (1e11 s is the year 5138). */
double eg_rec_time_seconds(double t);

/* The N-th level (1-based) of an MQTT topic, "sensors/+/temp" style, into
 * key; 0 when the topic has fewer levels or the level is too long. */
int eg_rec_topic_level(const char *topic, size_t len, unsigned level,
                       char key[EG_REC_KEY_MAX + 1]);

#endif
