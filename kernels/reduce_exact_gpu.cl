/* reduce_exact_gpu.cl - the portable exact-mode kernel, for GPUs and
 * accelerators: the same records of EG_EXACT_LANE_WORDS words as
 * reduce_exact.cl (the CPU-tuned kernel) and as the host reference
 * eg_lanes_exact (engine/lanes/lanes_exact.c), bit for bit.
 *
 * reduce_exact.cl gives a whole lane to one work-item, with about 20
 * double8 values live: on a GPU that spills, and neighbouring work-items
 * read 16 KiB apart.  Here a work-group of EG_XW work-items takes one
 * lane: work-item t reads elements t, t + EG_XW, t + 2 EG_XW, ... (so
 * neighbouring work-items read neighbouring elements), with scalar
 * accumulators, a few dozen registers.  Exact mode allows any order of
 * additions: every level sum of a plan that holds is exact whatever the
 * order (engine/lanes/exact_levels.h: each piece lies on the level's grid
 * and 2^EG_EXACT_HEADROOM pieces cannot overflow its 53 bits), so
 * splitting a level's sum over work-items and adding the parts in a tree
 * gives its exact value, the word every other device writes.  What is not
 * a sum follows the same rules as reduce_exact.cl: the plan comes from
 * the lane's first elements and the scan decides whether it held
 * (kernels/exact_plan.h, shared by both kernels); min/max are taken per
 * work-item in index order by strict comparison, then combined by value,
 * ties to the smaller index: the lane's first occurrence.
 *
 * A lane whose guessed plan failed is cut again with the plan of its
 * bounds, kind by kind, spread the same way (the decision comes from the
 * combined scan in local memory, so the whole group takes the same
 * branch and meets the same barriers).  Lanes no plan holds are flagged
 * EG_LANE_NEEDS_CAREFUL, as on the host.
 *
 * Built with -DEG_T=float|double -DEG_DT -DEG_GROUPS (EG_G_EXACT set)
 * -DEG_LANE_ELEMS -DEG_XW=<work-items a lane, a power of two dividing
 * EG_LANE_ELEMS> behind the prelude of engine/backend/opencl/cl_program.c,
 * kernels/exact_rules.h and kernels/exact_plan.h.  Launched with a local
 * size of EG_XW and a global size of EG_XW per lane.  No FP contraction:
 * v * w and (sigma + t) - sigma must round as written; fma() is the
 * correctly rounded TwoProduct error term.
 */
#pragma OPENCL FP_CONTRACT OFF
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#ifndef EG_XW
#error "reduce_exact_gpu.cl: -DEG_XW (work-items a lane) is required"
#endif
#if (EG_XW & (EG_XW - 1)) != 0 || EG_LANE_ELEMS % EG_XW != 0
#error "reduce_exact_gpu.cl: EG_XW must be a power of two dividing a lane"
#endif

/* Scalar bits to the double every term is computed in. */
#if EG_IS_F64
#define EG_BITS_DOUBLE(b) as_double(b)
#else
#define EG_BITS_DOUBLE(b) convert_double(as_float(b))
#endif

/* Accumulators of the one pass, kind by kind, at these offsets of a
 * work-item's column in local memory; the second chance needs
 * EG_EXACT_LEVELS of them for one kind at a time. */
#define EG_NL1 (EG_HAS(EG_G_L1) ? EG_EXACT_FIX_X : 0)
#define EG_NSQ (EG_HAS_SQ ? EG_EXACT_FIX_P : 0)
#define EG_NSQE (EG_HAS_SQ && EG_IS_F64 ? EG_EXACT_FIX_E : 0)
#define EG_NDOT (EG_HAS(EG_G_DOT) ? EG_EXACT_FIX_P : 0)
#define EG_NDOTE (EG_HAS(EG_G_DOT) && EG_IS_F64 ? EG_EXACT_FIX_E : 0)
#define EG_O_X 0
#define EG_O_L1 (EG_O_X + EG_EXACT_FIX_X)
#define EG_O_SQ (EG_O_L1 + EG_NL1)
#define EG_O_SQE (EG_O_SQ + EG_NSQ)
#define EG_O_DOT (EG_O_SQE + EG_NSQE)
#define EG_O_DOTE (EG_O_DOT + EG_NDOT)
#define EG_NFUSED (EG_O_DOTE + EG_NDOTE)
#define EG_NACC (EG_NFUSED > EG_EXACT_LEVELS ? EG_NFUSED : EG_EXACT_LEVELS)

