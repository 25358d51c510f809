/* frame.c - encoding and validating decoding of the grid's frames (layouts
 * in frame.h; bodies below, offsets from the end of the 16-byte header).
 *
 *   READY     u64 session  u32 generation  u32 credit  u32 flags
 *             u8 name_len  name
 *   CREDIT    u32 credit (1..EG_CREDIT_MAX)
 *   TASK      u64 task  u32 attempt  u8 kind  u8 dtype  u8 mode  u8 nan
 *             u8 raw  u8 has_y  u16 name_len  u32 ops  u32 ddof
 *             u64 first  u64 count  u64 chunk  u32 nseg  u64 p0  name
 *   RESULT    u64 task  u32 attempt  u64 elements  u64 bytes  f64 seconds
 *             u8 name_len  u32 states_len  name  states (a container,
 *             or a QUANT task's payload)
 *   FAIL      u64 task  u32 attempt  i32 status  u16 msg_len  msg
 *   RETURN    u64 task  u32 attempt
 *   SHARDQ    u32 count, then count x (u32 index  u8 name_len  name)
 *   SHARDA    u32 count, then count x u32 index
 *   HEARTBEAT, BYE, RESET: no body
 */
#include "frame.h"

#include <math.h>
#include <string.h>

#include "engine_grid.h"
#include "../state/states_wire.h"

#define READY_FIXED 21
#define TASK_FIXED 64
#define RESULT_FIXED 41
#define FAIL_FIXED 18
#define RETURN_FIXED 12

static const char *const type_names[EG_FRAME_TYPE_END] = {
    [EG_FRAME_READY] = "READY",   [EG_FRAME_CREDIT] = "CREDIT",
    [EG_FRAME_HEARTBEAT] = "HEARTBEAT", [EG_FRAME_TASK] = "TASK",
    [EG_FRAME_RESULT] = "RESULT", [EG_FRAME_FAIL] = "FAIL",
    [EG_FRAME_RETURN] = "RETURN", [EG_FRAME_BYE] = "BYE",
    [EG_FRAME_RESET] = "RESET",   [EG_FRAME_SHARDQ] = "SHARDQ",
    [EG_FRAME_SHARDA] = "SHARDA",
};

const char *eg_frame_type_name(unsigned type)
{
    if (type > 0 && type < EG_FRAME_TYPE_END)
        return type_names[type];
    return "unknown";
}

/* ------------------------------------------------------------ raw words */

static uint64_t double_bits(double d)
{
    uint64_t w;
    memcpy(&w, &d, sizeof w);
    return w;
}

static double bits_double(uint64_t w)
{
    double d;
    memcpy(&d, &w, sizeof d);
    return d;
}

static size_t put_header(uint8_t *buf, unsigned type, uint64_t job)
{
    memcpy(buf, EG_FRAME_MAGIC, 4);
    eg_put_le(buf + 4, EG_FRAME_VERSION, 2);
    buf[6] = (uint8_t)type;
    buf[7] = 0;
    eg_put_le(buf + 8, job, 8);
    return EG_FRAME_HEADER;
}

/* ----------------------------------------------------------------- names */

int eg_frame_name_ok(const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return 0;
    return 1;
}

int eg_frame_shard_name_ok(const char *s, size_t len)
{
    if (!eg_frame_name_ok(s, len, EG_SHARD_NAME_MAX) || s[0] == '/')
        return 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '/')
            continue;
        size_t n = i - start;
        if (n == 0 || (n == 1 && s[start] == '.') ||
            (n == 2 && s[start] == '.' && s[start + 1] == '.'))
            return 0;
        start = i + 1;
    }
    return 1;
}

/* Failure messages may hold spaces, nothing unprintable. */
static int text_ok(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] < ' ' || s[i] > '~')
            return 0;
    return 1;
}

