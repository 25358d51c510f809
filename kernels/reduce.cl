/* reduce.cl - the chunk kernel: one work-item per canonical lane.
 *
 * Computes exactly the lane of engine/lanes/lanes.h, bit for bit what the host
 * reference eg_lanes_fast (engine/lanes/lanes_host.c) computes: every IEEE
 * operation is correctly rounded, so the same operations in the same order
 * give the same bits.  The 8 slots of a lane live in the 8 components of
 * double8 (or long8) vectors: element i of the lane feeds component i % 8,
 * and component-wise vector arithmetic is the same as 8 scalar slots.
 *
 * Built once per (dtype, groups) with
 *   -DEG_T=<OpenCL type> -DEG_DT=<eg_dtype> -DEG_GROUPS=<EG_G_* bits>
 *   -DEG_LANE_ELEMS=<elements per lane>
 * behind a prelude (engine/backend/opencl/cl_program.c) that defines the eg_dtype values,
 * the EG_G_* bits, the EG_W_* record layout and the other constants of
 * lanes.h, so none of them is restated here.
 */
#pragma OPENCL FP_CONTRACT OFF
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#define EG_CAT_(a, b) a##b
#define EG_CAT(a, b) EG_CAT_(a, b)
#define EG_T8 EG_CAT(EG_T, 8)

/* Integers: values, min and max in 64 bits of the input's signedness. */
#if EG_IS_SIGNED_INT
typedef long eg_w;
typedef long8 eg_w8;
#define eg_convert_w8 convert_long8
#define eg_as_w8 as_long8
#else
typedef ulong eg_w;
typedef ulong8 eg_w8;
#define eg_convert_w8 convert_ulong8
#define eg_as_w8 as_ulong8
#endif

/* The accumulators of the 8 slots of one lane. */
typedef struct eg_acc {
    double8 s, c;     /* floats: compensated sum */
    double8 d1, d2;   /* shifted sums */
    double8 mn, mx;   /* floats */
    ulong8 amn, amx;  /* floats: indices in the chunk, EG_NONE_INDEX if none */
    double8 l1s, l1c; /* floats */
    double8 ssq;
    double8 ds, dc;
    /* Open blocks of the compensated sums (lanes.h): plain sums from +0.0,
     * added into (s, c), (l1s, l1c), (ds, dc) every EG_LANE_BLOCK_ROWS rows. */
    double8 bs, bl, bd;
    long8 careful; /* f64 l2: a value outside Blue's middle range */
#if !EG_IS_FLOAT
    eg_w8 imn, imx; /* first occurrence per slot (strict compares) */
    ulong8 iamn, iamx;
    /* Exact sums of x and |x|: low words, and for 64-bit inputs high words
     * (signed for the sum of signed inputs). */
    eg_w8 isum;
    ulong8 il1;
#if EG_IS_WIDE
    eg_w8 isum_hi;
    ulong8 il1_hi;
#endif
#endif
} eg_acc;

/* TwoSum of lanes.h, per slot: (s, c) += v. */
void eg_twosum8(double8 *s, double8 *c, double8 v)
{
    double8 t = *s + v;
    double8 z = t - *s;
    double8 e = (*s - (t - z)) + (v - z);
    *s = t;
    *c = *c + e;
}

void eg_acc_init(eg_acc *a, eg_w first, ulong base)
{
    a->s = a->c = a->d1 = a->d2 = (double8)(0.0);
    a->mn = (double8)(INFINITY);
    a->mx = (double8)(-INFINITY);
    a->amn = a->amx = (ulong8)(EG_NONE_INDEX);
    a->l1s = a->l1c = a->ssq = a->ds = a->dc = (double8)(0.0);
    a->bs = a->bl = a->bd = (double8)(0.0);
    a->careful = (long8)(0);
#if !EG_IS_FLOAT
    /* The host scans the whole lane from x[0] with strict compares, i.e. it
     * finds the first occurrence of the extreme value.  Seeding every slot
     * with (x[0], 0) and combining ties to the smaller index finds the same
     * one, also when x[0] itself is the extreme. */
    a->imn = a->imx = (eg_w8)(first);
    a->iamn = a->iamx = (ulong8)(base);
    a->isum = (eg_w8)(0);
    a->il1 = (ulong8)(0);
#if EG_IS_WIDE
    a->isum_hi = (eg_w8)(0);
    a->il1_hi = (ulong8)(0);
#endif
#else
    (void)first;
    (void)base;
#endif
}

