/* exact_plan.h - what both exact-mode kernels (reduce_exact.cl, CPU-tuned,
 * and reduce_exact_gpu.cl, portable) decide the same way about a lane: the
 * float format as bits, the magnitude scan, the guessed plan from the
 * lane's first elements, the bounds that decide whether it held, and the
 * empty record.  OpenCL C only; it goes behind the prelude of
 * engine/backend/opencl/cl_program.c and kernels/exact_rules.h (the
 * integer rules it applies, shared with the host), in front of the kernel.
 * A record's words depend on these decisions alone, never on the layout
 * of the additions (see reduce_exact.cl), so one statement of them keeps
 * every exact kernel on the host's bits. */
#ifndef EG_EXACT_PLAN_H
#define EG_EXACT_PLAN_H
#pragma OPENCL FP_CONTRACT OFF
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#define EG_HAS(g) ((EG_GROUPS & (g)) != 0)
#define EG_HAS_SQ (EG_GROUPS & (EG_G_VAR | EG_G_L2))

/* The float format as unsigned bits: 8 of them, and a wider vector for the
 * standalone scan. */
#if EG_DT == EG_F64
#define EG_IS_F64 1
typedef ulong eg_bits;
typedef ulong8 eg_bits8;
typedef ulong8 eg_bitsv;
#define EG_SCAN_W 8
#define eg_vload_bits vload8
#define EG_AS_DOUBLE8(b) as_double8(b)
#define EG_MANT 52
#define EG_BIAS 1023
#define EG_ABS_MASK 0x7fffffffffffffffUL
#define EG_INF_BITS 0x7ff0000000000000UL
#else
#define EG_IS_F64 0
typedef uint eg_bits;
typedef uint8 eg_bits8;
typedef uint16 eg_bitsv;
#define EG_SCAN_W 16
#define eg_vload_bits vload16
#define EG_AS_DOUBLE8(b) convert_double8(as_float8(b))
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

/* The scan of one operand: the bits of the largest |v|, and of the
 * smallest non-zero |v| minus one (a zero wraps to the maximum and never
 * wins). */
typedef struct eg_lane_scan {
    eg_bits xmax, xmin1, ymax, ymin1;
} eg_lane_scan;

/* The scan of the bits b (a vector of type T) into mx, mn. */
#define EG_SCAN_BITS(T, b, mx, mn)                                           \
    do {                                                                     \
        T a_ = (b) & (T)(EG_ABS_MASK);                                       \
        mx = max(mx, a_);                                                    \
        mn = min(mn, a_ - (T)(1));                                           \
    } while (0)

/* p[0, m) into *maxb, *min1b. */
void eg_scan(__global const EG_T *p, ulong m, eg_bits *maxb, eg_bits *min1b)
{
    __global const eg_bits *b = (__global const eg_bits *)p;
    eg_bitsv mx = (eg_bitsv)(0), mn = (eg_bitsv)((eg_bits)0 - 1);
    ulong i = 0;
    for (; i + EG_SCAN_W <= m; i += EG_SCAN_W)
        EG_SCAN_BITS(eg_bitsv, eg_vload_bits(0, b + i), mx, mn);
    eg_bits vx[EG_SCAN_W], vn[EG_SCAN_W];
#if EG_IS_F64
    vstore8(mx, 0, vx);
    vstore8(mn, 0, vn);
#else
    vstore16(mx, 0, vx);
    vstore16(mn, 0, vn);
#endif
    eg_bits smx = vx[0], smn = vn[0];
    for (int j = 1; j < EG_SCAN_W; j++) {
        smx = max(smx, vx[j]);
        smn = min(smn, vn[j]);
    }
    for (; i < m; i++) {
        eg_bits a = b[i] & EG_ABS_MASK;
        smx = max(smx, a);
        smn = min(smn, a - (eg_bits)1);
    }
    *maxb = smx;
    *min1b = smn;
}

/* Folds 8 lanes of a vector scan. */
void eg_scan_fold(eg_bits8 mx, eg_bits8 mn, eg_bits *maxb, eg_bits *min1b)
{
    eg_bits vx[8], vn[8];
    vstore8(mx, 0, vx);
    vstore8(mn, 0, vn);
    eg_bits smx = vx[0], smn = vn[0];
    for (int j = 1; j < 8; j++) {
        smx = max(smx, vx[j]);
        smn = min(smn, vn[j]);
    }
    *maxb = smx;
    *min1b = smn;
}

/* ---------------------------------------------------------------- plans */

/* The rules of kernels/exact_rules.h (in front of this file), for this
 * float format. */
int eg_top(eg_bits abs_bits)
{
    return eg_exact_top(abs_bits, EG_MANT, EG_BIAS);
}

int eg_low(eg_bits abs_bits)
{
    return eg_exact_low(abs_bits, EG_MANT, EG_BIAS);
}

int eg_floor(eg_bits abs_bits)
{
    return eg_exact_floor(abs_bits, EG_MANT, EG_BIAS);
}

/* The sigmas of `levels` levels for terms up to 2^e; 0 when one would not
 * be a finite normal double. */
int eg_fixed_plan(int e, int levels, double *sig)
{
    if (!eg_exact_fixed_fits(e, levels))
        return 0;
    for (int j = 0; j + 1 < levels; j++)
        sig[j] = eg_exact_level_sigma(e, j);
    return 1;
}

