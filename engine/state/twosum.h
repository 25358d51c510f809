/* twosum.h - error-free addition, the building block of compensated sums.
 * Knuth's TwoSum needs no ordering of its operands and, with FMA contraction
 * off, gives the same bits on every IEEE device. */
#ifndef EG_TWOSUM_H
#define EG_TWOSUM_H

/* s + v = t + e exactly. */
static inline void eg_twosum(double s, double v, double *t, double *e)
{
    double sum = s + v;
    double z = sum - s;
    *e = (s - (sum - z)) + (v - z);
    *t = sum;
}

/* Adds v to the compensated pair (s, c). */
static inline void eg_twosum_acc(double *s, double *c, double v)
{
    double t, e;
    eg_twosum(*s, v, &t, &e);
    *s = t;
    *c = *c + e;
}

/* (s, c) += (bs, bc), keeping the pair unnormalised as the lanes do. */
static inline void eg_twosum_pair(double *s, double *c, double bs, double bc)
{
    double t, e;
    eg_twosum(*s, bs, &t, &e);
    *s = t;
    *c = (*c + bc) + e;
}

#endif
