/* test_frame.c - the grid's wire format: every frame type survives an
 * encode/decode round trip, and the decoder refuses truncated, padded,
 * forged and out-of-range frames with a reason, never reading past them. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "states_wire.h"
#include "testutil.h"

#define ALL_TYPES 0xffffffffu
#define BUF 2048

static eg_state sample_state(void)
{
    eg_state s;
    eg_state_init(&s, EG_F64, eg_groups_for_ops(EG_OPS_DEFAULT));
    s.n = 100;
    s.vn = 100;
    s.sum_s = 12.5;
    s.sum_c = 1e-17;
    s.mean_k = 0.1;
    s.mean_q = 0.025;
    s.m2 = 3.0;
    s.min.f = -1.0;
    s.max.f = 2.0;
    s.argmin = 1007;
    s.argmax = 1042;
    return s;
}

static eg_frame decode_ok(const uint8_t *buf, size_t len)
{
    eg_frame f;
    eg_error err = {0};
    cr_assert_eq(eg_frame_decode(&f, buf, len, ALL_TYPES, &err), EG_OK,
                 "decode: %s", err.msg);
    return f;
}

static void expect_bad(const uint8_t *buf, size_t len, const char *what)
{
    eg_frame f;
    eg_error err = {0};
    cr_assert_eq(eg_frame_decode(&f, buf, len, ALL_TYPES, &err), EG_EINPUT,
                 "%s: accepted", what);
    cr_assert(strncmp(err.msg, "frame", 5) == 0, "%s: message '%s'", what,
              err.msg);
}

/* Every proper prefix and a one-byte extension of a valid frame must fail:
 * sizes are checked exactly. */
static void expect_exact_size(const uint8_t *buf, size_t len)
{
    uint8_t tmp[BUF + 1];
    for (size_t n = 0; n < len; n++) {
        uint8_t *copy = malloc(n ? n : 1);  /* ASan sees any overread */
        memcpy(copy, buf, n);
        eg_frame f;
        cr_assert_neq(eg_frame_decode(&f, copy, n, ALL_TYPES, NULL), EG_OK,
                      "prefix of %zu of %zu bytes accepted", n, len);
        free(copy);
    }
    memcpy(tmp, buf, len);
    tmp[len] = 0;
    eg_frame f;
    cr_assert_neq(eg_frame_decode(&f, tmp, len + 1, ALL_TYPES, NULL), EG_OK,
                  "frame with a trailing byte accepted");
}

static size_t ready_frame(uint8_t *buf)
{
    eg_frame_ready r = {.session = 0x1122334455667788ull,
                        .generation = 3,
                        .credit = 2,
                        .flags = EG_READY_SHARDS};
    strcpy(r.name, "box-1:42");
    return eg_frame_encode_ready(buf, BUF, 99, &r);
}

static eg_frame_task inline_task(void)
{
    eg_frame_task t;
    memset(&t, 0, sizeof t);
    t.task = 7;
    t.attempt = 2;
    t.kind = EG_TASK_INLINE;
    t.dtype = EG_I32;
    t.mode = EG_MODE_FAST;
    t.nan = EG_NAN_OMIT;
    t.ops = EG_OPS_DEFAULT | EG_OPS_BIT(EG_OP_DOT);
    t.has_y = 1;
    t.ddof = 1;
    t.first = 7 * 8192;
    t.count = 8192;
    t.chunk = 8192;
    return t;
}

static size_t result_frame(uint8_t *buf)
{
    eg_frame_result r;
    memset(&r, 0, sizeof r);
    r.task = 5;
    r.attempt = 1;
    r.state = sample_state();
    r.elements = r.state.n;
    r.bytes = 800;
    r.seconds = 0.25;
    strcpy(r.name, "w1");
    return eg_frame_encode_result(buf, BUF, 0xabcdef, &r);
}

Test(frame, ready_round_trip)
{
    uint8_t buf[BUF];
    size_t n = ready_frame(buf);
    cr_assert_gt(n, 0);
    eg_frame f = decode_ok(buf, n);
    cr_assert_eq(f.type, EG_FRAME_READY);
    cr_assert_eq(f.job, 99);
    cr_assert_eq(f.u.ready.session, 0x1122334455667788ull);
    cr_assert_eq(f.u.ready.generation, 3);
    cr_assert_eq(f.u.ready.credit, 2);
    cr_assert_eq(f.u.ready.flags, EG_READY_SHARDS);
    cr_assert_str_eq(f.u.ready.name, "box-1:42");
    expect_exact_size(buf, n);
}

