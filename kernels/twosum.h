/* twosum.h - error-free addition, the building block of compensated sums.
 * Knuth's TwoSum needs no ordering of its operands and, with FMA contraction
 * off, gives the same bits on every IEEE device.  It compiles as C (the host
 * lanes and the state algebra include it) and as OpenCL C
 * (engine/backend/opencl/cl_program.c puts its embedded bytes in front of
 * kernels/reduce_gpu.cl), so the lane's additions are written once. */
#ifndef EG_TWOSUM_H
#define EG_TWOSUM_H

#ifdef __OPENCL_VERSION__
#define EG_TWOSUM_FN
#else
#define EG_TWOSUM_FN static inline
#endif

/* s + v = t + e exactly. */
EG_TWOSUM_FN void eg_twosum(double s, double v, double *t, double *e)
{
    double sum = s + v;
    double z = sum - s;
    *e = (s - (sum - z)) + (v - z);
    *t = sum;
}

/* Adds v to the compensated pair (s, c). */
EG_TWOSUM_FN void eg_twosum_acc(double *s, double *c, double v)
{
    double t, e;
    eg_twosum(*s, v, &t, &e);
    *s = t;
    *c = *c + e;
}

/* (s, c) += (bs, bc), keeping the pair unnormalised as the lanes do. */
EG_TWOSUM_FN void eg_twosum_pair(double *s, double *c, double bs, double bc)
{
    double t, e;
    eg_twosum(*s, bs, &t, &e);
    *s = t;
    *c = (*c + bc) + e;
}

#endif
