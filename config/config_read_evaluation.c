// star: the config's `evaluation` section: how each candidate is trained and scored.
#include <stdio.h>

#include "config/config_names.h"
#include "config/config_reader.h"

static int read_mad(cfg_reader *r, ynode *n, config_data *d) {
    const char *sec = "evaluation.data.mad";
    if (cfg_expect_seq(r, n, sec)) return -1;
    size_t len = ynode_len(n);
    if (len == 0) return cfg_fail(r, n, sec, "expected at least one MAD task");
    int seen[CONFIG_MAD_COUNT] = {0};
    d->n_mad = 0;
    for (size_t i = 0; i < len; i++) {
        ynode *item = ynode_seq_item(r->d, n, i);
        char path[64];
        snprintf(path, sizeof path, "%s[%zu]", sec, i);
        int task;
        if (cfg_choice_node(r, item, path, config_mad_task_names, CONFIG_MAD_COUNT, &task)) return -1;
        if (seen[task]) return cfg_fail(r, item, path, "task '%s' is listed twice", config_mad_task_names[task]);
        seen[task] = 1;
        d->mad[d->n_mad++] = (config_mad_task)task;
    }
    return 0;
}

// Exactly one source: {mad: [tasks]}, {text: file} or {bin: shard pattern}.
static int read_data(cfg_reader *r, ynode *n, config_data *d) {
    const char *sec = "evaluation.data";
    static const char *const keys[] = {"mad", "text", "bin", NULL};
    if (cfg_check_keys(r, n, sec, keys)) return -1;
    if (ynode_len(n) != 1) return cfg_fail(r, n, sec, "expected exactly one of mad, text, bin");
    const char *key = ynode_scalar(ynode_map_key(r->d, n, 0));
    ynode *v = ynode_map_value(r->d, n, 0);
    char path[64];
    cfg_path(path, sizeof path, sec, key);
    int kind;
    if (cfg_choice_node(r, ynode_map_key(r->d, n, 0), path, config_data_kind_names, CONFIG_DATA_COUNT, &kind))
        return -1;
    d->kind = (config_data_kind)kind;
    d->n_mad = 0;
    for (int i = 0; i < CONFIG_MAD_COUNT; i++) d->mad[i] = (config_mad_task)0;
    if (kind == CONFIG_DATA_MAD) return read_mad(r, v, d);
    return cfg_string_node(r, v, path, d->path, sizeof d->path);
}

static int read_budget(cfg_reader *r, ynode *n, config_budget *b) {
    const char *sec = "evaluation.budget";
    static const char *const keys[] = {"steps", "batch", "seq_len", "lr", "warmup", "weight_decay", "clip", NULL};
    if (cfg_check_keys(r, n, sec, keys)) return -1;
    if (cfg_int(r, n, sec, "steps", 1, 1000000000L, &b->steps)) return -1;
    if (cfg_int(r, n, sec, "batch", 1, 65536, &b->batch)) return -1;
    if (cfg_int(r, n, sec, "seq_len", 2, 1048576, &b->seq_len)) return -1;
    if (cfg_double(r, n, sec, "lr", 0.0, 10.0, &b->lr)) return -1;
    if (b->lr <= 0.0) return cfg_fail(r, cfg_get(r, n, "lr"), "evaluation.budget.lr", "must be > 0");
    b->warmup = b->steps / 10;
    if (cfg_int(r, n, sec, "warmup", 0, 1000000000L, &b->warmup)) return -1;
    if (b->warmup > b->steps)
        return cfg_fail(r, cfg_get(r, n, "warmup"), "evaluation.budget.warmup",
                        "must be <= evaluation.budget.steps (%d), got %d", b->steps, b->warmup);
    if (cfg_double(r, n, sec, "weight_decay", 0.0, 10.0, &b->weight_decay)) return -1;
    if (cfg_double(r, n, sec, "clip", 0.0, 1e9, &b->clip)) return -1;
    return 0;
}

