/* _edgegrid.c - the CPython face of edgegrid.h, kept thin: buffers in (zero
 * copy), values and stats out as plain tuples, dicts and bytes, eg_error
 * mapped to two exception types.  Defaults, docstrings and the shape of
 * results live in the Python package (edgegrid/__init__.py), so new
 * parameters (axis=, by=, q=) are a few lines there.
 *
 * Threads: the GIL is released while the engine runs.  An eg_engine is not
 * safe to drive from two threads at once, so each Engine object holds a lock
 * that every call (and close) takes with the GIL released: threads sharing
 * an Engine take turns; threads with their own Engines run in parallel. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>

#include <stdint.h>
#include <string.h>

#include "edgegrid.h"

/* The module's exception types and the interned names of ops, dtypes and
 * modes that every result uses as keys and values.  Set once when the
 * module initialises and only read after that (single-phase init, as
 * numpy's own modules). */
static PyObject *InputError;
static PyObject *EngineError;
static PyObject *Unreadable; /* InputError: no C-contiguous native buffer */
static PyObject *op_names[EG_OP_COUNT_ALL];
static PyObject *dtype_names[EG_DTYPE_COUNT];
static PyObject *mode_names[2];

/* ---------------------------------------------------------------- errors */

/* Raises InputError (the CLI's exit 2) or EngineError (exit 1) with the
 * library's message; the exception's .status is the code's name. */
static PyObject *raise_as(PyObject *type, const eg_error *err)
{
    const char *msg = err->msg[0] ? err->msg : eg_strerror(err->code);
    PyObject *exc = PyObject_CallFunction(type, "s", msg);
    if (!exc)
        return NULL;
    PyObject *name = PyUnicode_FromString(eg_status_name(err->code));
    if (name) {
        PyObject_SetAttrString(exc, "status", name);
        Py_DECREF(name);
    }
    PyErr_SetObject(type, exc);
    Py_DECREF(exc);
    return NULL;
}

static PyObject *raise_eg(const eg_error *err)
{
    return raise_as(
        eg_status_exit_code(err->code) == 2 ? InputError : EngineError, err);
}

static PyObject *raise_input(eg_status code, const char *fmt, ...)
{
    eg_error err = {.code = code};
    va_list ap;
    va_start(ap, fmt);
    PyOS_vsnprintf(err.msg, sizeof err.msg, fmt, ap);
    va_end(ap);
    return raise_eg(&err);
}

/* --------------------------------------------------------------- buffers */

/* The dtype of a buffer from its struct format and item size: "d", "<f",
 * "=q", "l" ...  Big-endian and other formats are refused by name. */
static int format_dtype(const Py_buffer *v, eg_dtype *out)
{
    const char *f = v->format ? v->format : "B";
    if (*f == '@' || *f == '=' || *f == '<')
        f++;
    else if (*f == '>' || *f == '!')
        return 0; /* this binding is built for little-endian hosts */
    if (f[0] == 0 || f[1] != 0)
        return 0;
    int n = (int)v->itemsize;
    switch (f[0]) {
    case 'f':
        *out = EG_F32;
        return n == 4;
    case 'd':
        *out = EG_F64;
        return n == 8;
    case 'b':
        *out = EG_I8;
        return n == 1;
    case 'B':
        *out = EG_U8;
        return n == 1;
    case 'h':
        *out = EG_I16;
        return n == 2;
    case 'H':
        *out = EG_U16;
        return n == 2;
    case 'i':
    case 'l':
    case 'q':
        *out = n == 4 ? EG_I32 : EG_I64;
        return n == 4 || n == 8;
    case 'I':
    case 'L':
    case 'Q':
        *out = n == 4 ? EG_U32 : EG_U64;
        return n == 4 || n == 8;
    default:
        return 0;
    }
}

/* Takes a read-only, C-contiguous view of `obj` (never a copy).  On failure
 * raises Unreadable (an InputError naming `what`), on which the Python
 * layer makes one C-order native copy where numpy can, and leaves no view
 * to release. */
static int get_input(PyObject *obj, const char *what, Py_buffer *v,
                     eg_dtype *dtype)
{
    eg_error err = {0};
    if (PyObject_GetBuffer(obj, v, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) != 0) {
        PyErr_Clear();
        err.code = EG_EINPUT;
        PyOS_snprintf(err.msg, sizeof err.msg,
                      "%s: a %.64s is not a C-contiguous buffer (numpy "
                      "array, memory map, memoryview, array.array or bytes)",
                      what, Py_TYPE(obj)->tp_name);
        raise_as(Unreadable, &err);
        return -1;
    }
    if (format_dtype(v, dtype) && (uintptr_t)v->buf % (size_t)v->itemsize) {
        /* The engine loads whole items: reading them misaligned is
         * undefined behaviour in C (numpy's unaligned views, pickled
         * frames), so such input takes the copy path. */
        err.code = EG_EINPUT;
        PyOS_snprintf(err.msg, sizeof err.msg,
                      "%s: buffer not aligned to its %zd-byte items", what,
                      v->itemsize);
        PyBuffer_Release(v);
        raise_as(Unreadable, &err);
        return -1;
    }
    if (!format_dtype(v, dtype)) {
        err.code = EG_EDTYPE;
        PyOS_snprintf(err.msg, sizeof err.msg,
                      "%s: unsupported dtype (buffer format '%.16s', "
                      "%zd-byte items; edgegrid reads float32, float64 and "
                      "8- to 64-bit native-order integers)",
                      what, v->format ? v->format : "B", v->itemsize);
        PyBuffer_Release(v);
        raise_as(Unreadable, &err);
        return -1;
    }
    return 0;
}

/* nan= of every function: "propagate" or "omit"; 0, or -1 with the
 * InputError raised. */
