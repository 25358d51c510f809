// fuzz-sources: cluster/stream/sframe.c engine/lanes/lanes_values.c engine/lanes/lanes_fast.c engine/lanes/lanes_avx512.c engine/lanes/lanes_avx2.c engine/lanes/lanes_exact.c engine/lanes/lanes_exact_avx512.c engine/lanes/lanes_host.c engine/state/exact_chunk.c engine/state/state_wire.c engine/state/state.c engine/state/exact.c engine/state/exact_big.c engine/state/exact_finish.c engine/state/exact_wire.c engine/core/error.c engine/core/dtype.c engine/core/ops.c engine/state/sketch.c engine/state/sketch_wire.c engine/state/sketch_avx512.c engine/state/sketch_portable.c engine/state/hist.c engine/state/hist_wire.c engine/state/hist_avx512.c engine/state/hist_portable.c engine/quant/quant_opts.c
/* sframe_seeds.c - writes seeds for fuzz_sframe: window frames as a box
 * pushes them (fast and exact, one to three channels, keyed or not, count
 * and time windows, each with its box's epoch; the fast ops alone, and
 * with sketches and histograms), an acknowledgement, and frames of the
 * versions before 3 (no epoch), which the decoder refuses.  tests/fuzz/run.sh builds and
 * runs it before every fuzz_sframe run, so the seeds follow this build's
 * frame and state formats. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sframe.h"

static void write_seed(const char *dir, const char *name, const uint8_t *b,
                       size_t n) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0) {
    perror(path);
    exit(1);
  }
}

int main(int argc, char **argv) {
  if (argc != 2)
    return 2;
  static eg_state st[3];
  static eg_sketch sk[3];
  static eg_hist_state hs[3];
  eg_hist_plan plan;
  eg_error err;
  if (eg_hist_plan_make(&plan, EG_F64, 6, 1, -3.0, 3.0, 0, 0, 0, &err) !=
      EG_OK)
    return 1;
  size_t cap = 1u << 16;
  uint8_t *buf = malloc(cap);
  if (!buf)
    return 1;
  double x[6][40];
  for (int c = 0; c < 6; c++)
    for (int i = 0; i < 40; i++)
      x[c][i] = (i * 7 % 13) * 0.25 - c;
  for (int seed = 0; seed < 7; seed++) {
    unsigned channels = 1u + (unsigned)seed % 3u;
    int exact = seed & 1;
    unsigned ops = EG_OPS_DEFAULT | EG_OPS_BIT(EG_OP_ARGMIN);
    unsigned groups = eg_groups_for_ops(ops) | (exact ? EG_G_EXACT : 0);
    eg_sf_window w;
    memset(&w, 0, sizeof w);
    snprintf(w.h.box, sizeof w.h.box, "box-%d", seed);
    w.h.has_key = seed >= 2;
    snprintf(w.h.key, sizeof w.h.key, "%s", w.h.has_key ? "sensor7" : "");
    w.h.kind = seed & 2 ? 2 : 1;
    w.h.start = seed & 2 ? 1700000000000000 : 0;
    w.h.end = w.h.start + (seed & 2 ? 10000000 : 40);
    w.h.epoch = 0x0123456789abcdefull + (uint64_t)seed;
    w.count = 40;
    w.late = (uint64_t)seed;
    w.bad = 1;
    w.ops = ops;
    w.mode = (uint8_t)exact;
    w.dtype = EG_F64;
    w.channels = (uint16_t)channels;
    w.moments = st;
    for (unsigned c = 0; c < channels; c++)
      eg_state_of_values(x[c + (unsigned)seed % 3u], 40, EG_F64, groups, 0,
                         &st[c]);
    /* seeds 4..6: approx_quantile, hist, both */
    if (seed >= 4) {
      eg_quant_opts_init(&w.q);
      w.q.qops = seed == 4 ? EG_QOP_APPROX
                 : seed == 5 ? EG_QOP_HIST
                             : EG_QOP_APPROX | EG_QOP_HIST;
      if (w.q.qops & EG_QOP_APPROX) {
        w.q.nq = 3;
        w.q.q[0] = 0;
        w.q.q[1] = 0.5;
        w.q.q[2] = 1;
      }
      w.q.have_range = 1;
      w.q.lo = -3.0;
      w.q.hi = 3.0;
      w.q.bins = 6;
      unsigned k;
      if (eg_sketch_k_for(w.q.rel_err, &k, &err) != EG_OK)
        return 1;
      for (unsigned c = 0; c < channels; c++) {
        eg_sketch_init(&sk[c], k);
        if (eg_sketch_add(&sk[c], x[c + (unsigned)seed % 3u], 40, EG_F64,
                          &err) != EG_OK ||
            eg_hist_state_init(&hs[c], 6, &err) != EG_OK)
          return 1;
        eg_hist_add(&plan, &hs[c], x[c + (unsigned)seed % 3u], 40);
      }
      w.sketches = sk;
      w.hists = hs;
      w.plan = &plan;
    }
    size_t n = eg_sf_encode_window(&w, buf, cap);
    for (unsigned c = 0; seed >= 4 && c < channels; c++) {
      eg_sketch_free(&sk[c]);
      eg_hist_state_free(&hs[c]);
    }
    if (n == 0)
      return 1;
    char name[32];
    snprintf(name, sizeof name, "window-%d", seed);
    write_seed(argv[1], name, buf, n);
    if (seed == 2) {
      n = eg_sf_encode_ack(&w.h, buf, cap);
      write_seed(argv[1], "ack", buf, n);
    }
    if (seed == 4) {
      /* the same frame marked version 2: refused by its version */
      buf[4] = 2;
      write_seed(argv[1], "old-version-2", buf, n);
    }
  }
  free(buf);
  eg_hist_plan_free(&plan);
  return 0;
}
