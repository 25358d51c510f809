/* frame.h - the grid's wire format: every frame a coordinator and a worker
 * exchange, its encoding and its validating decoder.
 *
 * Every frame starts with one 16-byte header, little-endian:
 *
 *     "EGGF"  u16 version  u8 type  u8 reserved (0)  u64 job id
 *
 * and a fixed body per type.  Variable parts carry explicit lengths and are
 * checked against the frame size; names are printable ASCII.  A decoder
 * accepts a frame only when every byte is accounted for, so a truncated,
 * padded, forged or foreign frame is refused with a reason and never reaches
 * the ledger or the merge.  Partial states travel in the engine's own
 * versioned encoding (eg_state_encode) and are decoded with eg_state_decode,
 * which checks their sanity.  A RESULT carries a container of states
 * (eg_states_encode, compact for fast-mode states): one for a flat task,
 * one per output element for a structured task (version 2: the container
 * and the SEGS task came in;
 * version 1 frames are refused).  The RESULT of a QUANT task carries a
 * quantile payload instead ("EGQR", engine_grid.h), told apart from a
 * container by its magic; an older decoder refuses the QUANT kind.
 *
 * Who sends what, and on which socket:
 *
 *   worker DEALER -> coordinator ROUTER   READY CREDIT HEARTBEAT FAIL RETURN
 *                                         BYE SHARDA
 *   coordinator ROUTER -> worker DEALER   TASK HEARTBEAT RESET SHARDQ
 *   worker PUSH -> coordinator PULL       RESULT
 *
 * A TASK of an inline job is a multipart message: the TASK frame, then the
 * native-order bytes of x, then (dot only) those of y.  A SEGS task (a
 * structured job: chunk c of nseg output elements' segments) carries those
 * segments' elements side by side in x (and y), then a last part with each
 * segment's length, nseg x u32.  A QUANT task (one round of a quantile job:
 * a histogram, a sketch or a selection pass over the range) carries x,
 * then a last part with the round's parameters ("EGQP", engine_grid.h);
 * its ops are 0.  An SQUANT task is the same round over a shard: the TASK
 * frame names the shard (as a SHARD task does, with count its elements as
 * the job's first round found them), and its one other part is the
 * parameters; an older decoder refuses the kind.  An SQSEG task (the
 * quantile ops per axis or group: the whole segments of nseg consecutive
 * outputs, first the first of them, count their elements) carries x, then
 * a last part with its parameters and segment lengths ("EGSQ"); its
 * RESULT carries each output's finished values ("EGSR", engine_grid.h).
 */
#ifndef EG_FRAME_H
#define EG_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "edgegrid.h"
#include "engine_grid.h"

#define EG_FRAME_MAGIC "EGGF"
#define EG_FRAME_VERSION 2
#define EG_FRAME_HEADER 16

/* Longest worker name and shard name, and the longest failure message. */
#define EG_GRID_NAME_MAX 64
#define EG_SHARD_NAME_MAX 255
#define EG_FAIL_MSG_MAX 400
/* Most credit one worker may grant (its queue depth) and most shards one
 * manifest may list: bounds that keep every frame's size bounded too. */
#define EG_CREDIT_MAX 1024u
#define EG_SHARDS_MAX 65536u
/* Largest data part of one task (per operand). */
#define EG_TASK_BYTES_MAX (256u * 1024u * 1024u)
/* Most segments (so states) in one SEGS task and its RESULT. */
#define EG_SEGS_MAX 1024u

typedef enum eg_frame_type {
    EG_FRAME_READY = 1,
    EG_FRAME_CREDIT = 2,
    EG_FRAME_HEARTBEAT = 3,
    EG_FRAME_TASK = 4,
    EG_FRAME_RESULT = 5,
    EG_FRAME_FAIL = 6,
    EG_FRAME_RETURN = 7,
    EG_FRAME_BYE = 8,
    EG_FRAME_RESET = 9,
    EG_FRAME_SHARDQ = 10,
    EG_FRAME_SHARDA = 11,
    EG_FRAME_TYPE_END
} eg_frame_type;

