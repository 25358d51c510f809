/*
 * edgegrid.h - the public API of libedgegrid.
 *
 * Everything a front end needs: engine lifecycle, device listing, dtypes and
 * ops, reducing memory or a file, and the error convention.  Names with the
 * eg_ prefix are public; internal headers stay in engine/ and never leak here.
 *
 * Error convention: every fallible function returns an eg_status and, when
 * given a non-NULL eg_error, fills it with the same code and one readable line
 * naming the file, field, device or endpoint at fault.  The library never
 * prints and never exits.
 *
 * Ownership: objects come from eg_X_open/create and go back through
 * eg_X_close/destroy(eg_X **), which frees and nulls the caller's pointer, so a
 * second call is harmless.  Plain structs (eg_result, eg_device_info) are
 * owned by the caller and hold no pointers to free.
 */
#ifndef EDGEGRID_H
#define EDGEGRID_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EG_VERSION_MAJOR 0
#define EG_VERSION_MINOR 1
#define EG_VERSION_PATCH 0

/* ---------------------------------------------------------------- errors */

/* XX(name, value, exit class, text).  Exit class: 2 = the caller's input or
 * usage is at fault, 1 = the run failed.  Values stay negative and far from
 * OpenCL's own codes (0 .. -72, -1000 ..) so the two never mix. */
#define EG_ERRNO_MAP(XX)                                                   \
    XX(OK, 0, 0, "success")                                                \
    XX(EUSAGE, -2001, 2, "bad usage")                                      \
    XX(EINPUT, -2002, 2, "bad input")                                      \
    XX(ENOENT, -2003, 2, "no such file")                                   \
    XX(EDTYPE, -2004, 2, "unsupported dtype")                              \
    XX(EIO, -2005, 1, "input/output error")                                \
    XX(ENOMEM, -2006, 1, "out of memory")                                  \
    XX(EOVERFLOW, -2007, 1, "integer overflow")                            \
    XX(ENODEV, -2008, 2, "no such device")                                 \
    XX(EOPENCL, -2009, 1, "OpenCL failure")                                \
    XX(ENET, -2010, 1, "network failure")                                  \
    XX(ETIMEOUT, -2011, 1, "timed out")                                    \
    XX(EINTERNAL, -2012, 1, "internal error")

typedef enum eg_status {
#define EG_XX_ENUM(name, value, cls, text) EG_##name = value,
    EG_ERRNO_MAP(EG_XX_ENUM)
#undef EG_XX_ENUM
} eg_status;

#define EG_ERROR_MSG_MAX 512

typedef struct eg_error {
    eg_status code;
    char msg[EG_ERROR_MSG_MAX];
} eg_error;

const char *eg_status_name(eg_status s);  /* "EINPUT" */
const char *eg_strerror(eg_status s);     /* "bad input" */
int eg_status_exit_code(eg_status s);     /* 0, 1 or 2, see EG_ERRNO_MAP */

/* ---------------------------------------------------------------- dtypes */

typedef enum eg_dtype {
    EG_F32, EG_F64,
    EG_I8, EG_U8, EG_I16, EG_U16, EG_I32, EG_U32, EG_I64, EG_U64,
    EG_DTYPE_COUNT
} eg_dtype;

/* Accepts "f32" .. "u64" and numpy's "float32" .. "uint64". */
eg_status eg_dtype_parse(const char *text, eg_dtype *out, eg_error *err);
const char *eg_dtype_name(eg_dtype t);        /* "f32" */
const char *eg_dtype_numpy_name(eg_dtype t);  /* "float32" */
size_t eg_dtype_size(eg_dtype t);
int eg_dtype_is_float(eg_dtype t);
int eg_dtype_is_signed(eg_dtype t);           /* floats count as signed */

/* ------------------------------------------------------------------- ops */

typedef enum eg_op {
    EG_OP_COUNT, EG_OP_SUM, EG_OP_MEAN, EG_OP_MIN, EG_OP_MAX,
    EG_OP_ARGMIN, EG_OP_ARGMAX, EG_OP_VAR, EG_OP_STD, EG_OP_L1, EG_OP_L2,
    EG_OP_DOT,
    EG_OP_COUNT_ALL
} eg_op;

#define EG_OPS_BIT(op) (1u << (op))
#define EG_OPS_DEFAULT                                                     \
    (EG_OPS_BIT(EG_OP_COUNT) | EG_OPS_BIT(EG_OP_SUM) |                     \
     EG_OPS_BIT(EG_OP_MEAN) | EG_OPS_BIT(EG_OP_MIN) |                      \
     EG_OPS_BIT(EG_OP_MAX) | EG_OPS_BIT(EG_OP_STD))

