/* struct_short.c - the segmented lane pass: short segments (1 to
 * EG_LANE_ELEMS elements, so one lane each) of a float dtype in fast mode,
 * eight at a time, one segment per vector element, straight into the
 * result arrays.
 *
 * A one-lane segment's output is its lane record, decoded, made a state,
 * merged into the identity (eg_chunk_state) and finalized.  This pass does
 * the same IEEE operations in the same order on eight segments side by
 * side: element t feeds slot t % 8, blocks of EG_LANE_BLOCK_ROWS rows are
 * summed from +0.0 and added by TwoSum, the slots meet in the fixed combine
 * tree (lanes.h), then come the lane's (mean, M2), the merge into the
 * identity and eg_state_finalize's arithmetic.  So every output keeps the
 * bits of its segment reduced alone, without a lane record, a decode, an
 * eg_state or an eg_result of its own (the ~0.2 us per output element they
 * cost).
 *
 * Segments shorter than the batch's longest see +0.0 past their end (and
 * no extreme candidate).  Every accumulator starts at +0.0 and can never
 * become -0.0 (x + y is -0.0 only when both are), so adding +0.0 leaves
 * its bits alone: the padding changes nothing.  A segment whose lane the
 * fast path cannot take (a non-finite accumulator: NaN, an infinity, an
 * overflow; f64 l2 outside Blue's middle range) is handed back to the
 * caller, which reduces it the generic way (eg_lane_careful). */
#include <math.h>
#include <string.h>

#include "lanes.h"
#include "structured.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&       \
    !defined(__SANITIZE_ADDRESS__)
#define EG_SHORT_HOT                                                         \
    __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define EG_SHORT_HOT
#endif

#define B EG_SHORT_BATCH
#define S EG_LANE_SLOTS

typedef double v8d __attribute__((vector_size(64)));
typedef int64_t v8l __attribute__((vector_size(64)));
typedef uint64_t v8u __attribute__((vector_size(64)));

/* The ops this pass finishes; any other op sends the job the generic way. */
#define SHORT_OPS                                                            \
    (EG_OPS_BIT(EG_OP_COUNT) | EG_OPS_BIT(EG_OP_SUM) |                       \
     EG_OPS_BIT(EG_OP_MEAN) | EG_OPS_BIT(EG_OP_MIN) |                        \
     EG_OPS_BIT(EG_OP_MAX) | EG_OPS_BIT(EG_OP_ARGMIN) |                      \
     EG_OPS_BIT(EG_OP_ARGMAX) | EG_OPS_BIT(EG_OP_VAR) |                      \
     EG_OPS_BIT(EG_OP_STD) | EG_OPS_BIT(EG_OP_L1) | EG_OPS_BIT(EG_OP_L2) |   \
     EG_OPS_BIT(EG_OP_DOT))

int eg_struct_short_ok(const eg_struct_plan *p, const eg_reduce_opts *o,
                       unsigned groups, int xcontig, int ycontig)
{
    return eg_dtype_is_float(p->dtype) && !(groups & EG_G_EXACT) &&
           (o->ops & ~SHORT_OPS) == 0 && xcontig && (!p->has_y || ycontig);
}

/* The accumulators of eight lanes, slot by slot (lane_slots.h's slots, one
 * segment per vector element), and their finished values. */
typedef struct acc {
    v8d s[S], c[S], d1[S], d2[S], mn[S], mx[S];
    v8u amn[S], amx[S];
    v8d l1s[S], l1c[S], med[S], ds[S], dc[S];
    v8d pe[S], pl1[S], pdot[S]; /* the open block of each compensated sum */
} acc;

/* (s, c) += v, slot by slot (eg_twosum_acc). */
#define VTWOSUM_ACC(s_, c_, v_)                                              \
    do {                                                                     \
        v8d t_ = (s_) + (v_), z_ = t_ - (s_);                                \
        (c_) = (c_) + (((s_) - (t_ - z_)) + ((v_) - z_));                    \
        (s_) = t_;                                                           \
    } while (0)

/* (s, c) += (bs, bc) (eg_twosum_pair). */
#define VTWOSUM_PAIR(s_, c_, bs_, bc_)                                       \
    do {                                                                     \
        v8d t_ = (s_) + (bs_), z_ = t_ - (s_);                               \
        v8d e_ = ((s_) - (t_ - z_)) + ((bs_) - z_);                          \
        (s_) = t_;                                                           \
        (c_) = ((c_) + (bc_)) + e_;                                          \
    } while (0)

#define VSEL(m_, a_, b_) ((v8d)(((v8l)(a_) & (m_)) | ((v8l)(b_) & ~(m_))))
#define VSELU(m_, a_, b_) ((v8u)(((v8l)(a_) & (m_)) | ((v8l)(b_) & ~(m_))))
#define VMASK(m_, a_) ((v8d)((v8l)(a_) & (m_)))
#define VABS(v_) ((v8d)((v8l)(v_) & ((v8l){0} + INT64_MAX)))
#define VFINITE(v_) ((v8l)(((v_) - (v_)) == (v8d){0}))
/* GCC 12 turns a vector compare ANDed with another into eight scalar
 * compares and inserts (measured: most of the min/max pass's time); a
 * compare's mask passed through memory this way stays one vector compare. */
#define VOPAQUE(m_) __asm__("" : "+m"(m_))

/* Only the accumulators of the groups g: the whole struct is ~10 KiB,
 * several times the bytes of a batch of short rows. */
__attribute__((always_inline)) static inline void acc_init(acc *a, unsigned g)
{
    for (int j = 0; j < S; j++) {
        a->s[j] = a->c[j] = a->pe[j] = (v8d){0};
        if (g & EG_G_VAR)
            a->d1[j] = a->d2[j] = (v8d){0};
        if (g & EG_G_MINMAX) {
            a->mn[j] = (v8d){0} + INFINITY;
            a->mx[j] = (v8d){0} - INFINITY;
            a->amn[j] = (v8u){0} + EG_NONE_INDEX;
            a->amx[j] = (v8u){0} + EG_NONE_INDEX;
        }
        if (g & EG_G_L1)
            a->l1s[j] = a->l1c[j] = a->pl1[j] = (v8d){0};
        if (g & EG_G_L2)
            a->med[j] = (v8d){0};
        if (g & EG_G_DOT)
            a->ds[j] = a->dc[j] = a->pdot[j] = (v8d){0};
    }
}

