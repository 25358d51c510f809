/* portable_vec.h - GCC's generic vectors for the counting loops that serve
 * CPUs without AVX-512 (hist_portable.c, qselect_portable.c,
 * sketch_portable.c): 32-byte vectors of 8 32-bit or 4 64-bit lanes, a
 * test of whether any lane of a mask is set, and the clones the loops are
 * built as.
 *
 * GCC only (clang spells shuffles otherwise): other compilers get the
 * loops' stubs, and the scalar code counts.  Vectors never cross a call:
 * the default clone has no AVX, and a 32-byte vector argument or result
 * would change the ABI there, so the helpers are macros. */
#ifndef EG_PORTABLE_VEC_H
#define EG_PORTABLE_VEC_H

#if defined(__GNUC__) && !defined(__clang__)
#define EG_PORTABLE_VEC 1

#include <stdint.h>

/* x86-64: an AVX2 and FMA clone beside the SSE2 default (not under
 * AddressSanitizer, whose builds do not dispatch clones); elsewhere the
 * target's own vectors (NEON on ARM). */
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define EG_PORTABLE_HOT                                                        \
    __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define EG_PORTABLE_HOT
#endif

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef uint32_t v8u __attribute__((vector_size(32)));
typedef double v4d __attribute__((vector_size(32)));
typedef int64_t v4l __attribute__((vector_size(32)));
typedef uint64_t v4u __attribute__((vector_size(32)));
typedef int32_t v4i __attribute__((vector_size(16)));

/* R = whether any lane of the mask M (of type v8i or v4l, as the macro's
 * name says) is set: the halves folded onto each other, where taking the
 * lanes out one by one cost twice a histogram block's own work. */
#define EG_ANY_v8i(M, R)                                                       \
    do {                                                                       \
        v8i t_ = (M) | __builtin_shuffle((M), (v8i){4, 5, 6, 7, 0, 1, 2, 3});  \
        t_ |= __builtin_shuffle(t_, (v8i){2, 3, 0, 1, 6, 7, 4, 5});            \
        t_ |= __builtin_shuffle(t_, (v8i){1, 0, 3, 2, 5, 4, 7, 6});            \
        (R) = t_[0] != 0;                                                      \
    } while (0)
#define EG_ANY_v4l(M, R)                                                       \
    do {                                                                       \
        v4l t_ = (M) | __builtin_shuffle((M), (v4l){2, 3, 0, 1});              \
        t_ |= __builtin_shuffle(t_, (v4l){1, 0, 3, 2});                        \
        (R) = t_[0] != 0;                                                      \
    } while (0)

#endif

#endif