const char *eg_op_name(eg_op op);  /* "argmin" */
/* Parses a comma list such as "sum,mean,argmin" into a bit set. */
eg_status eg_ops_parse(const char *list, unsigned *ops, eg_error *err);

/* ----------------------------------------------------------- reductions */

typedef enum eg_mode { EG_MODE_FAST, EG_MODE_EXACT } eg_mode;
typedef enum eg_nan_policy { EG_NAN_PROPAGATE, EG_NAN_OMIT } eg_nan_policy;

typedef struct eg_reduce_opts {
    unsigned ops;          /* EG_OPS_BIT set; EG_OPS_DEFAULT after init */
    eg_mode mode;          /* EG_MODE_FAST */
    eg_nan_policy nan;     /* EG_NAN_PROPAGATE */
    unsigned ddof;         /* 0, as numpy's var/std */
    uint64_t chunk_elems;  /* 0: the engine's default; else a multiple of
                              EG_LANE_ELEMS.  Fixes the merge tree, so a fixed
                              value gives the same bits on any device set. */
    int progress;          /* call progress_fn as chunks finish */
    void (*progress_fn)(void *ctx, uint64_t done, uint64_t total);
    void *progress_ctx;
} eg_reduce_opts;

/* Elements reduced by one work-item of a kernel (one "lane"); chunk sizes are
 * multiples of it. */
#define EG_LANE_ELEMS 4096u

void eg_reduce_opts_init(eg_reduce_opts *o);

/* A result value: a double, an exact integer, or absent (undefined, e.g. the
 * argmin of an empty array). */
typedef enum eg_number_kind {
    EG_NUM_NONE, EG_NUM_F64, EG_NUM_I64, EG_NUM_U64
} eg_number_kind;

typedef struct eg_number {
    eg_number_kind kind;
    union {
        double f;
        int64_t i;
        uint64_t u;
    } v;
} eg_number;

#define EG_MAX_DEVICES 32
#define EG_NAME_MAX 128
#define EG_MAX_DIMS 32

typedef struct eg_device_stats {
    unsigned index;           /* as in eg_devices_list */
    char name[EG_NAME_MAX];
    uint64_t elements;        /* elements this device reduced */
    uint64_t chunks;
    uint64_t calls;           /* device calls; one may take several chunks */
    uint64_t launch_global;   /* OpenCL: the last call's global and local */
    uint64_t launch_local;    /* work sizes; 0 for the host backend */
    double seconds;           /* busy time */
} eg_device_stats;

typedef struct eg_result {
    unsigned ops;             /* the ops that were asked for */
    eg_dtype dtype;
    eg_mode mode;
    uint64_t elements;        /* elements in the input (count before NaN omit) */
    unsigned ndim;            /* shape of the input, when it came from a file */
    uint64_t shape[EG_MAX_DIMS];
    eg_number value[EG_OP_COUNT_ALL];  /* indexed by eg_op; NONE if not asked */
    size_t ndevices;
    eg_device_stats devices[EG_MAX_DEVICES];
    double seconds;           /* wall time of the reduction */
    uint64_t bytes;           /* bytes read (both inputs for dot) */
    char notes[512];          /* fallbacks the engine took, "" if none */
} eg_result;

/* --------------------------------------------------------------- devices */

typedef enum eg_device_kind {
    EG_DEV_CPU, EG_DEV_GPU, EG_DEV_ACCEL, EG_DEV_HOST
} eg_device_kind;

/* The index of the host backend in an engine opened with "host": OpenCL
 * is not asked then, so where the host falls in eg_devices_list is not
 * known (the command line prints the id "host"). */
#define EG_INDEX_UNLISTED 0xffffffffu

typedef struct eg_device_info {
    unsigned index;           /* stable for this machine: OpenCL devices in
                                 platform order, then the host backend
                                 (or EG_INDEX_UNLISTED) */
    eg_device_kind kind;
    char platform[EG_NAME_MAX];
    char name[EG_NAME_MAX];
    char driver[64];
    unsigned compute_units;
    uint64_t global_mem;      /* bytes */
    uint64_t max_alloc;       /* bytes */
    int unified_memory;       /* shares host memory (POCL, Jetson) */
    int fp64;
} eg_device_info;

const char *eg_device_kind_name(eg_device_kind k);  /* "cpu" "gpu" ... */

