// fuzz-sources: cluster/stream/sframe.c engine/lanes/lanes_values.c engine/lanes/lanes_fast.c engine/lanes/lanes_avx512.c engine/lanes/lanes_avx2.c engine/lanes/lanes_exact.c engine/lanes/lanes_exact_avx512.c engine/lanes/lanes_host.c engine/state/exact_chunk.c engine/state/state_wire.c engine/state/state.c engine/state/exact.c engine/state/exact_big.c engine/state/exact_finish.c engine/state/exact_wire.c engine/core/error.c engine/core/dtype.c engine/core/ops.c engine/state/sketch.c engine/state/sketch_wire.c engine/state/sketch_avx512.c engine/state/sketch_portable.c engine/state/hist.c engine/state/hist_wire.c engine/state/hist_avx512.c engine/state/hist_portable.c engine/quant/quant_opts.c
// fuzz-max-len: 32768
/* fuzz_sframe.c - libFuzzer harness for the stream frame decoder
 * (cluster/stream/sframe.c), the code `edgegrid collect` runs on every
 * frame a box pushes and a box runs on every acknowledgement.
 *
 * The input, copied to an allocation of exactly its size, is decoded as
 * the collector does.  A refused frame must leave one printable line
 * starting "stream frame: "; an accepted one must re-encode to exactly the
 * input bytes (one encoding per window), and its states must merge and
 * finalize with its ops without tripping a sanitizer.  Version 2 frames
 * carry sketches and histograms: those must merge with themselves to
 * twice their counts.
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
static eg_sketch sketches[EG_SF_MAX_CHANNELS];
static eg_hist_state hists[EG_SF_MAX_CHANNELS];
static eg_hist_plan plan;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *p = malloc(size ? size : 1);
  if (!p)
    return 0;
  memcpy(p, data, size);
  eg_sf_window w;
  memset(&w, 0, sizeof w);
  w.moments = moments;
  w.sketches = sketches;
  w.hists = hists;
  w.plan = &plan;
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
      if (w.q.qops & EG_QOP_APPROX) {
        eg_sketch a;
        eg_sketch_init(&a, sketches[c].k);
        check(eg_sketch_merge(&a, &sketches[c], &err) == EG_OK);
        check(eg_sketch_merge(&a, &sketches[c], &err) == EG_OK);
        check(eg_sketch_count(&a) == 2 * eg_sketch_count(&sketches[c]));
        if (eg_sketch_count(&a) > 0)
          (void)eg_sketch_at(&a, eg_sketch_count(&a) - 1);
        eg_sketch_free(&a);
      }
      if (w.q.qops & EG_QOP_HIST) {
        eg_hist_state a;
        check(eg_hist_state_init(&a, hists[c].nbins, &err) == EG_OK);
        eg_hist_merge(&a, &hists[c]);
        eg_hist_merge(&a, &hists[c]);
        check(a.nan == 2 * hists[c].nan);
        eg_hist_state_free(&a);
      }
    }
  }
  free(p);
  return 0;
}
