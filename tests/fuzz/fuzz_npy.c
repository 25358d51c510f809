// fuzz-sources: engine/io/npy.c engine/core/dtype.c engine/core/error.c
/* fuzz_npy.c - libFuzzer harness for the .npy header parser (engine/io/npy.c).
 *
 * Copies the input to an allocation of exactly its size (so AddressSanitizer
 * sees any read past the end), parses it, and checks what a successful parse
 * promises: the announced data lies inside the buffer, the count is the
 * product of the shape, and the header numpy would write for the same array
 * parses back to the same array.  A failed parse must leave one printable
 * line naming the file.  Build and run: see README.md next to this file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static void check_error(eg_status st, const eg_error *err)
{
    check(st == EG_EINPUT || st == EG_EDTYPE);
    check(err->code == st);
    check(strncmp(err->msg, "fuzz.npy: ", 10) == 0);
    for (const char *p = err->msg; *p; p++)
        check((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
}

static void check_header(const eg_npy_header *h, size_t size)
{
    const eg_array_info *info = &h->info;
    check(h->version >= 1 && h->version <= 3);
    check(info->dtype < EG_DTYPE_COUNT);
    check(info->ndim <= EG_MAX_DIMS);
    check(h->data_offset <= size);
    check(h->data_bytes <= size - h->data_offset);
    check(h->data_bytes == info->count * eg_dtype_size(info->dtype));
    uint64_t count = 1;
    for (unsigned k = 0; k < info->ndim; k++)
        count *= info->shape[k]; /* no overflow: the parser checked */
    check(count == info->count);
}

/* The same array through eg_npy_format_header and back. */
static void check_round_trip(const eg_npy_header *h)
{
    if (h->data_bytes > (1u << 20))
        return;
    char head[4096];
    size_t n =
        eg_npy_format_header(head, sizeof head, h->info.dtype, h->info.ndim,
                             h->info.shape, h->info.fortran_order);
    check(n > 0);
    unsigned char *buf = calloc(1, n + (size_t)h->data_bytes);
    check(buf != NULL);
    memcpy(buf, head, n);
    eg_npy_header again;
    eg_error err;
    check(eg_npy_parse(buf, n + h->data_bytes, "fuzz.npy", &again, &err) ==
          EG_OK);
    check(again.info.dtype == h->info.dtype);
    check(again.info.count == h->info.count);
    check(again.info.ndim == h->info.ndim);
    check(again.info.fortran_order == h->info.fortran_order);
    check(memcmp(again.info.shape, h->info.shape,
                 h->info.ndim * sizeof h->info.shape[0]) == 0);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size > 0 ? size : 1);
    if (copy == NULL)
        return 0;
    if (size > 0)
        memcpy(copy, data, size);
    eg_npy_header h;
    eg_error err;
    memset(&err, 0, sizeof err);
    eg_status st = eg_npy_parse(copy, size, "fuzz.npy", &h, &err);
    if (st == EG_OK) {
        check_header(&h, size);
        check_round_trip(&h);
    } else {
        check_error(st, &err);
    }
    free(copy);
    return 0;
}