/* Lists every device of the box, the host backend last.  *out is malloc'ed,
 * the caller frees it.  No OpenCL platform is not an error: the list then
 * holds only the host, and *notes (if non-NULL, size notes_len) says why. */
eg_status eg_devices_list(eg_device_info **out, size_t *count, char *notes,
                          size_t notes_len, eg_error *err);

/* ---------------------------------------------------------------- engine */

typedef struct eg_engine eg_engine;

/* Opens an engine on the devices that `spec` selects: "all" (every OpenCL
 * GPU and accelerator, and the host backend for the CPU cores in place of
 * any OpenCL CPU device, which would share those cores), "opencl" (every
 * OpenCL device), "cpu" (OpenCL CPU devices), "gpu", "host", or a comma
 * list of indices from eg_devices_list.  The host backend beside other
 * devices leaves one core to each of them.  NULL means $EDGEGRID_DEVICES, else
 * "all".  Devices whose kernels fail to build are dropped and named in the
 * notes; if none is left the host backend takes over.
 * With "all", opening does not wait for OpenCL discovery: it runs on a
 * thread of the engine's, a flat reduction (eg_reduce, eg_reduce_file,
 * eg_reduce_partial) starts on the host backend at once and the devices
 * found join it; the bits do not depend on when.  The calls below, every
 * other reduction and eg_engine_close wait for discovery first, and a
 * discovery that fails is a note (the host backend alone).  An engine is
 * used from one thread at a time, as always. */
eg_status eg_engine_open(eg_engine **out, const char *spec, eg_error *err);
void eg_engine_close(eg_engine **engine);

/* The engine's devices (after discovery: see eg_engine_open). */
size_t eg_engine_device_count(const eg_engine *e);
const eg_device_info *eg_engine_device(const eg_engine *e, size_t i);
const char *eg_engine_notes(const eg_engine *e);  /* "" when none */

/* Reduces `count` elements at `x` (and `y` for dot, same dtype and count;
 * NULL otherwise).  The memory must stay valid and unchanged during the
 * call. */
eg_status eg_reduce(eg_engine *e, const void *x, const void *y,
                    uint64_t count, eg_dtype dtype, const eg_reduce_opts *o,
                    eg_result *out, eg_error *err);

/* The data already on an OpenCL device: reduces `count` elements of the
 * buffer `x` (and `y` for dot; NULL otherwise), cl_mem objects of the
 * caller's own context, on the device of that context, with the same
 * states and bits as eg_reduce on the same values and chunk size.  The
 * device must be one of the engine's (EG_ENODEV otherwise); the engine
 * builds its kernels in the caller's context and runs them on a queue of
 * its own, so the caller must not write the buffers during the call; it
 * keeps that queue, its kernels and a reference to the context for the
 * next call, until a call with another context or eg_engine_close.
 * The elements are not copied to the host, except the rare lanes that
 * need the careful host path (nan, inf, extreme magnitudes).  (struct
 * _cl_mem * is OpenCL's cl_mem; this header does not need CL/cl.h.) */
struct _cl_mem;
eg_status eg_reduce_cl_buffer(eg_engine *e, struct _cl_mem *x,
                              struct _cl_mem *y, uint64_t count,
                              eg_dtype dtype, const eg_reduce_opts *o,
                              eg_result *out, eg_error *err);

typedef struct eg_input_opts {
    int raw;                  /* headerless binary of raw_dtype */
    eg_dtype raw_dtype;
} eg_input_opts;

/* Reduces a .npy file (or raw binary, or "-" for stdin).  `with_path` is the
 * second operand of dot (NULL otherwise) and is read the same way. */
eg_status eg_reduce_file(eg_engine *e, const char *path, const char *with_path,
                         const eg_input_opts *in, const eg_reduce_opts *o,
                         eg_result *out, eg_error *err);

/* -------------------------------------------------------------- partials */

/* A partial is the mergeable state of a reduction over some elements, as
 * bytes a front end can keep, send and merge: a 16-byte header ("EGPT", u16
 * version, u8 mode, u8 nan policy, u32 ops, u32 ddof, little-endian) then
 * the engine's own state wire form (the one the grid carries).  Indices in a
 * partial (argmin, argmax, first NaN) count from its own first element, so
 * a caller who splits an array anyhow merges the parts' partials in order
 * and gets the one-box answer; in exact mode, the one-box bits. */
#define EG_PARTIAL_VERSION 1
size_t eg_partial_size(void);  /* every partial has this many bytes */

