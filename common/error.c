#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int star_fail_at(star_error *e, const char *file, int line, const char *fmt, ...) {
    if (!e) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    snprintf(e->where, sizeof e->where, "%s:%d", file, line);
    return -1;
}

int star_error_prefix(star_error *e, const char *fmt, ...) {
    if (!e) return -1;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char old[sizeof e->msg];
    memcpy(old, e->msg, sizeof old);
    snprintf(e->msg, sizeof e->msg, "%s: %s", prefix, old);
    return -1;
}

void star_error_print(const star_error *e) {
    const char *dbg = getenv("STAR_DEBUG");
    if (dbg && dbg[0] == '1' && e->where[0])
        fprintf(stderr, "star: error: %s [%s]\n", e->msg, e->where);
    else
        fprintf(stderr, "star: error: %s\n", e->msg);
}

static void die_alloc(size_t n, const char *file, int line) {
    fprintf(stderr, "star: fatal: out of memory allocating %zu bytes at %s:%d\n", n, file, line);
    abort();
}

void *star_malloc_at(size_t n, const char *file, int line) {
    void *p = malloc(n ? n : 1);
    if (!p) die_alloc(n, file, line);
    return p;
}

void *star_calloc_at(size_t count, size_t size, const char *file, int line) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) die_alloc(count * size, file, line);
    return p;
}

void *star_realloc_at(void *old, size_t n, const char *file, int line) {
    void *p = realloc(old, n ? n : 1);
    if (!p) die_alloc(n, file, line);
    return p;
}

char *star_strdup_at(const char *s, const char *file, int line) {
    size_t n = strlen(s) + 1;
    char *p = star_malloc_at(n, file, line);
    memcpy(p, s, n);
    return p;
}