/* Closes the open block of every compensated sum (lanes.h: a block's sum
 * goes into every slot's pair, also into slots it gave nothing).
 *
 * The first block's TwoSum into (+0, +0) is done without arithmetic: a
 * block sum starts at +0.0 and so is never -0.0, and for a finite v,
 * TwoSum(+0, v) gives t = v, z = v and c = 0 + ((0 - (v - v)) + (v - v)) =
 * +0: the pair becomes (v, +0) exactly.  A non-finite v would have made c
 * NaN where this leaves +0, but then s is not finite either (every later
 * step adds s values, and NaN or an infinity never adds up to a finite
 * number), so the lane goes to the careful path all the same. */
#define FIRST_FLUSH(s_, c_, v_)                                              \
    do {                                                                     \
        (s_) = (v_);                                                         \
        (c_) = (v8d){0};                                                     \
    } while (0)

__attribute__((always_inline)) static inline void acc_flush(acc *a, unsigned g,
                                                            int first)
{
    for (int j = 0; j < S; j++) {
        if (first)
            FIRST_FLUSH(a->s[j], a->c[j], a->pe[j]);
        else
            VTWOSUM_ACC(a->s[j], a->c[j], a->pe[j]);
        a->pe[j] = (v8d){0};
        if (g & EG_G_L1) {
            if (first)
                FIRST_FLUSH(a->l1s[j], a->l1c[j], a->pl1[j]);
            else
                VTWOSUM_ACC(a->l1s[j], a->l1c[j], a->pl1[j]);
            a->pl1[j] = (v8d){0};
        }
        if (g & EG_G_DOT) {
            if (first)
                FIRST_FLUSH(a->ds[j], a->dc[j], a->pdot[j]);
            else
                VTWOSUM_ACC(a->ds[j], a->dc[j], a->pdot[j]);
            a->pdot[j] = (v8d){0};
        }
    }
}

/* The combine tree ((0,1),(2,3)),((4,5),(6,7)) (lane_slots.h). */
__attribute__((always_inline)) static inline void acc_combine(acc *a, unsigned g)
{
    static const int pairs[7][2] = {{0, 1}, {2, 3}, {4, 5}, {6, 7},
                                    {0, 2}, {4, 6}, {0, 4}};
    for (int i = 0; i < 7; i++) {
        int x = pairs[i][0], y = pairs[i][1];
        VTWOSUM_PAIR(a->s[x], a->c[x], a->s[y], a->c[y]);
        if (g & EG_G_VAR) {
            a->d1[x] = a->d1[x] + a->d1[y];
            a->d2[x] = a->d2[x] + a->d2[y];
        }
        if (g & EG_G_MINMAX) {
            v8l eq = a->mn[y] == a->mn[x];
            VOPAQUE(eq);
            v8l t = (a->mn[y] < a->mn[x]) | (eq & (v8l)(a->amn[y] < a->amn[x]));
            a->mn[x] = VSEL(t, a->mn[y], a->mn[x]);
            a->amn[x] = VSELU(t, a->amn[y], a->amn[x]);
            eq = a->mx[y] == a->mx[x];
            VOPAQUE(eq);
            t = (a->mx[y] > a->mx[x]) | (eq & (v8l)(a->amx[y] < a->amx[x]));
            a->mx[x] = VSEL(t, a->mx[y], a->mx[x]);
            a->amx[x] = VSELU(t, a->amx[y], a->amx[x]);
        }
        if (g & EG_G_L1)
            VTWOSUM_PAIR(a->l1s[x], a->l1c[x], a->l1s[y], a->l1c[y]);
        if (g & EG_G_L2)
            a->med[x] = a->med[x] + a->med[y];
        if (g & EG_G_DOT)
            VTWOSUM_PAIR(a->ds[x], a->dc[x], a->ds[y], a->dc[y]);
    }
}

/* Element t of the eight segments (IDX(i): the index read in segment i). */
#define AT(T, ptrs, IDX, i) ((double)((const T *)(ptrs)[i])[IDX(i)])
#define GATHER(T, ptrs, IDX, out)                                            \
    ((out) = (v8d){AT(T, ptrs, IDX, 0), AT(T, ptrs, IDX, 1),                 \
                   AT(T, ptrs, IDX, 2), AT(T, ptrs, IDX, 3),                 \
                   AT(T, ptrs, IDX, 4), AT(T, ptrs, IDX, 5),                 \
                   AT(T, ptrs, IDX, 6), AT(T, ptrs, IDX, 7)})

/* One element t into slot t % 8 of every segment; `ok` masks the segments
 * that have it (the others add +0.0).  blue: f64 l2 values outside Blue's
 * middle range (the careful path's). */
#define STEP(T, IDX, ok)                                                     \
    do {                                                                     \
        v8d v_, w_ = {0};                                                    \
        GATHER(T, b->x, IDX, v_);                                            \
        if (g & EG_G_DOT)                                                    \
            GATHER(T, b->y, IDX, w_);                                        \
        STEP_V(v_, w_, ok);                                                  \
    } while (0)

