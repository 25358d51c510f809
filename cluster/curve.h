/* curve.h - CURVE for the grid: whether this libzmq can be trusted with it,
 * key pairs and their files, and which endpoints may go without it.
 *
 * Key files hold one key as Z85 text (40 characters, zmq_z85_encode's
 * alphabet) on a line of its own; blank lines and lines starting with '#'
 * are ignored.  NAME.pub is a public key and may be shared; NAME.secret is
 * a secret key and must be readable by its owner only (mode 0600): one
 * that group or others can reach is refused, as ssh refuses such keys. */
#ifndef EG_CURVE_H
#define EG_CURVE_H

#include <stddef.h>
#include <stdint.h>

#include "edgegrid.h"

/* A key as Z85 text and its terminating NUL. */
#define EG_CURVE_Z85_LEN 40
#define EG_CURVE_KEY_BYTES 32

typedef char eg_curve_z85[EG_CURVE_Z85_LEN + 1];

/* A socket's keys: its own pair, and (clients only) the server's public
 * key.  What zsock.c sets as ZMQ_CURVE_* options. */
typedef struct eg_curve_keys {
    eg_curve_z85 public_key, secret_key, server_key;
} eg_curve_keys;

/* libzmq 4.3.3 fixed CVE-2020-15166 (a peer could exhaust memory before
 * the handshake) and 4.3.2 CVE-2019-13132 (a stack overflow on a CURVE
 * server, reachable by anyone who can connect); older ones are refused. */
#define EG_ZMQ_MIN_MAJOR 4
#define EG_ZMQ_MIN_MINOR 3
#define EG_ZMQ_MIN_PATCH 3

/* Whether major.minor.patch is at least the version above. */
int eg_curve_version_ok(int major, int minor, int patch);
/* The running libzmq's version is new enough and it was built with CURVE;
 * else EG_EUSAGE saying which and why. */
eg_status eg_curve_available(eg_error *err);

/* Writes a fresh key pair as NAME.pub (mode 0644) and NAME.secret (mode
 * 0600, created with O_EXCL).  Refuses (EG_EUSAGE) when either file exists,
 * and leaves nothing behind on any failure.  `pair` (optional) gets the
 * keys written. */
eg_status eg_curve_keygen(const char *name, eg_curve_keys *pair, eg_error *err);

/* Reads a public key file. */
eg_status eg_curve_read_public(const char *path, eg_curve_z85 key,
                               eg_error *err);
/* Reads a secret key file after checking that it is a regular file that
 * group and others cannot access, and derives its public key
 * (zmq_curve_public). */
eg_status eg_curve_read_secret(const char *path, eg_curve_z85 secret,
                               eg_curve_z85 public_key, eg_error *err);
/* Parses key file text (see above) of `len` bytes; NULL when it holds one
 * well-formed key (copied to key), else why not. */
const char *eg_curve_parse(const char *text, size_t len, eg_curve_z85 key);

/* Wipes a buffer that held a secret, in a way the compiler keeps. */
void eg_curve_wipe(void *p, size_t len);

/* Ephemeral keys for a grid on this box (`edgegrid grid --curve`, the
 * benchmark): a fresh directory of mode 0700 under $TMPDIR (else /tmp)
 * holding server.secret, server.pub, worker-K.secret and allow/worker-K.pub
 * for K = 1..n.  Removed, files and all, by eg_curve_local_remove. */
typedef struct eg_curve_local {
    char dir[256];
    unsigned n;
} eg_curve_local;

eg_status eg_curve_local_create(eg_curve_local *l, unsigned nworkers,
                                eg_error *err);
void eg_curve_local_remove(eg_curve_local *l);
/* Paths in it: the coordinator's secret and public key files and the
 * allow directory, or (k >= 1) worker k's secret key file. */
void eg_curve_local_path(const eg_curve_local *l, const char *what, unsigned k,
                         char *buf, size_t len);

/* Whether an endpoint stays on this box: tcp:// to 127.0.0.0/8, ::1 or
 * localhost, or the ipc:// and inproc:// transports.  Anything else (a
 * wildcard bind, another address, an interface name) reaches a network. */
int eg_endpoint_is_local(const char *endpoint);
/* The plain-TCP rule: without CURVE, an endpoint of a network transport
 * that is not loopback is refused (EG_EUSAGE naming it and `option`)
 * unless `insecure`.  Endpoints of no known transport, or of no valid shape
 * ("tcp://HOST" without a port), pass, for zmq_bind and zmq_connect to
 * refuse in their own words. */
eg_status eg_endpoint_check_plain(const char *endpoint, const char *option,
                                  int insecure, eg_error *err);

/* What both ends of the grid check before they open a socket. */
typedef struct eg_curve_start {
    const char *secret;       /* --curve-secret FILE, or NULL */
    const char *peer;         /* the key option that must come with it */
    const char *secret_alone; /* the usage error for secret without peer */
    const char *peer_alone;   /* ... and for peer without secret */
    const char *tasks, *results; /* the endpoints */
    int insecure;
} eg_curve_start;

/* Sets *curve (a secret was given).  The two key options come together or
 * not at all; without CURVE both endpoints must pass
 * eg_endpoint_check_plain; with it libzmq must offer CURVE, and the secret
 * key file is read into keys (secret_key, public_key). */
eg_status eg_curve_begin(const eg_curve_start *s, eg_curve_keys *keys,
                         int *curve, eg_error *err);

#endif
