// star: the config's defaults (docs/config.md lists them beside each key).
#include <string.h>

#include "config/config.h"

void config_defaults(star_config *c) {
    memset(c, 0, sizeof *c);
    c->run.seed = 1;
    c->run.keep_weights = CONFIG_KEEP_ALL;

    config_space *s = &c->space;
    s->n_classes = LIV_CLASS_COUNT;
    for (int i = 0; i < LIV_CLASS_COUNT; i++) s->classes[i] = (liv_class)(i + 1);
    s->depth_min = 4;
    s->depth_max = 8;
    s->width = 128;
    s->vocab = 256;
    s->share_featurizer = 1;
    s->share_feature_group = 1;

    // STAR's three objectives: quality, size and cache.
    c->n_objectives = 3;
    for (int i = 0; i < 3; i++) {
        c->objectives[i].context = 4096;
        c->objectives[i].dtype = CONFIG_DTYPE_BF16;
    }
    c->objectives[0].kind = CONFIG_OBJ_QUALITY;
    c->objectives[1].kind = CONFIG_OBJ_PARAMS;
    c->objectives[2].kind = CONFIG_OBJ_CACHE_BYTES;

    config_algorithm *a = &c->algorithm;
    a->kind = CONFIG_ALGO_NSGA2;
    a->population = 16;
    a->generations = 10;
    a->crossover_points = 2;
    a->crossover_rate = 0.9;
    config_mutation *m = &a->mutation;
    m->rate = m->backbone = m->op = m->featurizer = m->norm = m->insert = m->del = 0.1;
    a->tournament = 2;

    config_evaluation *e = &c->evaluation;
    e->backend = CONFIG_BACKEND_CPU;
    e->data.kind = CONFIG_DATA_MAD;
    e->data.n_mad = 2;
    e->data.mad[0] = CONFIG_MAD_IN_CONTEXT_RECALL;
    e->data.mad[1] = CONFIG_MAD_SELECTIVE_COPYING;
    // Fields are set one by one (no compound literal) so padding stays zero for memcmp.
    config_budget *b = &e->budget;
    b->steps = 300;
    b->batch = 32;
    b->seq_len = 128;
    b->lr = 3.0e-3;
    b->warmup = 30;  // steps / 10 unless given
    b->weight_decay = 0.1;
    b->clip = 1.0;
    e->fidelity.keep = 0.5;
    e->ranks_per_candidate = 1;

    c->problem.kind = CONFIG_PROBLEM_ZDT1;
    c->problem.n_var = 30;
    c->problem.n_obj = 2;
}
