/* reduce_gpu.cl - the portable chunk kernel, for GPUs and accelerators:
 * the same lane records as reduce.cl (the CPU-tuned kernel) and as the host
 * reference eg_lanes_fast (engine/lanes/lanes_host.c), bit for bit.
 *
 * The lane contract (engine/lanes/lanes.h) gives a lane of EG_LANE_ELEMS
 * elements EG_LANE_SLOTS = 8 slots: element i feeds slot i % 8, each slot adds its
 * elements in order, closing a block into its TwoSum pair every
 * EG_LANE_BLOCK_ROWS rows, and the slots are combined by a fixed tree.
 * reduce.cl keeps the 8 slots of a lane in the components of double8
 * vectors inside one work-item; here each slot is a work-item of its own.
 * Work-item 8 * l + j of a group is slot j of the group's lane l, so 8
 * neighbouring work-items read 8 neighbouring elements (one 32- or 64-byte
 * segment per lane and row), and every slot runs the chain of scalar
 * operations that component j of reduce.cl runs: the same operations in the
 * same order, each correctly rounded, give the same bits.  The tree then
 * runs in local memory, (0,1) (2,3) (4,5) (6,7), (0,2) (4,6), (0,4), as
 * eg_combine_tree of reduce.cl, and slot 0 writes the record.
 *
 * Built once per (dtype, groups) with
 *   -DEG_T=<OpenCL type> -DEG_DT=<eg_dtype> -DEG_GROUPS=<EG_G_* bits>
 *   -DEG_LANE_ELEMS=<elements per lane>
 * behind the prelude of engine/backend/opencl/cl_program.c (eg_dtype
 * values, EG_G_* bits, EG_W_* record layout, the constants of lanes.h) and
 * kernels/twosum.h, the TwoSum the host lanes use too.  The local size is a
 * multiple of 8; the global size covers 8 work-items per lane and may run
 * past the last lane (those work-items take part in the barriers only).
 */
#pragma OPENCL FP_CONTRACT OFF
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#if EG_LANE_SLOTS != 8
#error "reduce_gpu.cl: the combine tree is written for 8 slots"
#endif

#if EG_IS_SIGNED_INT
typedef long eg_w;
#else
typedef ulong eg_w;
#endif

/* What a slot hands to the tree: its pairs and extremes once every block
 * is closed.  Integers carry their exact sums as 128-bit (lo, hi). */
typedef struct eg_slot {
    double s, c, d1, d2, mn, mx;
    ulong amn, amx;
    double l1s, l1c, ssq, ds, dc;
    int careful;
#if !EG_IS_FLOAT
    eg_w imn, imx;
    ulong iamn, iamx;
    ulong slo, shi, llo, lhi;
#endif
} eg_slot;

/* The host gives each work-item EG_GPU_SLOT_BYTES of local memory. */
typedef char eg_slot_fits[sizeof(eg_slot) <= EG_GPU_SLOT_BYTES ? 1 : -1];

/* A slot while it runs: eg_slot plus the open blocks and, for integers,
 * the running sums in the input's signedness. */
typedef struct eg_run {
    eg_slot o;
    double bs, bl, bd;
#if !EG_IS_FLOAT
    eg_w isum, isum_hi;
    ulong il1, il1_hi;
#endif
} eg_run;

void eg_run_init(eg_run *r, eg_w first, ulong base)
{
    r->o.s = r->o.c = r->o.d1 = r->o.d2 = 0.0;
    r->o.mn = INFINITY;
    r->o.mx = -INFINITY;
    r->o.amn = r->o.amx = EG_NONE_INDEX;
    r->o.l1s = r->o.l1c = r->o.ssq = r->o.ds = r->o.dc = 0.0;
    r->o.careful = 0;
    r->bs = r->bl = r->bd = 0.0;
#if !EG_IS_FLOAT
    /* As reduce.cl: every slot seeded with (x[0], base), ties to the
     * smaller index, gives the lane's first occurrence. */
    r->o.imn = r->o.imx = first;
    r->o.iamn = r->o.iamx = base;
    r->isum = r->isum_hi = 0;
    r->il1 = r->il1_hi = 0;
#else
    (void)first;
    (void)base;
#endif
}

