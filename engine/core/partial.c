/* partial.c - eg_reduce_partial: a reduction stopped before finalize, its
 * state written as a public partial (state/partial_wire.c has the bytes,
 * the merge and the finalize). */
#include <string.h>

#include "engine_grid.h"
#include "error.h"
#include "partial.h"
#include "source.h"
#include "state.h"

eg_status eg_reduce_partial(eg_engine *e, const void *x, const void *y,
                            uint64_t count, eg_dtype dtype,
                            const eg_reduce_opts *o, uint8_t *buf, size_t cap,
                            eg_result *stats, eg_error *err)
{
    eg_reduce_opts defaults;
    if (!o) {
        eg_reduce_opts_init(&defaults);
        o = &defaults;
    }
    if (!e)
        return eg_error_set(err, EG_EUSAGE, "eg_reduce_partial: no engine");
    if ((unsigned)dtype >= EG_DTYPE_COUNT)
        return eg_error_set(err, EG_EDTYPE, "unknown dtype %d", (int)dtype);
    if (!x && count > 0)
        return eg_error_set(err, EG_EUSAGE, "eg_reduce_partial: NULL data");
    if (!buf || cap < eg_partial_size())
        return eg_error_set(err, EG_EUSAGE,
                            "partial: a buffer of %zu bytes, needs %zu", cap,
                            eg_partial_size());
    eg_result scratch;
    eg_result *st_out = stats ? stats : &scratch;
    memset(st_out, 0, sizeof *st_out);
    eg_source *sx = NULL, *sy = NULL;
    eg_state s;
    eg_status st = eg_source_wrap(&sx, x, count, dtype, err);
    if (st == EG_OK && y)
        st = eg_source_wrap(&sy, y, count, dtype, err);
    if (st == EG_OK)
        st = eg_engine_reduce_range(e, sx, sy, 0, count, o, &s, st_out, err);
    eg_source_close(&sx);
    eg_source_close(&sy);
    if (st != EG_OK)
        return st;
    st_out->ops = o->ops;
    st_out->dtype = dtype;
    st_out->mode = o->mode;
    st_out->elements = count;
    eg_partial_head h = {o->mode, o->nan, o->ops, o->ddof};
    return eg_partial_encode(&h, &s, buf, cap, err);
}
