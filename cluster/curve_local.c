/* curve_local.c - throw-away CURVE keys for a grid on one box. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "curve.h"
#include "engine_grid.h"

/* what: "server.secret", "server.pub", "allow", or NULL with k >= 1 for
 * worker k's secret key. */
void eg_curve_local_path(const eg_curve_local *l, const char *what, unsigned k,
                         char *buf, size_t len)
{
    if (what)
        snprintf(buf, len, "%s/%s", l->dir, what);
    else
        snprintf(buf, len, "%s/worker-%u.secret", l->dir, k);
}

eg_status eg_curve_local_create(eg_curve_local *l, unsigned nworkers,
                                eg_error *err)
{
    const char *tmp = getenv("TMPDIR");
    memset(l, 0, sizeof *l);
    if (!tmp || !tmp[0])
        tmp = "/tmp";
    if ((size_t)snprintf(l->dir, sizeof l->dir, "%s/edgegrid-curve.XXXXXX",
                         tmp) >= sizeof l->dir)
        return eg_error_set(err, EG_EUSAGE, "TMPDIR %s: path too long", tmp);
    /* mkdtemp makes it 0700: nobody else may read the secrets. */
    if (!mkdtemp(l->dir)) {
        eg_error_set(err, EG_EIO, "cannot make a key directory in %s", tmp);
        l->dir[0] = '\0';
        return EG_EIO;
    }
    char path[512], allow[300];
    eg_curve_local_path(l, "server", 0, path, sizeof path);
    eg_status st = eg_curve_keygen(path, NULL, err);
    eg_curve_local_path(l, "allow", 0, allow, sizeof allow);
    if (st == EG_OK && mkdir(allow, 0700) != 0)
        st = eg_error_set(err, EG_EIO, "cannot make %s", allow);
    for (unsigned k = 1; k <= nworkers && st == EG_OK; k++) {
        char name[400], pub[512];
        snprintf(name, sizeof name, "%s/worker-%u", l->dir, k);
        snprintf(pub, sizeof pub, "%s/worker-%u.pub", allow, k);
        st = eg_curve_keygen(name, NULL, err);
        l->n = k;
        snprintf(path, sizeof path, "%s.pub", name);
        /* The public half goes where the coordinator looks for it. */
        if (st == EG_OK && rename(path, pub) != 0)
            st = eg_error_set(err, EG_EIO, "cannot move %s", path);
    }
    if (st != EG_OK)
        eg_curve_local_remove(l);
    return st;
}

void eg_curve_local_remove(eg_curve_local *l)
{
    if (!l->dir[0])
        return;
    char path[512];
    for (unsigned k = 1; k <= l->n; k++) {
        eg_curve_local_path(l, NULL, k, path, sizeof path);
        unlink(path);
        snprintf(path, sizeof path, "%s/allow/worker-%u.pub", l->dir, k);
        unlink(path);
        snprintf(path, sizeof path, "%s/worker-%u.pub", l->dir, k);
        unlink(path);
    }
    eg_curve_local_path(l, "allow", 0, path, sizeof path);
    rmdir(path);
    eg_curve_local_path(l, "server.secret", 0, path, sizeof path);
    unlink(path);
    eg_curve_local_path(l, "server.pub", 0, path, sizeof path);
    unlink(path);
    rmdir(l->dir);
    l->dir[0] = '\0';
}
