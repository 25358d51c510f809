/* test_stream.c - the stream modules below the command line: windows fold
 * their records into the engine's states (exact mode: the same bits however
 * the buffers cut them), stream frames round-trip and refuse damage, and
 * the collector merges a window's boxes to the same bits in any arrival
 * order, taking each box once (a count window once per box and epoch),
 * and its printed set survives a restart through its journal. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdone.h"
#include "collect.h"
#include "decimal.h"
#include "sframe.h"
#include "window.h"

#define N 20000

typedef struct got {
    eg_state st[2];
    uint64_t count, late;
    int64_t start;
    int n;
} got;

static void keep(void *ctx, const eg_win_closed *c)
{
    got *g = ctx;
    cr_assert_lt(g->n, 1, "one window expected");
    memcpy(g->st, c->states, c->channels * sizeof *g->st);
    g->count = c->count;
    g->late = c->late;
    g->start = c->start;
    g->n++;
}

static void one_window(size_t budget, unsigned groups, const double *x, got *g)
{
    eg_win_cfg cfg = {.kind = EG_WIN_COUNT,
                      .count = N,
                      .channels = 2,
                      .dtype = EG_F64,
                      .groups = groups,
                      .buffer_budget = budget};
    eg_win *w = NULL;
    eg_error err;
    cr_assert_eq(eg_win_open(&w, &cfg, &err), EG_OK);
    memset(g, 0, sizeof *g);
    /* in uneven batches, as reads deliver them */
    for (uint64_t at = 0, step = 1; at < N;
         at += step, step = step * 3 % 997 + 1) {
        uint64_t take = step < N - at ? step : N - at;
        cr_assert_eq(eg_win_add(w, "", 0, 0, x + 2 * at, take, keep, g, &err),
                     EG_OK);
    }
    cr_assert_eq(g->n, 1);
    eg_win_close(&w);
}

static double *data(void)
{
    double *x = malloc(2 * N * sizeof *x);
    uint64_t s = 42;
    for (int i = 0; i < 2 * N; i++)
        x[i] = ((double)(eg_splitmix64(&s) >> 11) - 0x1p52) *
               (i % 7 == 0 ? 1e10 : 1e-3);
    return x;
}

Test(stream_window, exact_states_do_not_depend_on_buffering)
{
    double *x = data();
    unsigned g = eg_groups_for_ops(EG_OPS_DEFAULT) | EG_G_EXACT;
    got small, big;
    one_window(0, g, x, &small);       /* folds every 16 records */
    one_window(64u << 20, g, x, &big); /* folds every lane */
    cr_assert_eq(small.count, N);
    for (int c = 0; c < 2; c++) {
        uint8_t a[4096], b[4096];
        size_t na = eg_state_encode(&small.st[c], a, sizeof a);
        size_t nb = eg_state_encode(&big.st[c], b, sizeof b);
        cr_assert(na > 0 && na == nb && memcmp(a, b, na) == 0,
                  "channel %d: exact states differ", c);
    }
    free(x);
}

/* Fast windows keep compact states (window.c): the bits are a full
 * state's folded over the same cuts (every 16 records with no budget). */
Test(stream_window, compact_fast_states_keep_the_bits)
{
    double *x = data();
    unsigned g = eg_groups_for_ops(EG_OPS_DEFAULT | EG_OPS_BIT(EG_OP_ARGMIN));
    got w;
    one_window(0, g, x, &w);
    double *col = malloc(N * sizeof *col);
    for (int c = 0; c < 2; c++) {
        for (int i = 0; i < N; i++)
            col[i] = x[2 * i + c];
        eg_state ref;
        eg_state_init(&ref, EG_F64, g);
        for (uint64_t at = 0; at < N; at += 16)
            eg_state_fold_values(&ref, col + at, N - at < 16 ? N - at : 16,
                                 EG_F64, g, at);
        uint8_t a[4096], b[4096];
        size_t na = eg_state_encode(&w.st[c], a, sizeof a);
        size_t nb = eg_state_encode(&ref, b, sizeof b);
        cr_assert(na > 0 && na == nb && memcmp(a, b, na) == 0,
                  "channel %d: the compact state's bits differ", c);
    }
    free(col);
    free(x);
}