static int parse_nan(const char *nan, eg_nan_policy *out)
{
    if (strcmp(nan, "propagate") == 0)
        *out = EG_NAN_PROPAGATE;
    else if (strcmp(nan, "omit") == 0)
        *out = EG_NAN_OMIT;
    else {
        raise_input(EG_EUSAGE, "nan: '%.64s' (expected propagate or omit)",
                    nan);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------- options, values */

static int parse_opts(eg_reduce_opts *o, const char *ops, const char *mode,
                      const char *nan, long long ddof, long long chunk)
{
    eg_error err = {0};
    eg_reduce_opts_init(o);
    if (eg_ops_parse(ops, &o->ops, &err) != EG_OK) {
        raise_eg(&err);
        return -1;
    }
    if (strcmp(mode, "fast") == 0)
        o->mode = EG_MODE_FAST;
    else if (strcmp(mode, "exact") == 0)
        o->mode = EG_MODE_EXACT;
    else {
        raise_input(EG_EUSAGE, "mode: '%.64s' (expected fast or exact)", mode);
        return -1;
    }
    if (parse_nan(nan, &o->nan) != 0)
        return -1;
    if (ddof < 0 || ddof > 0x7fffffff) {
        raise_input(EG_EUSAGE, "ddof: %lld (expected 0 or more)", ddof);
        return -1;
    }
    if (chunk < 0) {
        raise_input(EG_EUSAGE,
                    "chunk: %lld (expected a positive multiple of "
                    "%u, or None)",
                    chunk, EG_LANE_ELEMS);
        return -1;
    }
    o->ddof = (unsigned)ddof;
    o->chunk_elems = (uint64_t)chunk;
    return 0;
}

static PyObject *number(eg_number n)
{
    switch (n.kind) {
    case EG_NUM_F64:
        return PyFloat_FromDouble(n.v.f);
    case EG_NUM_I64:
        return PyLong_FromLongLong(n.v.i);
    case EG_NUM_U64:
        return PyLong_FromUnsignedLongLong(n.v.u);
    default:
        Py_RETURN_NONE;
    }
}

/* {op name: value} for the ops the result holds, in eg_op order. */
static PyObject *values_dict(const eg_result *r)
{
    PyObject *d = PyDict_New();
    for (unsigned op = 0; d && op < EG_OP_COUNT_ALL; op++) {
        if (!(r->ops & EG_OPS_BIT(op)))
            continue;
        PyObject *v = number(r->value[op]);
        if (!v || PyDict_SetItem(d, op_names[op], v) != 0)
            Py_CLEAR(d);
        Py_XDECREF(v);
    }
    return d;
}

/* One (index, name, elements, chunks, calls, seconds) per device: tuples,
 * which the Python layer turns into dicts when they are read. */
static PyObject *device_stats(const eg_result *r)
{
    PyObject *t = PyTuple_New((Py_ssize_t)r->ndevices);
    for (size_t i = 0; t && i < r->ndevices; i++) {
        const eg_device_stats *d = &r->devices[i];
        /* "host" for the host backend of an engine that asked no OpenCL
         * (EG_INDEX_UNLISTED), as the command line prints it */
        PyObject *item =
            d->index == EG_INDEX_UNLISTED
                ? Py_BuildValue("(ssKKKd)", "host", d->name,
                                (unsigned long long)d->elements,
                                (unsigned long long)d->chunks,
                                (unsigned long long)d->calls, d->seconds)
                : Py_BuildValue(
            "(IsKKKd)", d->index, d->name, (unsigned long long)d->elements,
            (unsigned long long)d->chunks, (unsigned long long)d->calls,
            d->seconds);
        if (!item)
            Py_CLEAR(t);
        else
            PyTuple_SET_ITEM(t, (Py_ssize_t)i, item);
    }
    return t;
}

/* (values or partial, (device stats, seconds, notes, elements, dtype,
 * mode)): the Python layer shapes it.  Steals `first`. */
static PyObject *result_tuple(PyObject *first, const eg_result *r)
{
    if (!first)
        return NULL;
    PyObject *st = PyTuple_New(6), *out = PyTuple_New(2);
    PyObject *items[6] = {
        device_stats(r),
        PyFloat_FromDouble(r->seconds),
        PyUnicode_FromString(r->notes),
        PyLong_FromUnsignedLongLong(r->elements),
        dtype_names[(unsigned)r->dtype < EG_DTYPE_COUNT ? r->dtype : 0],
        mode_names[r->mode == EG_MODE_EXACT]};
    Py_INCREF(items[4]);
    Py_INCREF(items[5]);
    int ok = st && out;
    for (int i = 0; i < 6; i++) {
        ok = ok && items[i];
        if (st && items[i])
            PyTuple_SET_ITEM(st, i, items[i]);
        else
            Py_XDECREF(items[i]);
    }
    if (!ok) {
        Py_XDECREF(st);
        Py_XDECREF(out);
        Py_DECREF(first);
        return NULL;
    }
    PyTuple_SET_ITEM(out, 0, first);
    PyTuple_SET_ITEM(out, 1, st);
    return out;
}

static PyObject *device_info(const eg_device_info *d)
{
    return Py_BuildValue(
        "{s:I,s:s,s:s,s:s,s:s,s:I,s:K,s:K,s:O,s:O}", "index", d->index, "type",
        eg_device_kind_name(d->kind), "platform", d->platform, "name", d->name,
        "driver", d->driver, "compute_units", d->compute_units, "global_mem",
        (unsigned long long)d->global_mem, "max_alloc",
        (unsigned long long)d->max_alloc, "unified_memory",
        d->unified_memory ? Py_True : Py_False, "fp64",
        d->fp64 ? Py_True : Py_False);
}

/* ---------------------------------------------------------------- Engine */

typedef struct {
    PyObject_HEAD eg_engine *eng; /* NULL once closed */
    PyThread_type_lock lock;      /* one engine call at a time */
} EngineObject;

static int engine_init(EngineObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"devices", NULL};
    const char *spec = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|z", kwlist, &spec))
        return -1;
    if (self->eng) {
        PyErr_SetString(PyExc_TypeError, "Engine is already initialised");
        return -1;
    }
    if (!self->lock && !(self->lock = PyThread_allocate_lock())) {
        PyErr_NoMemory();
        return -1;
    }
    eg_error err = {0};
    eg_status st;
    eg_engine *e = NULL;
    Py_BEGIN_ALLOW_THREADS st = eg_engine_open(&e, spec, &err);
    Py_END_ALLOW_THREADS if (st != EG_OK)
    {
        raise_eg(&err);
        return -1;
    }
    self->eng = e;
    return 0;
}

static void engine_dealloc(EngineObject *self)
{
    eg_engine_close(&self->eng);
    if (self->lock)
        PyThread_free_lock(self->lock);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *closed_error(void)
{
    return raise_input(EG_EUSAGE, "engine: used after close()");
}

static PyObject *engine_close(EngineObject *self, PyObject *unused)
{
    (void)unused;
    if (self->lock) {
        Py_BEGIN_ALLOW_THREADS PyThread_acquire_lock(self->lock, WAIT_LOCK);
        eg_engine_close(&self->eng);
        PyThread_release_lock(self->lock);
        Py_END_ALLOW_THREADS
    }
    Py_RETURN_NONE;
}

static PyObject *engine_closed(EngineObject *self, void *unused)
{
    (void)unused;
    return PyBool_FromLong(self->eng == NULL);
}

/* Takes the engine's lock with the GIL released: nobody waits for it
 * while holding the GIL, so the two locks cannot deadlock.  0 when the
 * engine is open (the caller then releases the lock), else raises. */
static int engine_hold(EngineObject *self)
{
    if (!self->lock) {
        closed_error(); /* made by __new__ without __init__ */
        return -1;
    }
    Py_BEGIN_ALLOW_THREADS PyThread_acquire_lock(self->lock, WAIT_LOCK);
    Py_END_ALLOW_THREADS if (!self->eng)
    {
        PyThread_release_lock(self->lock);
        closed_error();
        return -1;
    }
    return 0;
}

static PyObject *engine_devices(EngineObject *self, PyObject *unused)
{
    (void)unused;
    if (engine_hold(self) != 0)
        return NULL;
    /* The first call may wait for device discovery (eg_engine_open). */
    size_t n;
    Py_BEGIN_ALLOW_THREADS n = eg_engine_device_count(self->eng);
    Py_END_ALLOW_THREADS PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        PyObject *d = device_info(eg_engine_device(self->eng, i));
        if (!d)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, (Py_ssize_t)i, d);
    }
    PyObject *out =
        list ? Py_BuildValue("(Ns)", list, eg_engine_notes(self->eng)) : NULL;
    PyThread_release_lock(self->lock);
    return out;
}