const char *eg_frame_type_name(unsigned type); /* "READY", or "unknown" */

/* READY flag: the worker serves shards from a --shard-root. */
#define EG_READY_SHARDS 1u

typedef struct eg_frame_ready {
    uint64_t session;    /* random per worker process */
    uint32_t generation; /* bumped at every re-registration */
    uint32_t credit;     /* tasks the coordinator may send now (0..MAX) */
    uint32_t flags;      /* EG_READY_* */
    char name[EG_GRID_NAME_MAX + 1];
} eg_frame_ready;

typedef enum eg_task_kind {
    EG_TASK_INLINE = 0,
    EG_TASK_SHARD = 1,
    EG_TASK_SEGS = 2,
    EG_TASK_QUANT = 3,
    EG_TASK_SQUANT = 4,
    EG_TASK_SQSEG = 5
} eg_task_kind;

typedef struct eg_frame_task {
    uint64_t task;
    uint32_t attempt;        /* 1 for the first dispatch */
    uint8_t kind;            /* eg_task_kind */
    uint8_t dtype;           /* inline: the data's; shard+raw: the raw dtype */
    uint8_t mode, nan;       /* eg_mode, eg_nan_policy */
    uint8_t raw;             /* shard: the file is raw binary of dtype */
    uint8_t has_y;           /* inline dot: a y part follows x */
    uint32_t ops, ddof;
    uint64_t first, count;   /* inline: global range; shard: count or 0;
                                squant: the shard's count;
                                segs, sqseg: first output, elements per
                                operand */
    uint64_t chunk;          /* chunk elements for the worker's engine; 0 =
                                its default */
    uint32_t nseg;           /* segs, sqseg: segments (1..EG_SEGS_MAX);
                                else 0 */
    uint64_t p0;             /* segs: position of the chunk in every
                                segment (a multiple of chunk); else 0 */
    char shard[EG_SHARD_NAME_MAX + 1]; /* shard, squant tasks; else "" */
} eg_frame_task;

typedef struct eg_frame_result {
    uint64_t task;
    uint32_t attempt;
    uint64_t elements;  /* elements reduced */
    uint64_t bytes;     /* bytes read */
    double seconds;     /* the worker's compute time */
    char name[EG_GRID_NAME_MAX + 1];
    eg_state state;          /* the first (a flat task's only) state */
    /* Encoding: out_n states at out_states; NULL: `state` alone. */
    const eg_state *out_states;
    uint32_t out_n;
    /* Decoded: the validated container inside the frame's buffer (walk it
     * with eg_states_get) and its count. */
    const uint8_t *states;
    size_t states_len;
    uint32_t nstates;
    /* A QUANT task's payload instead of states (encoding: set it; decoded:
     * structurally checked, inside the buffer; NULL otherwise, and then
     * `state` is zeroed and nstates 0). */
    const uint8_t *quant;
    size_t quant_len;
} eg_frame_result;

typedef struct eg_frame_fail {
    uint64_t task;
    uint32_t attempt;
    eg_status status;
    char msg[EG_FAIL_MSG_MAX + 1];
} eg_frame_fail;

/* A decoded frame: the header and the body its type has. */
typedef struct eg_frame {
    unsigned type;
    uint64_t job;
    union {
        eg_frame_ready ready;
        uint32_t credit;                     /* CREDIT */
        eg_frame_task task;                  /* TASK */
        eg_frame_result result;              /* RESULT */
        eg_frame_fail fail;                  /* FAIL */
        struct { uint64_t task; uint32_t attempt; } ret; /* RETURN */
        struct { const uint8_t *body; uint32_t count; } shards; /* SHARDQ/A */
    } u;
} eg_frame;

/* Decodes and validates one frame.  `expect` is a bit set of the types the
 * receiving socket may see (EG_FRAME_BIT); anything else is refused.  On
 * EG_EINPUT, err says why ("frame: bad magic").  SHARDQ/SHARDA bodies are
 * checked entry by entry here, then walked with the iterators below, which
 * point into `buf` (so it must outlive them). */