Test(stream_window, fast_state_is_the_engine_s)
{
    double *x = data();
    unsigned g = eg_groups_for_ops(EG_OPS_DEFAULT);
    got w;
    one_window(64u << 20, g, x, &w);
    /* channel 0 alone, reduced by the engine's public call */
    double *col = malloc(N * sizeof *col);
    for (int i = 0; i < N; i++)
        col[i] = x[2 * i];
    eg_engine *e = NULL;
    eg_error err;
    cr_assert_eq(eg_engine_open(&e, "host", &err), EG_OK);
    eg_reduce_opts o;
    eg_reduce_opts_init(&o);
    eg_result want, have;
    cr_assert_eq(eg_reduce(e, col, NULL, N, EG_F64, &o, &want, &err), EG_OK);
    cr_assert_eq(eg_state_finalize(&w.st[0], o.ops, o.nan, 0, &have, &err),
                 EG_OK);
    /* a window folds lane by lane in arrival order, the engine's chunk
     * does the same over one lane grid: the same values */
    for (int op = 0; op < EG_OP_COUNT_ALL; op++)
        if (o.ops & EG_OPS_BIT(op))
            cr_assert(have.value[op].kind == want.value[op].kind &&
                          memcmp(&have.value[op].v, &want.value[op].v,
                                 sizeof have.value[op].v) == 0,
                      "%s differs", eg_op_name((eg_op)op));
    eg_engine_close(&e);
    free(col);
    free(x);
}

/* ------------------------------------------------------------- frames */

static eg_sf_window sample(const char *box, eg_state *st, const double *x,
                           uint64_t n)
{
    eg_sf_window w;
    memset(&w, 0, sizeof w);
    snprintf(w.h.box, sizeof w.h.box, "%s", box);
    w.h.has_key = 1;
    snprintf(w.h.key, sizeof w.h.key, "k7");
    w.h.kind = EG_WIN_TIME;
    w.h.start = 1000000;
    w.h.end = 2000000;
    w.h.epoch = 7;
    w.count = n;
    w.ops = EG_OPS_DEFAULT | EG_OPS_BIT(EG_OP_ARGMIN);
    w.mode = EG_MODE_EXACT;
    w.dtype = EG_F64;
    w.channels = 1;
    w.moments = st;
    eg_state_of_values(x, n, EG_F64, eg_groups_for_ops(w.ops) | EG_G_EXACT, 0,
                       st);
    return w;
}

Test(stream_frame, round_trip_and_damage)
{
    double x[100];
    for (int i = 0; i < 100; i++)
        x[i] = i * 0.1;
    eg_state st, back;
    eg_sf_window w = sample("b1", &st, x, 100), d;
    uint8_t buf[8192];
    size_t n = eg_sf_encode_window(&w, buf, sizeof buf);
    cr_assert_gt(n, 0);
    memset(&d, 0, sizeof d);
    d.moments = &back;
    int type;
    eg_error err;
    cr_assert_eq(eg_sf_decode(buf, n, &type, &d, &err), EG_OK, "%s", err.msg);
    cr_assert_eq(type, EG_SF_WINDOW);
    cr_assert_str_eq(d.h.box, "b1");
    cr_assert_str_eq(d.h.key, "k7");
    cr_assert_eq(d.count, 100);
    for (size_t cut = 0; cut < n; cut += 7)
        cr_assert_eq(eg_sf_decode(buf, cut, &type, &d, &err), EG_EINPUT);
    buf[n - 1] ^= 1; /* a count that disagrees, or a state that is off */
    uint8_t pad[8200];
    memcpy(pad, buf, n);
    pad[n - 1] ^= 1;
    pad[n] = 0;
    cr_assert_eq(eg_sf_decode(pad, n + 1, &type, &d, &err), EG_EINPUT);
    cr_assert(strstr(err.msg, "stream frame: ") == err.msg, "%s", err.msg);
    cr_assert_eq(d.h.epoch, 7);
}

