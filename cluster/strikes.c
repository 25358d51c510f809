/* strikes.c - counting bad frames per routing id, in a bounded table.
 * Lookups are linear: the table is small and empty unless someone
 * misbehaves. */
#include "strikes.h"

#include <stdlib.h>
#include <string.h>

void eg_strikes_free(eg_strikes *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}

static eg_strike *find(const eg_strikes *s, const void *id, size_t len)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].id_len == len && memcmp(s->v[i].id, id, len) == 0)
            return &s->v[i];
    return NULL;
}

int eg_strikes_banned(const eg_strikes *s, const void *id, size_t len)
{
    if (s->banned == 0)
        return 0;
    const eg_strike *e = find(s, id, len);
    return e && e->count >= EG_STRIKES_BAN;
}

int eg_strikes_add(eg_strikes *s, const void *id, size_t len)
{
    if (len > sizeof s->v[0].id)
        len = sizeof s->v[0].id;
    if (!s->v && !(s->v = calloc(EG_STRIKES_SLOTS, sizeof *s->v)))
        return 0;
    eg_strike *e = find(s, id, len);
    if (!e) {
        if (s->n < EG_STRIKES_SLOTS) {
            e = &s->v[s->n++];
        } else {
            e = &s->v[s->next];
            s->next = (s->next + 1) % EG_STRIKES_SLOTS;
            if (e->count >= EG_STRIKES_BAN)
                s->banned--;
        }
        memcpy(e->id, id, len);
        e->id_len = (uint16_t)len;
        e->count = 0;
    }
    if (e->count >= EG_STRIKES_BAN)
        return 0;
    if (++e->count < EG_STRIKES_BAN)
        return 0;
    s->banned++;
    return 1;
}