/* The same with element t of the eight segments in v_ (and y's in w_). */
#define STEP_V(v_, w_, ok)                                                   \
    do {                                                                     \
        int j_ = (int)(t & 7);                                               \
        v8d vz_ = VMASK(ok, v_);                                             \
        a->pe[j_] = a->pe[j_] + vz_;                                         \
        if (g & EG_G_VAR) {                                                  \
            v8d d_ = VMASK(ok, v_ - k);                                      \
            a->d1[j_] = a->d1[j_] + d_;                                      \
            a->d2[j_] = a->d2[j_] + d_ * d_;                                 \
        }                                                                    \
        if (g & EG_G_MINMAX) {                                               \
            /* the lane rule (lanes.h): an empty slot takes +-inf too */     \
            const v8u none_ = (v8u){0} + EG_NONE_INDEX;                      \
            v8u tv_ = (v8u){0} + t;                                          \
            v8l eq_ = v_ == a->mn[j_];                                       \
            VOPAQUE(eq_);                                                    \
            v8l lt_ = ((v_ < a->mn[j_]) |                                    \
                       (eq_ & (v8l)(a->amn[j_] == none_))) &                 \
                      (ok);                                                  \
            a->mn[j_] = VSEL(lt_, v_, a->mn[j_]);                            \
            a->amn[j_] = VSELU(lt_, tv_, a->amn[j_]);                        \
            eq_ = v_ == a->mx[j_];                                           \
            VOPAQUE(eq_);                                                    \
            v8l gt_ = ((v_ > a->mx[j_]) |                                    \
                       (eq_ & (v8l)(a->amx[j_] == none_))) &                 \
                      (ok);                                                  \
            a->mx[j_] = VSEL(gt_, v_, a->mx[j_]);                            \
            a->amx[j_] = VSELU(gt_, tv_, a->amx[j_]);                        \
        }                                                                    \
        if (g & EG_G_L1)                                                     \
            a->pl1[j_] = a->pl1[j_] + VABS(vz_);                             \
        if (g & EG_G_L2) {                                                   \
            a->med[j_] = a->med[j_] + vz_ * vz_;                             \
            if (check_blue) {                                                \
                v8d m_ = VABS(vz_);                                          \
                blue |= (m_ > (v8d){0} + EG_BLUE_TBIG) |                     \
                        ((m_ < (v8d){0} + EG_BLUE_TSML) & (m_ > (v8d){0}));  \
            }                                                                \
        }                                                                    \
        if (g & EG_G_DOT)                                                    \
            a->pdot[j_] = a->pdot[j_] + VMASK(ok, v_ * w_);                  \
        if ((t & (EG_LANE_BLOCK_ROWS * S - 1)) == EG_LANE_BLOCK_ROWS * S - 1) \
            acc_flush(a, g, t == EG_LANE_BLOCK_ROWS * S - 1);                \
    } while (0)

/* out[u] = element u of rows 0..7 (src + i * ld, eight elements each):
 * eight row loads and three rounds of shuffles instead of 64 scalar loads. */
#define TRANSPOSE8(T, src, ld, out)                                          \
    do {                                                                     \
        v8d r_[8], a_[8], c_[8];                                             \
        for (int i_ = 0; i_ < 8; i_++) {                                     \
            T raw_[8];                                                       \
            memcpy(raw_, (src) + (uint64_t)i_ * (ld), sizeof raw_);          \
            for (int u_ = 0; u_ < 8; u_++)                                   \
                r_[i_][u_] = (double)raw_[u_];                               \
        }                                                                    \
        const v8l ev_ = {0, 8, 2, 10, 4, 12, 6, 14};                         \
        const v8l od_ = {1, 9, 3, 11, 5, 13, 7, 15};                         \
        const v8l lo2_ = {0, 1, 8, 9, 4, 5, 12, 13};                         \
        const v8l hi2_ = {2, 3, 10, 11, 6, 7, 14, 15};                       \
        const v8l lo4_ = {0, 1, 2, 3, 8, 9, 10, 11};                         \
        const v8l hi4_ = {4, 5, 6, 7, 12, 13, 14, 15};                       \
        for (int i_ = 0; i_ < 8; i_ += 2) {                                  \
            a_[i_] = __builtin_shuffle(r_[i_], r_[i_ + 1], ev_);             \
            a_[i_ + 1] = __builtin_shuffle(r_[i_], r_[i_ + 1], od_);         \
        }                                                                    \
        /* c_: elements (0,4) (1,5) (2,6) (3,7) of rows 0-3, then 4-7 */     \
        for (int h_ = 0; h_ < 8; h_ += 4) {                                  \
            c_[h_ + 0] = __builtin_shuffle(a_[h_], a_[h_ + 2], lo2_);        \
            c_[h_ + 1] = __builtin_shuffle(a_[h_ + 1], a_[h_ + 3], lo2_);    \
            c_[h_ + 2] = __builtin_shuffle(a_[h_], a_[h_ + 2], hi2_);        \
            c_[h_ + 3] = __builtin_shuffle(a_[h_ + 1], a_[h_ + 3], hi2_);    \
        }                                                                    \
        for (int u_ = 0; u_ < 4; u_++) {                                     \
            (out)[u_] = __builtin_shuffle(c_[u_], c_[u_ + 4], lo4_);         \
            (out)[u_ + 4] = __builtin_shuffle(c_[u_], c_[u_ + 4], hi4_);     \
        }                                                                    \
    } while (0)

#define IDX_PLAIN(i) t
#define IDX_CLAMPED(i) (t < b->len[i] ? t : 0)

/* The lanes of a batch into a (combined), each one's first element into
 * *kout and into *bad the segments the careful path must take (vectors go
 * through memory: a vector return would differ between the clones' ABIs). */
#define DEFINE_LANES(T, SFX, CHECK_BLUE)                                     \
    EG_SHORT_HOT static void lanes_##SFX(const eg_short_batch *b,            \
                                         unsigned g, acc *a, v8d *kout,      \
                                         v8l *bad)                           \
    {                                                                        \
        const int check_blue = CHECK_BLUE;                                   \
        v8l blue = {0}, all = (v8l){0} - 1;                                  \
        uint64_t lo = b->len[0], hi = b->len[0];                             \
        v8u lenv;                                                            \
        for (int i = 0; i < B; i++) {                                        \
            lo = b->len[i] < lo ? b->len[i] : lo;                            \
            hi = b->len[i] > hi ? b->len[i] : hi;                            \
            lenv[i] = b->len[i];                                             \
        }                                                                    \
        uint64_t t = 0;                                                      \
        v8d k;                                                               \
        GATHER(T, b->x, IDX_PLAIN, k); /* each lane's first element */       \
        acc_init(a, g);                                                      \
        if (b->uniform) {                                                    \
            /* eight consecutive rows of one length: 8 x 8 blocks */         \
            const T *x0_ = b->x[0], *y0_ = b->y[0];                          \
            /* the batch after next: rows this short leave the hardware   \
             * prefetcher too little time between them */                  \
            const char *ahead_ = (const char *)(x0_ + 2 * B * lo);           \
            for (uint64_t o_ = 0; o_ < B * lo * sizeof(T); o_ += 64)         \
                __builtin_prefetch(ahead_ + o_);                             \
            while (t + 8 <= lo) {                                            \
                v8d vv_[8], ww_[8];                                          \
                TRANSPOSE8(T, x0_ + t, lo, vv_);                             \
                if (g & EG_G_DOT)                                            \
                    TRANSPOSE8(T, y0_ + t, lo, ww_);                         \
                else                                                         \
                    for (int u_ = 0; u_ < 8; u_++)                           \
                        ww_[u_] = (v8d){0};                                  \
                for (int u_ = 0; u_ < 8; u_++, t++)                          \
                    STEP_V(vv_[u_], ww_[u_], all);                           \
            }                                                                \
        }                                                                    \
        for (; t < lo; t++)                                                  \
            STEP(T, IDX_PLAIN, all);                                         \
        for (; t < hi; t++) {                                                \
            v8l ok = (v8l)((v8u){0} + t < lenv);                             \
            STEP(T, IDX_CLAMPED, ok);                                        \
        }                                                                    \
        if (t & (EG_LANE_BLOCK_ROWS * S - 1))                                \
            acc_flush(a, g, t < EG_LANE_BLOCK_ROWS * S);                     \
        acc_combine(a, g);                                                   \
        *kout = k;                                                           \
        *bad = blue;                                                         \
        (void)check_blue;                                                    \
    }

