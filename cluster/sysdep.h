/* sysdep.h - what the grid needs from the operating system: a monotonic
 * clock, unpredictable 64-bit ids, sleeping, and a default worker name. */
#ifndef EG_SYSDEP_H
#define EG_SYSDEP_H

#include <stddef.h>
#include <stdint.h>

#include "edgegrid.h" /* eg_now, eg_splitmix64 */

uint64_t eg_random64(void);          /* never 0 */
void eg_sleep_ms(unsigned ms);
/* "host:pid", truncated to len - 1 and made of name-safe characters. */
void eg_default_name(char *buf, size_t len);

#endif