/* Number of levels for terms up to 2^e on the 2^b grid, 0 if too many or e
 * too large; sig[] gets the extraction constants. */
int eg_plan(int e, int b, double *sig)
{
    int levels = eg_exact_levels_for(e, b, EG_EXACT_LEVELS);
    for (int j = 0; j + 1 < levels; j++)
        sig[j] = eg_exact_level_sigma(e, j);
    return levels;
}

/* E of the guessed plan of one operand: from its first elements; 0 when
 * they are all zero (or not finite). */
int eg_guess_top(__global const EG_T *p, ulong m, int *e)
{
    eg_bits mx, mn1;
    eg_scan(p, min(m, (ulong)EG_EXACT_GUESS_ELEMS), &mx, &mn1);
    if (mx == 0 || mx >= EG_INF_BITS)
        return 0;
    *e = eg_top(mx) + EG_EXACT_GUESS_MARGIN;
    return 1;
}

/* ------------------------------------------------------- guess, bounds */

/* The bounds of one operand (exact_levels.h). */
typedef struct eg_bounds {
    int e, f, b;
} eg_bounds;

eg_bounds eg_bounds_of(eg_bits maxb, eg_bits min1b)
{
    eg_bounds o = {eg_top(maxb), eg_floor(min1b + 1), eg_low(min1b + 1)};
    return o;
}

/* The guessed plans hold: every term up to 2^E and on the lowest grid;
 * f64 products stay on the 2^-1074 grid (f32 products are exact). */
#define eg_holds eg_exact_guess_fits
#define EG_MIN_LOW (EG_IS_F64 ? EG_EXACT_F64_MIN_LOW : -100000)

int eg_guess_holds(const eg_bounds *bx, const eg_bounds *by, int gx, int gy)
{
    int ok = eg_holds(bx->e, bx->b, gx, EG_EXACT_FIX_X);
#if EG_HAS_SQ
    {
        int low = 2 * bx->b, ulp = 2 * bx->f - 52;
        ok = ok && low >= EG_MIN_LOW &&
             eg_holds(2 * bx->e, max(low, ulp), 2 * gx, EG_EXACT_FIX_P);
#if EG_IS_F64
        ok = ok &&
             eg_holds(2 * bx->e - 53, low, 2 * gx - 53, EG_EXACT_FIX_E);
#endif
    }
#endif
#if EG_GROUPS & EG_G_DOT
    {
        int low = bx->b + by->b, ulp = bx->f + by->f - 52;
        ok = ok && by->e <= gy && low >= EG_MIN_LOW &&
             eg_holds(bx->e + by->e, max(low, ulp), gx + gy, EG_EXACT_FIX_P);
#if EG_IS_F64
        ok = ok && eg_holds(bx->e + by->e - 53, low, gx + gy - 53,
                            EG_EXACT_FIX_E);
#endif
    }
#endif
    return ok;
}

/* A lane's guessed plans (exact_levels.h): E of x and of y, and the
 * sigmas of x, x^2's p and e, x*y's p and e. */
typedef struct eg_guessed {
    int gx, gy;
    double sx[EG_EXACT_LEVELS - 1], sq[EG_EXACT_LEVELS - 1],
        sqe[EG_EXACT_LEVELS - 1], sd[EG_EXACT_LEVELS - 1],
        sde[EG_EXACT_LEVELS - 1];
} eg_guessed;

/* The guessed plans of a lane; 0 when there is no guess or a sigma would
 * not be normal. */
int eg_guess(__global const EG_T *x, __global const EG_T *y, ulong m,
             eg_guessed *g)
{
    for (int j = 0; j < EG_EXACT_LEVELS - 1; j++)
        g->sx[j] = g->sq[j] = g->sqe[j] = g->sd[j] = g->sde[j] = 0;
    g->gy = 0;
    if (!eg_guess_top(x, m, &g->gx))
        return 0;
#if EG_GROUPS & EG_G_DOT
    if (!eg_guess_top(y, m, &g->gy))
        return 0;
#endif
    int ok = eg_fixed_plan(g->gx, EG_EXACT_FIX_X, g->sx);
#if EG_HAS_SQ
    ok = ok && eg_fixed_plan(2 * g->gx, EG_EXACT_FIX_P, g->sq);
#if EG_IS_F64
    ok = ok && eg_fixed_plan(2 * g->gx - 53, EG_EXACT_FIX_E, g->sqe);
#endif
#endif
#if EG_GROUPS & EG_G_DOT
    ok = ok && eg_fixed_plan(g->gx + g->gy, EG_EXACT_FIX_P, g->sd);
#if EG_IS_F64
    ok = ok && eg_fixed_plan(g->gx + g->gy - 53, EG_EXACT_FIX_E, g->sde);
#endif
#endif
    return ok;
}

/* A record with nothing in it yet. */
void eg_record_init(ulong m, __global ulong *w)
{
    for (int i = 0; i < EG_EXACT_LANE_WORDS; i++)
        w[i] = 0;
    w[EG_X_COUNT] = m;
    w[EG_X_ARGMIN] = EG_NONE_INDEX;
    w[EG_X_ARGMAX] = EG_NONE_INDEX;
}

#endif
