/* reduce_exact.cl - the exact-mode chunk kernel: one record of
 * EG_EXACT_LANE_WORDS words per lane of EG_LANE_ELEMS elements, the same
 * words as the host reference eg_lanes_exact (engine/lanes_exact.c).
 *
 * A lane is read a few times while it sits in cache:
 *   scan      the bits of the largest and the smallest non-zero |x| (and
 *             |y| for dot), which also reveal inf and nan; min/max when asked
 *   levels    per quantity (sum, |x|, x^2, x*y), every term cut onto at most
 *             EG_EXACT_LEVELS fixed grids by Rump's extraction
 *             q = (sigma + t) - sigma, each grid summed in a double.
 * engine/exact_levels.h explains why every one of those sums is exact: so
 * the order of the additions, the vector width and the number of
 * accumulators do not matter, and the record is the exact value of the lane.
 * Lanes the grids cannot hold (nan, inf, a span of magnitudes too wide,
 * f64 products that would underflow) are flagged EG_LANE_NEEDS_CAREFUL and
 * redone on the host.
 *
 * Built with -DEG_T=float|double -DEG_DT -DEG_GROUPS (EG_G_EXACT set)
 * -DEG_LANE_ELEMS -DEG_LPI behind a prelude (engine/cl_program.c) that
 * defines the EG_G_*, EG_X_* and EG_EXACT_* constants.  No FP contraction:
 * v * w and (sigma + t) - sigma must round exactly as written; fma() is the
 * correctly rounded fused operation of OpenCL C, the TwoProduct error term.
 */
#pragma OPENCL FP_CONTRACT OFF
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#define EG_HAS(g) ((EG_GROUPS & (g)) != 0)

#ifndef EG_LPI
#define EG_LPI 1
#endif

/* The float format behind the scan: elements as unsigned bits, a vector of
 * them per scan step. */
#if EG_DT == EG_F64
#define EG_IS_F64 1
typedef ulong eg_bits;
typedef ulong8 eg_bitsv;
#define EG_SCAN_W 8
#define eg_vload_bits vload8
#define EG_MANT 52
#define EG_BIAS 1023
#define EG_ABS_MASK 0x7fffffffffffffffUL
#define EG_INF_BITS 0x7ff0000000000000UL
#else
#define EG_IS_F64 0
typedef uint eg_bits;
typedef uint16 eg_bitsv;
#define EG_SCAN_W 16
#define eg_vload_bits vload16
#define EG_MANT 23
#define EG_BIAS 127
#define EG_ABS_MASK 0x7fffffffU
#define EG_INF_BITS 0x7f800000U
#endif

/* Term kinds of a level pass. */
#define EG_K_X 0     /* x */
#define EG_K_ABS 1   /* |x| */
#define EG_K_SQ 2    /* p = fl(x * x) */
#define EG_K_SQ_E 3  /* e = x * x - p (f64) */
#define EG_K_DOT 4   /* p = fl(x * y) */
#define EG_K_DOT_E 5 /* e = x * y - p (f64) */

/* ------------------------------------------------------------------ scan */

/* The scan of one operand of a lane: the bits of the largest |v|, and of
 * the smallest non-zero |v| minus one (a zero wraps to the maximum and never
 * wins), as vectors until eg_scan_finish folds them. */
typedef struct eg_scan_acc {
    eg_bitsv mx, mn;
} eg_scan_acc;

typedef struct eg_lane_scan {
    eg_bits xmax, xmin1, ymax, ymin1;
} eg_lane_scan;

void eg_scan_init(eg_scan_acc *s)
{
    s->mx = (eg_bitsv)(0);
    s->mn = (eg_bitsv)((eg_bits)0 - 1);
}

/* EG_SCAN_W elements at p. */
#define EG_SCAN_STEP(s, p)                                                   \
    do {                                                                     \
        eg_bitsv a_ = eg_vload_bits(0, (__global const eg_bits *)(p)) &      \
                      (eg_bitsv)(EG_ABS_MASK);                               \
        (s).mx = max((s).mx, a_);                                            \
        (s).mn = min((s).mn, a_ - (eg_bitsv)(1));                            \
    } while (0)