/* _reduce(x, y, ops, mode, nan, ddof, chunk, partial): eg_reduce, or
 * eg_reduce_partial when `partial` (the first item is then the bytes). */
static PyObject *engine_reduce(EngineObject *self, PyObject *const *args,
                               Py_ssize_t nargs)
{
    /* Parsed by hand (METH_FASTCALL): the format parser costs more than
     * the engine on a few KiB. */
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError, "_reduce takes 8 arguments");
        return NULL;
    }
    PyObject *xo = args[0], *yo = args[1];
    const char *ops = PyUnicode_AsUTF8(args[2]);
    const char *mode = ops ? PyUnicode_AsUTF8(args[3]) : NULL;
    const char *nan = mode ? PyUnicode_AsUTF8(args[4]) : NULL;
    if (!nan)
        return NULL;
    long long ddof = PyLong_AsLongLong(args[5]);
    if (ddof == -1 && PyErr_Occurred())
        return NULL;
    long long chunk = PyLong_AsLongLong(args[6]);
    if (chunk == -1 && PyErr_Occurred())
        return NULL;
    int partial = PyObject_IsTrue(args[7]);
    if (partial < 0)
        return NULL;
    if (!self->lock)
        return closed_error(); /* made by __new__ without __init__ */
    eg_reduce_opts o;
    if (parse_opts(&o, ops, mode, nan, ddof, chunk) != 0)
        return NULL;
    Py_buffer xv, yv;
    eg_dtype dt, ydt;
    int has_y = yo != Py_None;
    if (get_input(xo, "x", &xv, &dt) != 0)
        return NULL;
    if (has_y && get_input(yo, "y", &yv, &ydt) != 0) {
        PyBuffer_Release(&xv);
        return NULL;
    }
    uint64_t count = (uint64_t)(xv.len / xv.itemsize);
    PyObject *out = NULL, *blob = NULL;
    if (has_y && ydt != dt)
        raise_input(EG_EINPUT, "y is %s but x is %s; dot needs one dtype",
                    eg_dtype_numpy_name(ydt), eg_dtype_numpy_name(dt));
    else if (has_y && (uint64_t)(yv.len / yv.itemsize) != count)
        raise_input(EG_EINPUT,
                    "y has %zd elements but x has %llu; dot needs the same "
                    "count",
                    yv.len / yv.itemsize, (unsigned long long)count);
    else if (partial && !(blob = PyBytes_FromStringAndSize(
                              NULL, (Py_ssize_t)eg_partial_size())))
        ;
    else {
        eg_result r;
        eg_error err = {0};
        eg_status st = EG_OK;
        int closed = 0;
        const void *y = has_y ? yv.buf : NULL;
        Py_BEGIN_ALLOW_THREADS PyThread_acquire_lock(self->lock, WAIT_LOCK);
        if (!self->eng)
            closed = 1;
        else if (partial)
            st = eg_reduce_partial(self->eng, xv.buf, y, count, dt, &o,
                                   (uint8_t *)PyBytes_AS_STRING(blob),
                                   eg_partial_size(), &r, &err);
        else
            st = eg_reduce(self->eng, xv.buf, y, count, dt, &o, &r, &err);
        PyThread_release_lock(self->lock);
        Py_END_ALLOW_THREADS if (closed) closed_error();
        else if (st != EG_OK) raise_eg(&err);
        else if (partial)
        {
            out = result_tuple(blob, &r);
            blob = NULL;
        }
        else out = result_tuple(values_dict(&r), &r);
    }
    Py_XDECREF(blob);
    if (has_y)
        PyBuffer_Release(&yv);
    PyBuffer_Release(&xv);
    return out;
}

