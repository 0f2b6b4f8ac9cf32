// star tests: config files written into a fresh temporary directory, and checks that a
// load fails with a message naming the right place.
#ifndef STAR_TESTS_CONFIG_TEST_UTIL_H
#define STAR_TESTS_CONFIG_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "tests/test_util.h"

static char tmp_dir[256];
static char tmp_files[128][320];
static int tmp_n_files;

static void tmp_init(void) {
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmp_dir, sizeof tmp_dir, "%s/star_config_XXXXXX", base);
    if (!mkdtemp(tmp_dir)) {
        perror("mkdtemp");
        exit(2);
    }
}

// Writes text to tmp_dir/name and returns the path (valid until the end of the test).
static const char *tmp_write(const char *name, const char *text) {
    if (tmp_n_files == 128) {
        fprintf(stderr, "too many temporary files\n");
        exit(2);
    }
    char *path = tmp_files[tmp_n_files++];
    snprintf(path, sizeof tmp_files[0], "%s/%s", tmp_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(text, 1, strlen(text), f) != strlen(text) || fclose(f)) {
        perror(path);
        exit(2);
    }
    return path;
}

static void tmp_cleanup(void) {
    for (int i = 0; i < tmp_n_files; i++) remove(tmp_files[i]);
    rmdir(tmp_dir);
}

// Loads text (as file `name`) with overrides; expects failure with a message that
// starts with "<path><where>" (e.g. ":3:5: space.width: "), or with `where` itself when
// it starts with '-' (an override: "--set a.b:1:1: a.b: "), and contains `also` (may be NULL).
__attribute__((unused)) static void expect_fail_at(const char *name, const char *text, const char **sets, int n_sets, const char *where,
                           const char *also, int line) {
    const char *path = tmp_write(name, text);
    star_config c;
    star_error err = {0};
    int rc = config_load(path, sets, n_sets, &c, &err);
    test_checks++;
    if (rc != -1) {
        test_failures++;
        fprintf(stderr, "line %d: expected %s to fail\n", line, name);
        return;
    }
    char want[1024];
    if (where[0] == '-' || where[0] == '/')  // a whole prefix: "--set ..." or an absolute path
        snprintf(want, sizeof want, "%s", where);
    else
        snprintf(want, sizeof want, "%s%s", path, where);
    test_checks++;
    if (strncmp(err.msg, want, strlen(want)) != 0) {
        test_failures++;
        fprintf(stderr, "line %d: message\n  %s\ndoes not start with\n  %s\n", line, err.msg, want);
    }
    if (also) {
        test_checks++;
        if (!strstr(err.msg, also)) {
            test_failures++;
            fprintf(stderr, "line %d: message\n  %s\ndoes not contain\n  %s\n", line, err.msg, also);
        }
    }
}
#define EXPECT_FAIL(name, text, where, also) expect_fail_at((name), (text), NULL, 0, (where), (also), __LINE__)
#define EXPECT_FAIL_SETS(name, text, sets, n, where, also) \
    expect_fail_at((name), (text), (sets), (n), (where), (also), __LINE__)

#endif