/* Scans p[from, m) and folds the vectors into *maxb, *min1b. */
void eg_scan_finish(eg_scan_acc *s, __global const EG_T *p, ulong from,
                    ulong m, eg_bits *maxb, eg_bits *min1b)
{
    ulong i = from;
    for (; i + EG_SCAN_W <= m; i += EG_SCAN_W)
        EG_SCAN_STEP(*s, p + i);
    eg_bits vx[EG_SCAN_W], vn[EG_SCAN_W];
#if EG_IS_F64
    vstore8(s->mx, 0, vx);
    vstore8(s->mn, 0, vn);
#else
    vstore16(s->mx, 0, vx);
    vstore16(s->mn, 0, vn);
#endif
    eg_bits smx = vx[0], smn = vn[0];
    for (int j = 1; j < EG_SCAN_W; j++) {
        smx = max(smx, vx[j]);
        smn = min(smn, vn[j]);
    }
    __global const eg_bits *b = (__global const eg_bits *)p;
    for (; i < m; i++) {
        eg_bits a = b[i] & EG_ABS_MASK;
        smx = max(smx, a);
        smn = min(smn, a - (eg_bits)1);
    }
    *maxb = smx;
    *min1b = smn;
}

/* The whole scan of a lane (x, and y for dot). */
void eg_scan_lane(__global const EG_T *x, __global const EG_T *y, ulong m,
                  eg_lane_scan *out)
{
    eg_scan_acc s;
    eg_scan_init(&s);
    eg_scan_finish(&s, x, 0, m, &out->xmax, &out->xmin1);
    out->ymax = 0;
    out->ymin1 = 0;
#if EG_GROUPS & EG_G_DOT
    eg_scan_init(&s);
    eg_scan_finish(&s, y, 0, m, &out->ymax, &out->ymin1);
#endif
}

/* ---------------------------------------------------------------- plans */

/* The rules of engine/exact_levels.h, restated. */
int eg_top(eg_bits abs_bits)
{
    int be = (int)(abs_bits >> EG_MANT);
    return (be ? be : 1) - EG_BIAS + 1;
}

int eg_low(eg_bits abs_bits)
{
    int be = (int)(abs_bits >> EG_MANT);
    return (be ? be : 1) - EG_BIAS - EG_MANT;
}

int eg_floor(eg_bits abs_bits)
{
    int be = (int)(abs_bits >> EG_MANT);
    return be ? be - EG_BIAS : 1 - EG_BIAS - EG_MANT;
}

double eg_sigma(int k)
{
    return as_double(((ulong)(k + 1023) << 52) | (1UL << 51));
}

/* Number of levels for terms below 2^e on the 2^b grid, 0 if too many or e
 * too large; sig[] gets the extraction constants. */
int eg_plan(int e, int b, double *sig)
{
    int span = e - b, levels;
    if (span <= 40)
        levels = 1;
    else if (span <= 81)
        levels = 2;
    else
        levels = 2 + (span - 81 + EG_EXACT_STEP - 1) / EG_EXACT_STEP;
    if (levels > EG_EXACT_LEVELS || e > EG_EXACT_TOP_MAX)
        return 0;
    for (int j = 0; j + 1 < levels; j++)
        sig[j] = eg_sigma(e + EG_EXACT_HEADROOM - 1 - EG_EXACT_STEP * j);
    return levels;
}

/* -------------------------------------------------------------- levels */

/* r (a vector of terms) onto L grids, accumulators A0..A4, extraction
 * constants g0..g3: L is a literal in every expansion, so the dead steps
 * vanish and the accumulators stay in registers. */
#define EG_CUT_STEP(g, r, acc)                                               \
    do {                                                                     \
        double8 q_ = ((g) + (r)) - (g);                                      \
        acc += q_;                                                           \
        r -= q_;                                                             \
    } while (0)

