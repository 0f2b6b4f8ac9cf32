// The archive: lines written by archive_append read back bit-exact by archive_load,
// keyed per fidelity; a torn last line (a crash mid-append) is cut off; any other bad
// line is an error naming the file and line.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/file.h"
#include "search/archive.h"
#include "tests/test_util.h"

static const char *const names[2] = {"quality", "params"};

static void record(archive_record *r, individual *ind, uint64_t hash, double q, double p, int fidelity) {
    ind->hash = hash;
    ind->f[0] = q;
    ind->f[1] = p;
    ind->cv = 0;
    ind->status = INDIVIDUAL_OK;
    ind->reason[0] = 0;
    memset(r, 0, sizeof *r);
    r->ind = ind;
    r->obj_names = names;
    r->n_obj = 2;
    r->fidelity = fidelity;
}

int main(void) {
    char dir[] = "/tmp/star_archive_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/archive.jsonl", dir);
    star_error err;
    individual ind;
    individual_init(&ind, 8);
    archive_record r;

    record(&r, &ind, 0x0123456789abcdefULL, 2.718281828459045, 12345, 0);
    CHECK(archive_append(path, &r, &err) == 0);
    record(&r, &ind, 0xfedcba9876543210ULL, 0.1 + 0.2, 7, 100);
    CHECK(archive_append(path, &r, &err) == 0);
    record(&r, &ind, 0x1111111111111111ULL, INFINITY, 99, 0);
    individual_set_failed(&ind, "diverged: \"NaN\" at step 3");
    CHECK(archive_append(path, &r, &err) == 0);

    fitness_cache c;
    fitness_cache_init(&c);
    long n = 0;
    CHECK(archive_load(path, names, 2, &c, &n, &err) == 0);
    CHECK(n == 3);
    individual got;
    individual_init(&got, 8);
    CHECK(fitness_cache_get(&c, 0x0123456789abcdefULL, &got) && got.f[0] == 2.718281828459045 && got.f[1] == 12345);
    CHECK(!fitness_cache_get(&c, 0xfedcba9876543210ULL, &got));  // stored under its fidelity
    CHECK(fitness_cache_get(&c, archive_key(0xfedcba9876543210ULL, 100), &got) && got.f[0] == 0.1 + 0.2);
    CHECK(fitness_cache_get(&c, 0x1111111111111111ULL, &got) && got.status == INDIVIDUAL_FAILED && isinf(got.f[0]));
    CHECK_STR_CONTAINS(got.reason, "diverged: \"NaN\" at step 3");
    fitness_cache_free(&c);

    // A torn last line is cut off the file, with everything before it kept.
    FILE *f = fopen(path, "ab");
    CHECK(f != NULL);
    fputs("{\"gen\":1,\"eval\":3,\"hash\":\"22", f);
    fclose(f);
    fitness_cache_init(&c);
    CHECK(archive_load(path, names, 2, &c, &n, &err) == 0);
    CHECK(n == 3);
    fitness_cache_free(&c);
    char *text;
    size_t len;
    CHECK(file_read_all(path, &text, &len, &err) == 0);
    CHECK(len > 0 && text[len - 1] == '\n' && !strstr(text, "\"eval\":3"));
    free(text);

    // A bad line in the middle is an error naming the file and line.
    const char *bad[] = {"not json at all {", "{\"hash\":\"xyz\",\"objectives\":{},\"cv\":0}",
                         "{\"hash\":\"0123456789abcdef\",\"objectives\":{\"quality\":1},\"cv\":0}",
                         "{\"hash\":\"0123456789abcdef\",\"objectives\":{\"quality\":\"a\",\"params\":1},\"cv\":0}"};
    const char *expect[] = {"line 2", "hash", "objectives.params", "objectives.quality"};
    for (int i = 0; i < 4; i++) {
        char p2[600];
        snprintf(p2, sizeof p2, "%s/bad%d.jsonl", dir, i);
        f = fopen(p2, "wb");
        CHECK(f != NULL);
        fprintf(f, "{\"hash\":\"0000000000000001\",\"objectives\":{\"quality\":1,\"params\":2},\"cv\":0}\n%s\n", bad[i]);
        fclose(f);
        fitness_cache_init(&c);
        int rc = archive_load(p2, names, 2, &c, &n, &err);
        CHECK_MSG(rc != 0, "bad line %d accepted", i);
        if (rc != 0) {
            CHECK_STR_CONTAINS(err.msg, p2);
            CHECK_STR_CONTAINS(err.msg, expect[i]);
        }
        fitness_cache_free(&c);
        unlink(p2);
    }
    individual_free(&ind);
    individual_free(&got);
    unlink(path);
    rmdir(dir);
    TEST_END();
}
