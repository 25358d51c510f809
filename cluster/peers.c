/* peers.c - the table of connected workers and the per-name report.  Both
 * are small (workers, not tasks), so lookups are linear scans. */
#include "peers.h"

#include <stdlib.h>
#include <string.h>

void eg_peers_init(eg_peers *p)
{
    memset(p, 0, sizeof *p);
    p->next_serial = 1;
}

void eg_peers_free(eg_peers *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i].holds);
    free(p->v);
    free(p->stats);
    memset(p, 0, sizeof *p);
}

eg_peer *eg_peers_find(eg_peers *p, const void *id, size_t len)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i].id_len == len && memcmp(p->v[i].id, id, len) == 0)
            return &p->v[i];
    return NULL;
}

eg_peer *eg_peers_find_fd(eg_peers *p, int fd)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i].fd == fd)
            return &p->v[i];
    return NULL;
}

eg_peer *eg_peers_add(eg_peers *p, const void *id, size_t len)
{
    if (p->n >= EG_PEERS_MAX || len > sizeof p->v[0].id)
        return NULL;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        eg_peer *v = realloc(p->v, cap * sizeof *v);
        if (!v)
            return NULL;
        p->v = v;
        p->cap = cap;
    }
    eg_peer *peer = &p->v[p->n++];
    memset(peer, 0, sizeof *peer);
    memcpy(peer->id, id, len);
    peer->id_len = len;
    peer->serial = p->next_serial++;
    peer->fd = -1;
    return peer;
}

void eg_peers_remove(eg_peers *p, eg_peer *peer)
{
    size_t i = (size_t)(peer - p->v);
    free(peer->holds);
    p->v[i] = p->v[p->n - 1];
    p->n--;
}

eg_grid_worker_stats *eg_peers_stats(eg_peers *p, const char *name)
{
    for (size_t i = 0; i < p->nstats; i++)
        if (strcmp(p->stats[i].name, name) == 0)
            return &p->stats[i];
    if (p->nstats == p->stats_cap) {
        size_t cap = p->stats_cap ? p->stats_cap * 2 : 8;
        eg_grid_worker_stats *v = realloc(p->stats, cap * sizeof *v);
        if (!v)
            return NULL;
        p->stats = v;
        p->stats_cap = cap;
    }
    eg_grid_worker_stats *s = &p->stats[p->nstats++];
    memset(s, 0, sizeof *s);
    strncpy(s->name, name, sizeof s->name - 1);
    return s;
}

int eg_peer_holds(const eg_peer *peer, uint64_t shard)
{
    return peer->holds && (peer->holds[shard / 8] >> (shard % 8)) & 1;
}

void eg_peer_set_holds(eg_peer *peer, uint64_t shard)
{
    peer->holds[shard / 8] |= (uint8_t)(1u << (shard % 8));
}
