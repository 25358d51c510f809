/* splitmix.c - SplitMix64 (Steele, Lea and Flood, 2014), the random
 * stream of gen, the tests and the benchmarks (edgegrid.h). */
#include "edgegrid.h"

uint64_t eg_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
