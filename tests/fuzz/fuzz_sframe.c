// fuzz-sources: cluster/stream/sframe.c engine/state/state_wire.c engine/state/state.c engine/state/exact.c engine/state/exact_big.c engine/state/exact_finish.c engine/state/exact_wire.c engine/core/error.c engine/core/dtype.c engine/core/ops.c
// fuzz-max-len: 16384
/* fuzz_sframe.c - libFuzzer harness for the stream frame decoder
 * (cluster/stream/sframe.c), the code `edgegrid collect` runs on every
 * frame a box pushes and a box runs on every acknowledgement.
 *
 * The input, copied to an allocation of exactly its size, is decoded as
 * the collector does.  A refused frame must leave one printable line
 * starting "stream frame: "; an accepted one must re-encode to exactly the
 * input bytes (one encoding per window), and its states must merge and
 * finalize with its ops without tripping a sanitizer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok) {
  if (!ok)
    abort();
}

static eg_state moments[EG_SF_MAX_CHANNELS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *p = malloc(size ? size : 1);
  if (!p)
    return 0;
  memcpy(p, data, size);
  eg_sf_window w;
  memset(&w, 0, sizeof w);
  w.moments = moments;
  int type = 0;
  eg_error err;
  memset(&err, 0, sizeof err);
  eg_status st = eg_sf_decode(p, size, &type, &w, &err);
  if (st != EG_OK) {
    check(st == EG_EINPUT && err.code == st);
    check(strncmp(err.msg, "stream frame: ", 14) == 0);
    for (const char *c = err.msg; *c; c++)
      check(*c >= 0x20 && *c < 0x7f);
    free(p);
    return 0;
  }
  size_t cap = size + 64;
  uint8_t *again = malloc(cap);
  check(again != NULL);
  size_t n = type == EG_SF_ACK ? eg_sf_encode_ack(&w.h, again, cap)
                               : eg_sf_encode_window(&w, again, cap);
  check(n == size && memcmp(again, p, size) == 0);
  free(again);
  if (type == EG_SF_WINDOW) {
    for (unsigned c = 0; c < w.channels; c++) {
      eg_state m = moments[c];
      eg_state_merge(&m, &moments[c]);
      eg_result r;
      eg_state_finalize(&m, w.ops, (eg_nan_policy)w.nan, w.ddof, &r, &err);
    }
  }
  free(p);
  return 0;
}