#define EG_FRAME_BIT(t) (1u << (t))
eg_status eg_frame_decode(eg_frame *f, const uint8_t *buf, size_t len,
                          unsigned expect, eg_error *err);

/* Validates the data parts of a decoded inline TASK: their sizes must be
 * count elements of dtype each, y present exactly when has_y. */
eg_status eg_frame_task_check_parts(const eg_frame_task *t, size_t x_len,
                                    int have_y, size_t y_len, eg_error *err);
/* Validates a SEGS task's lengths part (nseg x u32, at most chunk each,
 * adding up to count) and copies them to lens[nseg]. */
eg_status eg_frame_task_lens(const eg_frame_task *t, const uint8_t *part,
                             size_t len, uint64_t *lens, eg_error *err);
/* The lengths part of a SEGS task, for the encoder side. */
void eg_frame_put_lens(uint8_t *part, const uint64_t *lens, uint32_t n);

/* Encoders write into buf (cap bytes) and return the frame's length, or 0
 * when it does not fit or a field is out of range (a caller bug: encoders
 * never produce a frame their decoder refuses). */
size_t eg_frame_encode_ready(uint8_t *buf, size_t cap, uint64_t job,
                             const eg_frame_ready *r);
size_t eg_frame_encode_credit(uint8_t *buf, size_t cap, uint64_t job,
                              uint32_t credit);
/* HEARTBEAT, BYE and RESET have no body. */
size_t eg_frame_encode_empty(uint8_t *buf, size_t cap, unsigned type,
                             uint64_t job);
size_t eg_frame_encode_task(uint8_t *buf, size_t cap, uint64_t job,
                            const eg_frame_task *t);
size_t eg_frame_encode_result(uint8_t *buf, size_t cap, uint64_t job,
                              const eg_frame_result *r);
size_t eg_frame_encode_fail(uint8_t *buf, size_t cap, uint64_t job,
                            const eg_frame_fail *f);
size_t eg_frame_encode_return(uint8_t *buf, size_t cap, uint64_t job,
                              uint64_t task, uint32_t attempt);

/* Room enough for any frame but RESULT, TASK's data parts, SHARDQ and
 * SHARDA. */
#define EG_FRAME_SMALL_MAX 1024
/* The largest RESULT frame: its size follows the engine's state encoding,
 * which may grow with new state versions, and the largest quantile
 * payload. */
size_t eg_frame_result_max(void);
/* ... and the largest that carries states (a job without quantile ops
 * takes no larger one). */
size_t eg_frame_result_states_max(void);

/* SHARDQ: the coordinator asks which of these shards a worker holds.
 * Size of the frame for `n` names of total length `names_len`. */
size_t eg_frame_shardq_size(uint32_t n, size_t names_len);
/* Writes the header and count; entries follow with _shardq_put. */
size_t eg_frame_shardq_begin(uint8_t *buf, size_t cap, uint64_t job,
                             uint32_t n);
size_t eg_frame_shardq_put(uint8_t *buf, size_t cap, size_t at,
                           uint32_t index, const char *name);
/* Walks a decoded SHARDQ from a zeroed iterator; returns 0 at the end. */
typedef struct eg_shardq_iter {
    size_t at;
    uint32_t seen;
} eg_shardq_iter;
int eg_frame_shardq_next(const eg_frame *f, eg_shardq_iter *it,
                         uint32_t *index, char name[EG_SHARD_NAME_MAX + 1]);

/* SHARDA: the indices (from a SHARDQ) of the shards a worker holds. */
size_t eg_frame_sharda_size(uint32_t n);
size_t eg_frame_encode_sharda(uint8_t *buf, size_t cap, uint64_t job,
                              const uint32_t *index, uint32_t n);
uint32_t eg_frame_sharda_get(const eg_frame *f, uint32_t i);

/* Names on the wire: 1..max bytes of printable ASCII without spaces. */
int eg_frame_name_ok(const char *s, size_t len, size_t max);
/* A shard name is also a relative path that stays below its root: no
 * leading '/', no "." or ".." component, no empty component. */
int eg_frame_shard_name_ok(const char *s, size_t len);

#endif