static void copy_text(char *dst, const uint8_t *src, size_t len)
{
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* --------------------------------------------------------------- encode */

size_t eg_frame_encode_ready(uint8_t *buf, size_t cap, uint64_t job,
                             const eg_frame_ready *r)
{
    size_t nl = strlen(r->name);
    size_t len = EG_FRAME_HEADER + READY_FIXED + nl;
    if (cap < len || !eg_frame_name_ok(r->name, nl, EG_GRID_NAME_MAX) ||
        r->credit > EG_CREDIT_MAX)
        return 0;
    uint8_t *p = buf + put_header(buf, EG_FRAME_READY, job);
    eg_put_le(p, r->session, 8);
    eg_put_le(p + 8, r->generation, 4);
    eg_put_le(p + 12, r->credit, 4);
    eg_put_le(p + 16, r->flags, 4);
    p[20] = (uint8_t)nl;
    memcpy(p + READY_FIXED, r->name, nl);
    return len;
}

size_t eg_frame_encode_credit(uint8_t *buf, size_t cap, uint64_t job,
                              uint32_t credit)
{
    if (cap < EG_FRAME_HEADER + 4 || credit == 0 || credit > EG_CREDIT_MAX)
        return 0;
    eg_put_le(buf + put_header(buf, EG_FRAME_CREDIT, job), credit, 4);
    return EG_FRAME_HEADER + 4;
}

size_t eg_frame_encode_empty(uint8_t *buf, size_t cap, unsigned type,
                             uint64_t job)
{
    if (cap < EG_FRAME_HEADER ||
        (type != EG_FRAME_HEARTBEAT && type != EG_FRAME_BYE &&
         type != EG_FRAME_RESET))
        return 0;
    return put_header(buf, type, job);
}

size_t eg_frame_encode_task(uint8_t *buf, size_t cap, uint64_t job,
                            const eg_frame_task *t)
{
    size_t nl = strlen(t->shard);
    size_t len = EG_FRAME_HEADER + TASK_FIXED + nl;
    if (cap < len || nl > EG_SHARD_NAME_MAX)
        return 0;
    uint8_t *p = buf + put_header(buf, EG_FRAME_TASK, job);
    eg_put_le(p, t->task, 8);
    eg_put_le(p + 8, t->attempt, 4);
    p[12] = t->kind;
    p[13] = t->dtype;
    p[14] = t->mode;
    p[15] = t->nan;
    p[16] = t->raw;
    p[17] = t->has_y;
    eg_put_le(p + 18, nl, 2);
    eg_put_le(p + 20, t->ops, 4);
    eg_put_le(p + 24, t->ddof, 4);
    eg_put_le(p + 28, t->first, 8);
    eg_put_le(p + 36, t->count, 8);
    eg_put_le(p + 44, t->chunk, 8);
    eg_put_le(p + 52, t->nseg, 4);
    eg_put_le(p + 56, t->p0, 8);
    memcpy(p + TASK_FIXED, t->shard, nl);
    return len;
}

size_t eg_frame_encode_result(uint8_t *buf, size_t cap, uint64_t job,
                              const eg_frame_result *r)
{
    const eg_state *states = r->out_states ? r->out_states : &r->state;
    uint32_t ns = r->out_states ? r->out_n : 1;
    size_t nl = strlen(r->name);
    if (ns == 0 || ns > EG_SEGS_MAX)
        return 0;  /* before the states are read to size them */
    size_t sl = r->quant ? r->quant_len : eg_states_size_of(states, ns);
    size_t len = EG_FRAME_HEADER + RESULT_FIXED + nl + sl;
    if (cap < len || !eg_frame_name_ok(r->name, nl, EG_GRID_NAME_MAX) ||
        (r->quant && (sl > EG_QGRID_PAYLOAD_MAX || sl < 4 ||
                      (memcmp(r->quant, "EGQR", 4) != 0 &&
                       memcmp(r->quant, "EGSR", 4) != 0))))
        return 0;
    uint8_t *p = buf + put_header(buf, EG_FRAME_RESULT, job);
    eg_put_le(p, r->task, 8);
    eg_put_le(p + 8, r->attempt, 4);
    eg_put_le(p + 12, r->elements, 8);
    eg_put_le(p + 20, r->bytes, 8);
    eg_put_le(p + 28, double_bits(r->seconds), 8);
    p[36] = (uint8_t)nl;
    eg_put_le(p + 37, sl, 4);
    memcpy(p + RESULT_FIXED, r->name, nl);
    if (r->quant)
        memcpy(p + RESULT_FIXED + nl, r->quant, sl);
    else if (eg_states_encode(states, ns, p + RESULT_FIXED + nl, sl) != sl)
        return 0;
    return len;
}

size_t eg_frame_result_states_max(void)
{
    return EG_FRAME_HEADER + RESULT_FIXED + EG_GRID_NAME_MAX +
           eg_states_encoded_size(EG_SEGS_MAX);
}

size_t eg_frame_result_max(void)
{
    size_t states = eg_states_encoded_size(EG_SEGS_MAX);
    return EG_FRAME_HEADER + RESULT_FIXED + EG_GRID_NAME_MAX +
           (states > EG_QGRID_PAYLOAD_MAX ? states : EG_QGRID_PAYLOAD_MAX);
}

size_t eg_frame_encode_fail(uint8_t *buf, size_t cap, uint64_t job,
                            const eg_frame_fail *f)
{
    size_t ml = strnlen(f->msg, EG_FAIL_MSG_MAX);
    size_t len = EG_FRAME_HEADER + FAIL_FIXED + ml;
    if (cap < len)
        return 0;
    uint8_t *p = buf + put_header(buf, EG_FRAME_FAIL, job);
    eg_put_le(p, f->task, 8);
    eg_put_le(p + 8, f->attempt, 4);
    eg_put_le(p + 12, (uint32_t)(int32_t)f->status, 4);
    eg_put_le(p + 16, ml, 2);
    /* Anything unprintable in an engine message becomes '?', so the frame
     * always passes its own decoder. */
    for (size_t i = 0; i < ml; i++) {
        char c = f->msg[i];
        p[FAIL_FIXED + i] = (uint8_t)(c < ' ' || c > '~' ? '?' : c);
    }
    return len;
}

size_t eg_frame_encode_return(uint8_t *buf, size_t cap, uint64_t job,
                              uint64_t task, uint32_t attempt)
{
    if (cap < EG_FRAME_HEADER + RETURN_FIXED)
        return 0;
    uint8_t *p = buf + put_header(buf, EG_FRAME_RETURN, job);
    eg_put_le(p, task, 8);
    eg_put_le(p + 8, attempt, 4);
    return EG_FRAME_HEADER + RETURN_FIXED;
}

size_t eg_frame_shardq_size(uint32_t n, size_t names_len)
{
    return EG_FRAME_HEADER + 4 + (size_t)n * 5 + names_len;
}

size_t eg_frame_shardq_begin(uint8_t *buf, size_t cap, uint64_t job,
                             uint32_t n)
{
    if (cap < EG_FRAME_HEADER + 4 || n > EG_SHARDS_MAX)
        return 0;
    eg_put_le(buf + put_header(buf, EG_FRAME_SHARDQ, job), n, 4);
    return EG_FRAME_HEADER + 4;
}

size_t eg_frame_shardq_put(uint8_t *buf, size_t cap, size_t at,
                           uint32_t index, const char *name)
{
    size_t nl = strlen(name);
    if (at == 0 || cap < at || cap - at < 5 + nl ||
        !eg_frame_shard_name_ok(name, nl) || index >= EG_SHARDS_MAX)
        return 0;
    eg_put_le(buf + at, index, 4);
    buf[at + 4] = (uint8_t)nl;
    memcpy(buf + at + 5, name, nl);
    return at + 5 + nl;
}

size_t eg_frame_sharda_size(uint32_t n)
{
    return EG_FRAME_HEADER + 4 + (size_t)n * 4;
}

size_t eg_frame_encode_sharda(uint8_t *buf, size_t cap, uint64_t job,
                              const uint32_t *index, uint32_t n)
{
    size_t len = eg_frame_sharda_size(n);
    if (cap < len || n > EG_SHARDS_MAX)
        return 0;
    uint8_t *p = buf + put_header(buf, EG_FRAME_SHARDA, job);
    eg_put_le(p, n, 4);
    for (uint32_t i = 0; i < n; i++)
        eg_put_le(p + 4 + 4 * (size_t)i, index[i], 4);
    return len;
}

/* --------------------------------------------------------------- decode */

static eg_status bad(eg_error *err, const char *fmt, const char *what)
{
    return eg_error_set(err, EG_EINPUT, fmt, what);
}

static eg_status decode_ready(eg_frame *f, const uint8_t *p, size_t n,
                              eg_error *err)
{
    eg_frame_ready *r = &f->u.ready;
    if (n < READY_FIXED || n != READY_FIXED + (size_t)p[20])
        return bad(err, "frame: %s body has the wrong size", "READY");
    r->session = eg_get_le(p, 8);
    r->generation = (uint32_t)eg_get_le(p + 8, 4);
    r->credit = (uint32_t)eg_get_le(p + 12, 4);
    r->flags = (uint32_t)eg_get_le(p + 16, 4);
    if (r->credit > EG_CREDIT_MAX)
        return bad(err, "frame: %s credit out of range", "READY");
    if (r->flags & ~(uint32_t)EG_READY_SHARDS)
        return bad(err, "frame: %s has unknown flags", "READY");
    if (!eg_frame_name_ok((const char *)p + READY_FIXED, p[20],
                          EG_GRID_NAME_MAX))
        return bad(err, "frame: %s worker name is not printable", "READY");
    copy_text(r->name, p + READY_FIXED, p[20]);
    return EG_OK;
}

static eg_status decode_task(eg_frame *f, const uint8_t *p, size_t n,
                             eg_error *err)
{
    eg_frame_task *t = &f->u.task;
    if (n < TASK_FIXED || n != TASK_FIXED + eg_get_le(p + 18, 2))
        return bad(err, "frame: %s body has the wrong size", "TASK");
    size_t nl = (size_t)eg_get_le(p + 18, 2);
    t->task = eg_get_le(p, 8);
    t->attempt = (uint32_t)eg_get_le(p + 8, 4);
    t->kind = p[12];
    t->dtype = p[13];
    t->mode = p[14];
    t->nan = p[15];
    t->raw = p[16];
    t->has_y = p[17];
    t->ops = (uint32_t)eg_get_le(p + 20, 4);
    t->ddof = (uint32_t)eg_get_le(p + 24, 4);
    t->first = eg_get_le(p + 28, 8);
    t->count = eg_get_le(p + 36, 8);
    t->chunk = eg_get_le(p + 44, 8);
    t->nseg = (uint32_t)eg_get_le(p + 52, 4);
    t->p0 = eg_get_le(p + 56, 8);
    if (t->attempt == 0)
        return bad(err, "frame: %s attempt 0", "TASK");
    if (t->kind > EG_TASK_SQSEG || t->dtype >= EG_DTYPE_COUNT ||
        t->mode > EG_MODE_EXACT || t->nan > EG_NAN_OMIT || t->raw > 1 ||
        t->has_y > 1)
        return bad(err, "frame: %s has an out-of-range enum field", "TASK");
    if (t->chunk % EG_LANE_ELEMS != 0)
        return bad(err, "frame: %s chunk is not a lane multiple", "TASK");
    if (t->kind == EG_TASK_QUANT) {
        /* Its parameters travel in their own part, checked with it. */
        if (t->ops != 0 || t->ddof != 0 || t->has_y || nl != 0 || t->raw ||
            t->nseg != 0 || t->p0 != 0)
            return bad(err, "frame: %s quantile task with ops, dot, a shard "
                       "or segments", "TASK");
        if (t->first > UINT64_MAX - t->count ||
            t->count > EG_TASK_BYTES_MAX / eg_dtype_size(t->dtype))
            return bad(err, "frame: %s range out of bounds", "TASK");
        t->shard[0] = '\0';
        return EG_OK;
    }
    if (t->kind == EG_TASK_SQSEG) {
        /* Whole segments of outputs; the options and lengths travel in
         * their own part, checked with it. */
        if (t->ops != 0 || t->ddof != 0 || t->has_y || nl != 0 || t->raw ||
            t->chunk != 0 || t->p0 != 0)
            return bad(err, "frame: %s segment quantile task with ops, dot, "
                       "a shard or a chunk", "TASK");
        if (t->nseg == 0 || t->nseg > EG_SEGS_MAX ||
            t->first > UINT64_MAX - t->nseg ||
            t->count > EG_TASK_BYTES_MAX / eg_dtype_size(t->dtype))
            return bad(err, "frame: %s segments out of bounds", "TASK");
        t->shard[0] = '\0';
        return EG_OK;
    }
    if (t->kind == EG_TASK_SQUANT) {
        /* A shard's quantile round: a name, no ops, no data, no range. */
        if (t->ops != 0 || t->ddof != 0 || t->has_y || t->first != 0 ||
            t->chunk != 0 || t->nseg != 0 || t->p0 != 0)
            return bad(err, "frame: %s shard quantile task with ops, dot, a "
                       "range or segments", "TASK");
        if (!eg_frame_shard_name_ok((const char *)p + TASK_FIXED, nl))
            return bad(err, "frame: %s shard name is not a safe relative "
                       "path", "TASK");
        copy_text(t->shard, p + TASK_FIXED, nl);
        return EG_OK;
    }
    if (t->ops == 0 || (t->ops >> EG_OP_COUNT_ALL) != 0)
        return bad(err, "frame: %s ops are empty or unknown", "TASK");
    if (!!(t->ops & EG_OPS_BIT(EG_OP_DOT)) != t->has_y)
        return bad(err, "frame: %s dot and the y operand disagree", "TASK");
    if (t->kind == EG_TASK_SEGS) {
        if (nl != 0 || t->raw)
            return bad(err, "frame: %s segments task names a shard", "TASK");
        if (t->nseg == 0 || t->nseg > EG_SEGS_MAX || t->chunk == 0 ||
            t->p0 % t->chunk != 0 || t->first > UINT64_MAX - t->nseg ||
            t->count > EG_TASK_BYTES_MAX / eg_dtype_size(t->dtype))
            return bad(err, "frame: %s segments out of bounds", "TASK");
        t->shard[0] = '\0';
        return EG_OK;
    }
    if (t->nseg != 0 || t->p0 != 0)
        return bad(err, "frame: %s flat task with segments", "TASK");
    if (t->kind == EG_TASK_INLINE) {
        if (nl != 0 || t->raw)
            return bad(err, "frame: %s inline task names a shard", "TASK");
        if (t->first > UINT64_MAX - t->count ||
            t->count > EG_TASK_BYTES_MAX / eg_dtype_size(t->dtype))
            return bad(err, "frame: %s range out of bounds", "TASK");
        t->shard[0] = '\0';
        return EG_OK;
    }
    if (t->has_y || t->first != 0)
        return bad(err, "frame: %s shard task with a range or dot", "TASK");
    if (!eg_frame_shard_name_ok((const char *)p + TASK_FIXED, nl))
        return bad(err, "frame: %s shard name is not a safe relative path",
                   "TASK");
    copy_text(t->shard, p + TASK_FIXED, nl);
    return EG_OK;
}

/* A segment quantile task carries what one task may carry. */
_Static_assert(EG_SQGRID_TASK_BYTES_MAX <= EG_TASK_BYTES_MAX,
               "segment quantile tasks above the task limit");

static eg_status decode_result(eg_frame *f, const uint8_t *p, size_t n,
                               eg_error *err)
{
    eg_frame_result *r = &f->u.result;
    if (n < RESULT_FIXED ||
        n != RESULT_FIXED + (size_t)p[36] + (size_t)eg_get_le(p + 37, 4))
        return bad(err, "frame: %s body has the wrong size", "RESULT");
    size_t nl = p[36], sl = (size_t)eg_get_le(p + 37, 4);
    r->task = eg_get_le(p, 8);
    r->attempt = (uint32_t)eg_get_le(p + 8, 4);
    r->elements = eg_get_le(p + 12, 8);
    r->bytes = eg_get_le(p + 20, 8);
    r->seconds = bits_double(eg_get_le(p + 28, 8));
    if (r->attempt == 0)
        return bad(err, "frame: %s attempt 0", "RESULT");
    if (!isfinite(r->seconds) || r->seconds < 0)
        return bad(err, "frame: %s seconds not a finite time", "RESULT");
    if (!eg_frame_name_ok((const char *)p + RESULT_FIXED, nl,
                          EG_GRID_NAME_MAX))
        return bad(err, "frame: %s worker name is not printable", "RESULT");
    copy_text(r->name, p + RESULT_FIXED, nl);
    eg_error why;
    const uint8_t *c = p + RESULT_FIXED + nl;
    uint64_t elements = 0;
    r->quant = NULL;
    r->quant_len = 0;
    int squant = sl >= 4 && memcmp(c, "EGSR", 4) == 0;
    if (squant || (sl >= 4 && memcmp(c, "EGQR", 4) == 0)) {
        if ((squant ? eg_sqgrid_payload_check
                    : eg_qgrid_payload_check)(c, sl, &elements, &why) !=
            EG_OK)
            return eg_error_set(err, EG_EINPUT, "frame: RESULT %s", why.msg);
        memset(&r->state, 0, sizeof r->state);
        r->states = NULL;
        r->states_len = 0;
        r->nstates = 0;
        r->quant = c;
        r->quant_len = sl;
        if (r->elements != elements)
            return bad(err, "frame: %s element count disagrees with its "
                       "payload", "RESULT");
        if (r->bytes / 8 > r->elements)
            return bad(err, "frame: %s byte count out of range", "RESULT");
        return EG_OK;
    }
    if (eg_states_check(c, sl, EG_SEGS_MAX, &r->nstates, &why) != EG_OK)
        return eg_error_set(err, EG_EINPUT, "frame: RESULT %s", why.msg);
    for (uint32_t i = 0; i < r->nstates; i++) {
        eg_state s;
        if (eg_states_get(c, sl, i, i ? &s : &r->state, &why) != EG_OK)
            return eg_error_set(err, EG_EINPUT, "frame: RESULT %s", why.msg);
        uint64_t k = i ? s.n : r->state.n;
        if (k > UINT64_MAX - elements)
            return bad(err, "frame: %s element counts overflow", "RESULT");
        elements += k;
    }
    r->states = c;
    r->states_len = sl;
    if (r->elements != elements)
        return bad(err, "frame: %s element count disagrees with its state",
                   "RESULT");
    /* At most two operands of at most 8 bytes per element. */
    if (r->bytes / 16 > r->elements)
        return bad(err, "frame: %s byte count out of range", "RESULT");
    return EG_OK;
}

/* A status the engine can return, other than success. */
static int known_status(int32_t s)
{
    switch (s) {
#define EG_XX_KNOWN(name, value, cls, text)                                 \
    case value:                                                             \
        return value != 0;
        EG_ERRNO_MAP(EG_XX_KNOWN)
#undef EG_XX_KNOWN
    }
    return 0;
}

static eg_status decode_fail(eg_frame *f, const uint8_t *p, size_t n,
                             eg_error *err)
{
    eg_frame_fail *x = &f->u.fail;
    if (n < FAIL_FIXED || n != FAIL_FIXED + eg_get_le(p + 16, 2))
        return bad(err, "frame: %s body has the wrong size", "FAIL");
    size_t ml = (size_t)eg_get_le(p + 16, 2);
    x->task = eg_get_le(p, 8);
    x->attempt = (uint32_t)eg_get_le(p + 8, 4);
    int32_t st = (int32_t)(uint32_t)eg_get_le(p + 12, 4);
    if (x->attempt == 0 || !known_status(st))
        return bad(err, "frame: %s has attempt 0 or an unknown status",
                   "FAIL");
    x->status = (eg_status)st;
    if (ml > EG_FAIL_MSG_MAX || !text_ok(p + FAIL_FIXED, ml))
        return bad(err, "frame: %s message too long or unprintable", "FAIL");
    copy_text(x->msg, p + FAIL_FIXED, ml);
    return EG_OK;
}

static eg_status decode_shardq(eg_frame *f, const uint8_t *p, size_t n,
                               eg_error *err)
{
    if (n < 4)
        return bad(err, "frame: %s body has the wrong size", "SHARDQ");
    uint64_t count = eg_get_le(p, 4);
    if (count > EG_SHARDS_MAX)
        return bad(err, "frame: %s lists too many shards", "SHARDQ");
    size_t at = 4;
    for (uint64_t i = 0; i < count; i++) {
        if (n - at < 5 || n - at - 5 < p[at + 4])
            return bad(err, "frame: %s entry runs past the frame", "SHARDQ");
        if (eg_get_le(p + at, 4) >= EG_SHARDS_MAX ||
            !eg_frame_shard_name_ok((const char *)p + at + 5, p[at + 4]))
            return bad(err, "frame: %s entry has a bad index or name",
                       "SHARDQ");
        at += 5 + (size_t)p[at + 4];
    }
    if (at != n)
        return bad(err, "frame: %s has trailing bytes", "SHARDQ");
    f->u.shards.body = p;
    f->u.shards.count = (uint32_t)count;
    return EG_OK;
}

static eg_status decode_sharda(eg_frame *f, const uint8_t *p, size_t n,
                               eg_error *err)
{
    if (n < 4 || eg_get_le(p, 4) > EG_SHARDS_MAX || n != 4 + 4 * eg_get_le(p, 4))
        return bad(err, "frame: %s body has the wrong size", "SHARDA");
    uint32_t count = (uint32_t)eg_get_le(p, 4);
    for (uint32_t i = 0; i < count; i++)
        if (eg_get_le(p + 4 + 4 * (size_t)i, 4) >= EG_SHARDS_MAX)
            return bad(err, "frame: %s index out of range", "SHARDA");
    f->u.shards.body = p;
    f->u.shards.count = count;
    return EG_OK;
}

eg_status eg_frame_decode(eg_frame *f, const uint8_t *buf, size_t len,
                          unsigned expect, eg_error *err)
{
    memset(f, 0, sizeof *f);
    if (len < EG_FRAME_HEADER)
        return eg_error_set(err, EG_EINPUT, "frame: %zu bytes, shorter than "
                            "a header", len);
    if (memcmp(buf, EG_FRAME_MAGIC, 4) != 0)
        return eg_error_set(err, EG_EINPUT, "frame: bad magic");
    unsigned version = (unsigned)eg_get_le(buf + 4, 2);
    if (version != EG_FRAME_VERSION)
        return eg_error_set(err, EG_EINPUT, "frame: version %u, this build "
                            "speaks %u", version, EG_FRAME_VERSION);
    f->type = buf[6];
    f->job = eg_get_le(buf + 8, 8);
    if (buf[7] != 0)
        return eg_error_set(err, EG_EINPUT, "frame: reserved byte set");
    if (f->type == 0 || f->type >= EG_FRAME_TYPE_END ||
        !(expect & EG_FRAME_BIT(f->type)))
        return eg_error_set(err, EG_EINPUT, "frame: type %u (%s) not "
                            "expected here", f->type,
                            eg_frame_type_name(f->type));
    const uint8_t *p = buf + EG_FRAME_HEADER;
    size_t n = len - EG_FRAME_HEADER;
    switch (f->type) {
    case EG_FRAME_READY: return decode_ready(f, p, n, err);
    case EG_FRAME_CREDIT:
        if (n != 4 || eg_get_le(p, 4) == 0 || eg_get_le(p, 4) > EG_CREDIT_MAX)
            return bad(err, "frame: %s size or value out of range", "CREDIT");
        f->u.credit = (uint32_t)eg_get_le(p, 4);
        return EG_OK;
    case EG_FRAME_TASK: return decode_task(f, p, n, err);
    case EG_FRAME_RESULT: return decode_result(f, p, n, err);
    case EG_FRAME_FAIL: return decode_fail(f, p, n, err);
    case EG_FRAME_RETURN:
        if (n != RETURN_FIXED || eg_get_le(p + 8, 4) == 0)
            return bad(err, "frame: %s body has the wrong size", "RETURN");
        f->u.ret.task = eg_get_le(p, 8);
        f->u.ret.attempt = (uint32_t)eg_get_le(p + 8, 4);
        return EG_OK;
    case EG_FRAME_SHARDQ: return decode_shardq(f, p, n, err);
    case EG_FRAME_SHARDA: return decode_sharda(f, p, n, err);
    default: /* HEARTBEAT, BYE, RESET */
        if (n != 0)
            return eg_error_set(err, EG_EINPUT, "frame: %s carries a body",
                                eg_frame_type_name(f->type));
        return EG_OK;
    }
}

eg_status eg_frame_task_check_parts(const eg_frame_task *t, size_t x_len,
                                    int have_y, size_t y_len, eg_error *err)
{
    uint64_t want = t->count * eg_dtype_size(t->dtype);
    if (t->kind == EG_TASK_SHARD || t->kind == EG_TASK_SQUANT)
        return x_len == 0 && !have_y
                   ? EG_OK
                   : bad(err, "frame: %s shard task carries data", "TASK");
    if (x_len != want)
        return eg_error_set(err, EG_EINPUT, "frame: TASK %llu carries %zu "
                            "data bytes, its range needs %llu",
                            (unsigned long long)t->task, x_len,
                            (unsigned long long)want);
    if (have_y != t->has_y || (have_y && y_len != want))
        return eg_error_set(err, EG_EINPUT, "frame: TASK %llu y operand "
                            "missing or of the wrong size",
                            (unsigned long long)t->task);
    return EG_OK;
}

eg_status eg_frame_task_lens(const eg_frame_task *t, const uint8_t *part,
                             size_t len, uint64_t *lens, eg_error *err)
{
    if (t->kind != EG_TASK_SEGS || len != (size_t)t->nseg * 4)
        return eg_error_set(err, EG_EINPUT, "frame: TASK %llu segment "
                            "lengths missing or of the wrong size",
                            (unsigned long long)t->task);
    uint64_t sum = 0;
    for (uint32_t i = 0; i < t->nseg; i++) {
        lens[i] = eg_get_le(part + 4 * (size_t)i, 4);
        if (lens[i] > t->chunk)
            return eg_error_set(err, EG_EINPUT, "frame: TASK %llu segment "
                                "%u is longer than a chunk",
                                (unsigned long long)t->task, i);
        sum += lens[i];
    }
    if (sum != t->count)
        return eg_error_set(err, EG_EINPUT, "frame: TASK %llu segment "
                            "lengths add up to %llu, not its %llu elements",
                            (unsigned long long)t->task,
                            (unsigned long long)sum,
                            (unsigned long long)t->count);
    return EG_OK;
}

void eg_frame_put_lens(uint8_t *part, const uint64_t *lens, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        eg_put_le(part + 4 * (size_t)i, lens[i], 4);
}

int eg_frame_shardq_next(const eg_frame *f, eg_shardq_iter *it,
                         uint32_t *index, char name[EG_SHARD_NAME_MAX + 1])
{
    /* Entries were validated by the decoder. */
    const uint8_t *p = f->u.shards.body;
    if (it->seen >= f->u.shards.count)
        return 0;
    if (it->at == 0)
        it->at = 4;
    *index = (uint32_t)eg_get_le(p + it->at, 4);
    copy_text(name, p + it->at + 5, p[it->at + 4]);
    it->at += 5 + (size_t)p[it->at + 4];
    it->seen++;
    return 1;
}

uint32_t eg_frame_sharda_get(const eg_frame *f, uint32_t i)
{
    return (uint32_t)eg_get_le(f->u.shards.body + 4 + 4 * (size_t)i, 4);
}
