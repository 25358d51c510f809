/* reduce_exact.cl - the exact-mode chunk kernel: one record of
 * EG_EXACT_LANE_WORDS words per lane of EG_LANE_ELEMS elements, the same
 * words as the host reference eg_lanes_exact (engine/lanes/lanes_exact.c).
 *
 * Every term of a lane (x, |x|, and for x^2 and x*y the rounded products p
 * and, for f64, their exact errors e = fma(v, w, -p)) is cut onto at most
 * EG_EXACT_LEVELS fixed grids by Rump's extraction q = (sigma + t) - sigma,
 * and each grid is summed in a double.  engine/lanes/exact_levels.h explains why
 * every one of those sums is exact, so the order of the additions, the
 * vector width and the number of accumulators do not matter: the record is
 * the exact value of the lane, decomposed by a plan that depends on the
 * lane's data alone.
 *
 * The plan (exact_levels.h): guessed from the lane's first elements, with a
 * fixed number of levels per kind of term, so that one pass over the lane
 * both cuts the terms and scans the magnitudes (largest and smallest
 * non-zero |x| and |y|, which also reveal inf and nan) and min/max.  When
 * the scan shows the guess did not hold, the lane is cut again, from cache,
 * with the plan of its actual bounds, one pass per kind of term.  Lanes no
 * plan can hold (nan, inf, a span of magnitudes too wide, f64 products off
 * the 2^-1074 grid) are flagged EG_LANE_NEEDS_CAREFUL and redone on the
 * host.
 *
 * Built with -DEG_T=float|double -DEG_DT -DEG_GROUPS (EG_G_EXACT set)
 * -DEG_LANE_ELEMS -DEG_LPI, and on CPU devices -DEG_PREFETCH=<bytes>
 * (software prefetch distance), behind a prelude
 * (engine/backend/opencl/cl_program.c) that defines the EG_G_* and EG_X_*
 * constants, behind kernels/exact_rules.h, the plan's rules and
 * EG_EXACT_* constants shared with the host, and behind
 * kernels/exact_plan.h, the scan, guess and bounds this kernel shares with
 * the portable one (reduce_exact_gpu.cl).  No FP contraction:
 * v * w and (sigma + t) - sigma must round exactly as written; fma() is the
 * correctly rounded fused operation of OpenCL C, the TwoProduct error term.
 */
#pragma OPENCL FP_CONTRACT OFF
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#ifndef EG_LPI
#define EG_LPI 1
#endif

/* ---------------------------------------------------------------- cuts */

/* r (a vector of terms) onto L grids: accumulators A0..A4, extraction
 * constants G0..G3.  L is a literal in every expansion, so the dead steps
 * vanish and the accumulators stay in registers. */
#define EG_CUT_STEP(g, r, acc)                                               \
    do {                                                                     \
        double8 q_ = ((g) + (r)) - (g);                                      \
        acc += q_;                                                           \
        r -= q_;                                                             \
    } while (0)

