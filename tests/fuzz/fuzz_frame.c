// fuzz-sources: cluster/frame.c engine/state/states_wire.c engine/state/state_wire.c engine/state/state.c engine/state/exact.c engine/state/exact_big.c engine/state/exact_finish.c engine/state/exact_wire.c engine/core/error.c engine/core/dtype.c engine/core/ops.c engine/quant/quant_grid.c engine/quant/quant_range.c engine/state/quant_numpy.c engine/quant/quant_opts.c engine/structured/struct_qwire.c engine/quant/qselect_pass.c engine/quant/qselect_avx512.c engine/quant/qselect_portable.c engine/quant/quant_scan.c engine/quant/select_wire.c engine/state/sketch.c engine/state/sketch_wire.c engine/state/sketch_avx512.c engine/state/sketch_portable.c engine/state/hist.c engine/state/hist_wire.c engine/state/hist_avx512.c engine/state/hist_portable.c engine/io/source.c engine/io/ingest_probe.c engine/io/npy.c
/* fuzz_frame.c - libFuzzer harness for the grid's frame decoder
 * (cluster/frame.c), the code that reads every byte a peer sends.
 *
 * Copies the input to an allocation of exactly its size (so AddressSanitizer
 * sees any read past the end) and decodes it accepting every frame type.
 * A refused frame must leave one printable line starting "frame".  An
 * accepted frame must survive re-encoding: the encoder of its type writes
 * back exactly the input bytes (every field is checked, nothing is padding),
 * and a RESULT's embedded state is one the engine would merge (a quantile
 * payload: one its own check accepts again).  Build and
 * run: see README.md next to this file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "states_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static void check_error(eg_status st, const eg_error *err)
{
    check(st == EG_EINPUT && err->code == st);
    check(strncmp(err->msg, "frame", 5) == 0);
    for (const char *p = err->msg; *p; p++)
        check((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

static size_t reencode_shardq(const eg_frame *f, uint8_t *out, size_t cap)
{
    eg_shardq_iter it = {0, 0};
    uint32_t index;
    char name[EG_SHARD_NAME_MAX + 1];
    size_t at = eg_frame_shardq_begin(out, cap, f->job, f->u.shards.count);
    while (at && eg_frame_shardq_next(f, &it, &index, name))
        at = eg_frame_shardq_put(out, cap, at, index, name);
    return at;
}

static size_t reencode(const eg_frame *f, uint8_t *out, size_t cap)
{
    switch (f->type) {
    case EG_FRAME_READY:
        return eg_frame_encode_ready(out, cap, f->job, &f->u.ready);
    case EG_FRAME_CREDIT:
        return eg_frame_encode_credit(out, cap, f->job, f->u.credit);
    case EG_FRAME_TASK:
        return eg_frame_encode_task(out, cap, f->job, &f->u.task);
    case EG_FRAME_RESULT: {
        /* Every state of the container, as a worker hands them over. */
        eg_frame_result r = f->u.result;
        if (r.quant)
            return eg_frame_encode_result(out, cap, f->job, &r);
        eg_state *s = malloc((size_t)r.nstates * sizeof *s);
        check(s != NULL);
        for (uint32_t i = 0; i < r.nstates; i++)
            check(eg_states_get(r.states, r.states_len, i, &s[i], NULL) ==
                  EG_OK);
        r.out_states = s;
        r.out_n = r.nstates;
        size_t len = eg_frame_encode_result(out, cap, f->job, &r);
        free(s);
        return len;
    }
    case EG_FRAME_FAIL:
        return eg_frame_encode_fail(out, cap, f->job, &f->u.fail);
    case EG_FRAME_RETURN:
        return eg_frame_encode_return(out, cap, f->job, f->u.ret.task,
                                      f->u.ret.attempt);
    case EG_FRAME_SHARDQ: return reencode_shardq(f, out, cap);
    case EG_FRAME_SHARDA: {
        uint32_t n = f->u.shards.count;
        uint32_t *idx = malloc(((size_t)n + 1) * sizeof *idx);
        check(idx != NULL);
        for (uint32_t i = 0; i < n; i++)
            idx[i] = eg_frame_sharda_get(f, i);
        size_t len = eg_frame_encode_sharda(out, cap, f->job, idx, n);
        free(idx);
        return len;
    }
    default: return eg_frame_encode_empty(out, cap, f->type, f->job);
    }
}

static void check_accepted(const eg_frame *f, const uint8_t *buf, size_t size)
{
    check(f->type > 0 && f->type < EG_FRAME_TYPE_END);
    uint8_t *out = malloc(size + 1);
    check(out != NULL);
    size_t n = reencode(f, out, size + 1);
    check(n == size && memcmp(out, buf, size) == 0);
    free(out);
    if (f->type == EG_FRAME_RESULT && f->u.result.quant) {
        uint64_t count = 0;
        /* a selection round's counts, or a round of whole outputs'
         * finished values */
        const uint8_t *q = f->u.result.quant;
        size_t ql = f->u.result.quant_len;
        check((memcmp(q, "EGSR", 4) == 0
                   ? eg_sqgrid_payload_check(q, ql, &count, NULL)
                   : eg_qgrid_payload_check(q, ql, &count, NULL)) == EG_OK);
        check(count == f->u.result.elements && f->u.result.nstates == 0);
    } else if (f->type == EG_FRAME_RESULT) {
        const eg_state *s = &f->u.result.state;
        check(f->u.result.nstates >= 1 && f->u.result.nstates <= EG_SEGS_MAX);
        check(f->u.result.elements >= s->n);
        check(s->nan_n + s->pinf_n + s->ninf_n <= s->n && s->vn <= s->n);
        eg_state acc;
        eg_state_init(&acc, s->dtype, s->groups);
        eg_state_merge(&acc, s);
    }
    if (f->type == EG_FRAME_TASK) {
        const eg_frame_task *t = &f->u.task;
        /* The parts check agrees with the range it was given. */
        size_t want = t->kind != EG_TASK_SHARD && t->kind != EG_TASK_SQUANT
                          ? (size_t)(t->count * eg_dtype_size(t->dtype))
                          : 0;
        check(eg_frame_task_check_parts(t, want, t->has_y,
                                        t->has_y ? want : 0, NULL) == EG_OK);
        check(eg_frame_task_check_parts(t, want + 1, t->has_y, want, NULL) ==
              EG_EINPUT);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    check(buf != NULL);
    memcpy(buf, data, size);
    eg_frame f;
    eg_error err;
    memset(&err, 0, sizeof err);
    eg_status st = eg_frame_decode(&f, buf, size, 0xffffffffu, &err);
    if (st == EG_OK)
        check_accepted(&f, buf, size);
    else
        check_error(st, &err);
    free(buf);
    return 0;
}
