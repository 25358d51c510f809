/* zap_allow.c - the allow-list: the public keys of the *.pub files of one
 * directory, each named by its file. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "engine_grid.h"
#include "frame.h"
#include "zap.h"

void eg_allow_free(eg_allow *a)
{
    if (a->keys)
        eg_curve_wipe(a->keys, a->nkeys * sizeof *a->keys);
    free(a->keys);
    a->keys = NULL;
    a->nkeys = 0;
}

void eg_allow_names_free(eg_allow_names *n)
{
    free(n->v);
    memset(n, 0, sizeof *n);
}

uint32_t eg_allow_find(const eg_allow *a, const uint8_t *key)
{
    for (size_t i = 0; i < a->nkeys; i++)
        if (memcmp(a->keys[i].key, key, EG_CURVE_KEY_BYTES) == 0)
            return a->keys[i].uid;
    return 0;
}

/* The uid of a name, added when new; 0 when out of memory. */
static uint32_t intern(eg_allow_names *n, const char *name)
{
    for (uint32_t i = 0; i < n->n; i++)
        if (strcmp(n->v[i], name) == 0)
            return i + 1;
    if (n->n == n->cap) {
        uint32_t cap = n->cap ? n->cap * 2 : 16;
        void *v = realloc(n->v, cap * sizeof *n->v);
        if (!v)
            return 0;
        n->v = v;
        n->cap = cap;
    }
    snprintf(n->v[n->n], sizeof n->v[0], "%s", name);
    return ++n->n;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct file_list {
    char **v;
    size_t n, cap;
} file_list;

static void files_free(file_list *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->v[i]);
    free(f->v);
}

/* The *.pub entries of dir, sorted. */
static eg_status list_dir(const char *dir, file_list *f, eg_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return eg_error_set(err, errno == ENOENT ? EG_ENOENT : EG_EINPUT,
                            "--allow %s: %s", dir, strerror(errno));
    eg_status st = EG_OK;
    struct dirent *e;
    while (st == EG_OK && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        /* Dot files are editors' and tools' scratch, never a key. */
        if (e->d_name[0] == '.' || len <= 4 ||
            strcmp(e->d_name + len - 4, ".pub") != 0)
            continue;
        if (f->n == f->cap) {
            size_t cap = f->cap ? f->cap * 2 : 16;
            char **v = realloc(f->v, cap * sizeof *v);
            if (!v) {
                st = eg_error_set(err, EG_ENOMEM, "--allow %s: out of memory",
                                  dir);
                break;
            }
            f->v = v;
            f->cap = cap;
        }
        if (!(f->v[f->n] = strdup(e->d_name)))
            st = eg_error_set(err, EG_ENOMEM, "--allow %s: out of memory", dir);
        else
            f->n++;
    }
    closedir(d);
    if (st == EG_OK && f->n > 1)
        qsort(f->v, f->n, sizeof *f->v, by_name);
    return st;
}

/* One file's key into a->keys[a->nkeys]. */
static eg_status load_one(eg_allow *a, eg_allow_names *names, const char *dir,
                          const char *file, eg_error *err)
{
    char path[4096], name[EG_ZAP_NAME_MAX + 1];
    size_t stem = strlen(file) - 4;
    if (!eg_frame_name_ok(file, stem, EG_ZAP_NAME_MAX))
        return eg_error_set(err, EG_EINPUT,
                            "--allow %s: key file name '%s' "
                            "must be 1 to %d printable characters without "
                            "spaces before .pub",
                            dir, file, EG_ZAP_NAME_MAX);
    memcpy(name, file, stem);
    name[stem] = '\0';
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, file) >= sizeof path)
        return eg_error_set(err, EG_EINPUT, "--allow %s: path too long", dir);
    eg_curve_z85 z85;
    eg_status st = eg_curve_read_public(path, z85, err);
    if (st != EG_OK)
        return st;
    eg_allow_key *k = &a->keys[a->nkeys];
    zmq_z85_decode(k->key, z85); /* checked by eg_curve_read_public */
    if (eg_allow_find(a, k->key))
        return EG_OK; /* the same key under a later name: first wins */
    if (!(k->uid = intern(names, name)))
        return eg_error_set(err, EG_ENOMEM, "--allow %s: out of memory", dir);
    a->nkeys++;
    return EG_OK;
}

eg_status eg_allow_load(eg_allow *a, eg_allow_names *names, const char *dir,
                        eg_error *err)
{
    file_list f = {NULL, 0, 0};
    memset(a, 0, sizeof *a);
    eg_status st = list_dir(dir, &f, err);
    if (st == EG_OK && f.n > 0 && !(a->keys = calloc(f.n, sizeof *a->keys)))
        st = eg_error_set(err, EG_ENOMEM, "--allow %s: out of memory", dir);
    for (size_t i = 0; i < f.n && st == EG_OK; i++)
        st = load_one(a, names, dir, f.v[i], err);
    files_free(&f);
    if (st != EG_OK)
        eg_allow_free(a);
    return st;
}