Test(stream_frame, old_versions_refused_by_name)
{
    double x[10] = {1, 2, 3};
    eg_state st, back;
    eg_sf_window w = sample("b1", &st, x, 10), d;
    uint8_t buf[8192];
    size_t n = eg_sf_encode_window(&w, buf, sizeof buf);
    cr_assert_gt(n, 0);
    cr_assert_eq(buf[4], EG_SF_VERSION);
    for (uint8_t v = 1; v < EG_SF_VERSION; v++) {
        buf[4] = v;
        memset(&d, 0, sizeof d);
        d.moments = &back;
        int type;
        eg_error err;
        cr_assert_eq(eg_sf_decode(buf, n, &type, &d, &err), EG_EINPUT);
        cr_assert_eq(d.h.version, v);
        cr_assert(strstr(err.msg, "has no box epoch") != NULL, "%s", err.msg);
    }
}

/* ---------------------------------------------------------- collector */

typedef struct lines {
    uint8_t enc[4096];
    size_t n;
    int printed;
    unsigned nboxes;
} lines;

static void on_line(void *ctx, const eg_coll_line *l)
{
    lines *o = ctx;
    o->n = eg_state_encode(&l->w->moments[0], o->enc, sizeof o->enc);
    o->printed++;
    o->nboxes = l->nboxes;
}

static void on_ack(void *ctx, const uint8_t *rid, size_t len,
                   const eg_sf_head *h)
{
    (void)ctx;
    (void)rid;
    (void)len;
    (void)h;
}