/* The double accumulators shared by floats and integers. */
void eg_step_double(eg_acc *a, double8 v, double8 yv, double8 k)
{
    if (EG_HAS(EG_G_VAR)) {
        double8 d = v - k;
        a->d1 = a->d1 + d;
        a->d2 = a->d2 + d * d;
    }
    if (EG_HAS(EG_G_L2))
        a->ssq = a->ssq + v * v;
    if (EG_HAS(EG_G_DOT))
        a->bd = a->bd + v * yv;
}

/* Closes the open blocks: each block sum goes into its pair by TwoSum. */
void eg_flush(eg_acc *a)
{
    eg_twosum8(&a->s, &a->c, a->bs);
    a->bs = (double8)(0.0);
    if (EG_HAS(EG_G_L1)) {
        eg_twosum8(&a->l1s, &a->l1c, a->bl);
        a->bl = (double8)(0.0);
    }
    if (EG_HAS(EG_G_DOT)) {
        eg_twosum8(&a->ds, &a->dc, a->bd);
        a->bd = (double8)(0.0);
    }
}

#if EG_IS_FLOAT
/* Eight consecutive elements, element j into slot j. */
void eg_step(eg_acc *a, EG_T8 x8, EG_T8 y8, double8 k, ulong8 idx)
{
    double8 v = convert_double8(x8);
    double8 yv = EG_HAS(EG_G_DOT) ? convert_double8(y8) : (double8)(0.0);
    a->bs = a->bs + v;
    eg_step_double(a, v, yv, k);
    if (EG_HAS(EG_G_MINMAX)) {
        /* the lane rule (lanes.h): an empty slot takes +-inf too */
        long8 lt = (v < a->mn) |
                   ((v == a->mn) & (a->amn == (ulong8)(EG_NONE_INDEX)));
        a->mn = select(a->mn, v, lt);
        a->amn = select(a->amn, idx, lt);
        long8 gt = (v > a->mx) |
                   ((v == a->mx) & (a->amx == (ulong8)(EG_NONE_INDEX)));
        a->mx = select(a->mx, v, gt);
        a->amx = select(a->amx, idx, gt);
    }
    if (EG_HAS(EG_G_L1))
        a->bl = a->bl + fabs(v);
#if EG_DT == EG_F64
    if (EG_HAS(EG_G_L2)) {
        double8 m = fabs(v);
        a->careful |= (m > EG_BLUE_TBIG) | ((m < EG_BLUE_TSML) & (m != 0.0));
    }
#endif
}
#else
/* Exact integer sums: |x| as an unsigned 64-bit value (abs of the most
 * negative value included), a carry into the high word where one can
 * occur. */
void eg_step_int_sums(eg_acc *a, eg_w8 xw)
{
#if EG_IS_SIGNED_INT
    ulong8 mag = abs(xw);
#else
    ulong8 mag = xw;
#endif
#if EG_IS_WIDE
    eg_w8 lo = a->isum + xw;
    /* Unsigned wrap of the low word <=> carry; a comparison is -1 when
     * true, so subtracting it adds the carry. */
    a->isum_hi = a->isum_hi - eg_as_w8(as_ulong8(lo) < as_ulong8(xw));
#if EG_IS_SIGNED_INT
    a->isum_hi = a->isum_hi + (xw >> 63); /* sign extension: -1 or 0 */
#endif
    a->isum = lo;
    if (EG_HAS(EG_G_L1)) {
        ulong8 l1 = a->il1 + mag;
        a->il1_hi = a->il1_hi - as_ulong8(l1 < mag);
        a->il1 = l1;
    }
#else
    a->isum = a->isum + xw;
    if (EG_HAS(EG_G_L1))
        a->il1 = a->il1 + mag;
#endif
}

