/* curve_endpoint.c - which endpoints may carry plain TCP: those that never
 * leave this box.  Everything else needs CURVE, or --insecure said out
 * loud.  Also the start-up check both ends of the grid share. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "curve.h"
#include "engine_grid.h"

/* The host of "tcp://HOST:PORT" (a bracketed IPv6 literal unbracketed),
 * copied into host; -1 when the endpoint has no such shape. */
static int tcp_host(const char *rest, char *host, size_t len)
{
    /* "tcp://SRC;HOST:PORT" names a source address first: the peer is
     * what follows the ';'. */
    const char *semi = strchr(rest, ';');
    if (semi)
        rest = semi + 1;
    const char *end;
    if (rest[0] == '[') {
        rest++;
        end = strchr(rest, ']');
        if (!end || end[1] != ':')
            return -1;
    } else {
        end = strrchr(rest, ':');
        if (!end)
            return -1;
    }
    size_t n = (size_t)(end - rest);
    if (n == 0 || n >= len)
        return -1;
    memcpy(host, rest, n);
    host[n] = '\0';
    return 0;
}

int eg_endpoint_is_local(const char *endpoint)
{
    if (strncmp(endpoint, "ipc://", 6) == 0 ||
        strncmp(endpoint, "inproc://", 9) == 0)
        return 1;
    if (strncmp(endpoint, "tcp://", 6) != 0)
        return 0; /* pgm, udp, ws, ...: networks */
    char host[256];
    if (tcp_host(endpoint + 6, host, sizeof host) != 0)
        return 0;
    if (strcmp(host, "localhost") == 0)
        return 1;
    unsigned char a[16];
    if (inet_pton(AF_INET, host, a) == 1)
        return a[0] == 127;
    if (inet_pton(AF_INET6, host, a) == 1) {
        static const unsigned char loop6[16] = {[15] = 1};
        return memcmp(a, loop6, 16) == 0;
    }
    /* A wildcard ("*"), a name, an interface: not provably local. */
    return 0;
}

/* The transports of libzmq that reach other machines.  Anything else is
 * either local or no transport at all, which zmq_bind / zmq_connect refuse
 * with their own message, naming it. */
static int network_transport(const char *endpoint)
{
    static const char *const schemes[] = {"tcp://",  "pgm://",  "epgm://",
                                          "norm://", "udp://",  "ws://",
                                          "wss://",  "tipc://", "vmci://"};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (strncmp(endpoint, schemes[i], strlen(schemes[i])) == 0)
            return 1;
    return 0;
}

eg_status eg_endpoint_check_plain(const char *endpoint, const char *option,
                                  int insecure, eg_error *err)
{
    char host[256];
    if (insecure || !endpoint || eg_endpoint_is_local(endpoint) ||
        !network_transport(endpoint))
        return EG_OK;
    /* "tcp://HOST" without a port is no endpoint: libzmq says so. */
    if (strncmp(endpoint, "tcp://", 6) == 0 &&
        tcp_host(endpoint + 6, host, sizeof host) != 0)
        return EG_OK;
    return eg_error_set(err, EG_EUSAGE,
                        "%s %s is not a loopback address: plain TCP is "
                        "refused there; use CURVE (--curve-secret with "
                        "--allow or --server-key) or pass --insecure",
                        option, endpoint);
}

eg_status eg_curve_begin(const eg_curve_start *s, eg_curve_keys *keys,
                         int *curve, eg_error *err)
{
    memset(keys, 0, sizeof *keys);
    *curve = s->secret != NULL;
    if (!s->secret != !s->peer)
        return eg_error_set(err, EG_EUSAGE, "%s",
                            s->secret ? s->secret_alone : s->peer_alone);
    if (!*curve) {
        eg_status st = eg_endpoint_check_plain(s->tasks, "--tasks",
                                               s->insecure, err);
        if (st == EG_OK)
            st = eg_endpoint_check_plain(s->results, "--results",
                                         s->insecure, err);
        return st;
    }
    eg_status st = eg_curve_available(err);
    if (st == EG_OK)
        st = eg_curve_read_secret(s->secret, keys->secret_key,
                                  keys->public_key, err);
    return st;
}
