#include "cli/run_view.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "common/ydoc.h"
#include "genome/genome_canonical.h"
#include "genome/genome_yaml.h"

static void set_axis(run_view *v, run_axis *ax, const char *name) {
    ax->name = name;
    ax->scale = 1;
    snprintf(ax->label, sizeof ax->label, "%s", name);
    const config_objective *o = NULL;
    for (int k = 0; k < v->cfg.n_objectives; k++)
        if (!strcmp(config_objective_name(v->cfg.objectives[k].kind), name)) o = &v->cfg.objectives[k];
    if (!v->architecture || !o) return;
    ax->has_limit = o->has_max;
    ax->limit = o->max;
    switch (o->kind) {
    case CONFIG_OBJ_QUALITY:
        // byte-level text: bits per byte = nats per byte / ln 2 (eval/train.c)
        if (v->cfg.evaluation.data.kind == CONFIG_DATA_TEXT) {
            ax->scale = 1 / log(2.0);
            snprintf(ax->label, sizeof ax->label, "validation loss (bits per byte)");
            snprintf(ax->unit, sizeof ax->unit, "bits/byte");
        } else {
            snprintf(ax->label, sizeof ax->label, "validation loss (nats per token)");
            snprintf(ax->unit, sizeof ax->unit, "nats/token");
        }
        break;
    case CONFIG_OBJ_PARAMS:
        ax->scale = 1e-6;
        snprintf(ax->label, sizeof ax->label, "parameters (M)");
        snprintf(ax->unit, sizeof ax->unit, "M");
        break;
    case CONFIG_OBJ_CACHE_BYTES:
        ax->scale = 1.0 / (1024.0 * 1024.0);
        snprintf(ax->label, sizeof ax->label, "inference cache (MiB per sequence, %ld tokens, %s)", o->context,
                 config_dtype_name(o->dtype));
        snprintf(ax->unit, sizeof ax->unit, "MiB");
        break;
    case CONFIG_OBJ_FLOPS:
        ax->scale = 1e-6;
        snprintf(ax->label, sizeof ax->label, "forward FLOPs per token (M, %ld tokens)", o->context);
        snprintf(ax->unit, sizeof ax->unit, "MFLOP");
        break;
    default: break;
    }
}

// A number, null (NaN) or absent (NaN).
static int opt_double(ydoc *d, ynode *n, const char *key, double *out, star_error *err) {
    *out = NAN;
    if (!n) return 0;
    const char *s = ynode_scalar(n);
    if (s && !strcmp(s, "null")) return 0;
    return ynode_as_double(d, n, key, -INFINITY, INFINITY, out, err);
}

static int read_eval_line(run_view *v, const char *path, int line, const char *text, size_t len, run_eval *e,
                          star_error *err) {
    char name[4200];
    snprintf(name, sizeof name, "%s line %d", path, line);
    memset(e, 0, sizeof *e);
    ydoc d;
    if (ydoc_load_string(&d, text, len, name, err) != 0) return -1;
    int rc = -1;
    ynode *root = ydoc_root(&d);
    if (!ynode_is_map(root)) {
        STAR_FAIL(err, "%s: expected a JSON object (an evaluation)", name);
        goto out;
    }
    long l;
    const char *s;
    ynode *n;
    if (!(n = ynode_get(&d, root, "gen"))) {
        ynode_fail(&d, root, "gen", err, "missing");
        goto out;
    }
    if (ynode_as_long(&d, n, "gen", 0, 99999999, &l, err) != 0) goto out;
    e->gen = (int)l;
    if ((n = ynode_get(&d, root, "eval")) && ynode_as_long(&d, n, "eval", 0, 1L << 50, &e->eval, err) != 0) goto out;
    if ((n = ynode_get(&d, root, "fidelity"))) {
        if (ynode_as_long(&d, n, "fidelity", 0, 1L << 30, &l, err) != 0) goto out;
        e->fidelity = (int)l;
    }
    if (!(n = ynode_get(&d, root, "hash"))) {
        ynode_fail(&d, root, "hash", err, "missing");
        goto out;
    }
    if (ynode_as_string(&d, n, "hash", &s, err) != 0) goto out;
    snprintf(e->hash, sizeof e->hash, "%s", s);
    if (!(n = ynode_get(&d, root, "status"))) {
        ynode_fail(&d, root, "status", err, "missing");
        goto out;
    }
    if (ynode_as_string(&d, n, "status", &s, err) != 0) goto out;
    e->ok = !strcmp(s, "ok");
    if ((n = ynode_get(&d, root, "failed")) && ynode_as_bool(&d, n, "failed", &e->failed, err) != 0) goto out;
    if ((n = ynode_get(&d, root, "reason")) && ynode_is_scalar(n)) e->reason = star_strdup(ynode_scalar(n));
    if ((n = ynode_get(&d, root, "x")) && ynode_is_scalar(n) && strcmp(ynode_scalar(n), "null"))
        e->x = star_strdup(ynode_scalar(n));
    ynode *objs = ynode_get(&d, root, "objectives");
    for (int k = 0; k < v->n_obj; k++) {
        char key[128];
        snprintf(key, sizeof key, "objectives.%s", v->axis[k].name);
        if (opt_double(&d, objs && ynode_is_map(objs) ? ynode_get(&d, objs, v->axis[k].name) : NULL, key, &e->f[k],
                       err) != 0)
            goto out;
    }
    ynode *m = ynode_get(&d, root, "metrics");
    if (opt_double(&d, m && ynode_is_map(m) ? ynode_get(&d, m, "accuracy") : NULL, "metrics.accuracy", &e->accuracy,
                   err) != 0)
        goto out;
    if (opt_double(&d, ynode_get(&d, root, "wall_s"), "wall_s", &e->wall_s, err) != 0) goto out;
    rc = 0;
out:
    ydoc_free(&d);
    if (rc != 0) {
        free(e->x);
        free(e->reason);
    }
    return rc;
}