static int read_fidelity(cfg_reader *r, ynode *n, config_fidelity *f, int steps) {
    const char *sec = "evaluation.fidelity";
    static const char *const keys[] = {"rungs", "keep", NULL};
    if (cfg_check_keys(r, n, sec, keys)) return -1;
    ynode *rungs = cfg_get(r, n, "rungs");
    if (!rungs) return cfg_fail(r, n, "evaluation.fidelity.rungs", "required key is missing");
    if (cfg_expect_seq(r, rungs, "evaluation.fidelity.rungs")) return -1;
    size_t len = ynode_len(rungs);
    if (len < 1 || len > CONFIG_MAX_RUNGS)
        return cfg_fail(r, rungs, "evaluation.fidelity.rungs", "expected 1 to %d rungs, got %zu", CONFIG_MAX_RUNGS, len);
    f->n_rungs = (int)len;
    for (size_t i = 0; i < len; i++) {
        ynode *item = ynode_seq_item(r->d, rungs, i);
        char path[64];
        snprintf(path, sizeof path, "evaluation.fidelity.rungs[%zu]", i);
        long v;
        if (ynode_as_long(cfg_doc(r, item), item, path, 1, 1000000000L, &v, r->err)) return -1;
        if (v > steps)
            return cfg_fail(r, item, path, "a rung is a step count up to evaluation.budget.steps (%d), got %ld", steps, v);
        f->rungs[i] = (int)v;
        if (i > 0 && f->rungs[i] <= f->rungs[i - 1])
            return cfg_fail(r, item, path, "rungs must increase, got %d after %d", f->rungs[i], f->rungs[i - 1]);
    }
    if (f->rungs[len - 1] != steps)
        return cfg_fail(r, ynode_seq_item(r->d, rungs, len - 1), "evaluation.fidelity.rungs",
                        "the last rung must equal evaluation.budget.steps (%d), got %d", steps, f->rungs[len - 1]);
    if (cfg_double(r, n, sec, "keep", 0.0, 1.0, &f->keep)) return -1;
    if (f->keep <= 0.0) return cfg_fail(r, cfg_get(r, n, "keep"), "evaluation.fidelity.keep", "must be > 0");
    return 0;
}

int cfg_read_evaluation(cfg_reader *r, ynode *n, star_config *c) {
    const char *sec = "evaluation";
    static const char *const keys[] = {"backend", "threads", "data", "budget", "fidelity", "memory_limit_mb",
                                       "time_limit_s", "ranks_per_candidate", "hang_timeout_s", NULL};
    config_evaluation *e = &c->evaluation;
    if (cfg_check_keys(r, n, sec, keys)) return -1;
    int backend = (int)e->backend;
    if (cfg_choice(r, n, sec, "backend", config_backend_names, CONFIG_BACKEND_COUNT, &backend)) return -1;
    e->backend = (config_backend)backend;
    if (cfg_int(r, n, sec, "threads", 0, 4096, &e->threads)) return -1;
    ynode *v;
    if ((v = cfg_get(r, n, "data")) && read_data(r, v, &e->data)) return -1;
    if ((v = cfg_get(r, n, "budget")) && read_budget(r, v, &e->budget)) return -1;
    if ((v = cfg_get(r, n, "fidelity")) && read_fidelity(r, v, &e->fidelity, e->budget.steps)) return -1;
    if (cfg_long(r, n, sec, "memory_limit_mb", 0, 1000000000L, &e->memory_limit_mb)) return -1;
    if (cfg_long(r, n, sec, "time_limit_s", 0, 1000000000L, &e->time_limit_s)) return -1;
    if (cfg_int(r, n, sec, "ranks_per_candidate", 1, 65536, &e->ranks_per_candidate)) return -1;
    if (cfg_long(r, n, sec, "hang_timeout_s", 0, 1000000000L, &e->hang_timeout_s)) return -1;
    if (e->ranks_per_candidate > e->budget.batch)
        return cfg_fail(r, cfg_get(r, n, "ranks_per_candidate"), "evaluation.ranks_per_candidate",
                        "each rank trains a slice of the batch: must be <= evaluation.budget.batch (%d), got %d",
                        e->budget.batch, e->ranks_per_candidate);
    return 0;
}