Test(stream_collect, any_arrival_order_same_bits)
{
    static const char *names[] = {"a", "b", "c"};
    static const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                     {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    double x[3][500];
    for (int b = 0; b < 3; b++)
        for (int i = 0; i < 500; i++)
            x[b][i] = (b + 1) * 1e8 + i * 0.37 - (i % 3) * 1e-9;
    uint8_t first[4096];
    size_t first_n = 0;
    for (int o = 0; o < 6; o++) {
        eg_coll_cfg cfg = {.expect = names, .nexpect = 3, .wait_s = 60};
        eg_coll *c = NULL;
        eg_error err;
        cr_assert_eq(eg_coll_open(&c, &cfg, &err), EG_OK);
        lines out = {0};
        for (int k = 0; k < 3; k++) {
            int b = orders[o][k];
            eg_state st;
            eg_sf_window w = sample(names[b], &st, x[b], 500);
            uint8_t rid[1] = {(uint8_t)b};
            cr_assert_eq(
                eg_coll_take(c, &w, rid, 1, 0, on_line, on_ack, &out, &err),
                EG_OK);
            if (k == 0) /* a copy: dropped, counted */
                cr_assert_eq(
                    eg_coll_take(c, &w, rid, 1, 0, on_line, on_ack, &out, &err),
                    EG_OK);
        }
        eg_coll_totals t;
        eg_coll_totals_get(c, &t);
        cr_assert_eq(out.printed, 1);
        cr_assert_eq(out.nboxes, 3);
        cr_assert_eq(t.duplicates, 1);
        cr_assert_eq(t.states, 3);
        if (o == 0) {
            memcpy(first, out.enc, out.n);
            first_n = out.n;
        } else {
            cr_assert(out.n == first_n && memcmp(out.enc, first, out.n) == 0,
                      "order %d gives other bits", o);
        }
        eg_coll_close(&c);
    }
}

/* Count windows restart their numbering with their box: a restarted box's
 * window [0, 100) of a new epoch is new data, a copy of either epoch is
 * not, and a box named missing when the window was printed is late. */
typedef struct tally {
    int printed;
    uint64_t count;
    unsigned nboxes, nmissing;
} tally;

static void on_tally(void *ctx, const eg_coll_line *l)
{
    tally *t = ctx;
    t->printed++;
    t->count += l->w->count;
    t->nboxes = l->nboxes;
    t->nmissing = l->nmissing;
}

static eg_sf_window count_window(const char *box, uint64_t epoch,
                                 eg_state *st, const double *x)
{
    eg_sf_window w = sample(box, st, x, 100);
    w.h.kind = EG_WIN_COUNT;
    w.h.start = 0;
    w.h.end = 100;
    w.h.epoch = epoch;
    return w;
}

Test(stream_collect, count_windows_of_a_restarted_box)
{
    static const char *names[] = {"a", "b"};
    double x[100];
    for (int i = 0; i < 100; i++)
        x[i] = i;
    eg_coll_cfg cfg = {.expect = names, .nexpect = 2, .wait_s = 1};
    eg_coll *c = NULL;
    eg_error err;
    cr_assert_eq(eg_coll_open(&c, &cfg, &err), EG_OK);
    tally t = {0};
    uint8_t rid[1] = {1};
    eg_state st;
    eg_sf_window a1 = count_window("a", 11, &st, x);
    cr_assert_eq(eg_coll_take(c, &a1, rid, 1, 0, on_tally, on_ack, &t, &err),
                 EG_OK);
    /* a restarts before b reports: its new [0, 100) joins the window */
    eg_state st2;
    eg_sf_window a2 = count_window("a", 12, &st2, x);
    cr_assert_eq(eg_coll_take(c, &a2, rid, 1, 0, on_tally, on_ack, &t, &err),
                 EG_OK);
    cr_assert_eq(t.printed, 0, "two epochs of a are still one box");
    eg_coll_tick(c, 2, on_tally, on_ack, &t);
    cr_assert_eq(t.printed, 1);
    cr_assert_eq(t.count, 200);
    cr_assert_eq(t.nboxes, 1);
    cr_assert_eq(t.nmissing, 1);
    /* copies of either epoch, and b past the wait: printed already */
    eg_state st3;
    eg_sf_window b1 = count_window("b", 5, &st3, x);
    cr_assert_eq(eg_coll_take(c, &a1, rid, 1, 3, on_tally, on_ack, &t, &err),
                 EG_OK);
    cr_assert_eq(eg_coll_take(c, &a2, rid, 1, 3, on_tally, on_ack, &t, &err),
                 EG_OK);
    cr_assert_eq(eg_coll_take(c, &b1, rid, 1, 3, on_tally, on_ack, &t, &err),
                 EG_OK);
    /* a third start of a: new records, a new line */
    eg_state st4;
    eg_sf_window a3 = count_window("a", 13, &st4, x);
    cr_assert_eq(eg_coll_take(c, &a3, rid, 1, 3, on_tally, on_ack, &t, &err),
                 EG_OK);
    eg_coll_tick(c, 5, on_tally, on_ack, &t);
    eg_coll_totals tt;
    eg_coll_totals_get(c, &tt);
    cr_assert_eq(tt.after, 3);
    cr_assert_eq(tt.states, 3);
    cr_assert_eq(t.printed, 2);
    cr_assert_eq(t.count, 300);
    eg_coll_close(&c);
}

static void tmpdir(char *dir)
{
    const char *t = getenv("TMPDIR");
    snprintf(dir, 256, "%s/eg-cdone-XXXXXX", t && *t ? t : "/tmp");
    cr_assert_not_null(mkdtemp(dir));
}

static void rm_dir(const char *dir)
{
    char p[512];
    snprintf(p, sizeof p, "%s/printed.log", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/printed.log.tmp", dir);
    unlink(p);
    rmdir(dir);
}

Test(stream_collect, printed_set_survives_a_restart)
{
    char dir[256];
    tmpdir(dir);
    eg_error err;
    eg_cdone *d = NULL;
    cr_assert_eq(eg_cdone_open(&d, dir, 8, &err), EG_OK, "%s", err.msg);
    eg_cdone_id ids[40];
    for (int i = 0; i < 40; i++)
        ids[i] = (eg_cdone_id){(uint64_t)i * 77 + 1, (uint64_t)i ^ 0x5555};
    for (int i = 0; i < 20; i++) /* past 2 x 8: rewritten (renamed) */
        cr_assert_eq(eg_cdone_add(d, &ids[i], 1, &err), EG_OK, "%s", err.msg);
    eg_cdone_close(&d);
    cr_assert_eq(eg_cdone_open(&d, dir, 8, &err), EG_OK, "%s", err.msg);
    for (int i = 0; i < 12; i++)
        cr_assert(!eg_cdone_has(d, ids[i]), "%d is older than the newest 8",
                  i);
    for (int i = 12; i < 20; i++)
        cr_assert(eg_cdone_has(d, ids[i]), "%d lost in the restart", i);
    cr_assert(!eg_cdone_has(d, ids[30]));
    cr_assert_eq(eg_cdone_add(d, &ids[20], 2, &err), EG_OK);
    eg_cdone_close(&d);
    /* a crash mid-record: the torn record is cut, the rest stays */
    char p[512];
    snprintf(p, sizeof p, "%s/printed.log", dir);
    int fd = open(p, O_WRONLY | O_APPEND);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "0123456789", 10), 10);
    close(fd);
    struct stat sb;
    cr_assert_eq(eg_cdone_open(&d, dir, 8, &err), EG_OK, "%s", err.msg);
    cr_assert(eg_cdone_has(d, ids[21]) && eg_cdone_has(d, ids[20]));
    cr_assert_eq(stat(p, &sb), 0);
    cr_assert_eq((sb.st_size - 8) % 24, 0, "torn end not cut");
    eg_cdone_close(&d);
    /* not a journal: refused by name */
    fd = open(p, O_WRONLY | O_TRUNC);
    cr_assert_eq(write(fd, "garbage!", 8), 8);
    close(fd);
    cr_assert_eq(eg_cdone_open(&d, dir, 8, &err), EG_EINPUT);
    cr_assert(strstr(err.msg, "printed.log") != NULL, "%s", err.msg);
    rm_dir(dir);
}