/* The sum alone of a uniform batch (b->uniform, groups 0): the lanes of
 * DEFINE_LANES with the slots' accumulators in registers, where the
 * general pass keeps ~10 KiB of them in memory.  The same operations in
 * the same order: block sums from +0.0 over EG_LANE_BLOCK_ROWS rows, added
 * by TwoSum, the last partial block into every slot, the combine tree. */
/* min, max, their positions and the shifted sums of var/std with the sum
 * of a uniform batch (b->uniform, groups within EG_G_MINMAX | EG_G_VAR):
 * DEFINE_LANES's steps with every slot's accumulators local, so that they
 * stay in registers (or the stack) where the general pass indexes ~10 KiB
 * of them by t % 8.  The same operations in the same order; the results
 * go to a's first entries, which are all eg_struct_short reads. */
/* The extremes: the lane takes a slot's first element whatever it is
 * (v < +inf, or v == +inf into an empty slot) unless it is NaN, and a
 * later one when it is strictly beyond (the slot is no longer empty).  A
 * NaN makes the sum NaN and the row goes to the careful path, so here the
 * first element (tpos_ < S) is taken as it is and later ones by the strict
 * compare alone. */
#define VM_STEP(j_, v_, tpos_)                                               \
    do {                                                                     \
        pe[j_] = pe[j_] + (v_);                                              \
        if (g & EG_G_VAR) {                                                  \
            v8d d_ = (v_) - k;                                               \
            d1[j_] = d1[j_] + d_;                                            \
            d2[j_] = d2[j_] + d_ * d_;                                       \
        }                                                                    \
        if ((g & EG_G_MINMAX) && (tpos_) < S) {                              \
            mn[j_] = mx[j_] = (v_);                                          \
            amn[j_] = amx[j_] = (v8u){0} + (tpos_);                          \
        } else if (g & EG_G_MINMAX) {                                        \
            v8u tv_ = (v8u){0} + (tpos_);                                    \
            v8l lt_ = (v_) < mn[j_];                                         \
            mn[j_] = VSEL(lt_, (v_), mn[j_]);                                \
            amn[j_] = VSELU(lt_, tv_, amn[j_]);                              \
            v8l gt_ = (v_) > mx[j_];                                         \
            mx[j_] = VSEL(gt_, (v_), mx[j_]);                                \
            amx[j_] = VSELU(gt_, tv_, amx[j_]);                              \
        }                                                                    \
    } while (0)

/* acc_combine's step (x, y) on the locals. */
#define VM_PAIR(x_, y_)                                                      \
    do {                                                                     \
        VTWOSUM_PAIR(s[x_], c[x_], s[y_], c[y_]);                            \
        if (g & EG_G_VAR) {                                                  \
            d1[x_] = d1[x_] + d1[y_];                                        \
            d2[x_] = d2[x_] + d2[y_];                                        \
        }                                                                    \
        if (g & EG_G_MINMAX) {                                               \
            v8l eq_ = mn[y_] == mn[x_];                                      \
            VOPAQUE(eq_);                                                    \
            v8l t_ = (mn[y_] < mn[x_]) | (eq_ & (v8l)(amn[y_] < amn[x_]));   \
            mn[x_] = VSEL(t_, mn[y_], mn[x_]);                               \
            amn[x_] = VSELU(t_, amn[y_], amn[x_]);                           \
            eq_ = mx[y_] == mx[x_];                                          \
            VOPAQUE(eq_);                                                    \
            t_ = (mx[y_] > mx[x_]) | (eq_ & (v8l)(amx[y_] < amx[x_]));       \
            mx[x_] = VSEL(t_, mx[y_], mx[x_]);                               \
            amx[x_] = VSELU(t_, amx[y_], amx[x_]);                           \
        }                                                                    \
    } while (0)

/* A batch's combined accumulators (vm8_*). */
typedef struct vmr {
    v8d s, c, d1, d2, mn, mx, k;
    v8u amn, amx;
} vmr;

