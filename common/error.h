// star: errors. Library code never exits: it fills a star_error and returns -1 up to
// the command, which prints the message and exits non-zero. The message is written
// for the user (it names the file, line and key, or the gene position); `where`
// records the source file:line that raised it, printed with STAR_DEBUG=1.
#ifndef STAR_COMMON_ERROR_H
#define STAR_COMMON_ERROR_H

#include <stddef.h>

typedef struct star_error {
    char msg[1024];
    char where[128];
} star_error;

// Formats the message into e (if e is not NULL) and returns -1, so a caller can write
// `return STAR_FAIL(err, "...", ...);`.
int star_fail_at(star_error *e, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define STAR_FAIL(e, ...) star_fail_at((e), __FILE__, __LINE__, __VA_ARGS__)

// Prefixes an existing message: "context: old message".
int star_error_prefix(star_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// Prints "star: error: msg" (and where, with STAR_DEBUG=1) to stderr.
void star_error_print(const star_error *e);

// Allocation that cannot fail quietly: on failure prints file:line and the size, then
// aborts. Used for bookkeeping; model tensors go through a checked planner instead.
void *star_malloc_at(size_t n, const char *file, int line);
void *star_calloc_at(size_t count, size_t size, const char *file, int line);
void *star_realloc_at(void *p, size_t n, const char *file, int line);
char *star_strdup_at(const char *s, const char *file, int line);
#define star_malloc(n) star_malloc_at((n), __FILE__, __LINE__)
#define star_calloc(c, s) star_calloc_at((c), (s), __FILE__, __LINE__)
#define star_realloc(p, n) star_realloc_at((p), (n), __FILE__, __LINE__)
#define star_strdup(s) star_strdup_at((s), __FILE__, __LINE__)

#endif