/* _reduce_file(path, with_path, ops, mode, nan, ddof, chunk) */
static PyObject *engine_reduce_file(EngineObject *self, PyObject *args)
{
    PyObject *po, *wo;
    const char *ops, *mode, *nan;
    long long ddof, chunk;
    if (!PyArg_ParseTuple(args, "O&O&sssLL", PyUnicode_FSConverter, &po,
                          PyUnicode_FSConverter, &wo, &ops, &mode, &nan, &ddof,
                          &chunk))
        return NULL;
    PyObject *out = NULL;
    eg_reduce_opts o;
    if (!self->lock)
        closed_error(); /* made by __new__ without __init__ */
    else if (parse_opts(&o, ops, mode, nan, ddof, chunk) == 0) {
        const char *path = PyBytes_AS_STRING(po);
        const char *with = PyBytes_GET_SIZE(wo) ? PyBytes_AS_STRING(wo) : NULL;
        eg_result r;
        eg_error err = {0};
        eg_status st = EG_OK;
        int closed = 0;
        Py_BEGIN_ALLOW_THREADS PyThread_acquire_lock(self->lock, WAIT_LOCK);
        if (!self->eng)
            closed = 1;
        else
            st = eg_reduce_file(self->eng, path, with, NULL, &o, &r, &err);
        PyThread_release_lock(self->lock);
        Py_END_ALLOW_THREADS if (closed) closed_error();
        else if (st != EG_OK) raise_eg(&err);
        else out = result_tuple(values_dict(&r), &r);
    }
    Py_DECREF(po);
    Py_DECREF(wo);
    return out;
}

/* ---------------------------------------------- structured, quantiles */

/* A tuple of Python ints as uint64s (shape) or ints (axes): at most
 * EG_MAX_DIMS of them. */
static int int_tuple(PyObject *t, const char *what, long long *out, unsigned *n)
{
    if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) > EG_MAX_DIMS) {
        raise_input(EG_EUSAGE, "%s: expected a tuple of at most %d ints", what,
                    EG_MAX_DIMS);
        return -1;
    }
    *n = (unsigned)PyTuple_GET_SIZE(t);
    for (unsigned i = 0; i < *n; i++) {
        out[i] = PyLong_AsLongLong(PyTuple_GET_ITEM(t, i));
        if (out[i] == -1 && PyErr_Occurred())
            return -1;
    }
    return 0;
}

/* shape (a tuple, () for a file: it names its own), axes (() for every
 * axis) and keepdims into so. */
static int struct_opts_from(eg_struct_opts *so, PyObject *shape_o,
                            PyObject *axes_o, int keepdims)
{
    long long vals[EG_MAX_DIMS];
    unsigned n;
    eg_struct_opts_init(so);
    if (int_tuple(shape_o, "shape", vals, &n) != 0)
        return -1;
    so->shape_ndim = n;
    for (unsigned i = 0; i < n; i++)
        so->shape[i] = (uint64_t)vals[i];
    if (int_tuple(axes_o, "axis", vals, &n) != 0)
        return -1;
    so->naxes = n;
    for (unsigned i = 0; i < n; i++) {
        if (vals[i] < -EG_MAX_DIMS || vals[i] > EG_MAX_DIMS) {
            raise_input(EG_EUSAGE, "axis: %lld is out of range", vals[i]);
            return -1;
        }
        so->axes[i] = (int)vals[i];
    }
    so->keepdims = keepdims;
    return 0;
}

/* {op: (kind, bytes)} of a structured result: kind "f8", "i8", "u8" or
 * None (no value anywhere); numpy arrays are made from them in Python. */
static PyObject *sresult_ops(const eg_sresult *s)
{
    PyObject *d = PyDict_New();
    for (unsigned op = 0; d && op < EG_OP_COUNT_ALL; op++) {
        if (!(s->r.ops & EG_OPS_BIT(op)))
            continue;
        const eg_array_result *a = &s->op[op];
        const char *kind = a->kind == EG_NUM_F64   ? "f8"
                           : a->kind == EG_NUM_I64 ? "i8"
                           : a->kind == EG_NUM_U64 ? "u8"
                                                   : NULL;
        PyObject *v = kind && a->data
                          ? Py_BuildValue("(sy#)", kind, (const char *)a->data,
                                          (Py_ssize_t)(s->nout * 8))
                          : Py_BuildValue("(OO)", Py_None, Py_None);
        if (!v || PyDict_SetItem(d, op_names[op], v) != 0)
            Py_CLEAR(d);
        Py_XDECREF(v);
    }
    return d;
}

/* (ops dict, result shape, groups bytes or None, groups unsigned) */
static PyObject *sresult_first(const eg_sresult *s)
{
    PyObject *ops = sresult_ops(s);
    PyObject *shape = ops ? PyTuple_New(s->ndim) : NULL;
    for (unsigned i = 0; shape && i < s->ndim; i++) {
        PyObject *v = PyLong_FromUnsignedLongLong(s->shape[i]);
        if (!v)
            Py_CLEAR(shape);
        else
            PyTuple_SET_ITEM(shape, i, v);
    }
    if (!shape) {
        Py_XDECREF(ops);
        return NULL;
    }
    if (!s->groups)
        return Py_BuildValue("(NNOO)", ops, shape, Py_None, Py_False);
    return Py_BuildValue("(NNy#O)", ops, shape, (const char *)s->groups,
                         (Py_ssize_t)(s->ngroups * 8),
                         s->groups_unsigned ? Py_True : Py_False);
}

