/* sketch.cl - approx_quantile's log-bucket sketch counted on an OpenCL
 * device, over one chunk, in two launches on the same uploaded data:
 *
 *   eg_sketch_span   the least and greatest bucket each side holds, so the
 *                    host can size the chunk's table (the sketch's own
 *                    windows also span exactly the occupied buckets);
 *   eg_sketch_count  every value into that table, with NaN, zeros and
 *                    +-inf counted apart, as engine/state/sketch.c does.
 *
 * A value is widened to double as the host does ((double)v: exact for
 * float32, round-to-nearest for 64-bit integers, OpenCL's default for a
 * conversion to a floating type too), and kernels/sketch_bucket.h, the
 * host's own header, gives its class and bucket, so every device counts
 * every value where the host does.  Counts are integers: the order of the
 * atomics never changes them.
 *
 * Each work-group counts into its own table in local memory when it fits
 * (EG_LOCAL=1, 32-bit counters, local atomics) and adds it to the launch's
 * 32-bit global counters at the end; else straight into the global ones.
 * A launch holds fewer than 2^32 elements (cl_count.c).
 *
 * Built with -DEG_T=<type> -DEG_DT=<eg_dtype> -DEG_LOCAL=0|1 behind the
 * prelude of cl_program.c and sketch_bucket.h. */
#pragma OPENCL FP_CONTRACT OFF
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

/* span[0..3]: least and greatest positive bucket, least and greatest
 * negative one; the host starts them at UINT_MAX, 0, UINT_MAX, 0 (every
 * bucket index is at least 2^k > 0, so a greatest of 0 means none). */
__kernel void eg_sketch_span(__global const EG_T *x, ulong n, uint k,
                             __global uint *span)
{
    __local uint lspan[4];
    size_t lid = get_local_id(0);
    if (lid == 0) {
        lspan[0] = UINT_MAX;
        lspan[1] = 0;
        lspan[2] = UINT_MAX;
        lspan[3] = 0;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    uint pmin = UINT_MAX, pmax = 0, nmin = UINT_MAX, nmax = 0;
    for (ulong i = get_global_id(0); i < n; i += get_global_size(0)) {
        ulong b = as_ulong((double)x[i]);
        unsigned c = eg_sk_class(b);
        if (c > EG_SK_NEG)
            continue;
        uint j = (uint)eg_sk_bucket(b & EG_SK_ABS_MASK, k);
        if (c == EG_SK_POS) {
            pmin = min(pmin, j);
            pmax = max(pmax, j);
        } else {
            nmin = min(nmin, j);
            nmax = max(nmax, j);
        }
    }
    if (pmax) {
        atomic_min(&lspan[0], pmin);
        atomic_max(&lspan[1], pmax);
    }
    if (nmax) {
        atomic_min(&lspan[2], nmin);
        atomic_max(&lspan[3], nmax);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    if (lid == 0) {
        if (lspan[1]) {
            atomic_min(&span[0], lspan[0]);
            atomic_max(&span[1], lspan[1]);
        }
        if (lspan[3]) {
            atomic_min(&span[2], lspan[2]);
            atomic_max(&span[3], lspan[3]);
        }
    }
}

/* x[0, n) into out: positive buckets plo .. plo + plen - 1 at out[0 ..],
 * negative ones nlo .. at out[plen ..], then NaN, zero, +inf, -inf at
 * out[plen + nlen ..].  Every finite non-zero value's bucket lies in its
 * side's window (eg_sketch_span found them). */
__kernel void eg_sketch_count(__global const EG_T *x, ulong n, uint k,
                              uint plo, uint plen, uint nlo, uint nlen,
                              __global uint *out, __local uint *lbins)
{
    uint nb = plen + nlen;
#if EG_LOCAL
    size_t lid = get_local_id(0), lsz = get_local_size(0);
    for (uint i = (uint)lid; i < nb; i += (uint)lsz)
        lbins[i] = 0;
    barrier(CLK_LOCAL_MEM_FENCE);
#define EG_SK_BINS lbins
#else
#define EG_SK_BINS out
#endif
    uint apart[4] = {0, 0, 0, 0}; /* NaN, zero, +inf, -inf */
    for (ulong i = get_global_id(0); i < n; i += get_global_size(0)) {
        ulong b = as_ulong((double)x[i]);
        unsigned c = eg_sk_class(b);
        uint j;
        switch (c) {
        case EG_SK_POS:
            j = (uint)eg_sk_bucket(b & EG_SK_ABS_MASK, k) - plo;
            atomic_inc(&EG_SK_BINS[j]);
            break;
        case EG_SK_NEG:
            j = plen + ((uint)eg_sk_bucket(b & EG_SK_ABS_MASK, k) - nlo);
            atomic_inc(&EG_SK_BINS[j]);
            break;
        case EG_SK_NAN:
            apart[0]++;
            break;
        case EG_SK_ZERO:
            apart[1]++;
            break;
        case EG_SK_PINF:
            apart[2]++;
            break;
        default:
            apart[3]++;
            break;
        }
    }
#undef EG_SK_BINS
    for (uint a = 0; a < 4; a++)
        if (apart[a])
            atomic_add(&out[nb + a], apart[a]);
#if EG_LOCAL
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint i = (uint)lid; i < nb; i += (uint)lsz) {
        uint c = lbins[i];
        if (c)
            atomic_add(&out[i], c);
    }
#endif
}