#define EG_CUT(L, r, A, G)                                                   \
    do {                                                                     \
        if (L > 1)                                                           \
            EG_CUT_STEP(G##0, r, A##0);                                      \
        if (L > 2)                                                           \
            EG_CUT_STEP(G##1, r, A##1);                                      \
        if (L > 3)                                                           \
            EG_CUT_STEP(G##2, r, A##2);                                      \
        if (L > 4)                                                           \
            EG_CUT_STEP(G##3, r, A##3);                                      \
        if (L == 1)                                                          \
            A##0 += r;                                                       \
        else if (L == 2)                                                     \
            A##1 += r;                                                       \
        else if (L == 3)                                                     \
            A##2 += r;                                                       \
        else if (L == 4)                                                     \
            A##3 += r;                                                       \
        else                                                                 \
            A##4 += r;                                                       \
    } while (0)

/* Accumulators of one kind at zero: A0..A4. */
#define EG_ZERO(A)                                                           \
    double8 A##0 = 0, A##1 = 0, A##2 = 0, A##3 = 0, A##4 = 0

/* Accumulator set T into set S, level by level (exact: see the top). */
#define EG_FOLD(S, T)                                                        \
    do {                                                                     \
        S##0 += T##0;                                                        \
        S##1 += T##1;                                                        \
        S##2 += T##2;                                                        \
        S##3 += T##3;                                                        \
        S##4 += T##4;                                                        \
    } while (0)

/* Accumulators A0..A4 at zero, constants G0..G3 from sig[]. */
#define EG_ACC(A, G, sig)                                                    \
    EG_ZERO(A);                                                              \
    double8 G##0 = (double8)((sig)[0]), G##1 = (double8)((sig)[1]);          \
    double8 G##2 = (double8)((sig)[2]), G##3 = (double8)((sig)[3])

/* The record word of a level: the sum of its accumulator's 8 parts. */
ulong eg_level_word(double8 s)
{
    return as_ulong(((s.s0 + s.s1) + (s.s2 + s.s3)) +
                    ((s.s4 + s.s5) + (s.s6 + s.s7)));
}

/* The level sums of A0..A4 into w[0..EG_EXACT_LEVELS). */
#define EG_STORE(A, w)                                                       \
    do {                                                                     \
        double8 s_[EG_EXACT_LEVELS] = {A##0, A##1, A##2, A##3, A##4};        \
        for (int j_ = 0; j_ < EG_EXACT_LEVELS; j_++)                         \
            (w)[j_] = eg_level_word(s_[j_]);                                 \
    } while (0)

/* The term of kind K of 8 elements v (and w). */
#define EG_TERM(K, v, w)                                                     \
    ((K) == EG_K_X     ? (v)                                                 \
     : (K) == EG_K_ABS ? fabs(v)                                             \
     : ((K) == EG_K_SQ || (K) == EG_K_DOT) ? (v) * (w)                       \
                                           : fma((v), (w), -((v) * (w))))

/* r < 8 elements at p as a vector padded with zeros, which add nothing. */
eg_bits8 eg_load_tail(__global const EG_T *p, uint r)
{
    __global const eg_bits *b = (__global const eg_bits *)p;
    eg_bits tmp[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (uint j = 0; j < r; j++)
        tmp[j] = b[j];
    return vload8(0, tmp);
}

#define EG_LOAD_BITS8(p) vload8(0, (__global const eg_bits *)(p))

/* -------------------------------------------------- one kind per pass */

/* eg_pass_NAME_L: the sums of the pieces of every term of kind K of a lane
 * on L grids into w[0..EG_EXACT_LEVELS): the second chance of a lane whose
 * guessed plan failed, reading it from cache.  Two sets of accumulators
 * give the adders independent chains. */
#define EG_DEFINE_PASS(NAME, K, L)                                           \
    void eg_pass_##NAME##_##L(__global const EG_T *x, __global const EG_T *y, \
                              ulong m, const double *sig, __global ulong *w) \
    {                                                                        \
        const int dot = K == EG_K_DOT || K == EG_K_DOT_E;                    \
        EG_ACC(a, g, sig);                                                   \
        EG_ZERO(b);                                                          \
        ulong i = 0;                                                         \
        for (; i + 16 <= m; i += 16) {                                       \
            double8 v0 = EG_AS_DOUBLE8(EG_LOAD_BITS8(x + i));                \
            double8 v1 = EG_AS_DOUBLE8(EG_LOAD_BITS8(x + i + 8));            \
            double8 w0 = v0, w1 = v1;                                        \
            if (dot) {                                                       \
                w0 = EG_AS_DOUBLE8(EG_LOAD_BITS8(y + i));                    \
                w1 = EG_AS_DOUBLE8(EG_LOAD_BITS8(y + i + 8));                \
            }                                                                \
            double8 t0 = EG_TERM(K, v0, w0), t1 = EG_TERM(K, v1, w1);        \
            EG_CUT(L, t0, a, g);                                             \
            EG_CUT(L, t1, b, g);                                             \
        }                                                                    \
        for (; i < m; i += 8) {                                              \
            uint r = m - i < 8 ? (uint)(m - i) : 8u;                         \
            double8 v = EG_AS_DOUBLE8(eg_load_tail(x + i, r)), wv = v;       \
            if (dot)                                                         \
                wv = EG_AS_DOUBLE8(eg_load_tail(y + i, r));                  \
            double8 t = EG_TERM(K, v, wv);                                   \
            EG_CUT(L, t, a, g);                                              \
        }                                                                    \
        EG_FOLD(a, b);                                                       \
        EG_STORE(a, w);                                                      \
    }

#define EG_DEFINE_PASSES(NAME, K)                                            \
    EG_DEFINE_PASS(NAME, K, 1)                                               \
    EG_DEFINE_PASS(NAME, K, 2)                                               \
    EG_DEFINE_PASS(NAME, K, 3)                                               \
    EG_DEFINE_PASS(NAME, K, 4)                                               \
    EG_DEFINE_PASS(NAME, K, 5)                                               \
    void eg_pass_##NAME(__global const EG_T *x, __global const EG_T *y,      \
                        ulong m, int levels, const double *sig,              \
                        __global ulong *w)                                   \
    {                                                                        \
        switch (levels) {                                                    \
        case 1: eg_pass_##NAME##_1(x, y, m, sig, w); break;                  \
        case 2: eg_pass_##NAME##_2(x, y, m, sig, w); break;                  \
        case 3: eg_pass_##NAME##_3(x, y, m, sig, w); break;                  \
        case 4: eg_pass_##NAME##_4(x, y, m, sig, w); break;                  \
        default: eg_pass_##NAME##_5(x, y, m, sig, w); break;                 \
        }                                                                    \
    }

/* Only the kinds the groups need are compiled. */
EG_DEFINE_PASSES(kx, EG_K_X)
#if EG_GROUPS & EG_G_L1
EG_DEFINE_PASSES(kabs, EG_K_ABS)
#endif
#if EG_HAS_SQ
EG_DEFINE_PASSES(ksq, EG_K_SQ)
#if EG_IS_F64
EG_DEFINE_PASSES(ksqe, EG_K_SQ_E)
#endif
#endif
#if EG_GROUPS & EG_G_DOT
EG_DEFINE_PASSES(kdot, EG_K_DOT)
#if EG_IS_F64
EG_DEFINE_PASSES(kdote, EG_K_DOT_E)
#endif
#endif

/* ------------------------------------------------------------- min/max */

/* First occurrence of the smallest and largest value (all finite): per
 * slot by strict comparison, then slots by value, ties to the smaller
 * index. */
typedef struct eg_mm {
    double8 mn, mx;
    ulong8 amn, amx, idx;
} eg_mm;

void eg_mm_init(eg_mm *a, ulong base)
{
    a->mn = (double8)(INFINITY);
    a->mx = (double8)(-INFINITY);
    a->amn = a->amx = (ulong8)(EG_NONE_INDEX);
    a->idx = (ulong8)(base) + (ulong8)(0, 1, 2, 3, 4, 5, 6, 7);
}

#define EG_MM_STEP(a, v)                                                     \
    do {                                                                     \
        /* the lane rule (lanes.h): an empty slot takes +-inf too */       \
        const ulong8 none_ = (ulong8)(EG_NONE_INDEX);                        \
        long8 lt_ = ((v) < (a).mn) | (((v) == (a).mn) & ((a).amn == none_)); \
        long8 gt_ = ((v) > (a).mx) | (((v) == (a).mx) & ((a).amx == none_)); \
        (a).mn = select((a).mn, (v), lt_);                                   \
        (a).amn = select((a).amn, (a).idx, lt_);                             \
        (a).mx = select((a).mx, (v), gt_);                                   \
        (a).amx = select((a).amx, (a).idx, gt_);                             \
        (a).idx += (ulong8)(8);                                              \
    } while (0)

/* Takes x[i, m) (fewer than 8) one by one and writes the record words. */
void eg_mm_finish(eg_mm *a, __global const EG_T *x, ulong i, ulong m,
                  ulong base, __global ulong *w)
{
    double smn[8], smx[8];
    ulong samn[8], samx[8];
    vstore8(a->mn, 0, smn);
    vstore8(a->mx, 0, smx);
    vstore8(a->amn, 0, samn);
    vstore8(a->amx, 0, samx);
    for (uint j = 0; i < m; i++, j++) {
        double v = convert_double(x[i]);
        if (v < smn[j] || (v == smn[j] && samn[j] == EG_NONE_INDEX)) {
            smn[j] = v;
            samn[j] = base + i;
        }
        if (v > smx[j] || (v == smx[j] && samx[j] == EG_NONE_INDEX)) {
            smx[j] = v;
            samx[j] = base + i;
        }
    }
    double bmn = smn[0], bmx = smx[0];
    ulong bamn = samn[0], bamx = samx[0];
    for (int j = 1; j < 8; j++) {
        if (smn[j] < bmn || (smn[j] == bmn && samn[j] < bamn)) {
            bmn = smn[j];
            bamn = samn[j];
        }
        if (smx[j] > bmx || (smx[j] == bmx && samx[j] < bamx)) {
            bmx = smx[j];
            bamx = samx[j];
        }
    }
    w[EG_X_MIN] = as_ulong(bmn);
    w[EG_X_MAX] = as_ulong(bmx);
    w[EG_X_ARGMIN] = bamn;
    w[EG_X_ARGMAX] = bamx;
}

void eg_min_max(__global const EG_T *x, ulong m, ulong base,
                __global ulong *w)
{
    eg_mm a;
    eg_mm_init(&a, base);
    ulong i = 0;
    for (; i + 8 <= m; i += 8) {
        double8 v = EG_AS_DOUBLE8(EG_LOAD_BITS8(x + i));
        EG_MM_STEP(a, v);
    }
    eg_mm_finish(&a, x, i, m, base, w);
}

/* --------------------------------------------------- the one-pass path */

/* Light group sets cut alternate vectors into a second set of
 * accumulators, so that two chains of additions run side by side; heavy
 * ones (x^2 or f64 products) have no registers to spare for it. */
#define EG_FUSED_ACCS                                                        \
    (EG_EXACT_FIX_X * (1 + EG_HAS(EG_G_L1)) +                                \
     EG_EXACT_FIX_P * ((EG_HAS_SQ != 0) + EG_HAS(EG_G_DOT)) +                \
     EG_EXACT_FIX_E * EG_IS_F64 * ((EG_HAS_SQ != 0) + EG_HAS(EG_G_DOT)))
#define EG_TWO_SETS (EG_FUSED_ACCS <= 5)
#if EG_TWO_SETS
#define EG_SET2 B
#else
#define EG_SET2 A
#endif

/* The terms of 8 elements (bits bx, and by for x*y) into accumulator set
 * S, and min/max.  The kinds the groups leave out are dead code. */
#define EG_FUSED_VEC(bx, by, S) EG_FUSED_VEC_(bx, by, S)
#define EG_FUSED_VEC_(bx, by, S)                                             \
    do {                                                                     \
        double8 v_ = EG_AS_DOUBLE8(bx), t_ = v_;                             \
        EG_CUT(EG_EXACT_FIX_X, t_, ax##S, gx);                               \
        if (EG_HAS(EG_G_L1)) {                                               \
            t_ = fabs(v_);                                                   \
            EG_CUT(EG_EXACT_FIX_X, t_, aa##S, gx);                           \
        }                                                                    \
        if (EG_HAS_SQ) {                                                     \
            double8 p_ = v_ * v_;                                            \
            if (EG_IS_F64) {                                                 \
                double8 e_ = fma(v_, v_, -p_);                               \
                EG_CUT(EG_EXACT_FIX_E, e_, aqe##S, gqe);                     \
            }                                                                \
            EG_CUT(EG_EXACT_FIX_P, p_, aq##S, gq);                           \
        }                                                                    \
        if (EG_HAS(EG_G_DOT)) {                                              \
            double8 w_ = EG_AS_DOUBLE8(by), p_ = v_ * w_;                    \
            if (EG_IS_F64) {                                                 \
                double8 e_ = fma(v_, w_, -p_);                               \
                EG_CUT(EG_EXACT_FIX_E, e_, ade##S, gde);                     \
            }                                                                \
            EG_CUT(EG_EXACT_FIX_P, p_, ad##S, gd);                           \
        }                                                                    \
    } while (0)

/* 8 elements at x + i and y + i: the scan, the terms into set S and
 * min/max, with a prefetch at the start of each cache line. */
#define EG_FUSED_STEP(i, S)                                                  \
    do {                                                                     \
        eg_bits8 bx_ = EG_LOAD_BITS8(x + (i)), by_ = bx_;                    \
        EG_PREFETCH_LINE(x, i);                                              \
        EG_SCAN_BITS(eg_bits8, bx_, xmx, xmn);                               \
        if (EG_HAS(EG_G_DOT)) {                                              \
            by_ = EG_LOAD_BITS8(y + (i));                                    \
            EG_PREFETCH_LINE(y, i);                                          \
            EG_SCAN_BITS(eg_bits8, by_, ymx, ymn);                           \
        }                                                                    \
        EG_FUSED_VEC(bx_, by_, S);                                           \
        if (EG_HAS(EG_G_MINMAX))                                             \
            EG_MM_STEP(mm, EG_AS_DOUBLE8(bx_));                              \
    } while (0)

/* CPU devices (-DEG_PREFETCH=<bytes>) ask for their data ahead, as the
 * host's exact lanes do: far into L2, because the hardware streamer stops
 * at each 4 KiB page, and near into L1; in elements.  Past the lane is the
 * work-item's next lane, and a prefetch never faults. */
#ifdef EG_PREFETCH
#define EG_PREFETCH_FAR (EG_PREFETCH / (int)sizeof(EG_T))
#define EG_PREFETCH_NEAR (1024 / (int)sizeof(EG_T))
#define EG_PREFETCH_AT(p)                                                    \
    do {                                                                     \
        __builtin_prefetch((p) + EG_PREFETCH_NEAR, 0, 3);                    \
        __builtin_prefetch((p) + EG_PREFETCH_FAR, 0, 2);                     \
    } while (0)
/* Once per 64-byte line: i is a multiple of 8 elements. */
#define EG_PREFETCH_LINE(p, i)                                               \
    do {                                                                     \
        if (EG_IS_F64 || ((i) & 8) == 0)                                     \
            EG_PREFETCH_AT((p) + (i));                                       \
    } while (0)
#else
#define EG_PREFETCH_LINE(p, i) ((void)0)
#endif

/* Every kind of term on its fixed number of levels, the scan and min/max,
 * in one pass over the lane.  sx: the guessed plan's sigmas of x and |x|;
 * sq, sqe: of x^2's p and e; sd, sde: of x*y's p and e.
 *
 * The main loop takes whole vectors straight from memory, 32 elements at a
 * time: with the padded tail vector in it, the compiler merged the two
 * loads into a slow shuffle. */
void eg_fused(__global const EG_T *x, __global const EG_T *y, ulong m,
              ulong base, const double *sx, const double *sq,
              const double *sqe, const double *sd, const double *sde,
              __global ulong *w, eg_lane_scan *sc)
{
    double8 gx0 = sx[0], gx1 = sx[1], gx2 = sx[2], gx3 = sx[3];
    double8 gq0 = sq[0], gq1 = sq[1], gq2 = sq[2], gq3 = sq[3];
    double8 gqe0 = sqe[0], gqe1 = sqe[1], gqe2 = sqe[2], gqe3 = sqe[3];
    double8 gd0 = sd[0], gd1 = sd[1], gd2 = sd[2], gd3 = sd[3];
    double8 gde0 = sde[0], gde1 = sde[1], gde2 = sde[2], gde3 = sde[3];
    EG_ZERO(axA);
    EG_ZERO(aaA);
    EG_ZERO(aqA);
    EG_ZERO(aqeA);
    EG_ZERO(adA);
    EG_ZERO(adeA);
    EG_ZERO(axB);
    EG_ZERO(aaB);
    EG_ZERO(aqB);
    EG_ZERO(aqeB);
    EG_ZERO(adB);
    EG_ZERO(adeB);
    eg_mm mm;
    eg_mm_init(&mm, base);
    eg_bits8 xmx = (eg_bits8)(0), xmn = (eg_bits8)((eg_bits)0 - 1);
    eg_bits8 ymx = xmx, ymn = xmn;

    ulong i = 0;
    for (; i + 32 <= m; i += 32) {
        EG_FUSED_STEP(i, A);
        EG_FUSED_STEP(i + 8, EG_SET2);
        EG_FUSED_STEP(i + 16, A);
        EG_FUSED_STEP(i + 24, EG_SET2);
    }
    for (; i + 8 <= m; i += 8)
        EG_FUSED_STEP(i, A);
    /* A padded last vector adds zeros to the sums and the scan (a zero is
     * never the smallest non-zero |v|); min/max takes its elements one by
     * one. */
    if (i < m) {
        eg_bits8 bx = eg_load_tail(x + i, (uint)(m - i)), by = bx;
        EG_SCAN_BITS(eg_bits8, bx, xmx, xmn);
        if (EG_HAS(EG_G_DOT)) {
            by = eg_load_tail(y + i, (uint)(m - i));
            EG_SCAN_BITS(eg_bits8, by, ymx, ymn);
        }
        EG_FUSED_VEC(bx, by, A);
    }
    if (EG_HAS(EG_G_MINMAX))
        eg_mm_finish(&mm, x, m & ~(ulong)7, m, base, w);
    if (EG_TWO_SETS) {
        EG_FOLD(axA, axB);
        EG_FOLD(aaA, aaB);
        EG_FOLD(aqA, aqB);
        EG_FOLD(aqeA, aqeB);
        EG_FOLD(adA, adB);
        EG_FOLD(adeA, adeB);
    }
    eg_scan_fold(xmx, xmn, &sc->xmax, &sc->xmin1);
    sc->ymax = 0;
    sc->ymin1 = 0;
    EG_STORE(axA, w + EG_X_SUM);
    if (EG_HAS(EG_G_L1))
        EG_STORE(aaA, w + EG_X_L1);
    if (EG_HAS_SQ) {
        EG_STORE(aqA, w + EG_X_SQ);
        if (EG_IS_F64)
            EG_STORE(aqeA, w + EG_X_SQ_E);
    }
    if (EG_HAS(EG_G_DOT)) {
        eg_scan_fold(ymx, ymn, &sc->ymax, &sc->ymin1);
        EG_STORE(adA, w + EG_X_DOT);
        if (EG_IS_F64)
            EG_STORE(adeA, w + EG_X_DOT_E);
    }
}

/* ---------------------------------------------------------------- lane */

/* The second chance: the plans of the lane's actual bounds, one pass per
 * kind of term; 0 when the lane must go the careful way. */
int eg_exact_passes(__global const EG_T *x, __global const EG_T *y, ulong m,
                    const eg_bounds *bx, const eg_bounds *by, int nzy,
                    __global ulong *w)
{
    double s[EG_EXACT_LEVELS - 1] = {0};
    int l = eg_plan(bx->e, bx->b, s);
    if (!l)
        return 0;
    eg_pass_kx(x, y, m, l, s, w + EG_X_SUM);
#if EG_GROUPS & EG_G_L1
    eg_pass_kabs(x, y, m, l, s, w + EG_X_L1);
#endif
#if EG_HAS_SQ
    {
        int low = 2 * bx->b, ulp = 2 * bx->f - 52;
        double sq[EG_EXACT_LEVELS - 1] = {0}, sqe[EG_EXACT_LEVELS - 1] = {0};
        int lq = low < EG_MIN_LOW ? 0 : eg_plan(2 * bx->e, max(low, ulp), sq);
#if EG_IS_F64
        int lqe = lq ? eg_plan(2 * bx->e - 53, low, sqe) : 0;
#else
        int lqe = 1;
#endif
        if (!lq || !lqe)
            return 0;
        eg_pass_ksq(x, y, m, lq, sq, w + EG_X_SQ);
#if EG_IS_F64
        eg_pass_ksqe(x, y, m, lqe, sqe, w + EG_X_SQ_E);
#endif
    }
#endif
#if EG_GROUPS & EG_G_DOT
    if (nzy) {
        int low = bx->b + by->b, ulp = bx->f + by->f - 52;
        double sd[EG_EXACT_LEVELS - 1] = {0}, sde[EG_EXACT_LEVELS - 1] = {0};
        int ld = low < EG_MIN_LOW ? 0
                                  : eg_plan(bx->e + by->e, max(low, ulp), sd);
#if EG_IS_F64
        int lde = ld ? eg_plan(bx->e + by->e - 53, low, sde) : 0;
#else
        int lde = 1;
#endif
        if (!ld || !lde)
            return 0;
        eg_pass_kdot(x, y, m, ld, sd, w + EG_X_DOT);
#if EG_IS_F64
        eg_pass_kdote(x, y, m, lde, sde, w + EG_X_DOT_E);
#endif
    }
#endif
    (void)nzy;
    return 1;
}

/* After the one pass (when `guessed`) or without it: keeps the record when
 * the scan sc shows the guessed plans held, else redoes it. */
void eg_lane_finish(__global const EG_T *x, __global const EG_T *y, ulong m,
                    ulong base, int guessed, const eg_guessed *g,
                    eg_lane_scan sc, __global ulong *w)
{
    if (!guessed) {
        eg_scan(x, m, &sc.xmax, &sc.xmin1);
#if EG_GROUPS & EG_G_DOT
        eg_scan(y, m, &sc.ymax, &sc.ymin1);
#endif
    }
    int bad = sc.xmax >= EG_INF_BITS;
#if EG_GROUPS & EG_G_DOT
    bad = bad || sc.ymax >= EG_INF_BITS;
#endif
    eg_bounds bx = eg_bounds_of(sc.xmax, sc.xmin1);
    eg_bounds by = eg_bounds_of(sc.ymax, sc.ymin1);
    if (!bad && guessed && eg_guess_holds(&bx, &by, g->gx, g->gy))
        return;
    /* Not the guess: every level word is rewritten (or zero). */
    for (int i = EG_X_SUM; i < EG_EXACT_LANE_WORDS; i++)
        w[i] = 0;
    if (!bad && !guessed && EG_HAS(EG_G_MINMAX))
        eg_min_max(x, m, base, w);
    if (!bad && sc.xmax == 0)
        return; /* every term is zero */
    if (bad || !eg_exact_passes(x, y, m, &bx, &by, sc.ymax != 0, w)) {
        for (int i = 0; i < EG_EXACT_LANE_WORDS; i++)
            w[i] = 0;
        w[EG_X_COUNT] = m;
        w[EG_X_FLAGS] = EG_LANE_NEEDS_CAREFUL;
    }
}

void eg_exact_lane(__global const EG_T *x, __global const EG_T *y, ulong m,
                   ulong base, __global ulong *w)
{
    eg_record_init(m, w);
    eg_guessed g;
    int guessed = eg_guess(x, y, m, &g);
    eg_lane_scan sc = {0, 0, 0, 0};
    if (guessed)
        eg_fused(x, y, m, base, g.sx, g.sq, g.sqe, g.sd, g.sde, w, &sc);
    eg_lane_finish(x, y, m, base, guessed, &g, sc, w);
}

/* ------------------------------------------------- lanes side by side */

/* On a CPU device one work-item reads its lanes one after the other: a
 * single stream per core, which its line fill buffers hold to about half
 * the memory's speed.  EG_SIDE full lanes read side by side give the
 * prefetchers that many streams.  Each lane keeps its own plan,
 * accumulators, scan and min/max, so its record has the same bits as when
 * read alone.  How many side by side: as many as the registers hold. */
#define EG_SIDE_REGS                                                         \
    (EG_FUSED_ACCS + 3 +                                                     \
     (EG_EXACT_FIX_P - 1) * ((EG_HAS_SQ != 0) + EG_HAS(EG_G_DOT)) +          \
     (EG_EXACT_FIX_E - 1) * EG_IS_F64 *                                      \
         ((EG_HAS_SQ != 0) + EG_HAS(EG_G_DOT)) +                             \
     2 * EG_HAS(EG_G_DOT) + 4 * EG_HAS(EG_G_MINMAX))
#if EG_LPI >= 4 && EG_SIDE_REGS <= 6
#define EG_SIDE 4
#elif EG_LPI >= 2 && EG_SIDE_REGS <= 14
#define EG_SIDE 2
#else
#define EG_SIDE 1
#endif

#if EG_SIDE > 1
/* Elements per 64-byte cache line. */
#define EG_LINE_ELEMS (EG_IS_F64 ? 8 : 16)

/* A line's scan (eg_bitsv) folded to 8. */
#if EG_IS_F64
#define EG_LINE_MAX(v) (v)
#define EG_LINE_MIN(v) (v)
#else
#define EG_LINE_MAX(v) max((v).lo, (v).hi)
#define EG_LINE_MIN(v) min((v).lo, (v).hi)
#endif

/* Element l + d of a lane, or past its end the element of the same lane
 * of the next EG_SIDE that far ahead. */
#define EG_SIDE_AHEAD(l, d)                                                  \
    ((l) + (d) < EG_LANE_ELEMS ? (l) + (d)                                   \
                               : (l) + (d) + (EG_SIDE - 1) * EG_LANE_ELEMS)

/* r onto the L grids of accumulators a[] with constants g[]. */
#define EG_CUT_INTO(L, r, a, g)                                              \
    do {                                                                     \
        for (int j_ = 0; j_ + 1 < (L); j_++)                                 \
            EG_CUT_STEP((g)[j_], r, (a)[j_]);                                \
        (a)[(L) - 1] += r;                                                   \
    } while (0)

/* The level sums of a[0..L) into w[0..L) (the rest stay zero). */
#define EG_STORE_LEVELS(L, a, w)                                             \
    do {                                                                     \
        for (int j_ = 0; j_ < (L); j_++)                                     \
            (w)[j_] = eg_level_word((a)[j_]);                                \
    } while (0)

/* The one pass of eg_fused over EG_SIDE full lanes at once: lane k at
 * x + k * EG_LANE_ELEMS, its plans g[k], its record w + k * words. */
void eg_fused_side(__global const EG_T *x, __global const EG_T *y,
                   ulong base, const eg_guessed *g, __global ulong *w,
                   eg_lane_scan *sc)
{
    double8 gx[EG_SIDE][EG_EXACT_FIX_X - 1], gq[EG_SIDE][EG_EXACT_FIX_P - 1],
        gqe[EG_SIDE][EG_EXACT_FIX_E - 1], gd[EG_SIDE][EG_EXACT_FIX_P - 1],
        gde[EG_SIDE][EG_EXACT_FIX_E - 1];
    double8 ax[EG_SIDE][EG_EXACT_FIX_X], aa[EG_SIDE][EG_EXACT_FIX_X],
        aq[EG_SIDE][EG_EXACT_FIX_P], aqe[EG_SIDE][EG_EXACT_FIX_E],
        ad[EG_SIDE][EG_EXACT_FIX_P], ade[EG_SIDE][EG_EXACT_FIX_E];
    eg_bitsv xmx[EG_SIDE], xmn[EG_SIDE], ymx[EG_SIDE], ymn[EG_SIDE];
    eg_mm mm[EG_SIDE];
#pragma unroll
    for (int k = 0; k < EG_SIDE; k++) {
#pragma unroll
        for (int j = 0; j < EG_EXACT_FIX_X; j++) {
            ax[k][j] = aa[k][j] = 0;
            if (j + 1 < EG_EXACT_FIX_X)
                gx[k][j] = g[k].sx[j];
        }
#pragma unroll
        for (int j = 0; j < EG_EXACT_FIX_P; j++) {
            aq[k][j] = ad[k][j] = 0;
            if (j + 1 < EG_EXACT_FIX_P) {
                gq[k][j] = g[k].sq[j];
                gd[k][j] = g[k].sd[j];
            }
        }
#pragma unroll
        for (int j = 0; j < EG_EXACT_FIX_E; j++) {
            aqe[k][j] = ade[k][j] = 0;
            if (j + 1 < EG_EXACT_FIX_E) {
                gqe[k][j] = g[k].sqe[j];
                gde[k][j] = g[k].sde[j];
            }
        }
        xmx[k] = ymx[k] = (eg_bitsv)(0);
        xmn[k] = ymn[k] = (eg_bitsv)((eg_bits)0 - 1);
        eg_mm_init(&mm[k], base + (ulong)k * EG_LANE_ELEMS);
    }
    for (ulong l = 0; l < EG_LANE_ELEMS; l += EG_LINE_ELEMS) {
#ifdef EG_PREFETCH
        /* Past the end of its lane, each stream runs on into the same lane
         * of the next EG_SIDE, the next ones this core reads. */
        ulong near = EG_SIDE_AHEAD(l, EG_PREFETCH_NEAR);
        ulong far = EG_SIDE_AHEAD(l, EG_PREFETCH_FAR);
#pragma unroll
        for (int k = 0; k < EG_SIDE; k++) {
            ulong at = (ulong)k * EG_LANE_ELEMS;
            __builtin_prefetch(x + at + near, 0, 3);
            __builtin_prefetch(x + at + far, 0, 2);
            if (EG_HAS(EG_G_DOT)) {
                __builtin_prefetch(y + at + near, 0, 3);
                __builtin_prefetch(y + at + far, 0, 2);
            }
        }
#endif
        /* The scan takes whole lines: one 64-byte vector per lane. */
#pragma unroll
        for (int k = 0; k < EG_SIDE; k++) {
            ulong at = (ulong)k * EG_LANE_ELEMS + l;
            eg_bitsv b = eg_vload_bits(0, (__global const eg_bits *)(x + at));
            EG_SCAN_BITS(eg_bitsv, b, xmx[k], xmn[k]);
            if (EG_HAS(EG_G_DOT)) {
                b = eg_vload_bits(0, (__global const eg_bits *)(y + at));
                EG_SCAN_BITS(eg_bitsv, b, ymx[k], ymn[k]);
            }
        }
#pragma unroll
        for (int h = 0; h < EG_LINE_ELEMS * EG_SIDE; h += 8) {
            /* Lane by lane, so that neighbouring steps are independent. */
            int k = (h / 8) % EG_SIDE;
            ulong at = (ulong)k * EG_LANE_ELEMS + l + (h / 8 / EG_SIDE) * 8;
            eg_bits8 bx = EG_LOAD_BITS8(x + at), by = bx;
            double8 v = EG_AS_DOUBLE8(bx), t = v;
            EG_CUT_INTO(EG_EXACT_FIX_X, t, ax[k], gx[k]);
            if (EG_HAS(EG_G_L1)) {
                t = fabs(v);
                EG_CUT_INTO(EG_EXACT_FIX_X, t, aa[k], gx[k]);
            }
            if (EG_HAS_SQ) {
                double8 p = v * v;
                if (EG_IS_F64) {
                    double8 e = fma(v, v, -p);
                    EG_CUT_INTO(EG_EXACT_FIX_E, e, aqe[k], gqe[k]);
                }
                EG_CUT_INTO(EG_EXACT_FIX_P, p, aq[k], gq[k]);
            }
            if (EG_HAS(EG_G_DOT)) {
                by = EG_LOAD_BITS8(y + at);
                double8 wv = EG_AS_DOUBLE8(by), p = v * wv;
                if (EG_IS_F64) {
                    double8 e = fma(v, wv, -p);
                    EG_CUT_INTO(EG_EXACT_FIX_E, e, ade[k], gde[k]);
                }
                EG_CUT_INTO(EG_EXACT_FIX_P, p, ad[k], gd[k]);
            }
            if (EG_HAS(EG_G_MINMAX))
                EG_MM_STEP(mm[k], v);
        }
    }
#pragma unroll
    for (int k = 0; k < EG_SIDE; k++) {
        __global ulong *wk = w + k * EG_EXACT_LANE_WORDS;
        if (EG_HAS(EG_G_MINMAX))
            eg_mm_finish(&mm[k], x, EG_LANE_ELEMS, EG_LANE_ELEMS,
                         base + (ulong)k * EG_LANE_ELEMS, wk);
        eg_scan_fold(EG_LINE_MAX(xmx[k]), EG_LINE_MIN(xmn[k]), &sc[k].xmax,
                     &sc[k].xmin1);
        sc[k].ymax = sc[k].ymin1 = 0;
        EG_STORE_LEVELS(EG_EXACT_FIX_X, ax[k], wk + EG_X_SUM);
        if (EG_HAS(EG_G_L1))
            EG_STORE_LEVELS(EG_EXACT_FIX_X, aa[k], wk + EG_X_L1);
        if (EG_HAS_SQ) {
            EG_STORE_LEVELS(EG_EXACT_FIX_P, aq[k], wk + EG_X_SQ);
            if (EG_IS_F64)
                EG_STORE_LEVELS(EG_EXACT_FIX_E, aqe[k], wk + EG_X_SQ_E);
        }
        if (EG_HAS(EG_G_DOT)) {
            eg_scan_fold(EG_LINE_MAX(ymx[k]), EG_LINE_MIN(ymn[k]),
                         &sc[k].ymax, &sc[k].ymin1);
            EG_STORE_LEVELS(EG_EXACT_FIX_P, ad[k], wk + EG_X_DOT);
            if (EG_IS_F64)
                EG_STORE_LEVELS(EG_EXACT_FIX_E, ade[k], wk + EG_X_DOT_E);
        }
    }
}

/* EG_SIDE full lanes from lane 0 at x (element base), records from w. */
void eg_exact_lanes_side(__global const EG_T *x, __global const EG_T *y,
                         ulong base, __global ulong *w)
{
    eg_guessed g[EG_SIDE];
    int all = 1;
    for (int k = 0; k < EG_SIDE; k++) {
        ulong at = (ulong)k * EG_LANE_ELEMS;
        eg_record_init(EG_LANE_ELEMS, w + k * EG_EXACT_LANE_WORDS);
        all = eg_guess(x + at, y + at, EG_LANE_ELEMS, &g[k]) && all;
    }
    if (!all) {
        /* A lane without a guess is rare (its first elements all zero or
         * not finite): each lane alone then. */
        for (int k = 0; k < EG_SIDE; k++) {
            ulong at = (ulong)k * EG_LANE_ELEMS;
            eg_exact_lane(x + at, y + at, EG_LANE_ELEMS, base + at,
                          w + k * EG_EXACT_LANE_WORDS);
        }
        return;
    }
    eg_lane_scan sc[EG_SIDE];
    eg_fused_side(x, y, base, g, w, sc);
    for (int k = 0; k < EG_SIDE; k++) {
        ulong at = (ulong)k * EG_LANE_ELEMS;
        eg_lane_finish(x + at, y + at, EG_LANE_ELEMS, base + at, 1, &g[k],
                       sc[k], w + k * EG_EXACT_LANE_WORDS);
    }
}
#endif

/* x[0..n) (and y[0..n) with EG_G_DOT) -> ceil(n / EG_LANE_ELEMS) records at
 * out; work-item i covers lanes [i * EG_LPI, +EG_LPI): EG_SIDE full lanes
 * at a time side by side, the rest one after the other. */
__kernel void eg_reduce(__global const EG_T *x, __global const EG_T *y, ulong n,
                        __global ulong *out)
{
    ulong first = get_global_id(0) * EG_LPI;
    ulong lanes = (n + EG_LANE_ELEMS - 1) / EG_LANE_ELEMS;
    ulong lane = first;
#if EG_SIDE > 1
    for (; lane + EG_SIDE <= first + EG_LPI &&
           (lane + EG_SIDE) * EG_LANE_ELEMS <= n;
         lane += EG_SIDE)
        eg_exact_lanes_side(x + lane * EG_LANE_ELEMS, y + lane * EG_LANE_ELEMS,
                            lane * EG_LANE_ELEMS,
                            out + lane * EG_EXACT_LANE_WORDS);
#endif
    for (; lane < first + EG_LPI && lane < lanes; lane++) {
        ulong base = lane * EG_LANE_ELEMS;
        ulong m = min((ulong)EG_LANE_ELEMS, n - base);
        eg_exact_lane(x + base, y + base, m, base,
                      out + lane * EG_EXACT_LANE_WORDS);
    }
}