Test(frame, task_round_trip_inline_and_shard)
{
    uint8_t buf[BUF];
    eg_frame_task t = inline_task();
    size_t n = eg_frame_encode_task(buf, BUF, 1, &t);
    eg_frame f = decode_ok(buf, n);
    cr_assert_eq(memcmp(&f.u.task, &t, sizeof t), 0);
    expect_exact_size(buf, n);

    memset(&t, 0, sizeof t);
    t.task = 3;
    t.attempt = 1;
    t.kind = EG_TASK_SHARD;
    t.raw = 1;
    t.dtype = EG_U16;
    t.ops = EG_OPS_BIT(EG_OP_SUM);
    strcpy(t.shard, "site-a/day-1.npy");
    n = eg_frame_encode_task(buf, BUF, 1, &t);
    f = decode_ok(buf, n);
    cr_assert_str_eq(f.u.task.shard, "site-a/day-1.npy");
    cr_assert_eq(f.u.task.raw, 1);
    expect_exact_size(buf, n);
}

/* A shard's quantile task: a name and a count, no ops, no range. */
Test(frame, shard_quantile_task_round_trip_and_refusals)
{
    uint8_t buf[BUF];
    eg_frame_task t;
    memset(&t, 0, sizeof t);
    t.task = 4;
    t.attempt = 2;
    t.kind = EG_TASK_SQUANT;
    t.dtype = EG_F32;
    t.count = (uint64_t)1 << 40; /* a shard's size is not a frame's */
    strcpy(t.shard, "site-b/day-2.npy");
    size_t n = eg_frame_encode_task(buf, BUF, 1, &t);
    eg_frame f = decode_ok(buf, n);
    cr_assert_eq(memcmp(&f.u.task, &t, sizeof t), 0);
    expect_exact_size(buf, n);
    cr_assert_eq(eg_frame_task_check_parts(&f.u.task, 0, 0, 0, NULL), EG_OK);
    cr_assert_eq(eg_frame_task_check_parts(&f.u.task, 4, 0, 0, NULL),
                 EG_EINPUT);
    eg_frame_task bad = t;
    bad.ops = EG_OPS_BIT(EG_OP_SUM);
    n = eg_frame_encode_task(buf, BUF, 1, &bad);
    expect_bad(buf, n, "with ops");
    bad = t;
    bad.first = 7;
    n = eg_frame_encode_task(buf, BUF, 1, &bad);
    expect_bad(buf, n, "with a range");
    bad = t;
    strcpy(bad.shard, "../up.npy");
    n = eg_frame_encode_task(buf, BUF, 1, &bad);
    expect_bad(buf, n, "escaping name");
    bad = t;
    bad.kind = EG_TASK_SQSEG + 1;
    n = eg_frame_encode_task(buf, BUF, 1, &bad);
    expect_bad(buf, n, "unknown kind");
}

Test(frame, result_round_trip_keeps_the_state_bits)
{
    uint8_t buf[BUF];
    size_t n = result_frame(buf);
    cr_assert_gt(n, 0);
    eg_frame f = decode_ok(buf, n);
    eg_state want = sample_state();
    cr_assert_eq(f.u.result.task, 5);
    cr_assert_eq(f.u.result.seconds, 0.25);
    cr_assert_str_eq(f.u.result.name, "w1");
    cr_assert_eq(memcmp(&f.u.result.state, &want, sizeof want), 0);
    expect_exact_size(buf, n);
}

Test(frame, small_frames_round_trip)
{
    uint8_t buf[BUF];
    size_t n = eg_frame_encode_credit(buf, BUF, 4, 3);
    cr_assert_eq(decode_ok(buf, n).u.credit, 3);
    expect_exact_size(buf, n);

    eg_frame_fail fl = {.task = 9, .attempt = 4, .status = EG_EIO};
    strcpy(fl.msg, "device 0 failed: out of resources");
    n = eg_frame_encode_fail(buf, BUF, 4, &fl);
    eg_frame f = decode_ok(buf, n);
    cr_assert_eq(f.u.fail.status, EG_EIO);
    cr_assert_str_eq(f.u.fail.msg, fl.msg);
    expect_exact_size(buf, n);

    n = eg_frame_encode_return(buf, BUF, 4, 11, 2);
    f = decode_ok(buf, n);
    cr_assert_eq(f.u.ret.task, 11);
    cr_assert_eq(f.u.ret.attempt, 2);
    expect_exact_size(buf, n);

    const unsigned empty[] = {EG_FRAME_HEARTBEAT, EG_FRAME_BYE,
                              EG_FRAME_RESET};
    for (int i = 0; i < 3; i++) {
        n = eg_frame_encode_empty(buf, BUF, empty[i], 4);
        cr_assert_eq(n, EG_FRAME_HEADER);
        cr_assert_eq(decode_ok(buf, n).type, empty[i]);
        expect_exact_size(buf, n);
    }
    cr_assert_eq(eg_frame_encode_empty(buf, BUF, EG_FRAME_TASK, 4), 0);
}