/* Reduces like eg_reduce but stops before finalize: writes the partial of x
 * (and y for dot) to buf (cap >= eg_partial_size()).  Device stats, seconds
 * and notes go to *stats when it is non-NULL. */
eg_status eg_reduce_partial(eg_engine *e, const void *x, const void *y,
                            uint64_t count, eg_dtype dtype,
                            const eg_reduce_opts *o, uint8_t *buf,
                            size_t cap, eg_result *stats, eg_error *err);

/* out = left (+) right, where right covers the elements after left's.  All
 * three are eg_partial_size() bytes; out may be left or right.  Partials of
 * different dtypes, ops, modes, NaN policies or ddof are EG_EINPUT, as is
 * anything that does not decode (the checks of the grid's decoder). */
eg_status eg_partial_merge(const uint8_t *left, const uint8_t *right,
                           size_t len, uint8_t *out, eg_error *err);

/* The values of a partial, as eg_reduce would give them for its elements
 * (out->ndim 1, shape {elements}, no device stats). */
eg_status eg_partial_finalize(const uint8_t *p, size_t len, eg_result *out,
                              eg_error *err);

/* ------------------------------------------------- structured reductions
 *
 * Per axis (numpy's `x.sum(axis=...)`) or per group of rows (pandas'
 * `groupby(keys).agg(...)`): an array of partial states, one per output
 * element, each reduced, merged and finalized as the whole array would be.
 * Every output element is that column or group reduced alone: the same bits
 * as eg_reduce of its elements (in C order along the reduced axes, or in row
 * order within a group) for the same chunk size, on any device set. */

typedef struct eg_struct_opts {
    unsigned naxes;           /* axes to reduce; 0: every axis */
    int axes[EG_MAX_DIMS];    /* negatives count from the end, as numpy */
    int keepdims;             /* keep reduced axes as 1s */
    /* Groups of rows (axis 0) by an integer key per row; not with axes.
     * Either caller memory (keys, key_dtype, nkeys: native order) or a .npy
     * file (keys_path). */
    const void *keys;
    eg_dtype key_dtype;
    uint64_t nkeys;
    const char *keys_path;
    /* The input's shape when its source has none (raw binary, memory):
     * shape_ndim > 0 and the product must be the element count. */
    unsigned shape_ndim;
    uint64_t shape[EG_MAX_DIMS];
} eg_struct_opts;

void eg_struct_opts_init(eg_struct_opts *so);

/* One op's result array: `n` values in C order of the result shape, all of
 * one kind (EG_NUM_NONE: no value anywhere, e.g. argmin over an empty axis;
 * then data is NULL). */
typedef struct eg_array_result {
    eg_number_kind kind;
    void *data;               /* double, int64_t or uint64_t per kind */
} eg_array_result;

typedef struct eg_sresult {
    eg_result r;              /* as eg_reduce fills it, but value[] unused:
                                 the input shape, devices, time, notes */
    unsigned ndim;            /* the result's shape */
    uint64_t shape[EG_MAX_DIMS];
    uint64_t nout;            /* its element count */
    eg_array_result op[EG_OP_COUNT_ALL];  /* the ops asked for */
    uint64_t ngroups;         /* with keys: the distinct keys, ascending */
    int groups_unsigned;      /* keys were uint64: groups holds uint64_t */
    int64_t *groups;
} eg_sresult;

/* Structured reduction of caller memory: `x` in C order of so->shape (1-D of
 * `count` elements without it); `y` for dot, same shape and dtype. */
eg_status eg_reduce_structured(eg_engine *e, const void *x, const void *y,
                               uint64_t count, eg_dtype dtype,
                               const eg_struct_opts *so,
                               const eg_reduce_opts *o, eg_sresult *out,
                               eg_error *err);
/* The same for a file, read as eg_reduce_file reads it; `with_path` must
 * have x's shape. */
eg_status eg_reduce_file_structured(eg_engine *e, const char *path,
                                    const char *with_path,
                                    const eg_input_opts *in,
                                    const eg_struct_opts *so,
                                    const eg_reduce_opts *o, eg_sresult *out,
                                    eg_error *err);
/* Frees the arrays of a result and zeroes it; harmless twice. */
void eg_sresult_free(eg_sresult *r);

/* Writes the result as a numpy .npz (an uncompressed zip of .npy files):
 * one array per op, named by the op, of the result shape (float64, int64 or
 * uint64 as the op's kind; an op without values as float64 NaN), plus
 * `groups` with keys.  Through a temporary name, so nothing is half-written. */
