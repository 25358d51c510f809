/* lane_dtype.h - what the two fast kernels (reduce.cl for CPUs,
 * reduce_gpu.cl for GPUs) ask of the element type and the group set they
 * were built for (EG_DT, EG_GROUPS: build options; the eg_dtype values:
 * the prelude, cl_program.c).  OpenCL C only; put ahead of either kernel. */
#ifndef EG_LANE_DTYPE_H
#define EG_LANE_DTYPE_H

#define EG_HAS(g) ((EG_GROUPS & (g)) != 0)

#if EG_DT == EG_F32 || EG_DT == EG_F64
#define EG_IS_FLOAT 1
#else
#define EG_IS_FLOAT 0
#endif

#if EG_DT == EG_I8 || EG_DT == EG_I16 || EG_DT == EG_I32 || EG_DT == EG_I64
#define EG_IS_SIGNED_INT 1
#else
#define EG_IS_SIGNED_INT 0
#endif

/* 64-bit integers need a carry to sum exactly; narrower ones cannot
 * overflow a 64-bit slot sum (512 values of at most 2^32 each). */
#if EG_DT == EG_I64 || EG_DT == EG_U64
#define EG_IS_WIDE 1
#else
#define EG_IS_WIDE 0
#endif

#endif
