// star: loading a config: parse the YAML, merge the `--set` overrides into the document,
// then read every section over the defaults. The caller's struct is written only when
// everything was valid.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_reader.h"

// With a built-in problem the architecture sections have no meaning; writing them is
// refused rather than silently ignored.
static int check_problem_sections(cfg_reader *r, ynode *root, const star_config *c) {
    static const char *const unused[] = {"space", "objectives", "evaluation"};
    for (int i = 0; i < 3; i++) {
        ynode *n = cfg_get(r, root, unused[i]);
        if (n) return cfg_fail(r, n, unused[i], "not used with a built-in problem (problem.name %s); remove it",
                               config_problem_name(c->problem.kind));
    }
    return 0;
}

static int read_document(cfg_reader *r, star_config *c) {
    static const char *const keys[] = {"run", "space", "objectives", "algorithm", "evaluation", "problem", NULL};
    ynode *root = ydoc_root(r->d);
    if (!root) return ynode_fail(r->d, NULL, "run.dir", r->err, "the config is empty; run.dir is required");
    if (cfg_check_keys(r, root, "", keys)) return -1;
    ynode *n;
    if ((n = cfg_get(r, root, "problem"))) {
        if (cfg_read_problem(r, n, c) || check_problem_sections(r, root, c)) return -1;
    }
    if (!(n = cfg_get(r, root, "run"))) return cfg_fail(r, root, "run.dir", "required key is missing");
    if (cfg_read_run(r, n, c)) return -1;
    if ((n = cfg_get(r, root, "space")) && cfg_read_space(r, n, c)) return -1;
    if ((n = cfg_get(r, root, "objectives")) && cfg_read_objectives(r, n, c)) return -1;
    if ((n = cfg_get(r, root, "algorithm"))) {
        if (cfg_read_algorithm(r, n, c)) return -1;
        if (c->problem.enabled && c->algorithm.n_seed_with > 0)
            return cfg_fail(r, cfg_get(r, n, "seed_with"), "algorithm.seed_with",
                            "genome files cannot seed a built-in problem");
    }
    if ((n = cfg_get(r, root, "evaluation")) && cfg_read_evaluation(r, n, c)) return -1;
    return 0;
}

// Applies the overrides to d, then reads it into c.
static int load_document(ydoc *d, const char **sets, int n_sets, star_config *c, star_error *err) {
    if (n_sets < 0 || n_sets > CONFIG_MAX_SETS)
        return STAR_FAIL(err, "at most %d --set overrides, got %d", CONFIG_MAX_SETS, n_sets);
    cfg_origin *origins = n_sets ? star_calloc((size_t)n_sets, sizeof *origins) : NULL;
    for (int i = 0; i < n_sets; i++) {
        if (config_apply_override(d, sets[i], &origins[i].first, &origins[i].last, err)) {
            free(origins);
            return -1;
        }
    }
    // Views are taken once every node is in place (adding nodes may move them).
    for (int i = 0; i < n_sets; i++) {
        origins[i].view = *d;
        size_t key_len = strcspn(sets[i], "=");
        snprintf(origins[i].view.name, sizeof origins[i].view.name, "--set %.*s", (int)(key_len < 400 ? key_len : 400),
                 sets[i]);
    }
    cfg_reader r = {.d = d, .origins = origins, .n_origins = n_sets, .err = err};
    config_defaults(c);
    int rc = read_document(&r, c);
    free(origins);
    return rc;
}

int config_load(const char *path, const char **sets, int n_sets, star_config *c, star_error *err) {
    ydoc d;
    if (ydoc_load_file(&d, path, err)) return -1;
    star_config *tmp = star_malloc(sizeof *tmp);
    int rc = load_document(&d, sets, n_sets, tmp, err);
    if (!rc) memcpy(c, tmp, sizeof *c);
    free(tmp);
    ydoc_free(&d);
    return rc;
}

int config_load_string(const char *text, size_t len, const char *name, const char **sets, int n_sets,
                       star_config *c, star_error *err) {
    ydoc d;
    if (ydoc_load_string(&d, text, len, name, err)) return -1;
    star_config *tmp = star_malloc(sizeof *tmp);
    int rc = load_document(&d, sets, n_sets, tmp, err);
    if (!rc) memcpy(c, tmp, sizeof *c);
    free(tmp);
    ydoc_free(&d);
    return rc;
}
