// star: the config's `objectives` list. Every objective is minimized; `max` makes it a
// hard constraint as well (NSGA-II's constrained domination).
#include <stdio.h>
#include <string.h>

#include "config/config_names.h"
#include "config/config_reader.h"

static int read_objective(cfg_reader *r, ynode *n, const char *path, config_objective *o) {
    // The keys each objective accepts: context only where the count depends on it.
    static const char *const keys_plain[] = {"name", "max", NULL};
    static const char *const keys_flops[] = {"name", "max", "context", NULL};
    static const char *const keys_cache[] = {"name", "max", "context", "dtype", NULL};
    if (!ynode_is_map(n)) return cfg_fail(r, n, path, "expected a mapping such as {name: quality}");
    ynode *name = cfg_get(r, n, "name");
    char npath[96];
    cfg_path(npath, sizeof npath, path, "name");
    if (!name) return cfg_fail(r, n, npath, "required key is missing");
    int kind;
    if (cfg_choice_node(r, name, npath, config_objective_names, CONFIG_OBJ_COUNT, &kind)) return -1;
    o->kind = (config_objective_kind)kind;
    const char *const *keys = kind == CONFIG_OBJ_CACHE_BYTES ? keys_cache
                              : kind == CONFIG_OBJ_FLOPS     ? keys_flops
                                                             : keys_plain;
    if (cfg_check_keys(r, n, path, keys)) return -1;
    if (cfg_get(r, n, "max")) {
        o->has_max = 1;
        if (cfg_double(r, n, path, "max", 0.0, 1e300, &o->max)) return -1;
    }
    if (cfg_long(r, n, path, "context", 1, 100000000L, &o->context)) return -1;
    int dtype = (int)o->dtype;
    if (cfg_choice(r, n, path, "dtype", config_dtype_names, CONFIG_DTYPE_COUNT, &dtype)) return -1;
    o->dtype = (config_dtype)dtype;
    return 0;
}

int cfg_read_objectives(cfg_reader *r, ynode *n, star_config *c) {
    if (cfg_expect_seq(r, n, "objectives")) return -1;
    size_t len = ynode_len(n);
    if (len < 1 || len > CONFIG_MAX_OBJECTIVES)
        return cfg_fail(r, n, "objectives", "expected 1 to %d objectives, got %zu", CONFIG_MAX_OBJECTIVES, len);
    memset(c->objectives, 0, sizeof c->objectives);
    c->n_objectives = (int)len;
    for (size_t i = 0; i < len; i++) {
        config_objective *o = &c->objectives[i];
        o->context = 4096;
        o->dtype = CONFIG_DTYPE_BF16;
        char path[64];
        snprintf(path, sizeof path, "objectives[%zu]", i);
        ynode *item = ynode_seq_item(r->d, n, i);
        if (read_objective(r, item, path, o)) return -1;
        for (size_t j = 0; j < i; j++)
            if (c->objectives[j].kind == o->kind)
                return cfg_fail(r, cfg_get(r, item, "name"), path, "objective '%s' is listed twice",
                                config_objective_names[o->kind]);
    }
    return 0;
}
