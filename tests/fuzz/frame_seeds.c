/* frame_seeds.c - writes one valid frame of every grid frame type, made by
 * the encoders of cluster/frame.c (so the embedded state has whatever
 * encoding this engine speaks), into a directory: the seed corpus of
 * fuzz_frame.  Build and run: see README.md next to this file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

static void put(const char *dir, const char *name, const uint8_t *buf,
                size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/seed_%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || n == 0 || fwrite(buf, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "frame_seeds: cannot write %s\n", path);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: frame_seeds DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    const uint64_t job = 0x1234;
    size_t cap = eg_frame_result_max() + 4096;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return 1;

    eg_frame_ready r = {.session = 9, .credit = 2, .flags = EG_READY_SHARDS};
    strcpy(r.name, "w1");
    put(dir, "ready", buf, eg_frame_encode_ready(buf, cap, job, &r));
    put(dir, "credit", buf, eg_frame_encode_credit(buf, cap, job, 1));
    put(dir, "heartbeat", buf,
        eg_frame_encode_empty(buf, cap, EG_FRAME_HEARTBEAT, job));
    put(dir, "bye", buf, eg_frame_encode_empty(buf, cap, EG_FRAME_BYE, job));
    put(dir, "reset", buf, eg_frame_encode_empty(buf, cap, EG_FRAME_RESET, job));

    eg_frame_task t;
    memset(&t, 0, sizeof t);
    t.task = 3;
    t.attempt = 1;
    t.dtype = EG_I32;
    t.ops = EG_OPS_DEFAULT;
    t.first = 12288;
    t.count = 4096;
    t.chunk = 4096;
    put(dir, "task_inline", buf, eg_frame_encode_task(buf, cap, job, &t));
    t.ops |= EG_OPS_BIT(EG_OP_DOT);
    t.has_y = 1;
    put(dir, "task_dot", buf, eg_frame_encode_task(buf, cap, job, &t));
    memset(&t, 0, sizeof t);
    t.task = 1;
    t.attempt = 2;
    t.kind = EG_TASK_SHARD;
    t.ops = EG_OPS_DEFAULT;
    strcpy(t.shard, "site/a.npy");
    put(dir, "task_shard", buf, eg_frame_encode_task(buf, cap, job, &t));
    memset(&t, 0, sizeof t);
    t.task = 4;
    t.attempt = 1;
    t.kind = EG_TASK_SEGS;
    t.dtype = EG_F32;
    t.ops = EG_OPS_DEFAULT;
    t.first = 16;
    t.count = 96;
    t.chunk = 4096;
    t.nseg = 8;
    t.p0 = 8192;
    put(dir, "task_segs", buf, eg_frame_encode_task(buf, cap, job, &t));

    eg_frame_result res;
    memset(&res, 0, sizeof res);
    /* The groups of the default ops. */
    eg_state_init(&res.state, EG_F64, EG_G_MINMAX | EG_G_VAR);
    res.state.n = res.state.vn = 100;
    res.state.sum_s = 12.5;
    res.state.m2 = 3.0;
    res.state.argmin = 7;
    res.state.argmax = 42;
    res.task = 3;
    res.attempt = 1;
    res.elements = 100;
    res.bytes = 800;
    res.seconds = 0.5;
    strcpy(res.name, "w1");
    put(dir, "result", buf, eg_frame_encode_result(buf, cap, job, &res));
    /* A structured task's result: one state per segment. */
    eg_state segs[3] = {res.state, res.state, res.state};
    segs[1].argmin = 8192;
    res.out_states = segs;
    res.out_n = 3;
    res.elements = 300;
    put(dir, "result_segs", buf, eg_frame_encode_result(buf, cap, job, &res));

    /* A quantile job's task and its results: a histogram, a sketch and a
     * selection pass (of int8 data, whose counts stay small), made by the
     * collector's plan and the worker's counting. */
    memset(&t, 0, sizeof t);
    t.task = 2;
    t.attempt = 1;
    t.kind = EG_TASK_QUANT;
    t.dtype = EG_I8;
    t.first = 8192;
    t.count = 4096;
    t.chunk = 4096;
    put(dir, "task_quant", buf, eg_frame_encode_task(buf, cap, job, &t));
    /* ... and the same round over a shard */
    t.kind = EG_TASK_SQUANT;
    t.first = 0;
    t.chunk = 0;
    snprintf(t.shard, sizeof t.shard, "site-a/day-1.npy");
    put(dir, "task_squant", buf, eg_frame_encode_task(buf, cap, job, &t));
    t.shard[0] = '\0';
    eg_quant_opts qo;
    eg_quant_opts_init(&qo);
    qo.qops = EG_QOP_HIST | EG_QOP_APPROX | EG_QOP_MEDIAN;
    qo.nq = 1;
    qo.q[0] = 0.9;
    qo.have_range = 1;
    qo.lo = -100;
    qo.hi = 100;
    int8_t data[300];
    for (int i = 0; i < 300; i++)
        data[i] = (int8_t)(i * 37);
    eg_qgrid *g = NULL;
    eg_error err;
    if (eg_qgrid_open(&g, EG_I8, 300, &qo, "seed", &err) != EG_OK)
        return 1;
    const char *names[] = {"result_quant_hist", "result_quant_sketch",
                           "result_quant_select"};
    for (int k = 0; k < 3; k++) {
        eg_qround kind;
        const uint8_t *params;
        size_t plen, len;
        uint8_t *payload;
        if (eg_qgrid_next(g, &kind, &params, &plen, &err) != EG_OK ||
            kind != EG_QROUND_PASS ||
            eg_qgrid_task_run(params, plen, data, 300, EG_I8, &payload, &len,
                              &err) != EG_OK)
            return 1;
        memset(&res, 0, sizeof res);
        res.task = 2;
        res.attempt = 1;
        res.elements = 300;
        res.bytes = 300;
        strcpy(res.name, "w2");
        res.quant = payload;
        res.quant_len = len;
        put(dir, names[k], buf, eg_frame_encode_result(buf, cap, job, &res));
        if (eg_qgrid_put(g, payload, len, &err) != EG_OK ||
            eg_qgrid_round_end(g, &err) != EG_OK)
            return 1;
        free(payload);
    }
    eg_qgrid_close(&g);

    /* A task of whole outputs (per axis or group) and its per-output
     * payload. */
    memset(&t, 0, sizeof t);
    t.task = 3;
    t.attempt = 1;
    t.kind = EG_TASK_SQSEG;
    t.dtype = EG_I8;
    t.first = 6;
    t.count = 300;
    t.nseg = 2;
    put(dir, "task_sqseg", buf, eg_frame_encode_task(buf, cap, job, &t));
    /* Its payload, written out here (the worker's run needs more of the
     * engine than this program links): median and hist of 2 bins over a
     * given range, segments of 100 and 200. */
    uint8_t sq[40 + 2 * 57];
    size_t sqlen = sizeof sq;
    const uint64_t seg_n[2] = {100, 200}, bin0[2] = {60, 100};
    memset(sq, 0, sizeof sq);
    memcpy(sq, "EGSR", 4);
    eg_put_le(sq + 4, 1, 2);
    sq[6] = EG_QOP_MEDIAN | EG_QOP_HIST;
    eg_put_le(sq + 8, 2, 4);   /* segments */
    eg_put_le(sq + 16, 2, 4);  /* bins */
    eg_put_le(sq + 24, 6, 8);  /* first output */
    eg_put_le(sq + 32, 300, 8);
    for (int k = 0; k < 2; k++) {
        uint8_t *r = sq + 40 + 57 * k;
        double med = 3.5 * (k + 1);
        uint64_t bitsm;
        memcpy(&bitsm, &med, 8);
        eg_put_le(r, seg_n[k], 8);
        r[8] = EG_NUM_F64;
        eg_put_le(r + 9, bitsm, 8);
        eg_put_le(r + 17, bin0[k], 8);
        eg_put_le(r + 25, seg_n[k] - bin0[k], 8);
    }
    memset(&res, 0, sizeof res);
    res.task = 3;
    res.attempt = 1;
    res.elements = 300;
    res.bytes = 300;
    strcpy(res.name, "w3");
    res.quant = sq;
    res.quant_len = sqlen;
    put(dir, "result_sqseg", buf, eg_frame_encode_result(buf, cap, job, &res));

    eg_frame_fail fl = {.task = 3, .attempt = 1, .status = EG_EIO};
    strcpy(fl.msg, "device 0 failed");
    put(dir, "fail", buf, eg_frame_encode_fail(buf, cap, job, &fl));
    put(dir, "return", buf, eg_frame_encode_return(buf, cap, job, 3, 1));

    size_t at = eg_frame_shardq_begin(buf, cap, job, 2);
    at = eg_frame_shardq_put(buf, cap, at, 0, "a.npy");
    at = eg_frame_shardq_put(buf, cap, at, 1, "b/c");
    put(dir, "shardq", buf, at);
    const uint32_t have[] = {0, 1};
    put(dir, "sharda", buf, eg_frame_encode_sharda(buf, cap, job, have, 2));
    free(buf);
    return 0;
}