/* The records' number reader gives strtod's bits: on the text of random
 * doubles at every precision and scale, integers, millisecond times, and
 * numbers near the midpoints of two doubles (where its fast path has to
 * hand over), and it refuses what strtod does not take whole. */
static void same_as_strtod(const char *s)
{
    double got = 0;
    char *end = NULL;
    double want = strtod(s, &end);
    int ok = *s && end == s + strlen(s);
    int rc = eg_decimal_parse(s, strlen(s), &got);
    cr_assert_eq(rc == 0, ok, "'%s': taken by one of the two", s);
    if (ok)
        cr_assert(memcmp(&got, &want, sizeof got) == 0,
                  "'%s': %a, strtod %a", s, got, want);
}

Test(stream_records, decimal_is_strtod)
{
    static const char *fixed[] = {
        "0", "-0", "0.0", "00012", "1.", ".5", "-.5", "1e23", "9007199254740993",
        "9007199254740992", "9007199254740995", "18446744073709551615",
        "1844674407370955161", "0.12573022092024163", "1700000000123",
        "71.5", "2.2250738585072011e-308", "4.9e-324", "1.7976931348623157e308",
        "1e309", "1e-400", "0e999", "inf", "-nan", "+5", "0x1p3", "1e", "1e+",
        "-", ".", "", "1.5.2", "12a", "1,5", " 7", "7 ", "5e-27", "5e27",
        "123456789012345678e-27", "1234567890123456789e27",
        "12345678901234567890", "0.000000000000000000000000000001"};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        same_as_strtod(fixed[i]);
    uint64_t seed = 2026;
    char buf[128];
    for (int i = 0; i < 300000; i++) {
        uint64_t r = eg_splitmix64(&seed);
        double d;
        uint64_t bits = eg_splitmix64(&seed);
        switch (r % 6) {
        case 0: /* any finite double, shortest and longer */
            memcpy(&d, &bits, sizeof d);
            if (!isfinite(d))
                d = 1.5;
            snprintf(buf, sizeof buf, "%.*g", 15 + (int)(r >> 8) % 3, d);
            break;
        case 1: /* sensor-like: few digits, within +-1e6 */
            snprintf(buf, sizeof buf, "%.*f", (int)(r >> 8) % 6,
                     ((double)(bits >> 11) / 0x1p53 - 0.5) * 2e6);
            break;
        case 2: /* 16 to 19 digits scaled by 10^-30 .. 10^30 */
            snprintf(buf, sizeof buf, "%llue%d",
                     (unsigned long long)(bits % 10000000000000000000ull),
                     (int)((r >> 8) % 61) - 30);
            break;
        case 3: { /* next to a midpoint of two doubles, in 17 to 19 digits */
            memcpy(&d, &bits, sizeof d);
            d = ldexp(1.0 + (double)(bits >> 12) / 0x1p52,
                      (int)((r >> 8) % 160) - 80);
            double mid = d + (nextafter(d, INFINITY) - d) / 2;
            snprintf(buf, sizeof buf, "%.*e", 16 + (int)(r >> 16) % 3, mid);
            break;
        }
        case 4: /* integers, millisecond times */
            snprintf(buf, sizeof buf, "%lld",
                     (long long)(bits >> ((r >> 8) % 64)) *
                         ((r >> 20) & 1 ? -1 : 1));
            break;
        default: /* small decimals with exponents */
            snprintf(buf, sizeof buf, "%d.%de%d", (int)(bits % 1000),
                     (int)((bits >> 20) % 100000), (int)((r >> 8) % 41) - 20);
            break;
        }
        same_as_strtod(buf);
    }
}