#define DEFINE_VM_UNIFORM(T, SFX)                                            \
    __attribute__((always_inline)) static inline void vm8_##SFX(             \
        const T *x0, uint64_t len, unsigned g, vmr *r)                       \
    {                                                                        \
        uint64_t t = 0;                                                      \
        const char *ahead = (const char *)(x0 + 2 * B * len);                \
        for (uint64_t o = 0; o < B * len * sizeof(T); o += 64)               \
            __builtin_prefetch(ahead + o);                                   \
        const v8u none = (v8u){0} + EG_NONE_INDEX;                           \
        v8d s[S], c[S], pe[S], d1[S], d2[S], mn[S], mx[S], k;                \
        v8u amn[S], amx[S];                                                  \
        _Pragma("GCC unroll 8") for (int j = 0; j < S; j++) {                \
            s[j] = c[j] = pe[j] = d1[j] = d2[j] = (v8d){0};                  \
            mn[j] = (v8d){0} + INFINITY;                                     \
            mx[j] = (v8d){0} - INFINITY;                                     \
            amn[j] = amx[j] = none;                                          \
        }                                                                    \
        for (int i = 0; i < B; i++)                                          \
            k[i] = (double)x0[i * len];                                      \
        unsigned rows = 0; /* of the open block */                           \
        int first = 1;     /* no block closed yet (FIRST_FLUSH) */           \
        for (; t + S <= len; t += S) {                                       \
            v8d v[S];                                                        \
            TRANSPOSE8(T, x0 + t, len, v);                                   \
            _Pragma("GCC unroll 8") for (int j = 0; j < S; j++)              \
                VM_STEP(j, v[j], t + (uint64_t)j);                           \
            if (++rows == EG_LANE_BLOCK_ROWS) {                              \
                _Pragma("GCC unroll 8") for (int j = 0; j < S; j++) {        \
                    if (first)                                               \
                        FIRST_FLUSH(s[j], c[j], pe[j]);                      \
                    else                                                     \
                        VTWOSUM_ACC(s[j], c[j], pe[j]);                      \
                    pe[j] = (v8d){0};                                        \
                }                                                            \
                rows = 0;                                                    \
                first = 0;                                                   \
            }                                                                \
        }                                                                    \
        uint64_t rem = len - t;                                              \
        _Pragma("GCC unroll 8") for (int j = 0; j < S; j++) {                \
            if ((uint64_t)j >= rem)                                          \
                break;                                                       \
            v8d v;                                                           \
            for (int i = 0; i < B; i++)                                      \
                v[i] = (double)x0[i * len + t + (uint64_t)j];                \
            VM_STEP(j, v, t + (uint64_t)j);                                  \
        }                                                                    \
        if ((rows || rem) && first)                                          \
            for (int j = 0; j < S; j++)                                      \
                FIRST_FLUSH(s[j], c[j], pe[j]);                              \
        else if (rows || rem)                                                \
            for (int j = 0; j < S; j++)                                      \
                VTWOSUM_ACC(s[j], c[j], pe[j]);                              \
        VM_PAIR(0, 1);                                                       \
        VM_PAIR(2, 3);                                                       \
        VM_PAIR(4, 5);                                                       \
        VM_PAIR(6, 7);                                                       \
        VM_PAIR(0, 2);                                                       \
        VM_PAIR(4, 6);                                                       \
        VM_PAIR(0, 4);                                                       \
        r->s = s[0];                                                         \
        r->c = c[0];                                                         \
        r->d1 = d1[0];                                                       \
        r->d2 = d2[0];                                                       \
        r->mn = mn[0];                                                       \
        r->mx = mx[0];                                                       \
        r->amn = amn[0];                                                     \
        r->amx = amx[0];                                                     \
        r->k = k;                                                            \
    }                                                                        \
    EG_SHORT_HOT static void vm_uniform_##SFX(const eg_short_batch *b,       \
                                              unsigned g, acc *a, v8d *kout) \
    {                                                                        \
        vmr r;                                                               \
        vm8_##SFX(b->x[0], b->len[0], g, &r);                                \
        a->s[0] = r.s;                                                       \
        a->c[0] = r.c;                                                       \
        a->d1[0] = r.d1;                                                     \
        a->d2[0] = r.d2;                                                     \
        a->mn[0] = r.mn;                                                     \
        a->mx[0] = r.mx;                                                     \
        a->amn[0] = r.amn;                                                   \
        a->amx[0] = r.amx;                                                   \
        *kout = r.k;                                                         \
    }                                                                        \
    EG_SHORT_HOT static void vm_rows_##SFX(                                  \
        eg_struct_out *so, const T *x, uint64_t e0, uint64_t nbatch,         \
        uint64_t len, void (*careful)(void *, uint64_t), void *ctx)          \
    {                                                                        \
        unsigned g = so->groups;                                             \
        vmr prev;                                                            \
        v8d zacc = {0};                                                      \
        memset(&prev, 0, sizeof prev);                                       \
        /* each batch is finished while the next one's lanes run: the     \
         * finishing's divisions wait on the lanes' last additions */       \
        for (uint64_t bi = 0; bi <= nbatch; bi++) {                          \
            vmr cur;                                                         \
            if (bi < nbatch)                                                 \
                vm8_##SFX(x + bi * B * len, len, g, &cur);                   \
            if (bi > 0)                                                      \
                vm_finish(so, &prev, e0 + (bi - 1) * B, len, &zacc);         \
            if (bi < nbatch)                                                 \
                prev = cur;                                                  \
        }                                                                    \
        int clean = 1;                                                       \
        for (int i = 0; i < B; i++)                                          \
            clean &= zacc[i] == 0;                                           \
        if (clean)                                                           \
            return;                                                          \
        eg_struct_short_fence(); /* as in sums_* */                          \
        for (uint64_t bi = 0; bi < nbatch; bi++) {                           \
            vmr cur;                                                         \
            vm8_##SFX(x + bi * B * len, len, g, &cur);                       \
            v8d z;                                                           \
            vm_check(&cur, g, &z);                                           \
            for (int i = 0; i < B; i++)                                      \
                if (z[i] != 0)                                               \
                    careful(ctx, e0 + bi * B + (uint64_t)i);                 \
        }                                                                    \
    }


/* sums_*: a unit of such batches from the rows to the result arrays.
 * After the lanes, eg_struct_short merges (s, c) into the identity and
 * takes pair_value: TwoSum(+0, s) with (0 + c) + e.  s is never -0.0 (it
 * adds block sums that start at +0.0, and x + y is -0.0 only when both
 * are), so for finite s that TwoSum gives s and e = +0, the pair (s, c')
 * with c' = c but +0 for -0, and s + c' == s + c bit for bit (adding
 * either zero leaves a nonzero s alone; +0 + -0 is +0).  So the sum here
 * is s + c, the same bits in three operations fewer. */
