/* peers.h - the coordinator's view of its workers: who is connected (by
 * ROUTER routing id and socket descriptor), how much credit each has
 * granted, when it was last heard from, which shards it holds; and, kept
 * after they leave, what each named worker did for the report. */
#ifndef EG_PEERS_H
#define EG_PEERS_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "grid.h"

/* Beyond this many connected workers a READY is refused: a bound on what a
 * flood of forged registrations can cost. */
#define EG_PEERS_MAX 4096

typedef struct eg_peer {
    uint8_t id[256];        /* ROUTER routing id */
    size_t id_len;
    uint64_t serial;        /* unique per registration: the ledger's owner */
    uint64_t session;
    uint32_t generation;
    char name[EG_GRID_NAME_MAX + 1];
    uint32_t uid;           /* CURVE identity it authenticated as (zap.h);
                               0 on plain TCP */
    int fd;                 /* its TCP connection, matched to monitor events */
    uint32_t credit;        /* tasks it will take now */
    double last_seen, last_sent;
    uint8_t *holds;         /* shard jobs: bitmap of shards it holds; NULL
                               until it answered */
} eg_peer;

typedef struct eg_peers {
    eg_peer *v;
    size_t n, cap;
    uint64_t next_serial;
    size_t rr;              /* round-robin start for dispatch */
    eg_grid_worker_stats *stats;  /* by name, kept after workers leave */
    size_t nstats, stats_cap;
} eg_peers;

void eg_peers_init(eg_peers *p);
void eg_peers_free(eg_peers *p);

eg_peer *eg_peers_find(eg_peers *p, const void *id, size_t len);
eg_peer *eg_peers_find_fd(eg_peers *p, int fd);
/* A new registration; NULL when full or out of memory. */
eg_peer *eg_peers_add(eg_peers *p, const void *id, size_t len);
/* Forgets a worker (the pointer becomes invalid). */
void eg_peers_remove(eg_peers *p, eg_peer *peer);

/* The report entry of a worker name, created on first use; NULL only when
 * out of memory. */
eg_grid_worker_stats *eg_peers_stats(eg_peers *p, const char *name);

/* Bitmaps of shards held. */
int eg_peer_holds(const eg_peer *peer, uint64_t shard);
void eg_peer_set_holds(eg_peer *peer, uint64_t shard);

#endif
