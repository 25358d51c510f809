/* count.cl - the counting passes of the quantile ops on an OpenCL device:
 * numpy's histogram (eg_hist) and a radix-selection pass (eg_select).
 *
 * Both are integer counts, so they must equal the host's exactly: the key
 * image is quant_key.h's, the bin index is hist.c's bin_index, step for
 * step in double (a float32 step is a double step rounded once to float,
 * which is the float32 result for +, - and *), and contraction is off, so
 * no product is fused into a sum.
 *
 * Each work-group counts into its own bins in local memory when they fit
 * (EG_LOCAL=1, 32-bit counters, local atomics), then adds them to the
 * launch's 32-bit global counters; the host adds those into its 64-bit
 * counts.  Counts are sums of integers, so the order of the atomics never
 * changes them.  A launch holds fewer than 2^32 elements (cl_count.c).
 *
 * Built with -DEG_T=<type> -DEG_DT=<eg_dtype> -DEG_LOCAL=0|1, behind the
 * prelude of cl_program.c (the eg_dtype values).  eg_hist also takes
 * -DEG_HIST_F32 (numpy's bin dtype is float32), -DEG_NORM_F32 (x * norm is
 * a float32 product) and -DEG_INT_BOUNDS (integer data, automatic range:
 * the range test compares keys). */
#pragma OPENCL FP_CONTRACT OFF
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#if EG_DT == EG_F32 || EG_DT == EG_F64
#define EG_IS_FLOAT 1
#else
#define EG_IS_FLOAT 0
#endif

#if EG_DT == EG_I8 || EG_DT == EG_U8
#define EG_KEY_BITS 8
#define EG_DIGIT 8
#elif EG_DT == EG_I16 || EG_DT == EG_U16
#define EG_KEY_BITS 16
#define EG_DIGIT 16
#elif EG_DT == EG_F32 || EG_DT == EG_I32 || EG_DT == EG_U32
#define EG_KEY_BITS 32
#define EG_DIGIT 16
#else
#define EG_KEY_BITS 64
#define EG_DIGIT 16
#endif
#define EG_DIGIT_BINS (1u << EG_DIGIT)

/* quant_key.h's eg_key_of: the order-preserving integer image. */
inline ulong key_of(EG_T v, int *nan)
{
    *nan = 0;
#if EG_DT == EG_F32
    uint b = as_uint(v);
    *nan = v != v;
    return (b >> 31) ? (ulong)(~b) : (ulong)(b | 0x80000000u);
#elif EG_DT == EG_F64
    ulong b = as_ulong(v);
    *nan = v != v;
    return (b >> 63) ? ~b : (b | 0x8000000000000000UL);
#elif EG_DT == EG_I8
    return (ulong)(uchar)((uchar)v ^ (uchar)0x80);
#elif EG_DT == EG_I16
    return (ulong)(ushort)((ushort)v ^ (ushort)0x8000);
#elif EG_DT == EG_I32
    return (ulong)((uint)v ^ 0x80000000u);
#elif EG_DT == EG_I64
    return (ulong)v ^ 0x8000000000000000UL;
#else
    return (ulong)v;
#endif
}

/* ------------------------------------------------------------ selection */

/* One pass over x[0, n): for every group j whose bucket (the top
 * fixed[j] bits equal prefix[j]; fixed 0: every key) holds a key, either
 * counts the key's next digit into hist[j * EG_DIGIT_BINS + digit]
 * (collect[j] == 0) or appends the key to keys[koff[j] ..] while fewer
 * than cap[j] are there (len[j] counts every one it saw).  NaNs go to
 * len[ngroups]. */