/* _reduce_structured(x, y, ops, mode, nan, ddof, chunk, shape, axes,
 * keepdims, keys): eg_reduce_structured.  axes: a tuple (() for every
 * axis); keys: a buffer of integers, one per row, or None. */
static PyObject *engine_reduce_structured(EngineObject *self, PyObject *args)
{
    PyObject *xo, *yo, *shape_o, *axes_o, *keys_o;
    const char *ops, *mode, *nan;
    long long ddof, chunk;
    int keepdims;
    if (!PyArg_ParseTuple(args, "OOsssLLOOpO", &xo, &yo, &ops, &mode, &nan,
                          &ddof, &chunk, &shape_o, &axes_o, &keepdims, &keys_o))
        return NULL;
    if (!self->lock)
        return closed_error();
    eg_reduce_opts o;
    eg_struct_opts so;
    if (parse_opts(&o, ops, mode, nan, ddof, chunk) != 0 ||
        struct_opts_from(&so, shape_o, axes_o, keepdims) != 0)
        return NULL;
    Py_buffer xv, yv, kv;
    eg_dtype dt, ydt, kdt;
    int has_y = yo != Py_None, has_k = keys_o != Py_None;
    if (get_input(xo, "x", &xv, &dt) != 0)
        return NULL;
    if (has_y && get_input(yo, "y", &yv, &ydt) != 0) {
        PyBuffer_Release(&xv);
        return NULL;
    }
    if (has_k && get_input(keys_o, "by", &kv, &kdt) != 0) {
        if (has_y)
            PyBuffer_Release(&yv);
        PyBuffer_Release(&xv);
        return NULL;
    }
    if (has_k) {
        so.keys = kv.buf;
        so.key_dtype = kdt;
        so.nkeys = (uint64_t)(kv.len / kv.itemsize);
    }
    uint64_t count = (uint64_t)(xv.len / xv.itemsize);
    PyObject *out = NULL;
    if (has_y && ydt != dt)
        raise_input(EG_EINPUT, "y is %s but x is %s; dot needs one dtype",
                    eg_dtype_numpy_name(ydt), eg_dtype_numpy_name(dt));
    else if (has_y && (uint64_t)(yv.len / yv.itemsize) != count)
        raise_input(EG_EINPUT,
                    "y has %zd elements but x has %llu; dot needs the same "
                    "count",
                    yv.len / yv.itemsize, (unsigned long long)count);
    else {
        eg_sresult s;
        memset(&s, 0, sizeof s);
        eg_error err = {0};
        eg_status st = EG_OK;
        int closed = 0;
        const void *y = has_y ? yv.buf : NULL;
        Py_BEGIN_ALLOW_THREADS PyThread_acquire_lock(self->lock, WAIT_LOCK);
        if (!self->eng)
            closed = 1;
        else
            st = eg_reduce_structured(self->eng, xv.buf, y, count, dt, &so, &o,
                                      &s, &err);
        PyThread_release_lock(self->lock);
        Py_END_ALLOW_THREADS if (closed) closed_error();
        else if (st != EG_OK) raise_eg(&err);
        else out = result_tuple(sresult_first(&s), &s.r);
        eg_sresult_free(&s);
    }
    if (has_k)
        PyBuffer_Release(&kv);
    if (has_y)
        PyBuffer_Release(&yv);
    PyBuffer_Release(&xv);
    return out;
}

/* A tuple of the first n numbers. */
static PyObject *numbers(const eg_number *v, size_t n)
{
    PyObject *t = PyTuple_New((Py_ssize_t)n);
    for (size_t i = 0; t && i < n; i++) {
        PyObject *item = number(v[i]);
        if (!item)
            Py_CLEAR(t);
        else
            PyTuple_SET_ITEM(t, (Py_ssize_t)i, item);
    }
    return t;
}

/* The quantile options, checked: q a tuple of floats, range None or
 * (lo, hi). */
static int quant_opts_from(eg_quant_opts *qo, unsigned qops, PyObject *q_o,
                           const char *method, const char *nan,
                           double rel_err, unsigned bins, PyObject *range_o)
{
    eg_error err = {0};
    eg_quant_opts_init(qo);
    qo->qops = qops;
    if (!PyTuple_Check(q_o) || PyTuple_GET_SIZE(q_o) > EG_QUANT_MAX_Q) {
        raise_input(EG_EUSAGE, "q: at most %d values", EG_QUANT_MAX_Q);
        return -1;
    }
    qo->nq = (size_t)PyTuple_GET_SIZE(q_o);
    for (size_t i = 0; i < qo->nq; i++) {
        qo->q[i] = PyFloat_AsDouble(PyTuple_GET_ITEM(q_o, (Py_ssize_t)i));
        if (qo->q[i] == -1.0 && PyErr_Occurred())
            return -1;
    }
    if (eg_qmethod_parse(method, &qo->method, &err) != EG_OK) {
        raise_eg(&err);
        return -1;
    }
    if (parse_nan(nan, &qo->nan) != 0)
        return -1;
    qo->rel_err = rel_err;
    qo->bins = bins;
    if (range_o != Py_None) {
        if (!PyArg_ParseTuple(range_o, "dd", &qo->lo, &qo->hi))
            return -1;
        qo->have_range = 1;
    }
    if (eg_quant_opts_check(qo, &err) != EG_OK) {
        raise_eg(&err);
        return -1;
    }
    return 0;
}