Test(frame, shard_query_and_answer)
{
    const char *names[] = {"a.npy", "dir/b.npy", "c"};
    size_t cap = eg_frame_shardq_size(3, 5 + 9 + 1);
    uint8_t *buf = malloc(cap);
    size_t at = eg_frame_shardq_begin(buf, cap, 8, 3);
    for (uint32_t i = 0; i < 3; i++)
        at = eg_frame_shardq_put(buf, cap, at, i * 10, names[i]);
    cr_assert_eq(at, cap);
    eg_frame f = decode_ok(buf, cap);
    eg_shardq_iter it = {0, 0};
    uint32_t idx;
    char name[EG_SHARD_NAME_MAX + 1];
    for (uint32_t i = 0; i < 3; i++) {
        cr_assert(eg_frame_shardq_next(&f, &it, &idx, name));
        cr_assert_eq(idx, i * 10);
        cr_assert_str_eq(name, names[i]);
    }
    cr_assert_not(eg_frame_shardq_next(&f, &it, &idx, name));
    expect_exact_size(buf, cap);
    free(buf);

    uint8_t a[BUF];
    const uint32_t have[] = {0, 20};
    size_t n = eg_frame_encode_sharda(a, BUF, 8, have, 2);
    f = decode_ok(a, n);
    cr_assert_eq(f.u.shards.count, 2);
    cr_assert_eq(eg_frame_sharda_get(&f, 1), 20);
    expect_exact_size(a, n);
    a[EG_FRAME_HEADER + 4 + 3] = 0xff;  /* index 20 -> out of range */
    expect_bad(a, n, "SHARDA index out of range");
}

Test(frame, header_faults)
{
    uint8_t buf[BUF];
    size_t n = ready_frame(buf);
    buf[0] = 'X';
    expect_bad(buf, n, "bad magic");
    n = ready_frame(buf);
    buf[4] = EG_FRAME_VERSION + 1;
    expect_bad(buf, n, "future version");
    n = ready_frame(buf);
    buf[4] = 1; /* before the state container: refused, not misread */
    expect_bad(buf, n, "old version");
    n = ready_frame(buf);
    buf[7] = 1;
    expect_bad(buf, n, "reserved byte");
    n = ready_frame(buf);
    buf[6] = 0;
    expect_bad(buf, n, "type 0");
    buf[6] = EG_FRAME_TYPE_END;
    expect_bad(buf, n, "unknown type");
    n = ready_frame(buf);
    eg_frame f;
    eg_error err;
    cr_assert_eq(eg_frame_decode(&f, buf, n, EG_FRAME_BIT(EG_FRAME_RESULT),
                                 &err),
                 EG_EINPUT, "a READY where only RESULTs may come");
    cr_assert(strstr(err.msg, "not expected") != NULL, "%s", err.msg);
}

Test(frame, name_faults)
{
    cr_assert(eg_frame_name_ok("a-b_c:1.2", 9, 64));
    cr_assert_not(eg_frame_name_ok("", 0, 64));
    cr_assert_not(eg_frame_name_ok("a b", 3, 64));
    cr_assert_not(eg_frame_name_ok("a\x01", 2, 64));
    cr_assert_not(eg_frame_name_ok("abc", 3, 2));
    cr_assert(eg_frame_shard_name_ok("a/b/c.npy", 9));
    cr_assert(eg_frame_shard_name_ok("..a", 3));
    cr_assert_not(eg_frame_shard_name_ok("/etc/passwd", 11));
    cr_assert_not(eg_frame_shard_name_ok("a/../b", 6));
    cr_assert_not(eg_frame_shard_name_ok("..", 2));
    cr_assert_not(eg_frame_shard_name_ok("a//b", 4));
    cr_assert_not(eg_frame_shard_name_ok("a/./b", 5));
    cr_assert_not(eg_frame_shard_name_ok("a/", 2));

    uint8_t buf[BUF];
    size_t n = ready_frame(buf);
    buf[EG_FRAME_HEADER + 21] = ' ';
    expect_bad(buf, n, "space in a worker name");
    eg_frame_ready r = {.credit = 1};
    strcpy(r.name, "has space");
    cr_assert_eq(eg_frame_encode_ready(buf, BUF, 0, &r), 0,
                 "encoder made a frame its decoder refuses");
    strcpy(r.name, "ok");
    r.credit = EG_CREDIT_MAX + 1;
    cr_assert_eq(eg_frame_encode_ready(buf, BUF, 0, &r), 0);
}