/* The group's shared state: accumulator j of work-item t at
 * acc[j * EG_XW + t] (neighbouring work-items, neighbouring banks), its
 * scan and min/max beside it; after the tree, work-item 0's entries hold
 * the lane's. */
typedef struct eg_xgroup {
    double acc[EG_NACC * EG_XW];
    eg_bits xmx[EG_XW], xmn[EG_XW], ymx[EG_XW], ymn[EG_XW];
    double mn[EG_XW], mx[EG_XW];
    ulong amn[EG_XW], amx[EG_XW];
} eg_xgroup;

/* r onto L grids of accumulators a[] with extraction constants g[]: the
 * steps of EG_CUT in reduce_exact.cl, one term at a time. */
#define EG_XCUT(L, r, a, g)                                                  \
    do {                                                                     \
        for (int j_ = 0; j_ + 1 < (L); j_++) {                               \
            double q_ = ((g)[j_] + (r)) - (g)[j_];                           \
            (a)[j_] += q_;                                                   \
            (r) -= q_;                                                       \
        }                                                                    \
        (a)[(L) - 1] += (r);                                                 \
    } while (0)

/* The first `k` accumulators of every work-item summed into work-item
 * 0's by a fixed tree (exact: see the top).  Every work-item calls it. */
void eg_tree_sum(__local eg_xgroup *s, int k, uint t)
{
    for (uint h = EG_XW / 2; h > 0; h /= 2) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (t < h)
            for (int j = 0; j < k; j++)
                s->acc[j * EG_XW + t] += s->acc[j * EG_XW + t + h];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
}