/* _quant(x, qops, q, method, nan, rel_err, bins, range): eg_quant; q a
 * tuple of floats, range None or (lo, hi).  Returns a dict: median,
 * quantile, approx (tuples), counts (uint64 bytes), edges (float64 bytes),
 * below, above, nan, passes, seconds. */
static PyObject *engine_quant(EngineObject *self, PyObject *args)
{
    PyObject *xo, *q_o, *range_o;
    unsigned qops, bins;
    const char *method, *nan;
    double rel_err;
    if (!PyArg_ParseTuple(args, "OIOssdIO", &xo, &qops, &q_o, &method, &nan,
                          &rel_err, &bins, &range_o))
        return NULL;
    if (!self->lock)
        return closed_error();
    eg_quant_opts qo;
    eg_error err = {0};
    if (quant_opts_from(&qo, qops, q_o, method, nan, rel_err, bins,
                        range_o) != 0)
        return NULL;
    Py_buffer xv;
    eg_dtype dt;
    if (get_input(xo, "x", &xv, &dt) != 0)
        return NULL;
    uint64_t count = (uint64_t)(xv.len / xv.itemsize);
    eg_quant_result r;
    memset(&r, 0, sizeof r);
    eg_status st = EG_OK;
    int closed = 0;
    Py_BEGIN_ALLOW_THREADS PyThread_acquire_lock(self->lock, WAIT_LOCK);
    if (!self->eng)
        closed = 1;
    else
        st = eg_quant(self->eng, xv.buf, count, dt, &qo, &r, &err);
    PyThread_release_lock(self->lock);
    Py_END_ALLOW_THREADS PyBuffer_Release(&xv);
    PyObject *out = NULL;
    if (closed)
        closed_error();
    else if (st != EG_OK)
        raise_eg(&err);
    else {
        Py_ssize_t nb = r.counts ? (Py_ssize_t)r.nbins : 0;
        out = Py_BuildValue(
            "{s:N,s:N,s:N,s:y#,s:y#,s:K,s:K,s:K,s:I,s:d}", "median",
            number(r.median), "quantile", numbers(r.quantile, r.nq), "approx",
            numbers(r.approx, r.nq), "counts", (const char *)r.counts, nb * 8,
            "edges", (const char *)r.edges, r.edges ? (nb + 1) * 8 : 0, "below",
            (unsigned long long)r.below, "above", (unsigned long long)r.above,
            "nan", (unsigned long long)r.nan, "passes", r.passes, "seconds",
            r.seconds);
    }
    eg_quant_result_free(&r);
    return out;
}

/* (kind, bytes) of one quantile array of n values, or None. */
static PyObject *qarray(const eg_array_result *a, uint64_t n)
{
    if (!a->data)
        Py_RETURN_NONE;
    const char *kind = a->kind == EG_NUM_I64   ? "i8"
                       : a->kind == EG_NUM_U64 ? "u8"
                                               : "f8";
    return Py_BuildValue("(sy#)", kind, (const char *)a->data,
                         (Py_ssize_t)(n * 8));
}

/* bytes of n 8-byte words, or b"" */
static PyObject *words(const void *p, uint64_t n)
{
    return PyBytes_FromStringAndSize(p ? (const char *)p : "",
                                     p ? (Py_ssize_t)(n * 8) : 0);
}

/* The quantile arrays of a structured result, as a dict of (kind, bytes)
 * and bytes; shapes are the Python layer's (edgegrid.h). */
static PyObject *squant_dict(const eg_squant_result *q)
{
    uint64_t nb = q->nbins, ne = q->shared_edges ? 1 : q->nout;
    return Py_BuildValue(
        "{s:N,s:N,s:N,s:N,s:N,s:O,s:N,s:N,s:N,s:I}", "quantile",
        qarray(&q->quantile, q->nq * q->nout), "median",
        qarray(&q->median, q->nout), "approx",
        qarray(&q->approx, q->nq * q->nout), "counts",
        words(q->counts, q->nout * nb), "edges",
        words(q->edges, nb ? ne * (nb + 1) : 0), "shared_edges",
        q->shared_edges ? Py_True : Py_False, "below",
        words(q->below, q->nout), "above", words(q->above, q->nout), "nan",
        words(q->nan, q->nout), "passes", q->passes);
}

/* _quant_structured(x, shape, axes, keepdims, keys, qops, q, method, nan,
 * rel_err, bins, range): eg_reduce_structured_quant with no ordinary op.
 * Returns ((quantile dict, result shape, groups, unsigned), stats). */