void eg_step(eg_acc *a, EG_T8 x8, EG_T8 y8, double8 k, ulong8 idx)
{
    eg_w8 xw = eg_convert_w8(x8);
    double8 v = convert_double8(x8);
    double8 yv = EG_HAS(EG_G_DOT) ? convert_double8(y8) : (double8)(0.0);
    eg_step_int_sums(a, xw);
    eg_step_double(a, v, yv, k);
    if (EG_HAS(EG_G_MINMAX)) {
        long8 lt = xw < a->imn;
        a->imn = select(a->imn, xw, lt);
        a->iamn = select(a->iamn, idx, lt);
        long8 gt = xw > a->imx;
        a->imx = select(a->imx, xw, gt);
        a->iamx = select(a->iamx, idx, gt);
    }
}
#endif

/* The step for the last, partial group of a lane: slots j >= r keep their
 * values exactly (a step with a zero would turn a -0.0 c into +0.0). */
void eg_step_partial(eg_acc *a, EG_T8 x8, EG_T8 y8, double8 k, ulong8 idx,
                     uint r)
{
    eg_acc b = *a;
    eg_step(&b, x8, y8, k, idx);
    long8 on = (long8)(0, 1, 2, 3, 4, 5, 6, 7) < (long8)((long)r);
    a->s = select(a->s, b.s, on);
    a->c = select(a->c, b.c, on);
    a->d1 = select(a->d1, b.d1, on);
    a->d2 = select(a->d2, b.d2, on);
    a->mn = select(a->mn, b.mn, on);
    a->mx = select(a->mx, b.mx, on);
    a->amn = select(a->amn, b.amn, on);
    a->amx = select(a->amx, b.amx, on);
    a->l1s = select(a->l1s, b.l1s, on);
    a->l1c = select(a->l1c, b.l1c, on);
    a->ssq = select(a->ssq, b.ssq, on);
    a->ds = select(a->ds, b.ds, on);
    a->dc = select(a->dc, b.dc, on);
    a->bs = select(a->bs, b.bs, on);
    a->bl = select(a->bl, b.bl, on);
    a->bd = select(a->bd, b.bd, on);
    a->careful = select(a->careful, b.careful, on);
#if !EG_IS_FLOAT
    a->imn = select(a->imn, b.imn, on);
    a->imx = select(a->imx, b.imx, on);
    a->iamn = select(a->iamn, b.iamn, on);
    a->iamx = select(a->iamx, b.iamx, on);
    a->isum = select(a->isum, b.isum, on);
    a->il1 = select(a->il1, b.il1, on);
#if EG_IS_WIDE
    a->isum_hi = select(a->isum_hi, b.isum_hi, on);
    a->il1_hi = select(a->il1_hi, b.il1_hi, on);
#endif
#endif
}

/* ------------------------------------------------------ the combine tree */

/* The slots unpacked, for the scalar combine tree. */
typedef struct eg_slots {
    double s[8], c[8], d1[8], d2[8], mn[8], mx[8];
    ulong amn[8], amx[8];
    double l1s[8], l1c[8], ssq[8], ds[8], dc[8];
} eg_slots;

void eg_twosum_pair(double *s, double *c, double bs, double bc)
{
    double t = *s + bs;
    double z = t - *s;
    double e = (*s - (t - z)) + (bs - z);
    *s = t;
    *c = (*c + bc) + e;
}

/* Slot a absorbs slot b, as combine_slot of lanes_host.c. */
void eg_combine_slot(eg_slots *p, int a, int b)
{
    eg_twosum_pair(&p->s[a], &p->c[a], p->s[b], p->c[b]);
    p->d1[a] = p->d1[a] + p->d1[b];
    p->d2[a] = p->d2[a] + p->d2[b];
    if (p->mn[b] < p->mn[a] ||
        (p->mn[b] == p->mn[a] && p->amn[b] < p->amn[a])) {
        p->mn[a] = p->mn[b];
        p->amn[a] = p->amn[b];
    }
    if (p->mx[b] > p->mx[a] ||
        (p->mx[b] == p->mx[a] && p->amx[b] < p->amx[a])) {
        p->mx[a] = p->mx[b];
        p->amx[a] = p->amx[b];
    }
    eg_twosum_pair(&p->l1s[a], &p->l1c[a], p->l1s[b], p->l1c[b]);
    p->ssq[a] = p->ssq[a] + p->ssq[b];
    eg_twosum_pair(&p->ds[a], &p->dc[a], p->ds[b], p->dc[b]);
}