eg_status eg_sresult_write_npz(const eg_sresult *r, const char *path,
                               eg_error *err);

/* ------------------------------------------------ quantiles, histograms */

/* Order statistics and histograms (issue 15).  They are integer-count
 * states, computed on the host's cores whatever the device set (counts are
 * integers, so any split gives the same bits):
 *   quantile/median: exact, by radix selection over the order-preserving
 *     integer image of the values; each pass is a mergeable histogram of 16
 *     key bits (8 for 8-bit dtypes); the result is what numpy 1.24's
 *     quantile(x, q, method=M) / median(x) give, bit for bit;
 *   approx_quantile: one pass of a log-bucket sketch whose bucket comes from
 *     the float's bits; within rel_err of numpy's method=lower element;
 *   hist: numpy.histogram(x, bins, range) counts, plus what falls outside. */
typedef enum eg_qmethod {
    EG_QM_LINEAR, EG_QM_LOWER, EG_QM_HIGHER, EG_QM_NEAREST, EG_QM_MIDPOINT,
    EG_QM_COUNT
} eg_qmethod;

#define EG_QOP_MEDIAN 1u
#define EG_QOP_QUANTILE 2u
#define EG_QOP_APPROX 4u
#define EG_QOP_HIST 8u

#define EG_QUANT_MAX_Q 64          /* values of q in one job */
#define EG_HIST_MAX_BINS (1u << 20)
#define EG_SKETCH_MIN_REL_ERR 1e-6 /* finer sketches outgrow memory */

typedef struct eg_quant_opts {
    unsigned qops;            /* EG_QOP_* bits */
    size_t nq;                /* q values for quantile and approx_quantile */
    double q[EG_QUANT_MAX_Q]; /* each in [0, 1] */
    eg_qmethod method;        /* EG_QM_LINEAR */
    eg_nan_policy nan;        /* propagate: any NaN gives NaN */
    double rel_err;           /* approx_quantile, in (0, 0.5); 0.01 */
    unsigned bins;            /* hist: 10 */
    int have_range;           /* hist: range given, else the data's min/max */
    double lo, hi;            /* finite, lo < hi */
} eg_quant_opts;

void eg_quant_opts_init(eg_quant_opts *o);
/* Checks every field; EG_EUSAGE naming the field at fault. */
eg_status eg_quant_opts_check(const eg_quant_opts *o, eg_error *err);
const char *eg_qmethod_name(eg_qmethod m);              /* "linear" */
eg_status eg_qmethod_parse(const char *text, eg_qmethod *out, eg_error *err);

/* Splits an --ops list: the names median, quantile, approx_quantile and hist
 * go into *qops; the other names are copied, comma-separated, into `rest`
 * (len bytes), which is "" when none is left. */
eg_status eg_quant_ops_split(const char *list, unsigned *qops, char *rest,
                             size_t len, eg_error *err);

typedef struct eg_quant_result {
    unsigned qops;
    eg_number median;
    size_t nq;
    eg_number quantile[EG_QUANT_MAX_Q];
    eg_number approx[EG_QUANT_MAX_Q];
    unsigned nbins;           /* hist: counts[nbins], edges[nbins + 1] */
    uint64_t *counts;         /* malloc'ed; eg_quant_result_free */
    double *edges;            /* the edge values of numpy's bin dtype */
    uint64_t below, above, nan; /* hist: outside the range, NaN */
    unsigned passes;          /* data passes of the selection */
    size_t sketch_bytes;      /* approx_quantile: its wire form */
    double seconds;
    /* Where the passes counted: each device's elements over every pass
     * (a pass reads every element once), and why a device named by the
     * engine's spec did not count when it did not. */
    size_t ndevices;
    eg_device_stats devices[EG_MAX_DEVICES];
    char notes[512];
} eg_quant_result;

void eg_quant_result_free(eg_quant_result *r);

/* Quantile ops over `count` elements at x (native order), or over a file
 * (as eg_reduce_file reads it).  The passes count on the engine's OpenCL
 * devices and, when the host backend is among its devices, on the host's
 * threads; inputs below the small-input threshold on the host's. */
eg_status eg_quant(eg_engine *e, const void *x, uint64_t count, eg_dtype dtype,
                   const eg_quant_opts *o, eg_quant_result *out,
                   eg_error *err);
eg_status eg_quant_file(eg_engine *e, const char *path,
                        const eg_input_opts *in, const eg_quant_opts *o,
                        eg_quant_result *out, eg_error *err);

