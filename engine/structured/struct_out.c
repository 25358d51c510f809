/* struct_out.c - where a structured job's states end up (eg_struct_out in
 * structured.h): finalized into the result arrays, or kept per chunk until
 * the segment's chunks merge in chunk order.  Shared by the one-box run
 * (struct_run.c) and the grid's collector (struct_grid.c), so both finish
 * every output the same way. */
/* MADV_HUGEPAGE is a Linux extension. */
#define _DEFAULT_SOURCE 1
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "engine_devs.h"
#include "error.h"
#include "structured.h"

unsigned eg_struct_groups(const eg_struct_plan *p, const eg_reduce_opts *o)
{
    return eg_groups_for(o->ops, o->mode, p->dtype);
}

/* A result array of `bytes`: large ones on 2 MiB boundaries and asked for
 * huge pages, as one output per short row writes megabytes that 4 KiB
 * pages would fault in one by one (measured ~10% of an --axis -1 run on
 * [8Mi, 8]).  Freed by free(). */
#define HUGE_BYTES ((size_t)2 << 20)
static void *result_array(size_t bytes)
{
#if defined(MADV_HUGEPAGE)
    if (bytes >= 2 * HUGE_BYTES) {
        void *q = NULL;
        size_t n = (bytes + HUGE_BYTES - 1) / HUGE_BYTES * HUGE_BYTES;
        if (posix_memalign(&q, HUGE_BYTES, n) != 0)
            return NULL;
        (void)madvise(q, n, MADV_HUGEPAGE); /* a hint: failure is fine */
        return q;
    }
#endif
    return malloc(bytes);
}

eg_status eg_struct_out_init(eg_struct_out *so, const eg_struct_plan *p,
                             const eg_reduce_opts *o, uint64_t chunk,
                             eg_error *err)
{
    memset(so, 0, sizeof *so);
    so->p = p;
    so->o = o;
    so->groups = eg_struct_groups(p, o);
    so->chunk = chunk;
    uint64_t n = p->nout ? p->nout : 1;
    for (unsigned op = 0; op < EG_OP_COUNT_ALL; op++) {
        if (!(o->ops & EG_OPS_BIT(op)))
            continue;
        so->vals[op] = result_array(n * sizeof *so->vals[op]);
        so->dkind[op] = op == EG_OP_COUNT ? EG_NUM_U64
                        : op == EG_OP_ARGMIN || op == EG_OP_ARGMAX
                            ? EG_NUM_I64
                            : EG_NUM_F64;
        atomic_init(&so->kinds[op], NULL);
        if (!so->vals[op])
            return eg_error_set(err, EG_ENOMEM,
                                "structured: no memory for %llu results",
                                (unsigned long long)p->nout);
    }
    so->sbase = malloc((p->ngroups ? p->ngroups : 1) * sizeof *so->sbase);
    if (!so->sbase)
        return eg_error_set(err, EG_ENOMEM, "structured: out of memory");
    uint64_t slots = 0;
    for (uint64_t g = 0; g < p->ngroups; g++) {
        uint64_t nc = eg_struct_chunks(eg_struct_group_len(p, g), chunk);
        so->sbase[g] = nc == 1 ? UINT64_MAX : slots;
        if (nc > 1)
            slots += p->rest * nc;
    }
    if (slots > 0) {
        so->states = malloc(slots * sizeof *so->states);
        if (!so->states)
            return eg_error_set(err, EG_ENOMEM,
                                "structured: no memory for %llu chunk states",
                                (unsigned long long)slots);
    }
    return EG_OK;
}

/* The op's byte per output, allocated zeroed by the first thread that
 * needs it (the others free theirs); NULL when there is no memory. */
static unsigned char *odd_kinds(eg_struct_out *so, unsigned op)
{
    unsigned char *k = atomic_load_explicit(&so->kinds[op],
                                            memory_order_acquire);
    if (k)
        return k;
    unsigned char *mine = calloc(so->p->nout ? so->p->nout : 1, 1);
    if (!mine)
        return NULL;
    if (atomic_compare_exchange_strong_explicit(&so->kinds[op], &k, mine,
                                                memory_order_acq_rel,
                                                memory_order_acquire))
        return mine;
    free(mine);
    return k;
}