#define DEFINE_SUM_UNIFORM(T, SFX)                                           \
    __attribute__((always_inline)) static inline void sum8_##SFX(            \
        const T *x0, uint64_t len, v8d *sout, v8d *cout, v8d *kout)          \
    {                                                                        \
        uint64_t t = 0;                                                      \
        const char *ahead = (const char *)(x0 + 2 * B * len);                \
        for (uint64_t o = 0; o < B * len * sizeof(T); o += 64)               \
            __builtin_prefetch(ahead + o);                                   \
        v8d s[S], c[S], pe[S], k;                                            \
        /* unrolled by hand: a loop here becomes three rep stos */          \
        _Pragma("GCC unroll 8") for (int j = 0; j < S; j++)                  \
            s[j] = c[j] = pe[j] = (v8d){0};                                  \
        for (int i = 0; i < B; i++)                                          \
            k[i] = (double)x0[i * len];                                      \
        unsigned rows = 0; /* of the open block */                           \
        int first = 1;     /* no block closed yet (FIRST_FLUSH) */           \
        for (; t + S <= len; t += S) {                                       \
            v8d v[S];                                                        \
            TRANSPOSE8(T, x0 + t, len, v);                                   \
            for (int j = 0; j < S; j++)                                      \
                pe[j] = pe[j] + v[j];                                        \
            if (++rows == EG_LANE_BLOCK_ROWS) {                              \
                for (int j = 0; j < S; j++) {                                \
                    if (first)                                               \
                        FIRST_FLUSH(s[j], c[j], pe[j]);                      \
                    else                                                     \
                        VTWOSUM_ACC(s[j], c[j], pe[j]);                      \
                    pe[j] = (v8d){0};                                        \
                }                                                            \
                rows = 0;                                                    \
                first = 0;                                                   \
            }                                                                \
        }                                                                    \
        uint64_t rem = len - t;                                              \
        _Pragma("GCC unroll 8") for (int j = 0; j < S; j++) {                \
            if ((uint64_t)j >= rem)                                          \
                break;                                                       \
            v8d v;                                                           \
            for (int i = 0; i < B; i++)                                      \
                v[i] = (double)x0[i * len + t + (uint64_t)j];                \
            pe[j] = pe[j] + v;                                               \
        }                                                                    \
        if ((rows || rem) && first)                                          \
            for (int j = 0; j < S; j++)                                      \
                FIRST_FLUSH(s[j], c[j], pe[j]);                              \
        else if (rows || rem)                                                \
            for (int j = 0; j < S; j++)                                      \
                VTWOSUM_ACC(s[j], c[j], pe[j]);                              \
        /* the tree with constant indices: the slots stay in registers */   \
        VTWOSUM_PAIR(s[0], c[0], s[1], c[1]);                                \
        VTWOSUM_PAIR(s[2], c[2], s[3], c[3]);                                \
        VTWOSUM_PAIR(s[4], c[4], s[5], c[5]);                                \
        VTWOSUM_PAIR(s[6], c[6], s[7], c[7]);                                \
        VTWOSUM_PAIR(s[0], c[0], s[2], c[2]);                                \
        VTWOSUM_PAIR(s[4], c[4], s[6], c[6]);                                \
        VTWOSUM_PAIR(s[0], c[0], s[4], c[4]);                                \
        *sout = s[0];                                                        \
        *cout = c[0];                                                        \
        *kout = k;                                                           \
    }                                                                        \
    EG_SHORT_HOT static void sum_uniform_##SFX(const eg_short_batch *b,      \
                                               acc *a, v8d *kout)            \
    {                                                                        \
        sum8_##SFX(b->x[0], b->len[0], &a->s[0], &a->c[0], kout);            \
    }                                                                        \
    EG_SHORT_HOT static void sums_##SFX(eg_struct_out *so, const T *x,       \
                                        uint64_t e0, uint64_t nbatch,        \
                                        uint64_t len,                        \
                                        void (*careful)(void *, uint64_t),   \
                                        void *ctx)                           \
    {                                                                        \
        eg_value *vsum = so->vals[EG_OP_SUM], *vmean = so->vals[EG_OP_MEAN]; \
        eg_value *vcount = so->vals[EG_OP_COUNT];                            \
        const v8d n = (v8d){0} + (double)len;                                \
        const v8d lenbits = (v8d)((v8u){0} + len);                           \
        /* NaN where a lane so far was not finite: checked once at the  \
         * end, not batch by batch (a rare unit with such rows is read     \
         * twice, the second time to find them) */                         \
        v8d zacc = {0};                                                      \
        for (uint64_t bi = 0; bi < nbatch; bi++) {                           \
            uint64_t e = e0 + bi * B;                                        \
            v8d sv, cv, kv;                                                  \
            sum8_##SFX(x + bi * B * len, len, &sv, &cv, &kv);                \
            /* eg_lane_decode's check: +0 where finite, else NaN */         \
            zacc = zacc + (((sv - sv) + (cv - cv)) + (kv - kv));             \
            /* the merge into the identity and pair_value: s + c (s is    \
             * never -0.0, see the note above DEFINE_SUM_UNIFORM) */        \
            v8d f = sv + cv;                                                 \
            if (vsum)                                                        \
                store8(&vsum[e], f);                                         \
            if (vmean) {                                                     \
                v8d m = f / n;                                               \
                store8(&vmean[e], m);                                        \
            }                                                                \
            if (vcount)                                                      \
                store8(&vcount[e], lenbits);                                 \
        }                                                                    \
        int clean = 1;                                                       \
        for (int i = 0; i < B; i++)                                          \
            clean &= zacc[i] == 0;                                           \
        if (clean)                                                           \
            return;                                                          \
        /* the stores above reach memory before careful() stores over     \
         * the rows it redoes */                                            \
        eg_struct_short_fence();                                             \
        for (uint64_t bi = 0; bi < nbatch; bi++) {                           \
            v8d sv, cv, kv;                                                  \
            sum8_##SFX(x + bi * B * len, len, &sv, &cv, &kv);                \
            v8d z = ((sv - sv) + (cv - cv)) + (kv - kv);                     \
            for (int i = 0; i < B; i++)                                      \
                if (z[i] != 0)                                               \
                    careful(ctx, e0 + bi * B + (uint64_t)i);                 \
        }                                                                    \
    }

DEFINE_LANES(float, f32, 0)
DEFINE_LANES(double, f64, 1)