void eg_combine_tree(eg_slots *p)
{
    eg_combine_slot(p, 0, 1);
    eg_combine_slot(p, 2, 3);
    eg_combine_slot(p, 4, 5);
    eg_combine_slot(p, 6, 7);
    eg_combine_slot(p, 0, 2);
    eg_combine_slot(p, 4, 6);
    eg_combine_slot(p, 0, 4);
}

void eg_unpack(const eg_acc *a, eg_slots *p)
{
    vstore8(a->s, 0, p->s);
    vstore8(a->c, 0, p->c);
    vstore8(a->d1, 0, p->d1);
    vstore8(a->d2, 0, p->d2);
    vstore8(a->mn, 0, p->mn);
    vstore8(a->mx, 0, p->mx);
    vstore8(a->amn, 0, p->amn);
    vstore8(a->amx, 0, p->amx);
    vstore8(a->l1s, 0, p->l1s);
    vstore8(a->l1c, 0, p->l1c);
    vstore8(a->ssq, 0, p->ssq);
    vstore8(a->ds, 0, p->ds);
    vstore8(a->dc, 0, p->dc);
}

/* ---------------------------------------------------- the integer words */

#if !EG_IS_FLOAT
/* Integer min/max of the slots: by value, ties to the smaller index, which
 * gives the lane's first occurrence. */
void eg_int_extremes(const eg_acc *a, eg_w *mn, ulong *amn, eg_w *mx,
                     ulong *amx)
{
    eg_w vmn[8], vmx[8];
    ulong imn[8], imx[8];
    vstore8(a->imn, 0, vmn);
    vstore8(a->imx, 0, vmx);
    vstore8(a->iamn, 0, imn);
    vstore8(a->iamx, 0, imx);
    *mn = vmn[0];
    *amn = imn[0];
    *mx = vmx[0];
    *amx = imx[0];
    for (int j = 1; j < 8; j++) {
        if (vmn[j] < *mn || (vmn[j] == *mn && imn[j] < *amn)) {
            *mn = vmn[j];
            *amn = imn[j];
        }
        if (vmx[j] > *mx || (vmx[j] == *mx && imx[j] < *amx)) {
            *mx = vmx[j];
            *amx = imx[j];
        }
    }
}

/* Adds 128-bit (lo, hi) to (*lo, *hi); exact, any order gives the same. */
void eg_add128(ulong *lo, ulong *hi, ulong blo, ulong bhi)
{
    ulong t = *lo + blo;
    *hi = *hi + bhi + (t < blo ? 1UL : 0UL);
    *lo = t;
}

/* The exact sums of the 8 slots as 128-bit (lo, hi) pairs. */
void eg_int_sums(const eg_acc *a, ulong *slo, ulong *shi, ulong *llo,
                 ulong *lhi)
{
    eg_w sum[8];
    ulong l1[8];
    vstore8(a->isum, 0, sum);
    vstore8(a->il1, 0, l1);
#if EG_IS_WIDE
    eg_w sum_hi[8];
    ulong l1_hi[8];
    vstore8(a->isum_hi, 0, sum_hi);
    vstore8(a->il1_hi, 0, l1_hi);
#endif
    *slo = *shi = *llo = *lhi = 0;
    for (int j = 0; j < 8; j++) {
#if EG_IS_WIDE
        eg_add128(slo, shi, (ulong)sum[j], (ulong)sum_hi[j]);
        eg_add128(llo, lhi, l1[j], l1_hi[j]);
#elif EG_IS_SIGNED_INT
        /* A narrow slot sum fits 64 bits: sign-extend it. */
        eg_add128(slo, shi, (ulong)sum[j], sum[j] < 0 ? ~0UL : 0UL);
        eg_add128(llo, lhi, l1[j], 0UL);
#else
        eg_add128(slo, shi, sum[j], 0UL);
        eg_add128(llo, lhi, l1[j], 0UL);
#endif
    }
}
#endif