eg_status eg_struct_out_store(eg_struct_out *so, uint64_t e, const eg_state *s,
                              eg_result *tmp, eg_error *why)
{
    const eg_reduce_opts *o = so->o;
    eg_status st = eg_state_finalize(s, o->ops, o->nan, o->ddof, tmp, why);
    if (st != EG_OK) {
        eg_error_prefix(why, "output element %llu", (unsigned long long)e);
        return st;
    }
    for (unsigned op = 0; op < EG_OP_COUNT_ALL; op++) {
        if (!so->vals[op])
            continue;
        eg_number v = tmp->value[op];
        if ((op == EG_OP_ARGMIN || op == EG_OP_ARGMAX) && v.kind == EG_NUM_I64)
            v.v.i = (int64_t)eg_struct_index(so->p, e, (uint64_t)v.v.i);
        if (v.kind != so->dkind[op]) {
            unsigned char *k = odd_kinds(so, op);
            if (!k)
                return eg_error_set(why, EG_ENOMEM,
                                    "structured: no memory for the kinds of "
                                    "%llu results",
                                    (unsigned long long)so->p->nout);
            k[e] = (unsigned char)(1 + v.kind);
        }
        memcpy(&so->vals[op][e], &v.v, sizeof so->vals[op][e]);
    }
    return EG_OK;
}

eg_status eg_struct_out_chunk(eg_struct_out *so, uint64_t e, uint64_t c,
                              const eg_state *cs, eg_result *tmp, eg_error *why)
{
    const eg_struct_plan *p = so->p;
    uint64_t g = e / p->rest, len = eg_struct_group_len(p, g);
    if (so->sbase[g] != UINT64_MAX) {
        uint64_t nc = eg_struct_chunks(len, so->chunk);
        so->states[so->sbase[g] + (e % p->rest) * nc + c] = *cs;
        return EG_OK;
    }
    /* One chunk: the state itself up to the small input, else merged into
     * the identity first, as the 1-D path does. */
    if (len <= EG_SMALL_INPUT_ELEMS)
        return eg_struct_out_store(so, e, cs, tmp, why);
    eg_state total;
    eg_state_init(&total, p->dtype, so->groups);
    eg_state_merge(&total, cs);
    return eg_struct_out_store(so, e, &total, tmp, why);
}

void eg_struct_out_merge(eg_struct_out *so, eg_result *tmp,
                         void (*fail)(void *ctx, uint64_t e,
                                      const eg_error *why),
                         void *ctx)
{
    const eg_struct_plan *p = so->p;
    for (uint64_t g = 0; g < p->ngroups; g++) {
        if (so->sbase[g] == UINT64_MAX)
            continue;
        uint64_t nc = eg_struct_chunks(eg_struct_group_len(p, g), so->chunk);
        for (uint64_t r = 0; r < p->rest; r++) {
            eg_state total;
            eg_state_init(&total, p->dtype, so->groups);
            const eg_state *s = so->states + so->sbase[g] + r * nc;
            for (uint64_t c = 0; c < nc; c++)
                eg_state_merge(&total, &s[c]);
            eg_error why;
            eg_error_clear(&why);
            uint64_t e = g * p->rest + r;
            if (eg_struct_out_store(so, e, &total, tmp, &why) != EG_OK)
                fail(ctx, e, &why);
        }
    }
}

/* Each op's values as one kind; an op of mixed kinds (an empty segment's
 * NaN beside integers) becomes float64. */
void eg_struct_out_settle(eg_struct_out *so, eg_sresult *out)
{
    for (unsigned op = 0; op < EG_OP_COUNT_ALL; op++) {
        if (!so->vals[op])
            continue;
        uint64_t n = so->p->nout;
        int mixed = 0;
        const unsigned char *kb = atomic_load(&so->kinds[op]);
        const unsigned char dk = so->dkind[op];
#define KIND_AT(e) (kb && kb[e] ? (eg_number_kind)(kb[e] - 1) : dk)
        eg_number_kind k = n ? KIND_AT(0) : EG_NUM_F64;
        for (uint64_t e = 1; kb && e < n && !mixed; e++)
            mixed = KIND_AT(e) != k;
        if (mixed) {
            for (uint64_t e = 0; e < n; e++) {
                eg_value *v = &so->vals[op][e];
                switch (KIND_AT(e)) {
                case EG_NUM_I64:
                    v->f = (double)v->i;
                    break;
                case EG_NUM_U64:
                    v->f = (double)v->u;
                    break;
                case EG_NUM_NONE:
                    v->f = NAN;
                    break;
                default:
                    break;
                }
            }
            k = EG_NUM_F64;
        }
#undef KIND_AT
        /* Counts as int64, as numpy's indices and counts are. */
        if (op == EG_OP_COUNT && k == EG_NUM_U64)
            k = EG_NUM_I64;
        out->op[op].kind = k;
        if (k == EG_NUM_NONE) {
            free(so->vals[op]);
            so->vals[op] = NULL;
        }
        out->op[op].data = so->vals[op];
        so->vals[op] = NULL;
    }
}

void eg_struct_out_free(eg_struct_out *so)
{
    for (unsigned op = 0; op < EG_OP_COUNT_ALL; op++) {
        free(so->vals[op]);
        free(atomic_load(&so->kinds[op]));
        so->vals[op] = NULL;
        atomic_store(&so->kinds[op], NULL);
    }
    free(so->states);
    free(so->sbase);
    so->states = NULL;
    so->sbase = NULL;
}