__kernel void eg_select(__global const EG_T *x, ulong n, uint ngroups,
                        __global const ulong *prefix,
                        __global const uint *fixed,
                        __global const uint *collect,
                        __global const uint *cap, __global const uint *koff,
                        __global uint *hist, __global uint *len,
                        __global ulong *keys, __local uint *lbins)
{
    size_t lid = get_local_id(0), lsz = get_local_size(0);
#if EG_LOCAL
    uint nb = ngroups * EG_DIGIT_BINS;
    for (uint i = (uint)lid; i < nb; i += (uint)lsz)
        lbins[i] = 0;
    barrier(CLK_LOCAL_MEM_FENCE);
#endif
    uint nans = 0;
    for (ulong i = get_global_id(0); i < n; i += get_global_size(0)) {
        int isnan;
        ulong k = key_of(x[i], &isnan);
        if (isnan) {
            nans++;
            continue;
        }
        for (uint j = 0; j < ngroups; j++) {
            uint f = fixed[j];
            if (f != 0 && (k >> (EG_KEY_BITS - f)) != prefix[j])
                continue;
            if (collect[j]) {
                uint at = atomic_inc(&len[j]);
                if (at < cap[j])
                    keys[koff[j] + at] = k;
                continue;
            }
            uint d = (uint)(k >> (EG_KEY_BITS - f - EG_DIGIT)) &
                     (EG_DIGIT_BINS - 1u);
#if EG_LOCAL
            atomic_inc(&lbins[j * EG_DIGIT_BINS + d]);
#else
            atomic_inc(&hist[j * EG_DIGIT_BINS + d]);
#endif
        }
    }
    if (nans)
        atomic_add(&len[ngroups], nans);
#if EG_LOCAL
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint i = (uint)lid; i < nb; i += (uint)lsz) {
        uint c = lbins[i];
        if (c)
            atomic_add(&hist[i], c);
    }
#endif
}

/* ------------------------------------------------------------ histogram */

#ifdef EG_HIST_F32
#define EG_TO_BIN(v) ((double)(float)(v))
#else
#define EG_TO_BIN(v) (v)
#endif

/* hist.c's bin_index: numpy's f_indices, the cast to intp and its two
 * corrections against the edges. par: sfirst, norm, float(norm). */
inline uint bin_index(double xb, uint nbins, __global const double *edges,
                      double sfirst, double norm, double normf)
{
    long nb = (long)nbins;
    double sub = EG_TO_BIN(xb - sfirst);
    double f;
#if defined(EG_HIST_F32) && defined(EG_NORM_F32)
    f = (double)(float)(sub * normf);
#else
    f = sub * norm;
    (void)normf;
#endif
    long i = f >= (double)nb ? nb : (f > 0 ? (long)f : 0);
    if (i == nb)
        i = nb - 1;
    if (xb < edges[i] && i > 0)
        i--;
    if (i != nb - 1 && xb >= edges[i + 1])
        i++;
    return (uint)i;
}

/* x[0, n) into out[0, nbins) and out[nbins ..] = below, above, NaN.
 * par: sfirst, norm, float(norm), cfirst, clast (hist.h's plan);
 * klo, khi: the keys of the range under EG_INT_BOUNDS. */
__kernel void eg_hist(__global const EG_T *x, ulong n, uint nbins,
                      __global const double *edges, __global const double *par,
                      ulong klo, ulong khi, __global uint *out,
                      __local uint *lbins)
{
    size_t lid = get_local_id(0), lsz = get_local_size(0);
    double sfirst = par[0], norm = par[1], normf = par[2];
    double cfirst = par[3], clast = par[4];
#if EG_LOCAL
    for (uint i = (uint)lid; i < nbins; i += (uint)lsz)
        lbins[i] = 0;
    barrier(CLK_LOCAL_MEM_FENCE);
#endif
    uint below = 0, above = 0, nans = 0;
    for (ulong i = get_global_id(0); i < n; i += get_global_size(0)) {
        EG_T v = x[i];
        double xd = (double)v;
#if EG_IS_FLOAT
        if (xd != xd) {
            nans++;
            continue;
        }
#endif
#ifdef EG_INT_BOUNDS
        int isnan;
        ulong k = key_of(v, &isnan);
        if (k < klo) {
            below++;
            continue;
        }
        if (k > khi) {
            above++;
            continue;
        }
#else
        (void)klo;
        (void)khi;
        if (!(xd >= cfirst)) {
            below++;
            continue;
        }
        if (!(xd <= clast)) {
            above++;
            continue;
        }
#endif
        uint b = bin_index(xd, nbins, edges, sfirst, norm, normf);
#if EG_LOCAL
        atomic_inc(&lbins[b]);
#else
        atomic_inc(&out[b]);
#endif
    }
    if (below)
        atomic_add(&out[nbins], below);
    if (above)
        atomic_add(&out[nbins + 1], above);
    if (nans)
        atomic_add(&out[nbins + 2], nans);
#if EG_LOCAL
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint i = (uint)lid; i < nbins; i += (uint)lsz) {
        uint c = lbins[i];
        if (c)
            atomic_add(&out[i], c);
    }
#endif
}