/* A printed window is acknowledged only at the flush that records it
 * (collect.h): take and tick print, flush records and acks. */
static void count_ack(void *ctx, const uint8_t *rid, size_t len,
                      const eg_sf_head *h)
{
    (void)rid;
    (void)len;
    cr_assert_eq(h->epoch, 7);
    (*(int *)ctx)++;
}

static void no_line(void *ctx, const eg_coll_line *l)
{
    (void)ctx;
    (void)l;
}

Test(stream_collect, acks_wait_for_the_record)
{
    char dir[256];
    tmpdir(dir);
    static const char *names[] = {"a", "b"};
    double x[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    eg_coll_cfg cfg = {.expect = names, .nexpect = 2, .wait_s = 60,
                       .state_dir = dir};
    eg_coll *c = NULL;
    eg_error err;
    cr_assert_eq(eg_coll_open(&c, &cfg, &err), EG_OK, "%s", err.msg);
    int acks = 0;
    uint8_t rid[1] = {1};
    eg_state sa, sb;
    eg_sf_window a = sample("a", &sa, x, 10), b = sample("b", &sb, x, 10);
    cr_assert_eq(eg_coll_take(c, &a, rid, 1, 0, no_line, count_ack, &acks,
                              &err), EG_OK);
    cr_assert_eq(eg_coll_take(c, &b, rid, 1, 0, no_line, count_ack, &acks,
                              &err), EG_OK);
    cr_assert_eq(acks, 0, "acknowledged before the record");
    eg_coll_flush(c, count_ack, &acks);
    cr_assert_eq(acks, 2);
    eg_coll_close(&c);
    /* restarted on the directory: a copy is known, acknowledged at once */
    cr_assert_eq(eg_coll_open(&c, &cfg, &err), EG_OK, "%s", err.msg);
    cr_assert_eq(eg_coll_take(c, &a, rid, 1, 0, no_line, count_ack, &acks,
                              &err), EG_OK);
    eg_coll_totals t;
    eg_coll_totals_get(c, &t);
    cr_assert_eq(acks, 3);
    cr_assert_eq(t.after, 1);
    cr_assert_eq(t.recovered, 1);
    eg_coll_close(&c);
    rm_dir(dir);
}
