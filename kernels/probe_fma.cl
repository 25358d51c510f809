/* probe_fma.cl - does this device fuse a * b + c?  Built with the options
 * and the pragma of the reduction kernels; engine/backend/opencl/cl_probe.c
 * runs it once per device and refuses a device whose compiler contracts
 * anyway (POCL's CUDA backend, for one, defaults to -ffp-contract=fast):
 * every kernel's bits rest on each product being rounded before it is
 * added.
 *
 * in = {1 + 2^-30, 1 - 2^-30, -1, 1 + 2^-13, 1 - 2^-13, -1}: a * b is
 * 1 - 2^-60 (1 - 2^-26 in float), which rounds to 1, so a * b + c is 0 when
 * rounded twice and -2^-60 (-2^-26) when fused.  The inputs come from a
 * buffer, so no compiler can fold them.  EG_PROBE_CONTRACT (tests only)
 * lets the compiler contract, to show that the probe sees it. */
#ifdef EG_PROBE_CONTRACT
#pragma OPENCL FP_CONTRACT ON
#else
#pragma OPENCL FP_CONTRACT OFF
#endif
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

__kernel void eg_probe(__global const double *in, __global double *out)
{
    double a = in[0], b = in[1], c = in[2];
    out[0] = a * b + c;
    float fa = (float)in[3], fb = (float)in[4], fc = (float)in[5];
    out[1] = (double)(fa * fb + fc);
}