/* The bits of u as a double's: results of every kind travel as 8 bytes. */
static inline double eg_bits_f64(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* Eight results to dst: straight to memory when dst is a whole line (the
 * result arrays are written once, one line per eight outputs, and not
 * read back by the pass: a plain store would first read each line in);
 * eg_struct_short_fence orders these stores before the results are read.
 * Always inlined: a vector argument's ABI differs between the clones, and
 * an -O0 build would otherwise keep a call. */
__attribute__((always_inline)) static inline void store8(eg_value *dst, v8d f)
{
#if defined(__x86_64__) && defined(__SSE2__) && defined(__GNUC__)
    if (((uintptr_t)dst & 63) == 0) {
        typedef double v2d __attribute__((vector_size(16)));
        double *d = (double *)(void *)dst;
        __builtin_ia32_movntpd(d, (v2d){f[0], f[1]});
        __builtin_ia32_movntpd(d + 2, (v2d){f[2], f[3]});
        __builtin_ia32_movntpd(d + 4, (v2d){f[4], f[5]});
        __builtin_ia32_movntpd(d + 6, (v2d){f[6], f[7]});
        return;
    }
#endif
    memcpy(dst, &f, sizeof f);
}

void eg_struct_short_fence(void)
{
#if defined(__x86_64__) && defined(__SSE2__) && defined(__GNUC__)
    __builtin_ia32_sfence();
#endif
}

/* eg_lane_decode's check of a vm8_ batch: +0 where every accumulator is
 * finite, NaN elsewhere (see eg_struct_short). */
__attribute__((always_inline)) static inline void
vm_check(const vmr *r, unsigned g, v8d *zout)
{
    v8d z = ((r->s - r->s) + (r->c - r->c)) + (r->k - r->k);
    if (g & EG_G_VAR)
        z = z + ((r->d1 - r->d1) + (r->d2 - r->d2));
    *zout = z;
}

/* eg_struct_short's finishing of eight rows of `len` at e (consecutive,
 * so a vector per op) for the ops vm_rows_* takes; adds vm_check's z to
 * *zacc.  Rows that are not finite get values the careful path stores
 * over.  (Vectors go through memory, as in DEFINE_LANES.) */
__attribute__((always_inline)) static inline void
vm_finish(eg_struct_out *so, const vmr *r, uint64_t e, uint64_t len,
          v8d *zacc)
{
    const v8d zero = {0};
    const v8d n = zero + (double)len;
    unsigned g = so->groups;
    v8d sum_s = zero, sum_c = zero;
    VTWOSUM_PAIR(sum_s, sum_c, r->s, r->c);
    v8d fsum = sum_s + sum_c;
    v8d var = zero;
    if (g & EG_G_VAR) {
        v8d q = r->d1 / n;
        v8d m2 = r->d2 - r->d1 * q;
        v8l m_ = m2 < zero;
        VOPAQUE(m_);
        m2 = VSEL(m_, zero, m2);
        m_ = m2 != m2;
        VOPAQUE(m_);
        m2 = VSEL(m_, zero + INFINITY, m2);
        v8d dof = n - (double)so->o->ddof;
        m_ = dof > zero;
        VOPAQUE(m_);
        var = m2 / VSEL(m_, dof, zero);
    }
    for (unsigned op = 0; op < EG_OP_COUNT_ALL; op++) {
        eg_value *vals = so->vals[op];
        if (!vals)
            continue;
        v8d f = zero;
        switch (op) {
        case EG_OP_COUNT: f = (v8d)((v8u){0} + len); break;
        case EG_OP_SUM: f = fsum; break;
        case EG_OP_MEAN: f = fsum / n; break;
        case EG_OP_MIN: f = r->mn; break;
        case EG_OP_MAX: f = r->mx; break;
        case EG_OP_ARGMIN: f = (v8d)r->amn; break; /* eg_struct_index: */
        case EG_OP_ARGMAX: f = (v8d)r->amx; break; /* the position itself */
        case EG_OP_VAR: f = var; break;
        case EG_OP_STD:
            for (int i = 0; i < B; i++)
                f[i] = sqrt(var[i]);
            break;
        default: break;
        }
        store8(&vals[e], f);
    }
    v8d z;
    vm_check(r, g, &z);
    *zacc = *zacc + z;
}

int eg_struct_short_rows_ok(const eg_struct_out *so)
{
    const unsigned ok =
        EG_OPS_BIT(EG_OP_COUNT) | EG_OPS_BIT(EG_OP_SUM) |
        EG_OPS_BIT(EG_OP_MEAN) | EG_OPS_BIT(EG_OP_MIN) | EG_OPS_BIT(EG_OP_MAX) |
        EG_OPS_BIT(EG_OP_ARGMIN) | EG_OPS_BIT(EG_OP_ARGMAX) |
        EG_OPS_BIT(EG_OP_VAR) | EG_OPS_BIT(EG_OP_STD);
    return (so->o->ops & ~ok) == 0 && !so->p->by &&
           (so->groups &
            ~(unsigned)(EG_G_MINMAX | EG_G_VAR | EG_G_NO_SUM)) == 0 &&
           eg_dtype_is_float(so->p->dtype);
}

DEFINE_VM_UNIFORM(float, f32)
DEFINE_VM_UNIFORM(double, f64)

DEFINE_SUM_UNIFORM(float, f32)
DEFINE_SUM_UNIFORM(double, f64)

int eg_struct_short_sums_ok(const eg_struct_out *so)
{
    for (unsigned op = 0; op < EG_OP_COUNT_ALL; op++)
        if (so->vals[op] && op != EG_OP_SUM && op != EG_OP_MEAN &&
            op != EG_OP_COUNT)
            return 0;
    return so->groups == 0 && eg_dtype_is_float(so->p->dtype);
}

void eg_struct_short_sums(eg_struct_out *so, const void *x, uint64_t e0,
                          uint64_t nbatch, uint64_t len,
                          void (*careful)(void *ctx, uint64_t e), void *ctx)
{
    if (so->p->dtype == EG_F32)
        sums_f32(so, x, e0, nbatch, len, careful, ctx);
    else
        sums_f64(so, x, e0, nbatch, len, careful, ctx);
}

void eg_struct_short_rows(eg_struct_out *so, const void *x, uint64_t e0,
                          uint64_t nbatch, uint64_t len,
                          void (*careful)(void *ctx, uint64_t e), void *ctx)
{
    if (so->p->dtype == EG_F32)
        vm_rows_f32(so, x, e0, nbatch, len, careful, ctx);
    else
        vm_rows_f64(so, x, e0, nbatch, len, careful, ctx);
}

/* The state arithmetic after the lanes, for all eight at once: eg_lane_decode's
 * finiteness check, eg_state_from_lane, the merge into the identity and
 * eg_state_finalize with no NaN and no infinity (a finite lane has none). */
EG_SHORT_HOT unsigned eg_struct_short(eg_struct_out *so,
                                      const eg_short_batch *b)
{
    const eg_struct_plan *p = so->p;
    const eg_reduce_opts *o = so->o;
    unsigned g = so->groups;
    acc a;
    v8d k;
    v8l bad;
    if (b->uniform && g == 0) {
        bad = (v8l){0};
        if (p->dtype == EG_F32)
            sum_uniform_f32(b, &a, &k);
        else
            sum_uniform_f64(b, &a, &k);
    } else if (b->uniform && (g & ~(EG_G_MINMAX | EG_G_VAR)) == 0) {
        bad = (v8l){0};
        if (p->dtype == EG_F32)
            vm_uniform_f32(b, g, &a, &k);
        else
            vm_uniform_f64(b, g, &a, &k);
    } else if (p->dtype == EG_F32) {
        lanes_f32(b, g, &a, &k, &bad);
    } else {
        lanes_f64(b, g, &a, &k, &bad);
    }
    /* eg_lane_decode: every accumulator finite.  x - x is +0 for a
     * finite x and NaN otherwise, so z is NaN exactly where one is not
     * (one compare: see VOPAQUE for what ANDed compares cost) */
    v8d z = ((a.s[0] - a.s[0]) + (a.c[0] - a.c[0])) + (k - k);
    if (g & EG_G_VAR)
        z = z + ((a.d1[0] - a.d1[0]) + (a.d2[0] - a.d2[0]));
    if (g & EG_G_L1)
        z = z + ((a.l1s[0] - a.l1s[0]) + (a.l1c[0] - a.l1c[0]));
    if (g & EG_G_L2)
        z = z + (a.med[0] - a.med[0]);
    if (g & EG_G_DOT)
        z = z + ((a.ds[0] - a.ds[0]) + (a.dc[0] - a.dc[0]));
    bad |= (v8l)(z != z);

    v8u lenv;
    memcpy(&lenv, b->len, sizeof lenv);
    v8d n = __builtin_convertvector(lenv, v8d);
    const v8d zero = {0};
    /* merge into the identity: (0, 0) (+) (s, c) */
    v8d sum_s = zero, sum_c = zero;
    VTWOSUM_PAIR(sum_s, sum_c, a.s[0], a.c[0]);
    v8d fsum = sum_s + sum_c; /* pair_value of a finite pair */
    v8d var = zero;
    if (g & EG_G_VAR) {
        /* eg_state_from_lane's (mean, M2) */
        v8d q = a.d1[0] / n;
        v8d m2 = a.d2[0] - a.d1[0] * q;
        v8l m_ = m2 < zero;
        VOPAQUE(m_);
        m2 = VSEL(m_, zero, m2);
        m_ = m2 != m2;
        VOPAQUE(m_);
        m2 = VSEL(m_, zero + INFINITY, m2);
        v8d dof = n - (double)o->ddof;
        m_ = dof > zero;
        VOPAQUE(m_);
        var = m2 / VSEL(m_, dof, zero);
    }
    v8d l1 = zero, l2 = zero, dot = zero;
    if (g & EG_G_L1) {
        v8d s = zero, c = zero;
        VTWOSUM_PAIR(s, c, a.l1s[0], a.l1c[0]);
        l1 = s + c;
    }
    if (g & EG_G_L2) {
        l2 = zero + a.med[0]; /* Blue's norm of the middle sum alone */
        for (int i = 0; i < B; i++)
            l2[i] = sqrt(l2[i]);
    }
    if (g & EG_G_DOT) {
        v8d s = zero, c = zero;
        VTWOSUM_PAIR(s, c, a.ds[0], a.dc[0]);
        dot = s + c;
    }

    unsigned left = 0;
    v8l any = bad | __builtin_shuffle(bad, (v8l){4, 5, 6, 7, 0, 1, 2, 3});
    any |= __builtin_shuffle(any, (v8l){2, 3, 0, 1, 6, 7, 4, 5});
    any |= __builtin_shuffle(any, (v8l){1, 0, 3, 2, 5, 4, 7, 6});
    for (int i = 0; any[0] && i < b->n; i++)
        if (bad[i])
            left |= 1u << i;
    int consecutive = left == 0 && b->n == B;
    for (int i = 1; i < B && consecutive; i++)
        consecutive = b->e[i] == b->e[0] + (uint64_t)i;
    /* op by op, so each result array is written in one run; every value
     * here has its op's usual kind (so->dkind), so no kind byte */
    for (unsigned op = 0; op < EG_OP_COUNT_ALL; op++) {
        if (!so->vals[op])
            continue;
        eg_value *vals = so->vals[op];
        v8d f = zero;
        switch (op) {
        case EG_OP_COUNT:
            for (int i = 0; i < B; i++)
                f[i] = eg_bits_f64(b->len[i]);
            break;
        case EG_OP_SUM: f = fsum; break;
        case EG_OP_MEAN: f = fsum / n; break;
        case EG_OP_MIN: f = a.mn[0]; break;
        case EG_OP_MAX: f = a.mx[0]; break;
        case EG_OP_ARGMIN:
        case EG_OP_ARGMAX:
            for (int i = 0; i < B; i++) {
                uint64_t pos = op == EG_OP_ARGMIN ? a.amn[0][i] : a.amx[0][i];
                f[i] = eg_bits_f64(eg_struct_index(p, b->e[i], pos));
            }
            break;
        case EG_OP_VAR: f = var; break;
        case EG_OP_STD:
            for (int i = 0; i < B; i++)
                f[i] = sqrt(var[i]);
            break;
        case EG_OP_L1: f = l1; break;
        case EG_OP_L2: f = l2; break;
        case EG_OP_DOT: f = dot; break;
        default: break;
        }
        if (consecutive) {
            /* eight outputs side by side: one vector */
            store8(&vals[b->e[0]], f);
            continue;
        }
        for (int i = 0; i < b->n; i++)
            if (!(left & (1u << i)))
                memcpy(&vals[b->e[i]], &f[i], sizeof f[i]);
    }
    return left;
}