static int read_archive(run_view *v, star_error *err) {
    char path[4096];
    if (path_join(path, sizeof path, v->dir, "archive.jsonl", err) != 0) return -1;
    if (!file_exists(path)) return STAR_FAIL(err, "%s: missing (not a run directory, or nothing evaluated yet)", path);
    char *text;
    size_t len;
    if (file_read_all(path, &text, &len, err) != 0) return -1;
    int cap = 64, line = 0;
    v->evals = star_malloc(sizeof(run_eval) * (size_t)cap);
    for (char *p = text, *end = text + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        line++;
        // A torn last line (a run killed mid-append) is what resume cuts off: skip it.
        int last = !nl || nl + 1 >= end;
        if (l > 0 && !(last && !nl)) {
            if (v->n_evals == cap) {
                cap *= 2;
                v->evals = star_realloc(v->evals, sizeof(run_eval) * (size_t)cap);
            }
            if (read_eval_line(v, path, line, p, l, &v->evals[v->n_evals], err) != 0) {
                free(text);
                return -1;
            }
            v->n_evals++;
        }
        p += l + 1;
    }
    free(text);
    return 0;
}

int run_view_find(const run_view *v, const char *hash) {
    int best = -1;
    for (int i = 0; i < v->n_evals; i++)
        if (v->evals[i].ok && !strcmp(v->evals[i].hash, hash) &&
            (best < 0 || v->evals[i].fidelity >= v->evals[best].fidelity))
            best = i;
    return best;
}

static void find_baselines(run_view *v) {
    genome_dims dims = {v->cfg.space.width, v->cfg.space.vocab};
    for (int i = 0; i < v->cfg.algorithm.n_seed_with && i < CONFIG_MAX_SEEDS; i++) {
        run_baseline *b = &v->base[v->n_base++];
        const char *p = v->cfg.algorithm.seed_with[i];
        snprintf(b->path, sizeof b->path, "%s", p);
        const char *slash = strrchr(p, '/');
        snprintf(b->name, sizeof b->name, "%s", slash ? slash + 1 : p);
        char *dot = strrchr(b->name, '.');
        if (dot && dot != b->name) *dot = '\0';
        b->eval = -1;
        genome g;
        star_error err = {0};
        if (genome_load_file(p, &g, NULL, &err) != 0) {
            snprintf(b->problem, sizeof b->problem,
                     "cannot read it (seed_with paths are taken from the directory the search ran in): %s", err.msg);
            continue;
        }
        snprintf(b->hash, sizeof b->hash, "%016" PRIx64, genome_hash(&g, dims));
        b->eval = run_view_find(v, b->hash);
        if (b->eval < 0) {  // an infeasible baseline (e.g. over a hard limit) is still shown, marked
            for (int e = 0; e < v->n_evals; e++)
                if (!strcmp(v->evals[e].hash, b->hash)) b->eval = e;
            if (b->eval >= 0) {
                const char *r = v->evals[b->eval].reason;
                snprintf(b->problem, sizeof b->problem, "infeasible: %s", r && *r ? r : "(no reason given)");
                b->infeasible = 1;
            }
        }
        if (b->eval < 0) {
            char h[sizeof b->hash];
            memcpy(h, b->hash, sizeof h);
            snprintf(b->problem, sizeof b->problem, "no ok archive line with its hash %s", h);
        }
    }
}

int run_view_load(run_view *v, const char *dir, star_error *err) {
    memset(v, 0, sizeof *v);
    v->dir = dir;
    // The front first: it names a missing or unfinished run directory clearly.
    if (run_front_load(&v->fr, dir, -1, NULL, err) != 0) return -1;
    char path[4096];
    size_t len;
    if (path_join(path, sizeof path, dir, "config.yaml", err) != 0) return -1;
    if (file_read_all(path, &v->config_text, &len, err) != 0) return -1;
    if (config_load(path, NULL, 0, &v->cfg, err) != 0) return -1;
    v->architecture = !v->cfg.problem.enabled;
    v->n_obj = v->fr.g.n_obj;
    for (int k = 0; k < v->n_obj; k++) set_axis(v, &v->axis[k], v->fr.g.obj_names[k]);
    if (read_archive(v, err) != 0) return -1;
    if (v->architecture) find_baselines(v);
    return 0;
}

void run_view_free(run_view *v) {
    for (int i = 0; i < v->n_evals; i++) {
        free(v->evals[i].x);
        free(v->evals[i].reason);
    }
    free(v->evals);
    free(v->config_text);
    run_front_free(&v->fr);
    memset(v, 0, sizeof *v);
}