static PyObject *engine_quant_structured(EngineObject *self, PyObject *args)
{
    PyObject *xo, *shape_o, *axes_o, *keys_o, *q_o, *range_o;
    int keepdims;
    unsigned qops, bins;
    const char *method, *nan;
    double rel_err;
    if (!PyArg_ParseTuple(args, "OOOpOIOssdIO", &xo, &shape_o, &axes_o,
                          &keepdims, &keys_o, &qops, &q_o, &method, &nan,
                          &rel_err, &bins, &range_o))
        return NULL;
    if (!self->lock)
        return closed_error();
    eg_struct_opts so;
    eg_quant_opts qo;
    eg_reduce_opts o;
    if (struct_opts_from(&so, shape_o, axes_o, keepdims) != 0 ||
        quant_opts_from(&qo, qops, q_o, method, nan, rel_err, bins,
                        range_o) != 0)
        return NULL;
    eg_reduce_opts_init(&o);
    o.ops = 0;
    o.nan = qo.nan;
    Py_buffer xv, kv;
    eg_dtype dt, kdt;
    int has_k = keys_o != Py_None;
    if (get_input(xo, "x", &xv, &dt) != 0)
        return NULL;
    if (has_k && get_input(keys_o, "by", &kv, &kdt) != 0) {
        PyBuffer_Release(&xv);
        return NULL;
    }
    if (has_k) {
        so.keys = kv.buf;
        so.key_dtype = kdt;
        so.nkeys = (uint64_t)(kv.len / kv.itemsize);
    }
    eg_sresult s;
    eg_squant_result q;
    memset(&s, 0, sizeof s);
    memset(&q, 0, sizeof q);
    eg_error err = {0};
    eg_status st = EG_OK;
    int closed = 0;
    uint64_t count = (uint64_t)(xv.len / xv.itemsize);
    Py_BEGIN_ALLOW_THREADS PyThread_acquire_lock(self->lock, WAIT_LOCK);
    if (!self->eng)
        closed = 1;
    else
        st = eg_reduce_structured_quant(self->eng, xv.buf, count, dt, &so, &o,
                                        &qo, &s, &q, &err);
    PyThread_release_lock(self->lock);
    Py_END_ALLOW_THREADS PyObject *out = NULL;
    if (closed)
        closed_error();
    else if (st != EG_OK)
        raise_eg(&err);
    else {
        PyObject *first = sresult_first(&s);
        PyObject *qd = first ? squant_dict(&q) : NULL;
        if (qd && PyDict_Update(PyTuple_GET_ITEM(first, 0), qd) == 0)
            out = result_tuple(first, &s.r);
        else
            Py_XDECREF(first);
        Py_XDECREF(qd);
    }
    eg_sresult_free(&s);
    eg_squant_result_free(&q);
    if (has_k)
        PyBuffer_Release(&kv);
    PyBuffer_Release(&xv);
    return out;
}

/* _reduce_file_structured(path, with_path, ops, mode, nan, ddof, chunk,
 * axes, keepdims, keys, keys_path): eg_reduce_file_structured; keys a
 * buffer or None, keys_path "" or a .npy file of keys. */
static PyObject *engine_reduce_file_structured(EngineObject *self,
                                               PyObject *args)
{
    PyObject *po, *wo, *kpo, *axes_o, *keys_o;
    const char *ops, *mode, *nan;
    long long ddof, chunk;
    int keepdims;
    if (!PyArg_ParseTuple(args, "O&O&sssLLOpOO&", PyUnicode_FSConverter, &po,
                          PyUnicode_FSConverter, &wo, &ops, &mode, &nan, &ddof,
                          &chunk, &axes_o, &keepdims, &keys_o,
                          PyUnicode_FSConverter, &kpo))
        return NULL;
    PyObject *out = NULL, *no_shape = PyTuple_New(0);
    eg_reduce_opts o;
    eg_struct_opts so;
    Py_buffer kv;
    eg_dtype kdt;
    int has_k = 0;
    if (!self->lock)
        closed_error();
    else if (no_shape && parse_opts(&o, ops, mode, nan, ddof, chunk) == 0 &&
             struct_opts_from(&so, no_shape, axes_o, keepdims) == 0 &&
             (keys_o == Py_None ||
              (has_k = get_input(keys_o, "by", &kv, &kdt) == 0))) {
        const char *path = PyBytes_AS_STRING(po);
        const char *with = PyBytes_GET_SIZE(wo) ? PyBytes_AS_STRING(wo) : NULL;
        if (PyBytes_GET_SIZE(kpo))
            so.keys_path = PyBytes_AS_STRING(kpo);
        if (has_k) {
            so.keys = kv.buf;
            so.key_dtype = kdt;
            so.nkeys = (uint64_t)(kv.len / kv.itemsize);
        }
        eg_sresult s;
        memset(&s, 0, sizeof s);
        eg_error err = {0};
        eg_status st = EG_OK;
        int closed = 0;
        Py_BEGIN_ALLOW_THREADS PyThread_acquire_lock(self->lock, WAIT_LOCK);
        if (!self->eng)
            closed = 1;
        else
            st = eg_reduce_file_structured(self->eng, path, with, NULL, &so,
                                           &o, &s, &err);
        PyThread_release_lock(self->lock);
        Py_END_ALLOW_THREADS if (closed) closed_error();
        else if (st != EG_OK) raise_eg(&err);
        else out = result_tuple(sresult_first(&s), &s.r);
        eg_sresult_free(&s);
    }
    if (has_k)
        PyBuffer_Release(&kv);
    Py_XDECREF(no_shape);
    Py_DECREF(po);
    Py_DECREF(wo);
    Py_DECREF(kpo);
    return out;
}