/* The ordinary ops of `o` (none is fine) and the quantile ops of `qo` over
 * one reading of the file (stdin can be read only once).  out->seconds
 * includes the quantile passes. */
eg_status eg_reduce_file_quant(eg_engine *e, const char *path,
                               const eg_input_opts *in,
                               const eg_reduce_opts *o,
                               const eg_quant_opts *qo, eg_result *out,
                               eg_quant_result *qout, eg_error *err);

/* Quantile ops per axis or per group (eg_struct_opts as above): every
 * output element (a column, a group's column) is that segment alone run
 * through eg_quant, so each value has numpy's bits for that column:
 * numpy.quantile(x, q, axis=A, method=M) per column, nanquantile under
 * omit, numpy.histogram per column.  Array layouts, C order:
 *   quantile, approx: [nq][nout] (numpy's q axis first); median: [nout];
 *   hist counts: [nout][nbins]; hist edges: [nbins + 1] shared by every
 *     output when a range is given (shared_edges), else [nout][nbins + 1],
 *     each output over its own min and max as numpy.histogram of that
 *     column alone would take them;
 *   below, above, nan: [nout]. */
typedef struct eg_squant_result {
    unsigned qops;
    size_t nq;
    uint64_t nout;             /* the structured result's element count */
    eg_array_result quantile;  /* kind as numpy's: float64, or the input's
                                  integers (int64/uint64) for lower, higher
                                  and nearest over integer input */
    eg_array_result median;    /* float64 */
    eg_array_result approx;    /* float64 */
    unsigned nbins;
    uint64_t *counts;
    int shared_edges;
    double *edges;             /* values of numpy's bin dtype */
    uint64_t *below, *above, *nan;
    unsigned passes;           /* selection passes of the longest output */
    double seconds;
} eg_squant_result;

void eg_squant_result_free(eg_squant_result *r);

/* The ordinary ops of `o` (o->ops may be 0) and the quantile ops of `qo`
 * per axis or group, over caller memory (as eg_reduce_structured) or a
 * file read once (as eg_reduce_file_structured).  `out` gets the shapes,
 * groups, input figures and the ordinary ops' arrays. */
eg_status eg_reduce_structured_quant(eg_engine *e, const void *x,
                                     uint64_t count, eg_dtype dtype,
                                     const eg_struct_opts *so,
                                     const eg_reduce_opts *o,
                                     const eg_quant_opts *qo,
                                     eg_sresult *out, eg_squant_result *qout,
                                     eg_error *err);
eg_status eg_reduce_file_structured_quant(eg_engine *e, const char *path,
                                          const eg_input_opts *in,
                                          const eg_struct_opts *so,
                                          const eg_reduce_opts *o,
                                          const eg_quant_opts *qo,
                                          eg_sresult *out,
                                          eg_squant_result *qout,
                                          eg_error *err);

/* eg_sresult_write_npz plus the quantile arrays (q may be NULL): members
 * quantile [nq, ...], median, approx_quantile [nq, ...], hist_counts
 * [..., bins] (int64), hist_edges ([bins + 1] or [..., bins + 1]),
 * hist_below, hist_above, hist_nan (int64). */
eg_status eg_sresult_write_npz_quant(const eg_sresult *r,
                                     const eg_squant_result *q,
                                     const char *path, eg_error *err);

/* ------------------------------------------------------------ data sets */

typedef enum eg_dist { EG_DIST_UNIFORM, EG_DIST_NORMAL, EG_DIST_ILL } eg_dist;

typedef struct eg_gen_opts {
    uint64_t count;
    eg_dtype dtype;
    eg_dist dist;
    double cond;              /* EG_DIST_ILL: target condition number */
    uint64_t seed;
} eg_gen_opts;

/* Writes a .npy file, streaming; the same options always give the same
 * bytes.  Writes to a temporary name and renames, so nothing is
 * half-written. */
eg_status eg_gen_npy(const char *path, const eg_gen_opts *o, eg_error *err);

/* ------------------------------------------------------------- helpers */

/* Seconds on CLOCK_MONOTONIC: the clock of every figure the engine reports
 * (eg_result.seconds), for front ends that time beside it. */
double eg_now(void);

/* SplitMix64: advances *state and returns the next 64 random bits.  The
 * stream behind eg_gen_npy's seeds; tests and benchmarks draw theirs from
 * it too, so one seed means one data set everywhere. */
uint64_t eg_splitmix64(uint64_t *state);

#ifdef __cplusplus
}
#endif

#endif /* EDGEGRID_H */
