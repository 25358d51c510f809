/* zap.h - the coordinator's ZAP handler (ZeroMQ RFC 27): it admits the
 * CURVE clients whose public keys are in the allow-list directory, names
 * each by its key file ("alice" for alice.pub; libzmq hands that name to
 * every message of the connection as its "User-Id"), and refuses everyone
 * else at the handshake, before a single frame of theirs is read.
 *
 * It is a REP socket bound to inproc://zeromq.zap.01 in the coordinator's
 * ZeroMQ context, served from the coordinator's own loop (no thread, no
 * shared state).  It must be bound before any CURVE server socket of that
 * context: without a handler, libzmq 4.3 lets every client in.
 *
 * Names get small numbers ("uids", 1, 2, ...) that stay the same across
 * reloads, so the task ledger can record who holds a lease in 4 bytes.
 * A name whose key left the list on a reload keeps its number but is no
 * longer allowed (eg_zap_uid returns 0 for it). */
#ifndef EG_ZAP_H
#define EG_ZAP_H

#include <stddef.h>
#include <stdint.h>

#include "curve.h"
#include "edgegrid.h"

#define EG_ZAP_ENDPOINT "inproc://zeromq.zap.01"
/* ZMQ_ZAP_DOMAIN of the coordinator's sockets; other domains are refused. */
#define EG_ZAP_DOMAIN "edgegrid"
/* Longest key name: a worker name's limit, so it fits every report. */
#define EG_ZAP_NAME_MAX 64

/* ------------------------------------------------------- the allow-list */

typedef struct eg_allow_key {
    uint8_t key[EG_CURVE_KEY_BYTES];
    uint32_t uid;
} eg_allow_key;

typedef struct eg_allow {
    eg_allow_key *keys; /* the keys allowed now */
    size_t nkeys;
} eg_allow;

typedef struct eg_allow_names {
    char (*v)[EG_ZAP_NAME_MAX + 1]; /* every name ever loaded; uid-1 */
    uint32_t n, cap;
} eg_allow_names;

/* Reads every NAME.pub of dir (dot files skipped) into a, in name order;
 * a key listed twice keeps its first name.  Names are interned in `names`.
 * Errors name the directory or the file at fault. */
eg_status eg_allow_load(eg_allow *a, eg_allow_names *names, const char *dir,
                        eg_error *err);
void eg_allow_free(eg_allow *a);
void eg_allow_names_free(eg_allow_names *n);
/* The uid of an allowed key, or 0. */
uint32_t eg_allow_find(const eg_allow *a, const uint8_t *key);

/* ---------------------------------------------------------- the handler */

typedef struct eg_zap eg_zap;

/* What one request came to. */
typedef struct eg_zap_verdict {
    int allowed;
    char name[EG_ZAP_NAME_MAX + 1]; /* the key's name when allowed */
    eg_curve_z85 key;               /* the client's public key, or "" */
    char address[64];               /* its IP address, as libzmq says */
    const char *why;                /* why it was refused */
} eg_zap_verdict;

/* Loads the allow-list (at least one key; EG_EUSAGE otherwise) and binds
 * the handler in zctx. */
eg_status eg_zap_open(eg_zap **out, void *zctx, const char *allow_dir,
                      eg_error *err);
/* Reads the directory again; on any error the old list stays in force. */
eg_status eg_zap_reload(eg_zap *z, eg_error *err);
size_t eg_zap_count(const eg_zap *z);
const char *eg_zap_dir(const eg_zap *z);
/* The socket to poll for requests. */
void *eg_zap_socket(eg_zap *z);
/* Answers one waiting request and says how in v; 0 when none waits. */
int eg_zap_serve(eg_zap *z, eg_zap_verdict *v);
/* The uid of a User-Id whose key is allowed now, or 0. */
uint32_t eg_zap_uid(const eg_zap *z, const char *user_id);
/* The name of a uid ("" for 0 or unknown). */
const char *eg_zap_name(const eg_zap *z, uint32_t uid);
void eg_zap_close(eg_zap **z);

#endif