static PyMethodDef engine_methods[] = {
    {"_reduce", (PyCFunction)(void (*)(void))engine_reduce, METH_FASTCALL,
     NULL},
    {"_reduce_file", (PyCFunction)engine_reduce_file, METH_VARARGS, NULL},
    {"_reduce_structured", (PyCFunction)engine_reduce_structured, METH_VARARGS,
     NULL},
    {"_quant", (PyCFunction)engine_quant, METH_VARARGS, NULL},
    {"_quant_structured", (PyCFunction)engine_quant_structured, METH_VARARGS,
     NULL},
    {"_reduce_file_structured", (PyCFunction)engine_reduce_file_structured,
     METH_VARARGS, NULL},
    {"_devices", (PyCFunction)engine_devices, METH_NOARGS, NULL},
    {"close", (PyCFunction)engine_close, METH_NOARGS,
     "Releases the engine's devices; later calls raise InputError."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef engine_getset[] = {
    {"closed", (getter)engine_closed, NULL, "True after close()", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyTypeObject EngineType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "edgegrid._edgegrid.Engine",
    .tp_basicsize = sizeof(EngineObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "An edgegrid engine on a set of devices (see edgegrid.Engine).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)engine_init,
    .tp_dealloc = (destructor)engine_dealloc,
    .tp_methods = engine_methods,
    .tp_getset = engine_getset,
};

/* ----------------------------------------------------- module functions */

static PyObject *mod_devices(PyObject *mod, PyObject *unused)
{
    (void)mod;
    (void)unused;
    eg_device_info *d = NULL;
    size_t n = 0;
    char notes[512] = "";
    eg_error err = {0};
    eg_status st;
    Py_BEGIN_ALLOW_THREADS st =
        eg_devices_list(&d, &n, notes, sizeof notes, &err);
    Py_END_ALLOW_THREADS if (st != EG_OK) return raise_eg(&err);
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        PyObject *item = device_info(&d[i]);
        if (!item)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, (Py_ssize_t)i, item);
    }
    free(d);
    return list ? Py_BuildValue("(Ns)", list, notes) : NULL;
}

/* A partial's bytes, from any bytes-like object. */
static int get_partial(PyObject *obj, const char *what, Py_buffer *v)
{
    if (PyObject_GetBuffer(obj, v, PyBUF_SIMPLE) != 0) {
        PyErr_Clear();
        raise_input(EG_EINPUT, "%s: a %.64s is not a partial (bytes)", what,
                    Py_TYPE(obj)->tp_name);
        return -1;
    }
    return 0;
}

static PyObject *mod_merge(PyObject *mod, PyObject *args)
{
    (void)mod;
    PyObject *ao, *bo;
    if (!PyArg_ParseTuple(args, "OO", &ao, &bo))
        return NULL;
    Py_buffer a, b;
    if (get_partial(ao, "left", &a) != 0)
        return NULL;
    if (get_partial(bo, "right", &b) != 0) {
        PyBuffer_Release(&a);
        return NULL;
    }
    PyObject *out = NULL;
    eg_error err = {0};
    if (a.len != b.len)
        raise_input(EG_EINPUT,
                    "merge: the partials have %zd and %zd bytes, expected "
                    "%zu each",
                    a.len, b.len, eg_partial_size());
    else if ((out = PyBytes_FromStringAndSize(NULL, a.len)) != NULL &&
             eg_partial_merge(a.buf, b.buf, (size_t)a.len,
                              (uint8_t *)PyBytes_AS_STRING(out),
                              &err) != EG_OK) {
        Py_CLEAR(out);
        raise_eg(&err);
    }
    PyBuffer_Release(&b);
    PyBuffer_Release(&a);
    return out;
}

static PyObject *mod_finalize(PyObject *mod, PyObject *arg)
{
    (void)mod;
    Py_buffer p;
    if (get_partial(arg, "state", &p) != 0)
        return NULL;
    eg_result r;
    eg_error err = {0};
    PyObject *out = NULL;
    if (eg_partial_finalize(p.buf, (size_t)p.len, &r, &err) != EG_OK)
        raise_eg(&err);
    else
        out = result_tuple(values_dict(&r), &r);
    PyBuffer_Release(&p);
    return out;
}

static PyObject *mod_partial_size(PyObject *mod, PyObject *unused)
{
    (void)mod;
    (void)unused;
    return PyLong_FromSize_t(eg_partial_size());
}

static PyMethodDef module_methods[] = {
    {"devices", mod_devices, METH_NOARGS, NULL},
    {"merge", mod_merge, METH_VARARGS, NULL},
    {"finalize", mod_finalize, METH_O, NULL},
    {"partial_size", mod_partial_size, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, .m_name = "edgegrid._edgegrid",
    .m_doc = "C layer of the edgegrid package; use `import edgegrid`.",
    .m_size = -1, .m_methods = module_methods};

PyMODINIT_FUNC PyInit__edgegrid(void)
{
    if (PyType_Ready(&EngineType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (!m)
        return NULL;
    InputError = PyErr_NewExceptionWithDoc(
        "edgegrid.InputError",
        "Bad input or usage (the edgegrid CLI's exit status 2).",
        PyExc_ValueError, NULL);
    EngineError = PyErr_NewExceptionWithDoc(
        "edgegrid.EngineError",
        "The engine failed at run time (the edgegrid CLI's exit status 1).",
        PyExc_RuntimeError, NULL);
    Unreadable = PyErr_NewExceptionWithDoc(
        "edgegrid._edgegrid.Unreadable",
        "Input without a C-contiguous native buffer of a supported dtype.",
        InputError, NULL);
    int named = 1;
    for (unsigned op = 0; op < EG_OP_COUNT_ALL; op++)
        named = named && (op_names[op] = PyUnicode_InternFromString(
                              eg_op_name((eg_op)op))) != NULL;
    for (unsigned t = 0; t < EG_DTYPE_COUNT; t++)
        named = named && (dtype_names[t] = PyUnicode_InternFromString(
                              eg_dtype_numpy_name((eg_dtype)t))) != NULL;
    named = named && (mode_names[0] = PyUnicode_InternFromString("fast")) &&
            (mode_names[1] = PyUnicode_InternFromString("exact"));
    if (!named || !InputError || !EngineError || !Unreadable ||
        PyModule_AddObjectRef(m, "Unreadable", Unreadable) < 0 ||
        PyModule_AddObjectRef(m, "InputError", InputError) < 0 ||
        PyModule_AddObjectRef(m, "EngineError", EngineError) < 0 ||
        PyModule_AddObjectRef(m, "Engine", (PyObject *)&EngineType) < 0 ||
        PyModule_AddIntConstant(m, "LANE_ELEMS", EG_LANE_ELEMS) < 0 ||
        PyModule_AddIntConstant(m, "QOP_MEDIAN", EG_QOP_MEDIAN) < 0 ||
        PyModule_AddIntConstant(m, "QOP_QUANTILE", EG_QOP_QUANTILE) < 0 ||
        PyModule_AddIntConstant(m, "QOP_APPROX", EG_QOP_APPROX) < 0 ||
        PyModule_AddIntConstant(m, "QOP_HIST", EG_QOP_HIST) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
