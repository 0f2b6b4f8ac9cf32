#include "search/archive.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/file.h"
#include "common/ydoc.h"

void archive_format(const archive_record *r, json_writer *w) {
    const individual *ind = r->ind;
    char hash[24];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)ind->hash);
    jw_reset(w);
    jw_obj_begin(w);
    jw_kv_int(w, "gen", r->gen);
    jw_kv_int(w, "eval", r->eval);
    jw_kv_str(w, "hash", hash);
    jw_kv_int(w, "fidelity", r->fidelity);
    jw_key(w, "x");
    if (r->write_x)
        r->write_x(r->ctx, ind->x, w);
    else
        jw_null(w);
    jw_kv_str(w, "status", individual_feasible(ind) ? "ok" : "infeasible");
    jw_kv_bool(w, "failed", ind->status == INDIVIDUAL_FAILED);
    jw_kv_str(w, "reason", ind->reason);
    jw_key(w, "objectives");
    jw_obj_begin(w);
    for (int i = 0; i < r->n_obj; i++) jw_kv_double(w, r->obj_names[i], ind->f[i]);
    jw_obj_end(w);
    jw_kv_double(w, "cv", ind->status == INDIVIDUAL_FAILED ? INFINITY : ind->cv);
    jw_key(w, "metrics");
    jw_obj_begin(w);
    if (r->write_metrics) r->write_metrics(r->ctx, ind->hash, w);
    jw_obj_end(w);
    jw_kv_int(w, "seed", (int64_t)r->seed);
    jw_kv_double(w, "wall_s", r->wall_s);
    jw_kv_int(w, "rank", r->rank);
    jw_obj_end(w);
}

int archive_append(const char *path, const archive_record *r, star_error *err) {
    json_writer w;
    jw_init(&w);
    archive_format(r, &w);
    int rc = file_append_line(path, w.buf, err);
    jw_free(&w);
    return rc;
}

uint64_t archive_key(uint64_t hash, int fidelity) {
    return fidelity ? hash ^ ((uint64_t)fidelity * 0x9E3779B97F4A7C15ULL) : hash;
}

// A number, or null for +inf (non-finite values are written as null).
static int read_number(ydoc *d, ynode *n, const char *key, double *out, star_error *err) {
    const char *s = ynode_scalar(n);
    if (s && (!strcmp(s, "null") || !strcmp(s, "~") || !s[0])) {
        *out = INFINITY;
        return 0;
    }
    return ynode_as_double(d, n, key, -INFINITY, INFINITY, out, err);
}

static int parse_line(const char *path, long lineno, const char *line, size_t len, const char *const *obj_names,
                      int n_obj, individual *ind, star_error *err) {
    char name[600];
    snprintf(name, sizeof name, "%s line %ld", path, lineno);
    ydoc d;
    if (ydoc_load_string(&d, line, len, name, err) != 0) return -1;
    int rc = -1;
    ynode *root = ydoc_root(&d);
    if (!ynode_is_map(root)) {
        ynode_fail(&d, root, "", err, "expected a JSON object");
        goto done;
    }
    const char *hex;
    ynode *h = ynode_get(&d, root, "hash");
    if (!h || ynode_as_string(&d, h, "hash", &hex, err) != 0) {
        if (!h) ynode_fail(&d, root, "hash", err, "missing");
        goto done;
    }
    char *end;
    errno = 0;
    unsigned long long hv = strtoull(hex, &end, 16);
    if (strlen(hex) != 16 || *end || errno) {
        ynode_fail(&d, h, "hash", err, "expected 16 hex digits, got '%s'", hex);
        goto done;
    }
    long fidelity = 0;
    ynode *fd = ynode_get(&d, root, "fidelity");
    if (fd && ynode_as_long(&d, fd, "fidelity", 0, 2147483647L, &fidelity, err) != 0) goto done;
    ind->hash = archive_key((uint64_t)hv, (int)fidelity);
    ynode *objs = ynode_get(&d, root, "objectives");
    if (!ynode_is_map(objs)) {
        ynode_fail(&d, objs ? objs : root, "objectives", err, "expected an object of objective values");
        goto done;
    }
    for (int i = 0; i < n_obj; i++) {
        char key[96];
        snprintf(key, sizeof key, "objectives.%s", obj_names[i]);
        ynode *v = ynode_get(&d, objs, obj_names[i]);
        if (!v) {
            ynode_fail(&d, objs, key, err, "missing (the archive was written with other objectives)");
            goto done;
        }
        if (read_number(&d, v, key, &ind->f[i], err) != 0) goto done;
    }
    ynode *cv = ynode_get(&d, root, "cv");
    if (!cv || read_number(&d, cv, "cv", &ind->cv, err) != 0) {
        if (!cv) ynode_fail(&d, root, "cv", err, "missing");
        goto done;
    }
    int failed = 0;
    ynode *fn = ynode_get(&d, root, "failed");
    if (fn && ynode_as_bool(&d, fn, "failed", &failed, err) != 0) goto done;
    const char *reason = "";
    ynode *rn = ynode_get(&d, root, "reason");
    if (rn && ynode_as_string(&d, rn, "reason", &reason, err) != 0) goto done;
    snprintf(ind->reason, sizeof ind->reason, "%s", reason);
    ind->status = failed ? INDIVIDUAL_FAILED : INDIVIDUAL_OK;
    if (failed) ind->cv = SEARCH_CV_FAILED;
    rc = 0;
done:
    ydoc_free(&d);
    return rc;
}

int archive_read_text(const char *path, char **text, size_t *len, star_error *err) {
    *text = NULL;
    *len = 0;
    if (!file_exists(path)) return 0;
    char *buf;
    size_t n;
    if (file_read_all(path, &buf, &n, err) != 0) return -1;
    // A torn last line: the bytes after the last newline. Cut them off the file.
    size_t good = n;
    while (good > 0 && buf[good - 1] != '\n') good--;
    if (good < n) {
        fprintf(stderr, "star: %s: cutting off a torn last line (%zu bytes) left by an interrupted write\n", path,
                n - good);
        if (truncate(path, (off_t)good) != 0) {
            free(buf);
            return STAR_FAIL(err, "%s: cannot cut off the torn last line: %s", path, strerror(errno));
        }
        buf[good] = '\0';
    }
    *text = buf;
    *len = good;
    return 0;
}

int archive_load(const char *path, const char *const *obj_names, int n_obj, fitness_cache *cache, long *n_lines,
                 star_error *err) {
    *n_lines = 0;
    char *buf;
    size_t len;
    if (archive_read_text(path, &buf, &len, err) != 0) return -1;
    int rc = archive_load_text(path, buf, len, obj_names, n_obj, cache, n_lines, err);
    free(buf);
    return rc;
}

int archive_load_text(const char *path, const char *buf, size_t good, const char *const *obj_names, int n_obj,
                      fitness_cache *cache, long *n_lines, star_error *err) {
    *n_lines = 0;
    while (good > 0 && buf[good - 1] != '\n') good--;  // only whole lines
    individual ind;
    individual_init(&ind, 1);
    long lineno = 0;
    int rc = 0;
    for (size_t pos = 0; pos < good;) {
        const char *nl = memchr(buf + pos, '\n', good - pos);
        size_t n = (size_t)(nl - (buf + pos));
        lineno++;
        if (n > 0) {
            if (parse_line(path, lineno, buf + pos, n, obj_names, n_obj, &ind, err) != 0) {
                rc = -1;
                break;
            }
            fitness_cache_put(cache, &ind);
            (*n_lines)++;
        }
        pos += n + 1;
    }
    individual_free(&ind);
    return rc;
}
