/* curve.c - CURVE keys: the libzmq check, key generation and key files. */
#include "curve.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "engine_grid.h"

/* A key file is a line or two; anything much longer is not one. */
#define KEY_FILE_MAX 4096

int eg_curve_version_ok(int major, int minor, int patch)
{
    if (major != EG_ZMQ_MIN_MAJOR)
        return major > EG_ZMQ_MIN_MAJOR;
    if (minor != EG_ZMQ_MIN_MINOR)
        return minor > EG_ZMQ_MIN_MINOR;
    return patch >= EG_ZMQ_MIN_PATCH;
}

eg_status eg_curve_available(eg_error *err)
{
    int major, minor, patch;
    zmq_version(&major, &minor, &patch);
    if (!eg_curve_version_ok(major, minor, patch))
        return eg_error_set(err, EG_EUSAGE,
                            "CURVE refused: libzmq %d.%d.%d is older than "
                            "%d.%d.%d (CVE-2019-13132, CVE-2020-15166); "
                            "upgrade libzmq5",
                            major, minor, patch, EG_ZMQ_MIN_MAJOR,
                            EG_ZMQ_MIN_MINOR, EG_ZMQ_MIN_PATCH);
    if (!zmq_has("curve"))
        return eg_error_set(err, EG_EUSAGE,
                            "CURVE refused: libzmq %d.%d.%d was built "
                            "without CURVE support",
                            major, minor, patch);
    return EG_OK;
}

void eg_curve_wipe(void *p, size_t len)
{
    /* Writes through a volatile pointer are not optimised away. */
    volatile unsigned char *v = p;
    while (len--)
        *v++ = 0;
}

static int z85_char(int ch)
{
    static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz"
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   ".-:+=^!/*?&<>()[]{}@%$#";
    return ch != '\0' && strchr(alphabet, ch) != NULL;
}

const char *eg_curve_parse(const char *text, size_t len, eg_curve_z85 key)
{
    int found = 0;
    size_t at = 0;
    while (at < len) {
        size_t end = at;
        while (end < len && text[end] != '\n')
            end++;
        size_t a = at, b = end;
        while (a < b && (text[a] == ' ' || text[a] == '\t'))
            a++;
        while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' ||
                         text[b - 1] == '\r'))
            b--;
        at = end + 1;
        if (a == b || text[a] == '#')
            continue;
        if (found)
            return "more than one key";
        if (b - a != EG_CURVE_Z85_LEN)
            return "not a 40-character Z85 key";
        for (size_t i = a; i < b; i++)
            if (!z85_char((unsigned char)text[i]))
                return "not a Z85 key (bad character)";
        memcpy(key, text + a, EG_CURVE_Z85_LEN);
        key[EG_CURVE_Z85_LEN] = '\0';
        /* Z85 also bounds each 5-character group's value. */
        uint8_t bin[EG_CURVE_KEY_BYTES];
        if (!zmq_z85_decode(bin, key))
            return "not a Z85 key (bad value)";
        eg_curve_wipe(bin, sizeof bin);
        found = 1;
    }
    return found ? NULL : "no key in it";
}

/* Reads a key file into key; `fd` is open on `path`. */
static eg_status read_key_fd(int fd, const char *path, const char *kind,
                             eg_curve_z85 key, eg_error *err)
{
    char buf[KEY_FILE_MAX + 1];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof buf - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return eg_error_set(err, EG_EIO, "%s key file %s: %s", kind, path,
                                strerror(errno));
        if (n == 0)
            break;
        len += (size_t)n;
        if (len == sizeof buf)
            break;
    }
    const char *why = len > KEY_FILE_MAX ? "longer than a key file can be"
                                         : eg_curve_parse(buf, len, key);
    eg_curve_wipe(buf, sizeof buf);
    if (why)
        return eg_error_set(err, EG_EINPUT, "%s key file %s: %s", kind, path,
                            why);
    return EG_OK;
}

