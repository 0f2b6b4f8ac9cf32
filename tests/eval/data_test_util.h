// star tests: scratch files for the data and checkpoint tests (a fresh mkdtemp
// directory per test, removed at the end).
#ifndef STAR_TESTS_EVAL_DATA_TEST_UTIL_H
#define STAR_TESTS_EVAL_DATA_TEST_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char scratch_dir[256];

static const char *scratch_open(const char *tag) {
    snprintf(scratch_dir, sizeof scratch_dir, "/tmp/star_%s_XXXXXX", tag);
    if (!mkdtemp(scratch_dir)) {
        perror("mkdtemp");
        exit(2);
    }
    return scratch_dir;
}

// path = scratch_dir/name (a static buffer per call site is the caller's business).
static void scratch_path(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", scratch_dir, name); }

static void scratch_write(const char *name, const void *data, size_t n) {
    char p[512];
    scratch_path(p, sizeof p, name);
    FILE *f = fopen(p, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
        perror(p);
        exit(2);
    }
}

static void scratch_close(void) {
    DIR *d = opendir(scratch_dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char p[512];
            scratch_path(p, sizeof p, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(scratch_dir);
}

#endif