/* -------------------------------------------------------------- kernel */

/* Loads the r < 8 elements left at p into a vector padded with zeros. */
EG_T8 eg_load_partial(__global const EG_T *p, uint r)
{
    EG_T tmp[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (uint j = 0; j < r; j++)
        tmp[j] = p[j];
    return vload8(0, tmp);
}

void eg_write_record(__global ulong *w, const eg_acc *a, double k, ulong m)
{
    eg_slots p;
    eg_unpack(a, &p);
    eg_combine_tree(&p);
    for (int i = 0; i < EG_LANE_WORDS; i++)
        w[i] = 0;
#if EG_IS_FLOAT
    w[EG_W_SUM_S] = as_ulong(p.s[0]);
    w[EG_W_SUM_C] = as_ulong(p.c[0]);
    if (EG_HAS(EG_G_MINMAX)) {
        w[EG_W_MIN] = as_ulong(p.mn[0]);
        w[EG_W_MAX] = as_ulong(p.mx[0]);
        w[EG_W_ARGMIN] = p.amn[0];
        w[EG_W_ARGMAX] = p.amx[0];
    }
    if (EG_HAS(EG_G_L1)) {
        w[EG_W_L1_S] = as_ulong(p.l1s[0]);
        w[EG_W_L1_C] = as_ulong(p.l1c[0]);
    }
    w[EG_W_FLAGS] = any(a->careful) ? (ulong)EG_LANE_NEEDS_CAREFUL : 0UL;
#else
    ulong slo, shi, llo, lhi;
    eg_int_sums(a, &slo, &shi, &llo, &lhi);
    w[EG_W_SUM_S] = slo;
    w[EG_W_SUM_C] = shi;
    if (EG_HAS(EG_G_MINMAX)) {
        eg_w mn, mx;
        ulong amn, amx;
        eg_int_extremes(a, &mn, &amn, &mx, &amx);
        w[EG_W_MIN] = (ulong)mn;
        w[EG_W_MAX] = (ulong)mx;
        w[EG_W_ARGMIN] = amn;
        w[EG_W_ARGMAX] = amx;
    }
    if (EG_HAS(EG_G_L1)) {
        w[EG_W_L1_S] = llo;
        w[EG_W_L1_C] = lhi;
    }
#endif
    w[EG_W_K] = as_ulong(k);
    if (EG_HAS(EG_G_VAR)) {
        w[EG_W_D1] = as_ulong(p.d1[0]);
        w[EG_W_D2] = as_ulong(p.d2[0]);
    }
    if (EG_HAS(EG_G_L2))
        w[EG_W_SSQ] = as_ulong(p.ssq[0]);
    if (EG_HAS(EG_G_DOT)) {
        w[EG_W_DOT_S] = as_ulong(p.ds[0]);
        w[EG_W_DOT_C] = as_ulong(p.dc[0]);
    }
    w[EG_W_COUNT] = m;
}

/* One lane, whole or partial: the reference shape of the loop. */
void eg_reduce_lane(__global const EG_T *x, __global const EG_T *y, ulong n,
                    __global ulong *out, ulong lane)
{
    ulong base = lane * EG_LANE_ELEMS;
    ulong m = min((ulong)EG_LANE_ELEMS, n - base);
    __global const EG_T *xl = x + base;
    __global const EG_T *yl = y + base;
    double k = convert_double(xl[0]);
    double8 k8 = (double8)(k);
    EG_T8 y8 = (EG_T8)(0);
    ulong8 idx = (ulong8)(base) + (ulong8)(0, 1, 2, 3, 4, 5, 6, 7);

    eg_acc a;
#if EG_IS_FLOAT
    eg_acc_init(&a, 0, base);
#else
    eg_acc_init(&a, (eg_w)xl[0], base);
#endif
    ulong full = m & ~(ulong)7;
    for (ulong i = 0; i < full; i += 8) {
        if (EG_HAS(EG_G_DOT))
            y8 = vload8(0, yl + i);
        eg_step(&a, vload8(0, xl + i), y8, k8, idx);
        idx += (ulong8)(8);
        if ((i / 8) % EG_LANE_BLOCK_ROWS == EG_LANE_BLOCK_ROWS - 1)
            eg_flush(&a);
    }
    uint r = (uint)(m - full);
    if (r) {
        if (EG_HAS(EG_G_DOT))
            y8 = eg_load_partial(yl + full, r);
        eg_step_partial(&a, eg_load_partial(xl + full, r), y8, k8, idx, r);
    }
    if (m % (8 * EG_LANE_BLOCK_ROWS))
        eg_flush(&a);
    eg_write_record(out + lane * EG_LANE_WORDS, &a, k, m);
}

/* Lanes per work-item.  A slot's chain is one dependent add per row of 8, so
 * a CPU core stalls on it unless several lanes advance side by side; GPUs
 * hide the latency with other work-items and take 1. */
#ifndef EG_LPI
#define EG_LPI 1
#endif

/* EG_LPI whole lanes, interleaved row by row; each lane's own sequence of
 * operations is unchanged, so the bits are those of eg_reduce_lane. */
void eg_reduce_whole_lanes(__global const EG_T *x, __global const EG_T *y,
                           __global ulong *out, ulong first)
{
    eg_acc a[EG_LPI];
    double k[EG_LPI];
    ulong8 idx[EG_LPI];
    EG_T8 y8 = (EG_T8)(0);
    for (int l = 0; l < EG_LPI; l++) {
        ulong base = (first + l) * EG_LANE_ELEMS;
        k[l] = convert_double(x[base]);
        idx[l] = (ulong8)(base) + (ulong8)(0, 1, 2, 3, 4, 5, 6, 7);
#if EG_IS_FLOAT
        eg_acc_init(&a[l], 0, base);
#else
        eg_acc_init(&a[l], (eg_w)x[base], base);
#endif
    }
    __global const EG_T *xl = x + first * EG_LANE_ELEMS;
    __global const EG_T *yl = y + first * EG_LANE_ELEMS;
    for (ulong i = 0; i < EG_LANE_ELEMS; i += 8) {
        for (int l = 0; l < EG_LPI; l++) {
            ulong at = (ulong)l * EG_LANE_ELEMS + i;
            if (EG_HAS(EG_G_DOT))
                y8 = vload8(0, yl + at);
            eg_step(&a[l], vload8(0, xl + at), y8, (double8)(k[l]), idx[l]);
            idx[l] += (ulong8)(8);
            if ((i / 8) % EG_LANE_BLOCK_ROWS == EG_LANE_BLOCK_ROWS - 1)
                eg_flush(&a[l]);
        }
    }
    for (int l = 0; l < EG_LPI; l++)
        eg_write_record(out + (first + l) * EG_LANE_WORDS, &a[l], k[l],
                        EG_LANE_ELEMS);
}

/* x[0..n) (and y[0..n) when EG_G_DOT) -> ceil(n / EG_LANE_ELEMS) records of
 * EG_LANE_WORDS words at out; work-item i covers lanes [i * EG_LPI, +EG_LPI).
 * The global size may exceed what the lanes need. */
__kernel void eg_reduce(__global const EG_T *x, __global const EG_T *y, ulong n,
                        __global ulong *out)
{
    ulong first = get_global_id(0) * EG_LPI;
    ulong lanes = (n + EG_LANE_ELEMS - 1) / EG_LANE_ELEMS;
    if (first >= lanes)
        return;
    if (EG_LPI > 1 && first + EG_LPI <= n / EG_LANE_ELEMS) {
        eg_reduce_whole_lanes(x, y, out, first);
        return;
    }
    for (ulong lane = first; lane < first + EG_LPI && lane < lanes; lane++)
        eg_reduce_lane(x, y, n, out, lane);
}
