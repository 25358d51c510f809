/* bench_machine.h - names the machine a bench ran on (CPU model, memory),
 * because a GB/s figure means nothing without it. */
#ifndef EG_HOST_BENCH_MACHINE_H
#define EG_HOST_BENCH_MACHINE_H

#include <stddef.h>
#include <stdint.h>

/* The CPU model as lscpu shows it ("unknown CPU" if /proc does not say)
 * and the total memory in bytes (0 if unknown). */
void bench_machine(char *cpu, size_t len, uint64_t *mem_bytes);

#endif
