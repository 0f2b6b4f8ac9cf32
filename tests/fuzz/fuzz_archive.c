// Fuzz harness: the archive reader (archive_load), as on `star search --resume`.
// The input is the archive.jsonl file. Property: a load either succeeds or fails with a
// message; a file whose torn last line was cut off loads again without cutting.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "search/archive.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const names[] = {"quality", "params", "cache_bytes"};
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    if (fd < 0) return 0;
    fitness_cache cache;
    fitness_cache_init(&cache);
    long n_lines = 0;
    star_error err;
    // The reader reports a torn last line on stderr; kept out of the fuzzer's log.
    int saved = dup(2), devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, 2);
    int rc = archive_load(path, names, 3, &cache, &n_lines, &err);
    if (saved >= 0) dup2(saved, 2);
    if (saved >= 0) close(saved);
    if (devnull >= 0) close(devnull);
    if (rc == 0) {
        FUZZ_ASSERT(cache.count <= n_lines, "%ld cache entries from %ld lines", cache.count, n_lines);
        struct stat st;
        FUZZ_ASSERT(fstat(fd, &st) == 0 && (st.st_size == 0 || data[st.st_size - 1] == '\n'),
                    "a loaded archive does not end with a whole line");
        long again = 0;
        fitness_cache c2;
        fitness_cache_init(&c2);
        FUZZ_ASSERT(archive_load(path, names, 3, &c2, &again, &err) == 0 && again == n_lines,
                    "a second load of the same archive differs");
        fitness_cache_free(&c2);
    } else {
        FUZZ_ASSERT(err.msg[0] != '\0', "a failed load left no message");
    }
    fitness_cache_free(&cache);
    close(fd);
    return 0;
}
