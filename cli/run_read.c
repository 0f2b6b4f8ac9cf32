#include "cli/run_read.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/file.h"
#include "common/ydoc.h"

#define RUN_MAX_GENERATION 99999999

// "gen_" digits ".json" -> the number, else -1.
static long generation_number(const char *name) {
    if (strncmp(name, "gen_", 4)) return -1;
    const char *p = name + 4;
    long v = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        v = v * 10 + (*p - '0');
        if (v > RUN_MAX_GENERATION) return -1;
    }
    return digits > 0 && !strcmp(p, ".json") ? v : -1;
}

int run_generation_path(const char *run_dir, int gen, char *path, size_t cap, int *gen_out, star_error *err) {
    struct stat st;
    if (stat(run_dir, &st) != 0) return STAR_FAIL(err, "%s: no such run directory (%s)", run_dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return STAR_FAIL(err, "%s: not a run directory", run_dir);
    char gdir[4096];
    if (path_join(gdir, sizeof gdir, run_dir, "generations", err) != 0) return -1;
    DIR *d = opendir(gdir);
    if (!d)
        return STAR_FAIL(err, "%s: not a run directory, or no generation finished yet (cannot open %s: %s)", run_dir,
                         gdir, strerror(errno));
    long last = -1, count = 0, found = 0;
    for (struct dirent *e; (e = readdir(d));) {
        long v = generation_number(e->d_name);
        if (v < 0) continue;
        count++;
        if (v > last) last = v;
        if (v == gen) found = 1;
    }
    closedir(d);
    if (count == 0) return STAR_FAIL(err, "%s: no generations/gen_NNNN.json yet (no generation finished)", run_dir);
    if (gen >= 0 && !found)
        return STAR_FAIL(err, "%s: no generation %d (the run has generations up to %ld)", run_dir, gen, last);
    long pick = gen >= 0 ? gen : last;
    char name[64];
    snprintf(name, sizeof name, "generations/gen_%04ld.json", pick);
    if (path_join(path, cap, run_dir, name, err) != 0) return -1;
    if (!file_exists(path)) {  // gen_7.json is a number but not the name the run writes
        snprintf(name, sizeof name, "gen_%04ld.json", pick);
        return STAR_FAIL(err, "%s: expected %s in generations/", run_dir, name);
    }
    *gen_out = (int)pick;
    return 0;
}

// A number, or null (+inf: a value that cannot be ranked).
static int read_value(ydoc *d, ynode *n, const char *key, double *out, star_error *err) {
    const char *s = ynode_scalar(n);
    if (s && !strcmp(s, "null")) {
        *out = INFINITY;
        return 0;
    }
    return ynode_as_double(d, n, key, -INFINITY, INFINITY, out, err);
}

// The objective names, from the first member's "objectives" map.
static int read_names(ydoc *d, ynode *objs, const char *key, run_generation *g, star_error *err) {
    size_t n = ynode_len(objs);
    if (n < 1 || n > SEARCH_MAX_OBJ)
        return ynode_fail(d, objs, key, err, "expected 1 to %d objectives, got %zu", SEARCH_MAX_OBJ, n);
    for (size_t k = 0; k < n; k++) {
        ynode *kn = ynode_map_key(d, objs, k);
        const char *name = ynode_scalar(kn);
        if (!name || !*name || strlen(name) >= RUN_OBJ_NAME_MAX)
            return ynode_fail(d, kn, key, err, "expected an objective name of 1 to %d characters", RUN_OBJ_NAME_MAX - 1);
        // Names become parts of file names (plots): letters, digits, '_' and '-' only.
        if (name[strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")] != '\0')
            return ynode_fail(d, kn, key, err, "objective name '%s' has characters other than letters, digits, '_', '-'",
                              name);
        for (size_t j = 0; j < k; j++)
            if (!strcmp(g->obj_names[j], name)) return ynode_fail(d, kn, key, err, "objective '%s' appears twice", name);
        snprintf(g->obj_names[k], RUN_OBJ_NAME_MAX, "%s", name);
    }
    g->n_obj = (int)n;
    return 0;
}

static int read_x(ydoc *d, ynode *x, const char *key, run_member *m, star_error *err) {
    if (!x || (ynode_scalar(x) && !strcmp(ynode_scalar(x), "null"))) return 0;
    if (ynode_is_scalar(x)) {
        m->x_kind = RUN_X_STRING;
        m->x_string = star_strdup(ynode_scalar(x));
        return 0;
    }
    if (!ynode_is_seq(x)) return ynode_fail(d, x, key, err, "expected a string, an array of numbers or null");
    m->x_kind = RUN_X_VECTOR;
    m->n_x = (int)ynode_len(x);
    m->x_vec = star_malloc(sizeof(double) * (size_t)(m->n_x > 0 ? m->n_x : 1));
    char k2[128];
    for (int i = 0; i < m->n_x; i++) {
        snprintf(k2, sizeof k2, "%s[%d]", key, i);
        if (ynode_as_double(d, ynode_seq_item(d, x, (size_t)i), k2, -INFINITY, INFINITY, &m->x_vec[i], err) != 0)
            return -1;
    }
    return 0;
}

static int read_member(ydoc *d, ynode *n, int i, run_generation *g, star_error *err) {
    char key[96], k2[192];
    snprintf(key, sizeof key, "population[%d]", i);
    if (!ynode_is_map(n)) return ynode_fail(d, n, key, err, "expected an object (a population member)");
    run_member *m = &g->pop[i];
    ynode *h = ynode_get(d, n, "hash"), *objs = ynode_get(d, n, "objectives"), *st = ynode_get(d, n, "status");
    snprintf(k2, sizeof k2, "%s.hash", key);
    const char *s;
    if (!h) return ynode_fail(d, n, k2, err, "missing");
    if (ynode_as_string(d, h, k2, &s, err) != 0) return -1;
    if (strlen(s) >= sizeof m->hash) return ynode_fail(d, h, k2, err, "expected 16 hex digits, got '%s'", s);
    snprintf(m->hash, sizeof m->hash, "%s", s);
    snprintf(k2, sizeof k2, "%s.status", key);
    if (!st) return ynode_fail(d, n, k2, err, "missing");
    if (ynode_as_string(d, st, k2, &s, err) != 0) return -1;
    if (strcmp(s, "ok") && strcmp(s, "infeasible")) return ynode_fail(d, st, k2, err, "expected ok or infeasible, got '%s'", s);
    m->feasible = !strcmp(s, "ok");
    snprintf(k2, sizeof k2, "%s.objectives", key);
    if (!ynode_is_map(objs)) return ynode_fail(d, objs ? objs : n, k2, err, "expected an object of objective values");
    if (i == 0 && read_names(d, objs, k2, g, err) != 0) return -1;
    if ((int)ynode_len(objs) != g->n_obj)
        return ynode_fail(d, objs, k2, err, "expected the %d objectives of population[0], got %zu", g->n_obj,
                          ynode_len(objs));
    for (int k = 0; k < g->n_obj; k++) {
        char k3[256];
        snprintf(k3, sizeof k3, "%s.%s", k2, g->obj_names[k]);
        ynode *v = ynode_get(d, objs, g->obj_names[k]);
        if (!v) return ynode_fail(d, objs, k3, err, "missing (population[0] has it)");
        if (read_value(d, v, k3, &m->f[k], err) != 0) return -1;
    }
    snprintf(k2, sizeof k2, "%s.x", key);
    return read_x(d, ynode_get(d, n, "x"), k2, m, err);
}

int run_generation_read(const char *path, run_generation *g, star_error *err) {
    memset(g, 0, sizeof *g);
    ydoc d;
    if (ydoc_load_file(&d, path, err) != 0) return -1;
    int rc = -1;
    ynode *root = ydoc_root(&d);
    if (!ynode_is_map(root)) {
        if (root) ynode_fail(&d, root, "", err, "expected a JSON object (a generation of a run)");
        else STAR_FAIL(err, "%s: empty file, expected a generation of a run", path);
        goto out;
    }
    long gen;
    ynode *gn = ynode_get(&d, root, "generation"), *pop = ynode_get(&d, root, "population");
    if (!gn) {
        ynode_fail(&d, root, "generation", err, "missing");
        goto out;
    }
    if (ynode_as_long(&d, gn, "generation", 0, RUN_MAX_GENERATION, &gen, err) != 0) goto out;
    g->generation = (int)gen;
    if (!ynode_is_seq(pop)) {
        ynode_fail(&d, pop ? pop : root, "population", err, "expected an array of members");
        goto out;
    }
    g->n = (int)ynode_len(pop);
    g->pop = star_calloc((size_t)(g->n > 0 ? g->n : 1), sizeof *g->pop);
    for (int i = 0; i < g->n; i++)
        if (read_member(&d, ynode_seq_item(&d, pop, (size_t)i), i, g, err) != 0) goto out;
    ynode *ref = ynode_get(&d, root, "hypervolume_reference");
    if (ref && g->n > 0) {  // optional; one value per objective
        if (!ynode_is_seq(ref) || (int)ynode_len(ref) != g->n_obj) {
            ynode_fail(&d, ref, "hypervolume_reference", err, "expected an array of %d numbers", g->n_obj);
            goto out;
        }
        for (int k = 0; k < g->n_obj; k++) {
            char key[64];
            snprintf(key, sizeof key, "hypervolume_reference[%d]", k);
            if (ynode_as_double(&d, ynode_seq_item(&d, ref, (size_t)k), key, -INFINITY, INFINITY, &g->hv_ref[k], err))
                goto out;
        }
        g->has_hv_ref = 1;
    }
    rc = 0;
out:
    ydoc_free(&d);
    if (rc != 0) run_generation_free(g);
    return rc;
}

void run_generation_free(run_generation *g) {
    for (int i = 0; g->pop && i < g->n; i++) {
        free(g->pop[i].x_string);
        free(g->pop[i].x_vec);
    }
    free(g->pop);
    memset(g, 0, sizeof *g);
}

int run_hypervolume_read(const char *run_dir, double **hv, int *n, star_error *err) {
    *hv = NULL;
    *n = 0;
    char path[4096];
    if (path_join(path, sizeof path, run_dir, "checkpoint.json", err) != 0) return -1;
    if (!file_exists(path)) return 0;
    ydoc d;
    if (ydoc_load_file(&d, path, err) != 0) return -1;
    int rc = -1;
    ynode *root = ydoc_root(&d), *arr = ynode_get(&d, root, "hypervolume");
    if (!ynode_is_map(root)) {
        if (root) ynode_fail(&d, root, "", err, "expected a JSON object (a run's checkpoint)");
        else STAR_FAIL(err, "%s: empty file, expected a run's checkpoint", path);
        goto out;
    }
    if (!ynode_is_seq(arr)) {
        ynode_fail(&d, arr ? arr : root, "hypervolume", err, "expected an array of numbers");
        goto out;
    }
    int m = (int)ynode_len(arr);
    double *v = star_malloc(sizeof(double) * (size_t)(m > 0 ? m : 1));
    for (int i = 0; i < m; i++) {
        char key[64];
        snprintf(key, sizeof key, "hypervolume[%d]", i);
        ynode *it = ynode_seq_item(&d, arr, (size_t)i);
        const char *s = ynode_scalar(it);
        if (s && !strcmp(s, "null")) {
            v[i] = NAN;
        } else if (ynode_as_double(&d, it, key, 0, INFINITY, &v[i], err) != 0) {
            free(v);
            goto out;
        }
    }
    *hv = v;
    *n = m;
    rc = 0;
out:
    ydoc_free(&d);
    return rc;
}
