// fuzz-sources: cluster/stream/record.c cluster/stream/decimal.c
/* fuzz_record.c - libFuzzer harness for the stream record parsers
 * (cluster/stream/record.c): the CSV and JSON readers of every payload a
 * sensor, broker or pipe hands `edgegrid stream`.
 *
 * The first input byte picks the format and settings (csv with or without
 * a time; json with one to three fields, a time field and a key field);
 * the rest is one record, copied to an allocation of exactly its size so
 * AddressSanitizer sees any read past it.  A refused record must give a
 * reason that names its format; an accepted one must hold what was asked
 * (the channel count, a finite time when one is required, a key when a key
 * field is set) and parse again to the same values.  Then the topic-level
 * reader gets the same bytes as a topic.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok) {
  if (!ok)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  uint8_t ctl = data[0];
  size_t n = size - 1;
  char *p = malloc(n ? n : 1);
  if (!p)
    return 0;
  memcpy(p, data + 1, n);
  eg_rec_cfg cfg;
  memset(&cfg, 0, sizeof cfg);
  static const char *const names[] = {"a", "b", "temp"};
  eg_rec rec, again;
  const char *why;
  if (ctl & 1) {
    cfg.format = EG_FMT_JSON;
    cfg.nfields = 1u + (ctl >> 1) % 3u;
    for (unsigned i = 0; i < cfg.nfields; i++)
      cfg.fields[i] = names[i];
    cfg.time_field = (ctl & 8) ? "t" : NULL;
    cfg.key_field = (ctl & 16) ? "id" : NULL;
    why = eg_rec_parse_json(&cfg, p, n, &rec);
    if (why) {
      check(strncmp(why, "json: ", 6) == 0);
    } else {
      check(rec.n == cfg.nfields);
      check(!cfg.time_field || (rec.has_time && isfinite(rec.t)));
      check(!cfg.key_field ||
            (rec.has_key && strlen(rec.key) <= EG_REC_KEY_MAX));
      check(eg_rec_parse_json(&cfg, p, n, &again) == NULL);
      check(memcmp(rec.v, again.v, rec.n * sizeof rec.v[0]) == 0);
    }
  } else {
    cfg.format = EG_FMT_CSV;
    cfg.csv_time = (ctl & 2) != 0;
    unsigned channels = (ctl >> 2) % 4u; /* 0: take the line's */
    unsigned want = channels;
    why = eg_rec_parse_csv(&cfg, p, n, &channels, &rec);
    if (why) {
      check(strncmp(why, "csv: ", 5) == 0);
    } else {
      check(rec.n >= 1 && rec.n <= EG_REC_MAX_CHANNELS);
      check(want == 0 ? channels == rec.n : rec.n == want);
      check(!cfg.csv_time || (rec.has_time && isfinite(rec.t)));
      check(eg_rec_parse_csv(&cfg, p, n, &channels, &again) == NULL);
      check(memcmp(rec.v, again.v, rec.n * sizeof rec.v[0]) == 0);
    }
  }
  char key[EG_REC_KEY_MAX + 1];
  if (eg_rec_topic_level(p, n, 1u + ctl % 4u, key))
    check(strlen(key) <= EG_REC_KEY_MAX && !strchr(key, '/'));
  free(p);
  return 0;
}
