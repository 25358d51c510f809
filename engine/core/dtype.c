/* dtype.c - the element types: names, sizes and kinds, from one table. */
#include <string.h>

#include "edgegrid.h"
#include "error.h"

typedef struct dtype_row {
    const char *name;       /* our short name, "f32" */
    const char *numpy_name; /* numpy's name, "float32" */
    size_t size;
    int is_float;
    int is_signed;
} dtype_row;

/* Indexed by eg_dtype; the order must follow the enum in edgegrid.h. */
static const dtype_row dtype_table[EG_DTYPE_COUNT] = {
    [EG_F32] = {"f32", "float32", 4, 1, 1},
    [EG_F64] = {"f64", "float64", 8, 1, 1},
    [EG_I8] = {"i8", "int8", 1, 0, 1},
    [EG_U8] = {"u8", "uint8", 1, 0, 0},
    [EG_I16] = {"i16", "int16", 2, 0, 1},
    [EG_U16] = {"u16", "uint16", 2, 0, 0},
    [EG_I32] = {"i32", "int32", 4, 0, 1},
    [EG_U32] = {"u32", "uint32", 4, 0, 0},
    [EG_I64] = {"i64", "int64", 8, 0, 1},
    [EG_U64] = {"u64", "uint64", 8, 0, 0},
};

/* Out-of-range values (a corrupt enum) get a harmless row rather than an
 * out-of-bounds read. */
static const dtype_row *row_of(eg_dtype t)
{
    static const dtype_row unknown = {"?", "unknown", 0, 0, 0};
    if ((int)t < 0 || t >= EG_DTYPE_COUNT)
        return &unknown;
    return &dtype_table[t];
}

eg_status eg_dtype_parse(const char *text, eg_dtype *out, eg_error *err)
{
    if (text == NULL || out == NULL)
        return eg_error_set(err, EG_EUSAGE, "dtype: no dtype given");
    for (int t = 0; t < EG_DTYPE_COUNT; t++) {
        if (strcmp(text, dtype_table[t].name) == 0 ||
            strcmp(text, dtype_table[t].numpy_name) == 0) {
            *out = (eg_dtype)t;
            return EG_OK;
        }
    }
    return eg_error_set(err, EG_EDTYPE,
                        "unknown dtype '%.64s' (expected f32 f64 i8 u8 i16 "
                        "u16 i32 u32 i64 u64, or numpy's float32 .. uint64)",
                        text);
}

const char *eg_dtype_name(eg_dtype t)
{
    return row_of(t)->name;
}

const char *eg_dtype_numpy_name(eg_dtype t)
{
    return row_of(t)->numpy_name;
}

size_t eg_dtype_size(eg_dtype t)
{
    return row_of(t)->size;
}

int eg_dtype_is_float(eg_dtype t)
{
    return row_of(t)->is_float;
}

int eg_dtype_is_signed(eg_dtype t)
{
    return row_of(t)->is_signed;
}
