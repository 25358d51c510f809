// fuzz-sources: cluster/stream/decimal.c
// fuzz-max-len: 160
/* fuzz_decimal.c - libFuzzer harness for the records' number reader
 * (cluster/stream/decimal.c), differential against strtod: the same bytes
 * are a number to both or to neither, and the same bits when they are. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"

static void check(int ok, const char *s) {
  if (!ok) {
    fprintf(stderr, "fuzz_decimal: differs from strtod on '%s'\n", s);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char buf[256];
  if (size >= sizeof buf)
    return 0;
  memcpy(buf, data, size);
  buf[size] = '\0';
  if (strlen(buf) != size)
    return 0; /* a NUL inside: strtod would stop there */
  double got = 0;
  int rc = eg_decimal_parse(buf, size, &got);
  char *end = NULL;
  double want = size > 0 && size < 128 ? strtod(buf, &end) : 0;
  int ok = size > 0 && size < 128 && end == buf + size;
  check((rc == 0) == ok, buf);
  if (ok)
    check(memcmp(&got, &want, sizeof got) == 0, buf);
  return 0;
}