/* The double accumulators shared by floats and integers. */
void eg_step_double(eg_run *r, double v, double yv, double k)
{
    if (EG_HAS(EG_G_VAR)) {
        double d = v - k;
        r->o.d1 = r->o.d1 + d;
        r->o.d2 = r->o.d2 + d * d;
    }
    if (EG_HAS(EG_G_L2))
        r->o.ssq = r->o.ssq + v * v;
    if (EG_HAS(EG_G_DOT))
        r->bd = r->bd + v * yv;
}

/* Closes the open blocks, as eg_flush of reduce.cl. */
void eg_flush(eg_run *r)
{
    eg_twosum_acc(&r->o.s, &r->o.c, r->bs);
    r->bs = 0.0;
    if (EG_HAS(EG_G_L1)) {
        eg_twosum_acc(&r->o.l1s, &r->o.l1c, r->bl);
        r->bl = 0.0;
    }
    if (EG_HAS(EG_G_DOT)) {
        eg_twosum_acc(&r->o.ds, &r->o.dc, r->bd);
        r->bd = 0.0;
    }
}

/* One element x (and y) at chunk index idx into the slot. */
void eg_step(eg_run *r, EG_T x, EG_T y, double k, ulong idx)
{
    double v = convert_double(x);
    double yv = EG_HAS(EG_G_DOT) ? convert_double(y) : 0.0;
#if EG_IS_FLOAT
    r->bs = r->bs + v;
    eg_step_double(r, v, yv, k);
    if (EG_HAS(EG_G_MINMAX)) {
        /* the lane rule (lanes.h): an empty slot takes +-inf too */
        if (v < r->o.mn || (v == r->o.mn && r->o.amn == EG_NONE_INDEX)) {
            r->o.mn = v;
            r->o.amn = idx;
        }
        if (v > r->o.mx || (v == r->o.mx && r->o.amx == EG_NONE_INDEX)) {
            r->o.mx = v;
            r->o.amx = idx;
        }
    }
    if (EG_HAS(EG_G_L1))
        r->bl = r->bl + fabs(v);
#if EG_DT == EG_F64
    if (EG_HAS(EG_G_L2)) {
        double m = fabs(v);
        r->o.careful |= (m > EG_BLUE_TBIG) || (m < EG_BLUE_TSML && m != 0.0);
    }
#endif
#else
    eg_w xw = (eg_w)x;
#if EG_IS_SIGNED_INT
    ulong mag = abs(xw);
#else
    ulong mag = xw;
#endif
#if EG_IS_WIDE
    /* Unsigned wrap of the low word <=> carry into the high word. */
    eg_w lo = r->isum + xw;
    r->isum_hi += (ulong)lo < (ulong)xw ? 1 : 0;
#if EG_IS_SIGNED_INT
    r->isum_hi += xw >> 63; /* sign extension: -1 or 0 */
#endif
    r->isum = lo;
    if (EG_HAS(EG_G_L1)) {
        ulong l1 = r->il1 + mag;
        r->il1_hi += l1 < mag ? 1UL : 0UL;
        r->il1 = l1;
    }
#else
    r->isum = r->isum + xw;
    if (EG_HAS(EG_G_L1))
        r->il1 = r->il1 + mag;
#endif
    eg_step_double(r, v, yv, k);
    if (EG_HAS(EG_G_MINMAX)) {
        if (xw < r->o.imn) {
            r->o.imn = xw;
            r->o.iamn = idx;
        }
        if (xw > r->o.imx) {
            r->o.imx = xw;
            r->o.iamx = idx;
        }
    }
#endif
}

/* ------------------------------------------------------ the combine tree */

#if !EG_IS_FLOAT
/* Adds 128-bit (blo, bhi) to (*lo, *hi); exact, so the tree's order gives
 * what reduce.cl's slot-by-slot sum gives. */
