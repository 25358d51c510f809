/* cl_fault.c - fault injection for the OpenCL backend, a testing aid.
 *
 * Real devices fail in ways CI cannot provoke on POCL: a driver whose
 * compiler rejects the kernel, an allocation the device cannot satisfy, a
 * device lost in the middle of a job.  EDGEGRID_CL_FAULT (see cl_device.h)
 * makes one device fail like that, so tests/test_faults.c can check that
 * the engine moves the work elsewhere, names the device and the CL error in
 * its notes and still gives the fault-free bits.  The setting is read when
 * a device is first prepared and kept in its impl with its own counter:
 * no global state, and a device is driven by one thread at a time.
 * Built only with EDGEGRID_TEST_HOOKS (engine/CMakeLists.txt; cl_device.h
 * has the product's no-op spellings).
 */
#include <stdlib.h>
#include <string.h>

#include "cl_device.h"
#include "error.h"

#define EG_CL_FAULT_ENV "EDGEGRID_CL_FAULT"

/* A decimal number of at most 9 digits at *p, advancing p; -1 if none. */
static long parse_small(const char **p)
{
    long v = 0;
    int digits = 0;
    while (**p >= '0' && **p <= '9' && digits < 9) {
        v = v * 10 + (**p - '0');
        (*p)++;
        digits++;
    }
    return digits > 0 && !(**p >= '0' && **p <= '9') ? v : -1;
}

/* KIND[:K][@DEV]; 0 on success. */
static int parse_fault(const char *text, eg_cl_fault_kind *kind,
                       unsigned *from, long *dev)
{
    static const struct {
        const char *name;
        eg_cl_fault_kind kind;
    } kinds[] = {{"build", EG_CL_FAULT_BUILD},
                 {"alloc", EG_CL_FAULT_ALLOC},
                 {"run", EG_CL_FAULT_RUN}};
    const char *p = text;
    *kind = EG_CL_FAULT_NONE;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t n = strlen(kinds[i].name);
        if (strncmp(p, kinds[i].name, n) == 0) {
            *kind = kinds[i].kind;
            p += n;
            break;
        }
    }
    if (*kind == EG_CL_FAULT_NONE)
        return -1;
    *from = 1;
    *dev = -1;
    if (*p == ':') {
        p++;
        long k = parse_small(&p);
        if (k < 1)
            return -1;
        *from = (unsigned)k;
    }
    if (*p == '@') {
        p++;
        if ((*dev = parse_small(&p)) < 0)
            return -1;
    }
    return *p == '\0' ? 0 : -1;
}

eg_status eg_cl_fault_load(eg_device *dev, eg_error *err)
{
    eg_cl_fault *f = &((eg_cl_impl *)dev->impl)->fault;
    if (f->loaded)
        return EG_OK;
    f->loaded = 1;
    f->kind = EG_CL_FAULT_NONE;
    const char *text = getenv(EG_CL_FAULT_ENV);
    if (text == NULL || text[0] == '\0')
        return EG_OK;
    eg_cl_fault_kind kind;
    unsigned from;
    long target;
    if (parse_fault(text, &kind, &from, &target) != 0)
        return eg_error_set(err, EG_EUSAGE,
                            "%s: '%.40s' is not build, alloc or run, with "
                            "an optional :K and @DEVICE",
                            EG_CL_FAULT_ENV, text);
    if (target >= 0 && (unsigned long)target != dev->info.index)
        return EG_OK;
    f->kind = kind;
    f->from = from;
    f->seen = 0;
    return EG_OK;
}

int eg_cl_fault_fires(eg_device *dev, eg_cl_fault_kind kind)
{
    eg_cl_fault *f = &((eg_cl_impl *)dev->impl)->fault;
    if (f->kind != kind || kind == EG_CL_FAULT_NONE)
        return 0;
    if (f->seen < f->from)
        f->seen++;
    return f->seen >= f->from;
}

char *eg_cl_fault_break_source(char *src, size_t *len)
{
    static const char line[] = "\n#error \"EDGEGRID_CL_FAULT=build\"\n";
    char *grown = realloc(src, *len + sizeof line);
    if (!grown) {
        free(src);
        return NULL;
    }
    memcpy(grown + *len, line, sizeof line);
    *len += sizeof line - 1;
    return grown;
}
