// star: the config's `algorithm` section: the evolutionary search and its operators.
#include <stdio.h>

#include "config/config_names.h"
#include "config/config_reader.h"

static int read_mutation(cfg_reader *r, ynode *n, config_mutation *m) {
    static const char *const keys[] = {"rate", "backbone", "operator", "featurizer", "norm", "insert", "delete", NULL};
    const char *sec = "algorithm.mutation";
    if (cfg_check_keys(r, n, sec, keys)) return -1;
    if (cfg_double(r, n, sec, "rate", 0.0, 1.0, &m->rate)) return -1;
    // Each level defaults to `rate`, the one knob most configs set.
    m->backbone = m->op = m->featurizer = m->norm = m->insert = m->del = m->rate;
    if (cfg_double(r, n, sec, "backbone", 0.0, 1.0, &m->backbone)) return -1;
    if (cfg_double(r, n, sec, "operator", 0.0, 1.0, &m->op)) return -1;
    if (cfg_double(r, n, sec, "featurizer", 0.0, 1.0, &m->featurizer)) return -1;
    if (cfg_double(r, n, sec, "norm", 0.0, 1.0, &m->norm)) return -1;
    if (cfg_double(r, n, sec, "insert", 0.0, 1.0, &m->insert)) return -1;
    if (cfg_double(r, n, sec, "delete", 0.0, 1.0, &m->del)) return -1;
    return 0;
}

static int read_seed_with(cfg_reader *r, ynode *n, config_algorithm *a) {
    if (cfg_expect_seq(r, n, "algorithm.seed_with")) return -1;
    size_t len = ynode_len(n);
    if (len > CONFIG_MAX_SEEDS)
        return cfg_fail(r, n, "algorithm.seed_with", "at most %d genome files, got %zu", CONFIG_MAX_SEEDS, len);
    a->n_seed_with = (int)len;
    for (size_t i = 0; i < len; i++) {
        char path[64];
        snprintf(path, sizeof path, "algorithm.seed_with[%zu]", i);
        if (cfg_string_node(r, ynode_seq_item(r->d, n, i), path, a->seed_with[i], CONFIG_PATH_MAX)) return -1;
    }
    return 0;
}

int cfg_read_algorithm(cfg_reader *r, ynode *n, star_config *c) {
    static const char *const keys[] = {"name",       "population", "generations", "crossover",
                                       "mutation",   "tournament", "seed_with",   NULL};
    static const char *const crossover_keys[] = {"points", "rate", NULL};
    const char *sec = "algorithm";
    config_algorithm *a = &c->algorithm;
    if (cfg_check_keys(r, n, sec, keys)) return -1;
    int kind = (int)a->kind;
    if (cfg_choice(r, n, sec, "name", config_algorithm_names, CONFIG_ALGO_COUNT, &kind)) return -1;
    a->kind = (config_algorithm_kind)kind;
    if (cfg_int(r, n, sec, "population", 2, 100000, &a->population)) return -1;
    if (cfg_int(r, n, sec, "generations", 1, 1000000, &a->generations)) return -1;
    ynode *v;
    if ((v = cfg_get(r, n, "crossover"))) {
        if (cfg_check_keys(r, v, "algorithm.crossover", crossover_keys)) return -1;
        if (cfg_int(r, v, "algorithm.crossover", "points", 1, GENOME_MAX_DEPTH, &a->crossover_points)) return -1;
        if (cfg_double(r, v, "algorithm.crossover", "rate", 0.0, 1.0, &a->crossover_rate)) return -1;
    }
    if ((v = cfg_get(r, n, "mutation")) && read_mutation(r, v, &a->mutation)) return -1;
    if (cfg_int(r, n, sec, "tournament", 2, 64, &a->tournament)) return -1;
    if ((v = cfg_get(r, n, "seed_with")) && read_seed_with(r, v, a)) return -1;
    return 0;
}