void eg_add128(ulong *lo, ulong *hi, ulong blo, ulong bhi)
{
    ulong t = *lo + blo;
    *hi = *hi + bhi + (t < blo ? 1UL : 0UL);
    *lo = t;
}
#endif

/* Slot a absorbs slot b, as eg_combine_slot of reduce.cl. */
void eg_combine(__local eg_slot *a, __local const eg_slot *b)
{
    double s = a->s, c = a->c;
    eg_twosum_pair(&s, &c, b->s, b->c);
    a->s = s;
    a->c = c;
    a->d1 = a->d1 + b->d1;
    a->d2 = a->d2 + b->d2;
    if (b->mn < a->mn || (b->mn == a->mn && b->amn < a->amn)) {
        a->mn = b->mn;
        a->amn = b->amn;
    }
    if (b->mx > a->mx || (b->mx == a->mx && b->amx < a->amx)) {
        a->mx = b->mx;
        a->amx = b->amx;
    }
    s = a->l1s;
    c = a->l1c;
    eg_twosum_pair(&s, &c, b->l1s, b->l1c);
    a->l1s = s;
    a->l1c = c;
    a->ssq = a->ssq + b->ssq;
    s = a->ds;
    c = a->dc;
    eg_twosum_pair(&s, &c, b->ds, b->dc);
    a->ds = s;
    a->dc = c;
    a->careful = a->careful | b->careful;
#if !EG_IS_FLOAT
    /* By value, ties to the smaller index: the lane's first occurrence,
     * whatever the order of the combines. */
    if (b->imn < a->imn || (b->imn == a->imn && b->iamn < a->iamn)) {
        a->imn = b->imn;
        a->iamn = b->iamn;
    }
    if (b->imx > a->imx || (b->imx == a->imx && b->iamx < a->iamx)) {
        a->imx = b->imx;
        a->iamx = b->iamx;
    }
    ulong lo = a->slo, hi = a->shi;
    eg_add128(&lo, &hi, b->slo, b->shi);
    a->slo = lo;
    a->shi = hi;
    lo = a->llo;
    hi = a->lhi;
    eg_add128(&lo, &hi, b->llo, b->lhi);
    a->llo = lo;
    a->lhi = hi;
#endif
}

/* The slot's closed state into its place in local memory. */
void eg_publish(const eg_run *r, __local eg_slot *at)
{
    *at = r->o;
#if !EG_IS_FLOAT
#if EG_IS_WIDE
    at->slo = (ulong)r->isum;
    at->shi = (ulong)r->isum_hi;
    at->llo = r->il1;
    at->lhi = r->il1_hi;
#elif EG_IS_SIGNED_INT
    /* A narrow slot sum fits 64 bits: sign-extend it. */
    at->slo = (ulong)r->isum;
    at->shi = r->isum < 0 ? ~0UL : 0UL;
    at->llo = r->il1;
    at->lhi = 0;
#else
    at->slo = r->isum;
    at->shi = 0;
    at->llo = r->il1;
    at->lhi = 0;
#endif
#endif
}

