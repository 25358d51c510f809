/* sysdep.c - random ids, sleeping and the default worker name. */
#include "sysdep.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

uint64_t eg_random64(void)
{
    uint64_t v = 0;
    /* Job ids and sessions only need to differ between runs; when the
     * kernel's generator cannot answer, time and pid still do. */
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        /* SplitMix64 spreads the seed's few varying bits over the word. */
        uint64_t seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
                        ((uint64_t)getpid() << 40);
        v = eg_splitmix64(&seed);
    }
    return v ? v : 1;
}

void eg_sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

void eg_default_name(char *buf, size_t len)
{
    char host[64] = "host";
    if (gethostname(host, sizeof host) != 0)
        strcpy(host, "host");
    host[sizeof host - 1] = '\0';
    snprintf(buf, len, "%s:%ld", host, (long)getpid());
    for (char *p = buf; *p; p++)
        if (*p <= ' ' || *p > '~')
            *p = '_';
}