/* Work-item t's scan and min/max into the lane's, by the same tree. */
void eg_tree_marks(__local eg_xgroup *s, uint t)
{
    for (uint h = EG_XW / 2; h > 0; h /= 2) {
        barrier(CLK_LOCAL_MEM_FENCE);
        if (t >= h)
            continue;
        uint u = t + h;
        s->xmx[t] = max(s->xmx[t], s->xmx[u]);
        s->xmn[t] = min(s->xmn[t], s->xmn[u]);
        s->ymx[t] = max(s->ymx[t], s->ymx[u]);
        s->ymn[t] = min(s->ymn[t], s->ymn[u]);
        if (s->mn[u] < s->mn[t] ||
            (s->mn[u] == s->mn[t] && s->amn[u] < s->amn[t])) {
            s->mn[t] = s->mn[u];
            s->amn[t] = s->amn[u];
        }
        if (s->mx[u] > s->mx[t] ||
            (s->mx[u] == s->mx[t] && s->amx[u] < s->amx[t])) {
            s->mx[t] = s->mx[u];
            s->amx[t] = s->amx[u];
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
}

/* Levels [0, k) of work-item 0's accumulators from `at` as record words. */
void eg_put_levels(__local const eg_xgroup *s, int at, int k,
                   __global ulong *w)
{
    for (int j = 0; j < k; j++)
        w[j] = as_ulong(s->acc[(at + j) * EG_XW]);
}

/* The one pass over work-item t's elements of the lane: the scan and
 * min/max always, and with a guess (`guessed`) every kind of term cut on
 * the guessed plan g; everything published into s. */
void eg_xfused(__global const EG_T *x, __global const EG_T *y, ulong m,
               ulong base, int guessed, const eg_guessed *g,
               __local eg_xgroup *s, uint t)
{
    double a[EG_NFUSED];
    for (int j = 0; j < EG_NFUSED; j++)
        a[j] = 0.0;
    eg_bits xmx = 0, xmn = (eg_bits)0 - 1, ymx = 0, ymn = (eg_bits)0 - 1;
    double mn = INFINITY, mx = -INFINITY;
    ulong amn = EG_NONE_INDEX, amx = EG_NONE_INDEX;
    __global const eg_bits *xb = (__global const eg_bits *)x;
    __global const eg_bits *yb = (__global const eg_bits *)y;
    for (ulong i = t; i < m; i += EG_XW) {
        eg_bits bx = xb[i], ab = bx & EG_ABS_MASK;
        xmx = max(xmx, ab);
        xmn = min(xmn, ab - (eg_bits)1);
        double v = EG_BITS_DOUBLE(bx), wv = v;
        if (EG_HAS(EG_G_DOT)) {
            eg_bits by = yb[i], cb = by & EG_ABS_MASK;
            ymx = max(ymx, cb);
            ymn = min(ymn, cb - (eg_bits)1);
            wv = EG_BITS_DOUBLE(by);
        }
        if (EG_HAS(EG_G_MINMAX)) {
            /* the lane rule (lanes.h): nothing found yet takes +-inf */
            if (v < mn || (v == mn && amn == EG_NONE_INDEX)) {
                mn = v;
                amn = base + i;
            }
            if (v > mx || (v == mx && amx == EG_NONE_INDEX)) {
                mx = v;
                amx = base + i;
            }
        }
        if (!guessed)
            continue;
        double r = v;
        EG_XCUT(EG_EXACT_FIX_X, r, a + EG_O_X, g->sx);
        if (EG_HAS(EG_G_L1)) {
            r = fabs(v);
            EG_XCUT(EG_EXACT_FIX_X, r, a + EG_O_L1, g->sx);
        }
        if (EG_HAS_SQ) {
            double p = v * v;
            if (EG_IS_F64) {
                double e = fma(v, v, -p);
                EG_XCUT(EG_EXACT_FIX_E, e, a + EG_O_SQE, g->sqe);
            }
            EG_XCUT(EG_EXACT_FIX_P, p, a + EG_O_SQ, g->sq);
        }
        if (EG_HAS(EG_G_DOT)) {
            double p = v * wv;
            if (EG_IS_F64) {
                double e = fma(v, wv, -p);
                EG_XCUT(EG_EXACT_FIX_E, e, a + EG_O_DOTE, g->sde);
            }
            EG_XCUT(EG_EXACT_FIX_P, p, a + EG_O_DOT, g->sd);
        }
    }
    for (int j = 0; j < EG_NFUSED; j++)
        s->acc[j * EG_XW + t] = a[j];
    s->xmx[t] = xmx;
    s->xmn[t] = xmn;
    s->ymx[t] = ymx;
    s->ymn[t] = ymn;
    s->mn[t] = mn;
    s->mx[t] = mx;
    s->amn[t] = amn;
    s->amx[t] = amx;
}

/* The term of kind K (exact_plan.h) of v (and w). */
double eg_xterm(int kind, double v, double w)
{
    switch (kind) {
    case EG_K_X:
        return v;
    case EG_K_ABS:
        return fabs(v);
    case EG_K_SQ:
    case EG_K_DOT:
        return v * w;
    default:
        return fma(v, w, -(v * w));
    }
}

/* The second chance for one kind: every term of work-item t cut on the L
 * levels of sig, the levels summed by the tree, written by work-item 0
 * into w[0, EG_EXACT_LEVELS).  Every work-item calls it. */
void eg_xpass(__global const EG_T *x, __global const EG_T *y, ulong m,
              int kind, int levels, const double *sig, __local eg_xgroup *s,
              uint t, __global ulong *w)
{
    double a[EG_EXACT_LEVELS] = {0};
    int dot = kind == EG_K_DOT || kind == EG_K_DOT_E;
    for (ulong i = t; i < m; i += EG_XW) {
        double v = convert_double(x[i]);
        double r = eg_xterm(kind, v, dot ? convert_double(y[i]) : v);
        EG_XCUT(levels, r, a, sig);
    }
    for (int j = 0; j < EG_EXACT_LEVELS; j++)
        s->acc[j * EG_XW + t] = a[j];
    eg_tree_sum(s, EG_EXACT_LEVELS, t);
    if (t == 0)
        eg_put_levels(s, 0, EG_EXACT_LEVELS, w);
    /* The next pass overwrites the sums work-item 0 just read. */
    barrier(CLK_LOCAL_MEM_FENCE);
}

/* The plans of the lane's actual bounds, as eg_exact_passes of
 * reduce_exact.cl decides them; 0 when the lane must go the careful way. */
typedef struct eg_xplans {
    int l, lq, lqe, ld, lde;
    double s[EG_EXACT_LEVELS - 1], sq[EG_EXACT_LEVELS - 1],
        sqe[EG_EXACT_LEVELS - 1], sd[EG_EXACT_LEVELS - 1],
        sde[EG_EXACT_LEVELS - 1];
} eg_xplans;

int eg_xplan(const eg_bounds *bx, const eg_bounds *by, int nzy, eg_xplans *p)
{
    for (int j = 0; j < EG_EXACT_LEVELS - 1; j++)
        p->s[j] = p->sq[j] = p->sqe[j] = p->sd[j] = p->sde[j] = 0;
    p->lq = p->lqe = p->ld = p->lde = 0;
    p->l = eg_plan(bx->e, bx->b, p->s);
    if (!p->l)
        return 0;
#if EG_HAS_SQ
    {
        int low = 2 * bx->b, ulp = 2 * bx->f - 52;
        p->lq = low < EG_MIN_LOW ? 0 : eg_plan(2 * bx->e, max(low, ulp), p->sq);
        p->lqe = !EG_IS_F64 ? 1
                 : p->lq    ? eg_plan(2 * bx->e - 53, low, p->sqe)
                            : 0;
        if (!p->lq || !p->lqe)
            return 0;
    }
#endif
#if EG_GROUPS & EG_G_DOT
    if (nzy) {
        int low = bx->b + by->b, ulp = bx->f + by->f - 52;
        p->ld = low < EG_MIN_LOW ? 0
                                 : eg_plan(bx->e + by->e, max(low, ulp), p->sd);
        p->lde = !EG_IS_F64 ? 1
                 : p->ld    ? eg_plan(bx->e + by->e - 53, low, p->sde)
                            : 0;
        if (!p->ld || !p->lde)
            return 0;
    }
#endif
    (void)by;
    (void)nzy;
    return 1;
}

/* The careful record: all zero but its count and flag. */
void eg_xcareful(ulong m, __global ulong *w)
{
    for (int i = 0; i < EG_EXACT_LANE_WORDS; i++)
        w[i] = 0;
    w[EG_X_COUNT] = m;
    w[EG_X_FLAGS] = EG_LANE_NEEDS_CAREFUL;
}

/* x[0..n) (and y[0..n) with EG_G_DOT) -> ceil(n / EG_LANE_ELEMS) records at
 * out; work-group l takes lane l (groups past the last lane do nothing). */
__kernel __attribute__((reqd_work_group_size(EG_XW, 1, 1))) void
eg_reduce(__global const EG_T *x, __global const EG_T *y, ulong n,
          __global ulong *out)
{
    __local eg_xgroup s;
    uint t = (uint)get_local_id(0);
    ulong lane = get_group_id(0);
    ulong lanes = (n + EG_LANE_ELEMS - 1) / EG_LANE_ELEMS;
    if (lane >= lanes)
        return; /* the whole group: no barrier is skipped by some */
    ulong base = lane * EG_LANE_ELEMS;
    ulong m = min((ulong)EG_LANE_ELEMS, n - base);
    __global const EG_T *xl = x + base, *yl = y + base;
    __global ulong *w = out + lane * EG_EXACT_LANE_WORDS;

    eg_guessed g;
    int guessed = eg_guess(xl, yl, m, &g);
    eg_xfused(xl, yl, m, base, guessed, &g, &s, t);
    eg_tree_marks(&s, t);
    if (guessed)
        eg_tree_sum(&s, EG_NFUSED, t);

    /* The lane's scan, the same for every work-item: so is every branch
     * below. */
    eg_lane_scan sc = {s.xmx[0], s.xmn[0], 0, 0};
#if EG_GROUPS & EG_G_DOT
    sc.ymax = s.ymx[0];
    sc.ymin1 = s.ymn[0];
#endif
    int bad = sc.xmax >= EG_INF_BITS || sc.ymax >= EG_INF_BITS;
    eg_bounds bx = eg_bounds_of(sc.xmax, sc.xmin1);
    eg_bounds by = eg_bounds_of(sc.ymax, sc.ymin1);
    if (bad) {
        if (t == 0)
            eg_xcareful(m, w);
        return;
    }
    if (t == 0) {
        eg_record_init(m, w);
        if (EG_HAS(EG_G_MINMAX)) {
            w[EG_X_MIN] = as_ulong(s.mn[0]);
            w[EG_X_MAX] = as_ulong(s.mx[0]);
            w[EG_X_ARGMIN] = s.amn[0];
            w[EG_X_ARGMAX] = s.amx[0];
        }
    }
    if (guessed && eg_guess_holds(&bx, &by, g.gx, g.gy)) {
        if (t == 0) {
            eg_put_levels(&s, EG_O_X, EG_EXACT_FIX_X, w + EG_X_SUM);
            if (EG_HAS(EG_G_L1))
                eg_put_levels(&s, EG_O_L1, EG_EXACT_FIX_X, w + EG_X_L1);
            if (EG_HAS_SQ)
                eg_put_levels(&s, EG_O_SQ, EG_EXACT_FIX_P, w + EG_X_SQ);
            if (EG_HAS_SQ && EG_IS_F64)
                eg_put_levels(&s, EG_O_SQE, EG_EXACT_FIX_E, w + EG_X_SQ_E);
            if (EG_HAS(EG_G_DOT))
                eg_put_levels(&s, EG_O_DOT, EG_EXACT_FIX_P, w + EG_X_DOT);
            if (EG_HAS(EG_G_DOT) && EG_IS_F64)
                eg_put_levels(&s, EG_O_DOTE, EG_EXACT_FIX_E, w + EG_X_DOT_E);
        }
        return;
    }
    if (sc.xmax == 0)
        return; /* every term is zero: so are the level words */
    eg_xplans p;
    if (!eg_xplan(&bx, &by, sc.ymax != 0, &p)) {
        if (t == 0)
            eg_xcareful(m, w);
        return;
    }
    /* Work-item 0 read the one pass's sums above; the passes reuse them. */
    barrier(CLK_LOCAL_MEM_FENCE);
    eg_xpass(xl, yl, m, EG_K_X, p.l, p.s, &s, t, w + EG_X_SUM);
#if EG_GROUPS & EG_G_L1
    eg_xpass(xl, yl, m, EG_K_ABS, p.l, p.s, &s, t, w + EG_X_L1);
#endif
#if EG_HAS_SQ
    eg_xpass(xl, yl, m, EG_K_SQ, p.lq, p.sq, &s, t, w + EG_X_SQ);
#if EG_IS_F64
    eg_xpass(xl, yl, m, EG_K_SQ_E, p.lqe, p.sqe, &s, t, w + EG_X_SQ_E);
#endif
#endif
#if EG_GROUPS & EG_G_DOT
    if (sc.ymax != 0) {
        eg_xpass(xl, yl, m, EG_K_DOT, p.ld, p.sd, &s, t, w + EG_X_DOT);
#if EG_IS_F64
        eg_xpass(xl, yl, m, EG_K_DOT_E, p.lde, p.sde, &s, t, w + EG_X_DOT_E);
#endif
    }
#endif
}