void eg_write_record(__global ulong *w, __local const eg_slot *p, double k,
                     ulong m)
{
    for (int i = 0; i < EG_LANE_WORDS; i++)
        w[i] = 0;
#if EG_IS_FLOAT
    w[EG_W_SUM_S] = as_ulong(p->s);
    w[EG_W_SUM_C] = as_ulong(p->c);
    if (EG_HAS(EG_G_MINMAX)) {
        w[EG_W_MIN] = as_ulong(p->mn);
        w[EG_W_MAX] = as_ulong(p->mx);
        w[EG_W_ARGMIN] = p->amn;
        w[EG_W_ARGMAX] = p->amx;
    }
    if (EG_HAS(EG_G_L1)) {
        w[EG_W_L1_S] = as_ulong(p->l1s);
        w[EG_W_L1_C] = as_ulong(p->l1c);
    }
    w[EG_W_FLAGS] = p->careful ? (ulong)EG_LANE_NEEDS_CAREFUL : 0UL;
#else
    w[EG_W_SUM_S] = p->slo;
    w[EG_W_SUM_C] = p->shi;
    if (EG_HAS(EG_G_MINMAX)) {
        w[EG_W_MIN] = (ulong)p->imn;
        w[EG_W_MAX] = (ulong)p->imx;
        w[EG_W_ARGMIN] = p->iamn;
        w[EG_W_ARGMAX] = p->iamx;
    }
    if (EG_HAS(EG_G_L1)) {
        w[EG_W_L1_S] = p->llo;
        w[EG_W_L1_C] = p->lhi;
    }
#endif
    w[EG_W_K] = as_ulong(k);
    if (EG_HAS(EG_G_VAR)) {
        w[EG_W_D1] = as_ulong(p->d1);
        w[EG_W_D2] = as_ulong(p->d2);
    }
    if (EG_HAS(EG_G_L2))
        w[EG_W_SSQ] = as_ulong(p->ssq);
    if (EG_HAS(EG_G_DOT)) {
        w[EG_W_DOT_S] = as_ulong(p->ds);
        w[EG_W_DOT_C] = as_ulong(p->dc);
    }
    w[EG_W_COUNT] = m;
}

/* -------------------------------------------------------------- kernel */

/* x[0..n) (and y[0..n) when EG_G_DOT) -> ceil(n / EG_LANE_ELEMS) records of
 * EG_LANE_WORDS words at out; `slots` holds one eg_slot per work-item of
 * the group (local size * sizeof(eg_slot) bytes, set by the host). */
__kernel void eg_reduce(__global const EG_T *x, __global const EG_T *y, ulong n,
                        __global ulong *out, __local eg_slot *slots)
{
    size_t lid = get_local_id(0);
    uint j = (uint)(lid % 8);
    ulong lane = get_global_id(0) / 8;
    ulong lanes = (n + EG_LANE_ELEMS - 1) / EG_LANE_ELEMS;
    int live = lane < lanes;
    ulong base = lane * EG_LANE_ELEMS;
    ulong m = live ? min((ulong)EG_LANE_ELEMS, n - base) : 0;

    eg_run r;
    double k = 0.0;
    if (live) {
        __global const EG_T *xl = x + base;
        __global const EG_T *yl = y + base;
        k = convert_double(xl[0]);
#if EG_IS_FLOAT
        eg_run_init(&r, 0, base);
#else
        eg_run_init(&r, (eg_w)xl[0], base);
#endif
        ulong rows = m / 8;
        EG_T yv = 0;
        for (ulong row = 0; row < rows; row++) {
            ulong i = row * 8 + j;
            if (EG_HAS(EG_G_DOT))
                yv = yl[i];
            eg_step(&r, xl[i], yv, k, base + i);
            if (row % EG_LANE_BLOCK_ROWS == EG_LANE_BLOCK_ROWS - 1)
                eg_flush(&r);
        }
        /* The last, partial row: slots past its end keep their values
         * exactly (a step with a zero would turn a -0.0 c into +0.0). */
        ulong i = rows * 8 + j;
        if (i < m) {
            if (EG_HAS(EG_G_DOT))
                yv = yl[i];
            eg_step(&r, xl[i], yv, k, base + i);
        }
        if (m % (8 * EG_LANE_BLOCK_ROWS))
            eg_flush(&r);
        eg_publish(&r, &slots[lid]);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (live && j % 2 == 0)
        eg_combine(&slots[lid], &slots[lid + 1]);
    barrier(CLK_LOCAL_MEM_FENCE);
    if (live && j % 4 == 0)
        eg_combine(&slots[lid], &slots[lid + 2]);
    barrier(CLK_LOCAL_MEM_FENCE);
    if (live && j == 0) {
        eg_combine(&slots[lid], &slots[lid + 4]);
        eg_write_record(out + lane * EG_LANE_WORDS, &slots[lid], k, m);
    }
}