static eg_status open_key(const char *path, const char *kind, int *fd,
                          struct stat *st, eg_error *err)
{
    *fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (*fd < 0)
        return eg_error_set(err, errno == ENOENT ? EG_ENOENT : EG_EINPUT,
                            "%s key file %s: %s", kind, path, strerror(errno));
    if (fstat(*fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(*fd);
        *fd = -1;
        return eg_error_set(err, EG_EINPUT,
                            "%s key file %s: not a regular "
                            "file",
                            kind, path);
    }
    return EG_OK;
}

eg_status eg_curve_read_public(const char *path, eg_curve_z85 key,
                               eg_error *err)
{
    int fd;
    struct stat st;
    eg_status s = open_key(path, "public", &fd, &st, err);
    if (s != EG_OK)
        return s;
    s = read_key_fd(fd, path, "public", key, err);
    close(fd);
    return s;
}

eg_status eg_curve_read_secret(const char *path, eg_curve_z85 secret,
                               eg_curve_z85 public_key, eg_error *err)
{
    int fd;
    struct stat st;
    eg_status s = open_key(path, "secret", &fd, &st, err);
    if (s != EG_OK)
        return s;
    /* Checked on the open file, so a swap between check and read cannot
     * slip a different file in. */
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        close(fd);
        return eg_error_set(err, EG_EUSAGE,
                            "secret key file %s is accessible by group or "
                            "others (mode %04o); run 'chmod 600 %s'",
                            path, (unsigned)(st.st_mode & 07777), path);
    }
    s = read_key_fd(fd, path, "secret", secret, err);
    close(fd);
    if (s == EG_OK && zmq_curve_public(public_key, secret) != 0)
        s = eg_error_set(err, EG_EINPUT,
                         "secret key file %s: "
                         "zmq_curve_public: %s",
                         path, zmq_strerror(zmq_errno()));
    return s;
}

/* ------------------------------------------------------------- keygen */

static eg_status write_all(int fd, const char *path, const char *text,
                           eg_error *err)
{
    size_t len = strlen(text), at = 0;
    while (at < len) {
        ssize_t n = write(fd, text + at, len - at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return eg_error_set(err, EG_EIO, "keygen: cannot write %s: %s",
                                path, strerror(errno));
        at += (size_t)n;
    }
    return EG_OK;
}

/* Creates `path` with `mode`, failing if it exists, and writes `text`. */
static eg_status create_key_file(const char *path, int mode, const char *text,
                                 eg_error *err)
{
    int fd =
        open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return eg_error_set(err, errno == EEXIST ? EG_EUSAGE : EG_EIO,
                            "keygen: %s %s", path,
                            errno == EEXIST ? "exists already; not "
                                              "overwriting it"
                                            : strerror(errno));
    eg_status s = write_all(fd, path, text, err);
    if (close(fd) != 0 && s == EG_OK)
        s = eg_error_set(err, EG_EIO, "keygen: cannot write %s: %s", path,
                         strerror(errno));
    if (s != EG_OK)
        unlink(path);
    return s;
}

static eg_status key_paths(const char *name, char *pub, char *sec, size_t len,
                           eg_error *err)
{
    if (name[0] == '\0')
        return eg_error_set(err, EG_EUSAGE, "keygen: empty key name");
    if ((size_t)snprintf(pub, len, "%s.pub", name) >= len ||
        (size_t)snprintf(sec, len, "%s.secret", name) >= len)
        return eg_error_set(err, EG_EUSAGE, "keygen: key name too long");
    return EG_OK;
}

eg_status eg_curve_keygen(const char *name, eg_curve_keys *pair, eg_error *err)
{
    char pub_path[4096], sec_path[4096];
    eg_status s = eg_curve_available(err);
    if (s == EG_OK)
        s = key_paths(name, pub_path, sec_path, sizeof pub_path, err);
    if (s != EG_OK)
        return s;
    /* Both checked before either is written, so a refusal changes
     * nothing; O_EXCL below still guards against a race. */
    struct stat st;
    if (lstat(pub_path, &st) == 0 || lstat(sec_path, &st) == 0)
        return eg_error_set(err, EG_EUSAGE,
                            "keygen: %s exists already; not "
                            "overwriting it",
                            lstat(pub_path, &st) == 0 ? pub_path : sec_path);
    eg_curve_keys k;
    memset(&k, 0, sizeof k);
    if (zmq_curve_keypair(k.public_key, k.secret_key) != 0)
        return eg_error_set(err, EG_EUSAGE, "keygen: zmq_curve_keypair: %s",
                            zmq_strerror(zmq_errno()));
    char line[EG_CURVE_Z85_LEN + 2];
    snprintf(line, sizeof line, "%s\n", k.secret_key);
    s = create_key_file(sec_path, 0600, line, err);
    if (s == EG_OK) {
        snprintf(line, sizeof line, "%s\n", k.public_key);
        s = create_key_file(pub_path, 0644, line, err);
        if (s != EG_OK)
            unlink(sec_path); /* nothing half-written */
    }
    if (s == EG_OK && pair)
        *pair = k;
    eg_curve_wipe(line, sizeof line);
    eg_curve_wipe(&k, sizeof k);
    return s;
}