#define EG_CUT(L, r, A)                                                      \
    do {                                                                     \
        if (L > 1)                                                           \
            EG_CUT_STEP(g0, r, A##0);                                        \
        if (L > 2)                                                           \
            EG_CUT_STEP(g1, r, A##1);                                        \
        if (L > 3)                                                           \
            EG_CUT_STEP(g2, r, A##2);                                        \
        if (L > 4)                                                           \
            EG_CUT_STEP(g3, r, A##3);                                        \
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

/* The terms of 8 elements v (and w) of kind K onto the grids: x, |x|, the
 * rounded product p, or its exact error e = fma(v, w, -p) (TwoProduct). */
#define EG_TERMS(K, L, v, w, A)                                              \
    do {                                                                     \
        double8 t_;                                                          \
        if (K == EG_K_X) {                                                   \
            t_ = (v);                                                        \
        } else if (K == EG_K_ABS) {                                          \
            t_ = fabs(v);                                                    \
        } else if (K == EG_K_SQ || K == EG_K_DOT) {                          \
            t_ = (v) * (w);                                                  \
        } else {                                                             \
            double8 p_ = (v) * (w);                                          \
            t_ = fma((v), (w), -p_);                                         \
        }                                                                    \
        EG_CUT(L, t_, A);                                                    \
    } while (0)

/* r < 8 elements at p as a vector padded with zeros, which add nothing. */
double8 eg_load_tail(__global const EG_T *p, uint r)
{
    double tmp[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (uint j = 0; j < r; j++)
        tmp[j] = convert_double(p[j]);
    return vload8(0, tmp);
}

#define EG_LOAD8(p) convert_double8(vload8(0, (p)))

/* eg_pass_K_L: the sums of the pieces of every term of kind K of a lane on
 * L grids, per level, into w[0..EG_EXACT_LEVELS).  Two sets of accumulators
 * (a, b) give the adders independent chains. */
#define EG_DEFINE_PASS(NAME, K, L)                                           \
    void eg_pass_##NAME##_##L(__global const EG_T *x, __global const EG_T *y,   \
                           ulong m, const double *sig, __global ulong *w)    \
    {                                                                        \
        const int dot = K == EG_K_DOT || K == EG_K_DOT_E;                    \
        double8 g0 = (double8)(sig[0]), g1 = (double8)(sig[1]);              \
        double8 g2 = (double8)(sig[2]), g3 = (double8)(sig[3]);              \
        double8 a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0;                      \
        double8 b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0;                      \
        ulong i = 0, full = m & ~(ulong)15;                                  \
        for (; i < full; i += 16) {                                          \
            double8 v0 = EG_LOAD8(x + i), v1 = EG_LOAD8(x + i + 8);          \
            double8 w0 = v0, w1 = v1;                                        \
            if (dot) {                                                       \
                w0 = EG_LOAD8(y + i);                                        \
                w1 = EG_LOAD8(y + i + 8);                                    \
            }                                                                \
            EG_TERMS(K, L, v0, w0, a);                                       \
            EG_TERMS(K, L, v1, w1, b);                                       \
        }                                                                    \
        for (; i + 8 <= m; i += 8) {                                         \
            double8 v = EG_LOAD8(x + i), wv = v;                             \
            if (dot)                                                         \
                wv = EG_LOAD8(y + i);                                        \
            EG_TERMS(K, L, v, wv, a);                                        \
        }                                                                    \
        if (i < m) {                                                         \
            uint r = (uint)(m - i);                                          \
            double8 v = eg_load_tail(x + i, r), wv = v;                      \
            if (dot)                                                         \
                wv = eg_load_tail(y + i, r);                                 \
            EG_TERMS(K, L, v, wv, a);                                        \
        }                                                                    \
        double8 s[EG_EXACT_LEVELS] = {a0 + b0, a1 + b1, a2 + b2, a3 + b3,    \
                                      a4 + b4};                              \
        for (int j = 0; j < EG_EXACT_LEVELS; j++)                            \
            w[j] = as_ulong(((s[j].s0 + s[j].s1) + (s[j].s2 + s[j].s3)) +    \
                            ((s[j].s4 + s[j].s5) + (s[j].s6 + s[j].s7)));    \
    }

/* eg_pass_scan_L: the x pass (kind EG_K_X) that also scans the next lane
 * of the work-item (nx, ny, nm): its reads from memory overlap the adds of
 * this lane, whose own data is already in cache from its scan. */
#if EG_IS_F64
#define EG_SCAN16(s, p)                                                      \
    do {                                                                     \
        EG_SCAN_STEP(s, p);                                                  \
        EG_SCAN_STEP(s, (p) + 8);                                            \
    } while (0)
#else
#define EG_SCAN16(s, p) EG_SCAN_STEP(s, p)
#endif

#define EG_DEFINE_SCAN_PASS(L)                                               \
    void eg_pass_scan_##L(__global const EG_T *x, ulong m, const double *sig, \
                          __global ulong *w, __global const EG_T *nx,        \
                          __global const EG_T *ny, ulong nm,                 \
                          eg_lane_scan *next)                                \
    {                                                                        \
        double8 g0 = (double8)(sig[0]), g1 = (double8)(sig[1]);              \
        double8 g2 = (double8)(sig[2]), g3 = (double8)(sig[3]);              \
        double8 a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0;                      \
        double8 b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0;                      \
        eg_scan_acc sx, sy;                                                  \
        eg_scan_init(&sx);                                                   \
        eg_scan_init(&sy);                                                   \
        ulong i = 0, full = m & ~(ulong)15, nfull = nm & ~(ulong)15;         \
        ulong both = min(full, nfull);                                       \
        for (; i < both; i += 16) {                                          \
            EG_SCAN16(sx, nx + i);                                           \
            if (EG_HAS(EG_G_DOT))                                            \
                EG_SCAN16(sy, ny + i);                                       \
            double8 v0 = EG_LOAD8(x + i), v1 = EG_LOAD8(x + i + 8);          \
            EG_TERMS(EG_K_X, L, v0, v0, a);                                  \
            EG_TERMS(EG_K_X, L, v1, v1, b);                                  \
        }                                                                    \
        ulong scanned = i;                                                   \
        for (; i < full; i += 16) {                                          \
            double8 v0 = EG_LOAD8(x + i), v1 = EG_LOAD8(x + i + 8);          \
            EG_TERMS(EG_K_X, L, v0, v0, a);                                  \
            EG_TERMS(EG_K_X, L, v1, v1, b);                                  \
        }                                                                    \
        for (; i + 8 <= m; i += 8) {                                         \
            double8 v = EG_LOAD8(x + i);                                     \
            EG_TERMS(EG_K_X, L, v, v, a);                                    \
        }                                                                    \
        if (i < m) {                                                         \
            double8 v = eg_load_tail(x + i, (uint)(m - i));                  \
            EG_TERMS(EG_K_X, L, v, v, a);                                    \
        }                                                                    \
        double8 s[EG_EXACT_LEVELS] = {a0 + b0, a1 + b1, a2 + b2, a3 + b3,    \
                                      a4 + b4};                              \
        for (int j = 0; j < EG_EXACT_LEVELS; j++)                            \
            w[j] = as_ulong(((s[j].s0 + s[j].s1) + (s[j].s2 + s[j].s3)) +    \
                            ((s[j].s4 + s[j].s5) + (s[j].s6 + s[j].s7)));    \
        eg_scan_finish(&sx, nx, scanned, nm, &next->xmax, &next->xmin1);     \
        next->ymax = 0;                                                      \
        next->ymin1 = 0;                                                     \
        if (EG_HAS(EG_G_DOT))                                                \
            eg_scan_finish(&sy, ny, scanned, nm, &next->ymax, &next->ymin1); \
    }

EG_DEFINE_SCAN_PASS(1)
EG_DEFINE_SCAN_PASS(2)
EG_DEFINE_SCAN_PASS(3)
EG_DEFINE_SCAN_PASS(4)
EG_DEFINE_SCAN_PASS(5)

void eg_pass_scan(__global const EG_T *x, ulong m, int levels,
                  const double *sig, __global ulong *w,
                  __global const EG_T *nx, __global const EG_T *ny, ulong nm,
                  eg_lane_scan *next)
{
    switch (levels) {
    case 1: eg_pass_scan_1(x, m, sig, w, nx, ny, nm, next); break;
    case 2: eg_pass_scan_2(x, m, sig, w, nx, ny, nm, next); break;
    case 3: eg_pass_scan_3(x, m, sig, w, nx, ny, nm, next); break;
    case 4: eg_pass_scan_4(x, m, sig, w, nx, ny, nm, next); break;
    default: eg_pass_scan_5(x, m, sig, w, nx, ny, nm, next); break;
    }
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
#if EG_GROUPS & (EG_G_VAR | EG_G_L2)
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
void eg_min_max(__global const EG_T *x, ulong m, ulong base,
                __global ulong *w)
{
    double8 mn = (double8)(INFINITY), mx = (double8)(-INFINITY);
    ulong8 amn = (ulong8)(EG_NONE_INDEX), amx = (ulong8)(EG_NONE_INDEX);
    ulong8 idx = (ulong8)(base) + (ulong8)(0, 1, 2, 3, 4, 5, 6, 7);
    ulong i = 0;
    for (; i + 8 <= m; i += 8) {
        double8 v = EG_LOAD8(x + i);
        long8 lt = v < mn, gt = v > mx;
        mn = select(mn, v, lt);
        amn = select(amn, idx, lt);
        mx = select(mx, v, gt);
        amx = select(amx, idx, gt);
        idx += (ulong8)(8);
    }
    double smn[8], smx[8];
    ulong samn[8], samx[8];
    vstore8(mn, 0, smn);
    vstore8(mx, 0, smx);
    vstore8(amn, 0, samn);
    vstore8(amx, 0, samx);
    for (uint j = 0; i < m; i++, j++) {
        double v = convert_double(x[i]);
        if (v < smn[j]) {
            smn[j] = v;
            samn[j] = base + i;
        }
        if (v > smx[j]) {
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

/* ---------------------------------------------------------------- lane */

void eg_exact_lane(__global const EG_T *x, __global const EG_T *y, ulong m,
                   ulong base, __global ulong *w)
{
    for (int i = 0; i < EG_EXACT_LANE_WORDS; i++)
        w[i] = 0;
    w[EG_X_COUNT] = m;
    w[EG_X_ARGMIN] = EG_NONE_INDEX;
    w[EG_X_ARGMAX] = EG_NONE_INDEX;

    eg_bits xmax, xmin1, ymax = 0, ymin1 = 0;
    eg_scan(x, m, &xmax, &xmin1);
    if (EG_HAS(EG_G_DOT))
        eg_scan(y, m, &ymax, &ymin1);
    int bad = xmax >= EG_INF_BITS;
#if EG_GROUPS & EG_G_DOT
    bad = bad || ymax >= EG_INF_BITS;
#endif
    int ex = eg_top(xmax), bx = eg_low(xmin1 + 1), fx = eg_floor(xmin1 + 1);
    int ey = eg_top(ymax), by = eg_low(ymin1 + 1), fy = eg_floor(ymin1 + 1);
    int nzx = xmax != 0, nzy = ymax != 0;
    double sx[EG_EXACT_LEVELS - 1] = {0};
    int lx = 0;
    if (!bad && nzx) {
        lx = eg_plan(ex, bx, sx);
        bad = lx == 0;
    }
    /* f64 products must stay on the 2^-1074 grid for e to be exact; f32
     * products are exact in double anyway. */
    int min_low = EG_IS_F64 ? -1074 : -100000;
    (void)min_low;
    (void)fy;
    /* Products (exact_levels.h, product_plans in lanes_exact.c): p is at
     * most 2^(ea + eb), a multiple of 2^(ba + bb) and of its ulp, at least
     * 2^(fa + fb - 52); e is below 2^(ea + eb - 53) on the 2^(ba + bb)
     * grid. */
#if EG_GROUPS & (EG_G_VAR | EG_G_L2)
    double sq[EG_EXACT_LEVELS - 1] = {0}, sqe[EG_EXACT_LEVELS - 1] = {0};
    int lq = 0, lqe = 0;
    if (!bad && nzx) {
        int low = 2 * bx, ulp = 2 * fx - 52;
        bad = low < min_low;
        if (!bad) {
            lq = eg_plan(2 * ex, max(low, ulp), sq);
            bad = lq == 0;
        }
#if EG_IS_F64
        if (!bad) {
            lqe = eg_plan(2 * ex - 53, low, sqe);
            bad = lqe == 0;
        }
#endif
    }
#endif
#if EG_GROUPS & EG_G_DOT
    double sd[EG_EXACT_LEVELS - 1] = {0}, sde[EG_EXACT_LEVELS - 1] = {0};
    int ld = 0, lde = 0;
    if (!bad && nzx && nzy) {
        int low = bx + by, ulp = fx + fy - 52;
        bad = low < min_low;
        if (!bad) {
            ld = eg_plan(ex + ey, max(low, ulp), sd);
            bad = ld == 0;
        }
#if EG_IS_F64
        if (!bad) {
            lde = eg_plan(ex + ey - 53, low, sde);
            bad = lde == 0;
        }
#endif
    }
#endif
    if (bad) {
        w[EG_X_ARGMIN] = 0;
        w[EG_X_ARGMAX] = 0;
        w[EG_X_FLAGS] = EG_LANE_NEEDS_CAREFUL;
        return;
    }
    if (EG_HAS(EG_G_MINMAX))
        eg_min_max(x, m, base, w);
    if (lx) {
        eg_pass_kx(x, y, m, lx, sx, w + EG_X_SUM);
#if EG_GROUPS & EG_G_L1
        eg_pass_kabs(x, y, m, lx, sx, w + EG_X_L1);
#endif
    }
#if EG_GROUPS & (EG_G_VAR | EG_G_L2)
    if (lq)
        eg_pass_ksq(x, y, m, lq, sq, w + EG_X_SQ);
#if EG_IS_F64
    if (lqe)
        eg_pass_ksqe(x, y, m, lqe, sqe, w + EG_X_SQ_E);
#endif
#endif
#if EG_GROUPS & EG_G_DOT
    if (ld)
        eg_pass_kdot(x, y, m, ld, sd, w + EG_X_DOT);
#if EG_IS_F64
    if (lde)
        eg_pass_kdote(x, y, m, lde, sde, w + EG_X_DOT_E);
#endif
#endif
}

/* x[0..n) (and y[0..n) with EG_G_DOT) -> ceil(n / EG_LANE_ELEMS) records at
 * out; work-item i covers lanes [i * EG_LPI, +EG_LPI), one after the other
 * (each lane's passes then hit the cache). */
__kernel void eg_reduce(__global const EG_T *x, __global const EG_T *y, ulong n,
                        __global ulong *out)
{
    ulong first = get_global_id(0) * EG_LPI;
    ulong lanes = (n + EG_LANE_ELEMS - 1) / EG_LANE_ELEMS;
    for (ulong lane = first; lane < first + EG_LPI && lane < lanes; lane++) {
        ulong base = lane * EG_LANE_ELEMS;
        ulong m = min((ulong)EG_LANE_ELEMS, n - base);
        eg_exact_lane(x + base, y + base, m, base,
                      out + lane * EG_EXACT_LANE_WORDS);
    }
}
