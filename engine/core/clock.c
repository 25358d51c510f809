/* clock.c - the monotonic clock of every timing (edgegrid.h, eg_now). */
#include <time.h>

#include "edgegrid.h"

double eg_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