/* Patches one field of a valid inline TASK and expects a refusal. */
static void task_fault(size_t off, const void *bytes, size_t len,
                       const char *what)
{
    uint8_t buf[BUF];
    eg_frame_task t = inline_task();
    size_t n = eg_frame_encode_task(buf, BUF, 1, &t);
    memcpy(buf + EG_FRAME_HEADER + off, bytes, len);
    expect_bad(buf, n, what);
}

Test(frame, task_faults)
{
    const uint8_t zero4[4] = {0}, ff = 0xff, two = 2;
    const uint8_t big8[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    const uint8_t odd8[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    const uint8_t ops_unknown[4] = {0, 0, 0, 0x80};
    task_fault(8, zero4, 4, "attempt 0");
    task_fault(12, &two, 1, "kind 2");
    task_fault(13, &ff, 1, "dtype 255");
    task_fault(14, &two, 1, "mode 2");
    task_fault(15, &two, 1, "nan 2");
    task_fault(16, &two, 1, "raw 2");
    task_fault(17, &two, 1, "has_y 2");
    task_fault(20, zero4, 4, "no ops");
    task_fault(20, ops_unknown, 4, "unknown op bit");
    task_fault(17, zero4, 1, "dot without y");
    task_fault(36, big8, 8, "count beyond the task size limit");
    task_fault(28, big8, 8, "range that wraps");
    task_fault(44, odd8, 8, "chunk not a lane multiple");
    task_fault(16, &ff, 1, "raw flag on an inline task");

    /* A shard task with a path that leaves the root. */
    uint8_t buf[BUF];
    eg_frame_task t;
    memset(&t, 0, sizeof t);
    t.task = 1;
    t.attempt = 1;
    t.kind = EG_TASK_SHARD;
    t.ops = 1;
    strcpy(t.shard, "aa/bb");
    size_t n = eg_frame_encode_task(buf, BUF, 1, &t);
    memcpy(buf + n - 5, "../bb", 5);
    expect_bad(buf, n, "shard name with ..");
    memcpy(buf + n - 5, "/a/bb", 5);
    expect_bad(buf, n, "absolute shard name");
}

Test(frame, task_parts_must_match_the_range)
{
    eg_frame_task t = inline_task();  /* 8192 x i32, dot */
    eg_error err;
    cr_assert_eq(eg_frame_task_check_parts(&t, 32768, 1, 32768, &err), EG_OK);
    cr_assert_eq(eg_frame_task_check_parts(&t, 32764, 1, 32768, &err),
                 EG_EINPUT);
    cr_assert_eq(eg_frame_task_check_parts(&t, 32768, 0, 0, &err), EG_EINPUT);
    cr_assert_eq(eg_frame_task_check_parts(&t, 32768, 1, 4, &err), EG_EINPUT);
    t.has_y = 0;
    cr_assert_eq(eg_frame_task_check_parts(&t, 32768, 1, 32768, &err),
                 EG_EINPUT, "an unexpected y part");
    t.kind = EG_TASK_SHARD;
    cr_assert_eq(eg_frame_task_check_parts(&t, 0, 0, 0, &err), EG_OK);
    cr_assert_eq(eg_frame_task_check_parts(&t, 4, 0, 0, &err), EG_EINPUT);
}

Test(frame, result_faults)
{
    uint8_t buf[BUF];
    size_t n = result_frame(buf);
    /* a fast state: the container carries it in the compact form */
    size_t state_at = n - eg_state_compact_size();

    buf[state_at] = 'X';
    expect_bad(buf, n, "state magic");
    n = result_frame(buf);
    /* m2 is field 12 of the state: make it negative. */
    double neg = -1.0;
    memcpy(buf + state_at + 12 + 8 * 12, &neg, 8);
    expect_bad(buf, n, "negative M2");
    n = result_frame(buf);
    buf[EG_FRAME_HEADER + 12] ^= 1;  /* elements no longer the state's n */
    expect_bad(buf, n, "element count");
    n = result_frame(buf);
    double nan = NAN;
    memcpy(buf + EG_FRAME_HEADER + 28, &nan, 8);
    expect_bad(buf, n, "NaN seconds");
    n = result_frame(buf);
    double minus = -1;
    memcpy(buf + EG_FRAME_HEADER + 28, &minus, 8);
    expect_bad(buf, n, "negative seconds");
    n = result_frame(buf);
    memset(buf + EG_FRAME_HEADER + 20, 0xff, 8);
    expect_bad(buf, n, "byte count");
    n = result_frame(buf);
    buf[EG_FRAME_HEADER + 37] = 0;  /* state length 0 */
    expect_bad(buf, n, "state length");
}

Test(frame, fail_faults)
{
    uint8_t buf[BUF];
    eg_frame_fail fl = {.task = 1, .attempt = 1, .status = EG_EIO};
    strcpy(fl.msg, "line one\nline two");
    size_t n = eg_frame_encode_fail(buf, BUF, 0, &fl);
    eg_frame f = decode_ok(buf, n);
    cr_assert_str_eq(f.u.fail.msg, "line one?line two",
                     "the encoder keeps messages printable");
    buf[EG_FRAME_HEADER + 18] = 0x07;
    expect_bad(buf, n, "unprintable message");
    n = eg_frame_encode_fail(buf, BUF, 0, &fl);
    memset(buf + EG_FRAME_HEADER + 12, 0, 4);
    expect_bad(buf, n, "status OK in a FAIL");
    n = eg_frame_encode_fail(buf, BUF, 0, &fl);
    const uint8_t bogus[4] = {0x39, 0x30, 0, 0};
    memcpy(buf + EG_FRAME_HEADER + 12, bogus, 4);
    expect_bad(buf, n, "unknown status");
}

Test(frame, credit_faults)
{
    uint8_t buf[BUF];
    cr_assert_eq(eg_frame_encode_credit(buf, BUF, 0, 0), 0);
    cr_assert_eq(eg_frame_encode_credit(buf, BUF, 0, EG_CREDIT_MAX + 1), 0);
    size_t n = eg_frame_encode_credit(buf, BUF, 0, 1);
    memset(buf + EG_FRAME_HEADER, 0, 4);
    expect_bad(buf, n, "credit 0");
    memset(buf + EG_FRAME_HEADER, 0xff, 4);
    expect_bad(buf, n, "credit huge");
}

Test(frame, shardq_faults)
{
    size_t cap = eg_frame_shardq_size(2, 2);
    uint8_t buf[64];
    size_t at = eg_frame_shardq_begin(buf, cap, 0, 2);
    at = eg_frame_shardq_put(buf, cap, at, 0, "a");
    at = eg_frame_shardq_put(buf, cap, at, 1, "b");
    cr_assert_eq(at, cap);
    buf[EG_FRAME_HEADER] = 3;  /* claims three entries */
    expect_bad(buf, cap, "more entries than bytes");
    buf[EG_FRAME_HEADER] = 1;  /* claims one: trailing bytes */
    expect_bad(buf, cap, "trailing entry");
    buf[EG_FRAME_HEADER] = 2;
    buf[EG_FRAME_HEADER + 4 + 4] = 40;  /* name length past the end */
    expect_bad(buf, cap, "name past the end");
    cr_assert_eq(eg_frame_shardq_put(buf, cap, EG_FRAME_HEADER + 4, 0,
                                     "../x"),
                 0, "encoder refuses unsafe names");
}

/* Random damage to valid frames: the decoder either accepts something
 * self-consistent or refuses; ASan and UBSan see the rest. */
Test(frame, random_damage_never_crashes)
{
    uint8_t frames[4][BUF];
    size_t lens[4];
    lens[0] = ready_frame(frames[0]);
    eg_frame_task t = inline_task();
    lens[1] = eg_frame_encode_task(frames[1], BUF, 1, &t);
    lens[2] = result_frame(frames[2]);
    eg_frame_fail fl = {.task = 1, .attempt = 1, .status = EG_EIO};
    strcpy(fl.msg, "x");
    lens[3] = eg_frame_encode_fail(frames[3], BUF, 0, &fl);
    uint64_t rng = 12345;
    for (int round = 0; round < 20000; round++) {
        int k = round % 4;
        size_t n = lens[k];
        uint8_t *copy = malloc(n);
        memcpy(copy, frames[k], n);
        int flips = 1 + (int)(tu_next(&rng) % 4);
        for (int i = 0; i < flips; i++)
            copy[tu_next(&rng) % n] ^= (uint8_t)(1u << (tu_next(&rng) % 8));
        size_t len = n - (tu_next(&rng) % 3 == 0 ? tu_next(&rng) % n : 0);
        eg_frame f;
        eg_error err;
        if (eg_frame_decode(&f, copy, len, ALL_TYPES, &err) == EG_OK &&
            f.type == EG_FRAME_RESULT)
            cr_assert_eq(f.u.result.elements, f.u.result.state.n);
        free(copy);
    }
}

/* A structured task's RESULT: a container of one state per segment. */
Test(frame, result_with_several_states)
{
    uint8_t *buf = malloc(eg_frame_result_max());
    eg_state st[3] = {sample_state(), sample_state(), sample_state()};
    st[1].n = 7;
    st[1].vn = 7;
    eg_frame_result r;
    memset(&r, 0, sizeof r);
    r.task = 9;
    r.attempt = 1;
    r.elements = 3 * st[0].n - st[0].n + 7;
    strcpy(r.name, "w2");
    r.out_states = st;
    r.out_n = 3;
    size_t n = eg_frame_encode_result(buf, eg_frame_result_max(), 1, &r);
    cr_assert_gt(n, 0);
    eg_frame f = decode_ok(buf, n);
    cr_assert_eq(f.u.result.nstates, 3);
    for (uint32_t i = 0; i < 3; i++) {
        eg_state got;
        cr_assert_eq(eg_states_get(f.u.result.states, f.u.result.states_len,
                                   i, &got, NULL),
                     EG_OK);
        cr_assert_eq(memcmp(&got, &st[i], sizeof got), 0, "state %u", i);
    }
    size_t at = n - eg_states_size_of(st, 3);
    cr_assert_eq(n - at, EG_STATES_HEADER + 3 * eg_state_compact_size());
    buf[at + 4] = 1; /* the version before the compact form */
    expect_bad(buf, n, "container version");
    eg_frame f1;
    eg_error e1 = {0};
    eg_frame_decode(&f1, buf, n, ALL_TYPES, &e1);
    cr_assert(strstr(e1.msg, "version 1, this build speaks 2"), "'%s'",
              e1.msg);
    buf[at + 4] = 2;
    buf[at + 8] = 2; /* count 2, bytes for 3 */
    expect_bad(buf, n, "container count");
    buf[at + 8] = 3;
    buf[EG_FRAME_HEADER + 12] ^= 1; /* elements not the states' sum */
    expect_bad(buf, n, "element sum");
    /* more states than a task may have: the encoder refuses */
    r.out_n = EG_SEGS_MAX + 1;
    cr_assert_eq(eg_frame_encode_result(buf, eg_frame_result_max(), 1, &r),
                 0);
    free(buf);
}

static eg_state exact_state(void)
{
    eg_state s;
    eg_state_init(&s, EG_F64, eg_groups_for_ops(EG_OPS_DEFAULT) | EG_G_EXACT);
    return s;  /* empty: an all-zero block is a valid exact one */
}

static const char *states_why(const uint8_t *buf, size_t len)
{
    static eg_error err;  /* read right after; tests run one at a time */
    uint32_t n;
    memset(&err, 0, sizeof err);
    if (eg_states_check(buf, len, 8, &n, &err) == EG_OK)
        return NULL;
    cr_assert(strncmp(err.msg, "states: ", 8) == 0, "'%s'", err.msg);
    return err.msg;
}

/* Fast states travel without their exact block; exact ones keep it, and
 * each form is refused where it does not fit. */
Test(frame, compact_and_full_state_containers)
{
    eg_state fast[2] = {sample_state(), sample_state()};
    eg_state ex[2] = {exact_state(), exact_state()};
    size_t fl = eg_states_size_of(fast, 2), el = eg_states_size_of(ex, 2);
    cr_assert_eq(fl, 12 + 2 * 252);
    cr_assert_eq(el, 12 + 2 * 1868);
    cr_assert_eq(eg_states_encoded_size(2), el, "the bound is the full form");
    uint8_t *fb = malloc(el), *eb = malloc(el);
    cr_assert_eq(eg_states_encode(fast, 2, fb, fl), fl);
    cr_assert_eq(eg_states_encode(ex, 2, eb, el), el);
    cr_assert_eq(fb[6], EG_STATES_COMPACT);
    cr_assert_eq(eb[6], 0);
    cr_assert(eg_states_is_compact(fb, fl));
    cr_assert(!eg_states_is_compact(eb, el));
    cr_assert_null(states_why(fb, fl));
    cr_assert_null(states_why(eb, el));
    eg_state got;
    cr_assert_eq(eg_states_get(fb, fl, 1, &got, NULL), EG_OK);
    cr_assert_eq(memcmp(&got, &fast[1], sizeof got), 0,
                 "compact state decodes with a zero exact block");
    cr_assert_eq(eg_states_get(eb, el, 1, &got, NULL), EG_OK);
    cr_assert_eq(memcmp(&got, &ex[1], sizeof got), 0);
    cr_assert_eq(eg_states_get(fb, fl, 2, &got, NULL), EG_EINPUT);
    /* a mixed pair goes out full */
    eg_state mix[2] = {sample_state(), exact_state()};
    cr_assert_eq(eg_states_size_of(mix, 2), el);
    /* an exact state has no compact form */
    uint8_t one[252];
    cr_assert_eq(eg_state_encode_compact(&ex[0], one, sizeof one), 0);

    /* flag and lengths that do not match */
    fb[6] = 0;
    cr_assert(strstr(states_why(fb, fl), "do not hold 2 full"));
    eb[6] = EG_STATES_COMPACT;
    cr_assert(strstr(states_why(eb, el), "do not hold 2 compact"));
    eb[6] = 0;
    fb[6] = EG_STATES_COMPACT | 2;
    cr_assert(strstr(states_why(fb, fl), "unknown flags"));
    fb[6] = EG_STATES_COMPACT;
    cr_assert(strstr(states_why(fb, fl - 1), "do not hold"));
    /* a compact state that says it is an exact one */
    fb[12 + 252 + 8] |= (uint8_t)EG_G_EXACT;
    fb[12 + 252 + 9] |= (uint8_t)(EG_G_EXACT >> 8);
    fb[12 + 252 + 10] |= (uint8_t)(EG_G_EXACT >> 16);
    cr_assert(strstr(states_why(fb, fl), "#1: state: exact-mode state in "
                                         "the compact form"),
              "'%s'", states_why(fb, fl));
    /* fast states in the full form: one encoding per content */
    eb[12 + 8] &= (uint8_t)~EG_G_EXACT;
    cr_assert_null(states_why(eb, el), "a fast and an exact state, full");
    eb[12 + 1868 + 8] &= (uint8_t)~EG_G_EXACT;
    cr_assert(strstr(states_why(eb, el), "fast-mode states in the full "
                                         "form"),
              "'%s'", states_why(eb, el));
    eb[12 + 8] |= (uint8_t)EG_G_EXACT;
    eb[12 + 1868 + 8] |= (uint8_t)EG_G_EXACT;
    cr_assert_null(states_why(eb, el));
    /* an old container */
    eb[4] = 1;
    cr_assert(strstr(states_why(eb, el),
                     "container version 1, this build speaks 2"));
    free(fb);
    free(eb);
}

Test(frame, segs_task_and_its_lengths)
{
    uint8_t buf[BUF];
    eg_frame_task t;
    memset(&t, 0, sizeof t);
    t.task = 2;
    t.attempt = 1;
    t.kind = EG_TASK_SEGS;
    t.dtype = EG_F32;
    t.ops = EG_OPS_DEFAULT;
    t.first = 40;
    t.count = 4096 + 5;
    t.chunk = 4096;
    t.nseg = 2;
    t.p0 = 8192;
    size_t n = eg_frame_encode_task(buf, sizeof buf, 1, &t);
    eg_frame f = decode_ok(buf, n);
    cr_assert_eq(f.u.task.nseg, 2);
    cr_assert_eq(f.u.task.p0, 8192);
    uint8_t part[8];
    uint64_t in[2] = {4096, 5}, out[2];
    eg_frame_put_lens(part, in, 2);
    cr_assert_eq(eg_frame_task_lens(&f.u.task, part, 8, out, NULL), EG_OK);
    cr_assert_eq(out[1], 5);
    cr_assert_eq(eg_frame_task_lens(&f.u.task, part, 4, out, NULL), EG_EINPUT);
    in[1] = 6; /* lengths that do not add up to the count */
    eg_frame_put_lens(part, in, 2);
    cr_assert_eq(eg_frame_task_lens(&f.u.task, part, 8, out, NULL), EG_EINPUT);
    in[0] = 4097; /* longer than a chunk */
    in[1] = 4;
    eg_frame_put_lens(part, in, 2);
    cr_assert_eq(eg_frame_task_lens(&f.u.task, part, 8, out, NULL), EG_EINPUT);
    t.p0 = 100; /* not a chunk boundary */
    n = eg_frame_encode_task(buf, sizeof buf, 1, &t);
    expect_bad(buf, n, "p0 off the chunk grid");
    t.p0 = 0;
    t.nseg = 0;
    n = eg_frame_encode_task(buf, sizeof buf, 1, &t);
    expect_bad(buf, n, "no segments");
    t.kind = EG_TASK_INLINE;
    t.nseg = 3;
    n = eg_frame_encode_task(buf, sizeof buf, 1, &t);
    expect_bad(buf, n, "a flat task with segments");
}

/* An SQSEG task (whole segments of outputs) and its RESULT's per-output
 * payload: round trips, and refusals of malformed payloads. */
static size_t sqseg_params(uint8_t *p, unsigned qops, uint32_t nseg,
                           uint64_t len)
{
    memset(p, 0, 56 + 8 * (size_t)nseg);
    memcpy(p, "EGSQ", 4);
    p[4] = 1;
    p[6] = EG_F64;
    p[7] = (uint8_t)qops;
    p[12] = 3; /* bins */
    p[20] = (uint8_t)nseg;
    double rel = 0.01;
    memcpy(p + 24, &rel, 8);
    for (uint32_t i = 0; i < nseg; i++)
        p[56 + 8 * i] = (uint8_t)len;
    return 56 + 8 * (size_t)nseg;
}

static size_t sqseg_result(uint8_t *buf, const uint8_t *payload, size_t len,
                           uint64_t elements)
{
    eg_frame_result r;
    memset(&r, 0, sizeof r);
    r.task = 1;
    r.attempt = 1;
    r.elements = elements;
    r.bytes = elements * 8;
    strcpy(r.name, "w1");
    r.quant = payload;
    r.quant_len = len;
    return eg_frame_encode_result(buf, BUF, 7, &r);
}

Test(frame, sqseg_task_and_payload)
{
    uint8_t buf[BUF];
    eg_frame_task t;
    memset(&t, 0, sizeof t);
    t.task = 1;
    t.attempt = 1;
    t.kind = EG_TASK_SQSEG;
    t.dtype = EG_F64;
    t.first = 10;
    t.count = 8;
    t.nseg = 2;
    size_t n = eg_frame_encode_task(buf, BUF, 7, &t);
    eg_frame f = decode_ok(buf, n);
    cr_assert_eq(memcmp(&f.u.task, &t, sizeof t), 0);
    expect_exact_size(buf, n);
    eg_frame_task bad = t;
    bad.ops = EG_OPS_BIT(EG_OP_SUM);
    n = eg_frame_encode_task(buf, BUF, 7, &bad);
    expect_bad(buf, n, "sqseg with ops");
    bad = t;
    bad.chunk = 4096;
    n = eg_frame_encode_task(buf, BUF, 7, &bad);
    expect_bad(buf, n, "sqseg with a chunk");
    bad = t;
    bad.nseg = 0;
    n = eg_frame_encode_task(buf, BUF, 7, &bad);
    expect_bad(buf, n, "sqseg without segments");
    bad.nseg = EG_SEGS_MAX + 1;
    n = eg_frame_encode_task(buf, BUF, 7, &bad);
    expect_bad(buf, n, "sqseg with too many segments");
    bad = t;
    bad.kind = EG_TASK_SQSEG + 1;
    n = eg_frame_encode_task(buf, BUF, 7, &bad);
    expect_bad(buf, n, "unknown kind");

    /* A worker's payload for two segments of 4 */
    uint8_t params[56 + 16];
    size_t plen = sqseg_params(params, EG_QOP_MEDIAN | EG_QOP_HIST, 2, 4);
    double x[8] = {1, 2, 3, 4, -1, 0.5, 8, 2};
    eg_error err = {0};
    cr_assert_eq(eg_sqgrid_params_check(params, plen, EG_F64, 0, 2, 8, &err),
                 EG_OK, "%s", err.msg);
    uint8_t *payload;
    size_t len;
    cr_assert_eq(eg_sqgrid_task_run(NULL, params, plen, x, 8, EG_F64,
                                    &payload, &len, &err),
                 EG_OK, "%s", err.msg);
    n = sqseg_result(buf, payload, len, 8);
    cr_assert_gt(n, 0);
    f = decode_ok(buf, n);
    cr_assert_eq(f.u.result.quant_len, len);
    cr_assert_eq(f.u.result.nstates, 0);
    expect_exact_size(buf, n);
    /* the element count must be the payload's */
    n = sqseg_result(buf, payload, len, 9);
    expect_bad(buf, n, "elements disagree");
    uint8_t *p = malloc(len + 8);
    struct { size_t at; uint8_t v; const char *what; } damage[] = {
        {4, 2, "version"},
        {6, 0x40, "unknown ops"},
        {7, 2, "unknown flags"},
        {8, 0, "no segments"},
        {16, 0, "hist without bins"},
        {40, 5, "a segment longer than the payload's elements"},
        {48, 9, "a value of unknown kind"},
        {57, 3, "a bin count the segment cannot hold"},
    };
    for (size_t i = 0; i < sizeof damage / sizeof damage[0]; i++) {
        memcpy(p, payload, len);
        p[damage[i].at] = damage[i].v;
        n = sqseg_result(buf, p, len, 8);
        expect_bad(buf, n, damage[i].what);
    }
    /* counts that do not add up: one more in the first bin */
    memcpy(p, payload, len);
    p[40 + 8 + 9] += 1;
    n = sqseg_result(buf, p, len, 8);
    expect_bad(buf, n, "hist counts above the segment");
    /* one byte short, one byte more */
    memcpy(p, payload, len);
    n = sqseg_result(buf, p, len - 1, 8);
    expect_bad(buf, n, "payload one byte short");
    p[len] = 0;
    n = sqseg_result(buf, p, len + 1, 8);
    expect_bad(buf, n, "payload one byte long");
    free(p);
    free(payload);
}
