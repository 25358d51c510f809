/* error.c - status names and the eg_error filling helpers. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *eg_status_name(eg_status s)
{
    switch (s) {
#define EG_XX_NAME(name, value, cls, text)                                  \
    case EG_##name:                                                          \
        return #name;
        EG_ERRNO_MAP(EG_XX_NAME)
#undef EG_XX_NAME
    }
    return "EUNKNOWN";
}

const char *eg_strerror(eg_status s)
{
    switch (s) {
#define EG_XX_TEXT(name, value, cls, text)                                  \
    case EG_##name:                                                          \
        return text;
        EG_ERRNO_MAP(EG_XX_TEXT)
#undef EG_XX_TEXT
    }
    return "unknown error";
}

int eg_status_exit_code(eg_status s)
{
    switch (s) {
#define EG_XX_CLASS(name, value, cls, text)                                 \
    case EG_##name:                                                          \
        return cls;
        EG_ERRNO_MAP(EG_XX_CLASS)
#undef EG_XX_CLASS
    }
    return 1;
}

eg_status eg_error_set(eg_error *err, eg_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void eg_error_prefix(eg_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[EG_ERROR_MSG_MAX], old[EG_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t plen = strlen(prefix);
    if (plen + 2 >= sizeof err->msg)
        plen = sizeof err->msg - 3;
    memcpy(err->msg, prefix, plen);
    memcpy(err->msg + plen, ": ", 2);
    size_t rest = sizeof err->msg - plen - 3;
    size_t olen = strnlen(old, rest);
    memcpy(err->msg + plen + 2, old, olen);
    err->msg[plen + 2 + olen] = '\0';
}

void eg_error_clear(eg_error *err)
{
    if (err) {
        err->code = EG_OK;
        err->msg[0] = '\0';
    }
}

void eg_notes_append(char *notes, size_t len, const char *fmt, ...)
{
    if (!notes || len == 0)
        return;
    size_t used = strnlen(notes, len - 1);
    notes[used] = '\0';
    if (used > 0 && used + 2 < len) {
        memcpy(notes + used, "; ", 3);
        used += 2;
    }
    if (used + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(notes + used, len - used, fmt, ap);
    va_end(ap);
}
