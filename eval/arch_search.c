// star: the architecture search's representation and problem (eval/arch_search.h).
#include "eval/arch_search.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "dist/nccl_group.h"
#include "eval/model_cuda.h"
#include "eval/quality.h"
#include "eval/run_weights.h"
#include "genome/genome_canonical.h"
#include "genome/genome_check.h"
#include "genome/genome_stats.h"
#include "genome/genome_string.h"
#include "genome/genome_yaml.h"
#include "genome/space.h"
#include "genome/variation.h"

// The metrics of one evaluation, kept for the archive line written right after it.
typedef struct arch_metrics {
    uint64_t hash;
    int trained;
    quality_result q;
    arch_stats stats;
} arch_metrics;

struct arch_search {
    star_config cfg;
    genome_space space;
    genome_mutation_rates rates;
    representation rep;
    problem prob;
    const char *obj_names[SEARCH_MAX_OBJ];
    genome seeds[CONFIG_MAX_SEEDS];
    const void *seed_ptrs[CONFIG_MAX_SEEDS];
    int n_seeds;
    arch_metrics last;  // metrics of the last evaluation (the archive asks right after)
    const dist_comm *group;  // the ranks that train each candidate together (NULL: alone)
    nccl_group *nccl;        // their NCCL communicator (backend cuda, several ranks per candidate)
};

static int rep_sample(void *ctx, pcg32 *rng, void *x, star_error *err) {
    arch_search *as = ctx;
    genome_random(&as->space, rng, x);
    return 0;
}

static int rep_crossover(void *ctx, pcg32 *rng, const void *a, const void *b, void *child, star_error *err) {
    arch_search *as = ctx;
    genome_crossover(a, b, as->cfg.algorithm.crossover_points, &as->space, rng, child);
    return 0;
}

static int rep_mutate(void *ctx, pcg32 *rng, void *x, star_error *err) {
    arch_search *as = ctx;
    genome_mutate(x, &as->space, &as->rates, rng);
    return 0;
}

static int rep_repair(void *ctx, pcg32 *rng, void *x, star_error *err) {
    arch_search *as = ctx;
    genome_space_repair(x, &as->space, rng);
    return 0;
}

static uint64_t rep_hash(void *ctx, const void *x) {
    arch_search *as = ctx;
    return genome_hash(x, as->space.dims);
}

static uint64_t eval_seed(void *ctx, uint64_t hash) {
    arch_search *as = ctx;
    // A genome's training seed depends on the run seed and the genome alone, never on
    // when or where it is evaluated: a resumed or distributed run trains it identically.
    // 63 bits, so the archive's JSON integer holds it exactly as written.
    return ((as->cfg.run.seed * 0x9E3779B97F4A7C15ULL) ^ hash) & 0x7FFFFFFFFFFFFFFFULL;
}

static void write_x(void *ctx, const void *x, json_writer *w) {
    arch_search *as = ctx;
    genome c;
    genome_canonical(x, as->space.dims, &c);
    char buf[4096];
    if (genome_to_string(&c, buf, sizeof buf) < 0) snprintf(buf, sizeof buf, "(genome too long to print)");
    jw_str(w, buf);
}

static void write_metrics(void *ctx, uint64_t hash, json_writer *w) {
    arch_search *as = ctx;
    const arch_metrics *mt = &as->last;
    if (mt->hash != hash) return;
    jw_kv_int(w, "params", mt->stats.params);
    jw_kv_int(w, "flops_per_token", mt->stats.flops_per_token);
    if (!mt->trained) return;
    const quality_result *q = &mt->q;
    jw_kv_double(w, "val_loss", q->quality);
    jw_kv_double(w, "accuracy", q->accuracy);
    if (as->cfg.evaluation.data.kind == CONFIG_DATA_TEXT) jw_kv_double(w, "bits_per_byte", q->bits_per_byte);
    jw_kv_double(w, "train_loss", q->train_loss);
    jw_kv_double(w, "tokens_per_s", q->tokens_per_s);
    jw_kv_double(w, "train_s", q->wall_s);
    if (q->n_tasks > 1 || as->cfg.evaluation.data.kind == CONFIG_DATA_MAD) {
        jw_key(w, "tasks");
        jw_obj_begin(w);
        for (int t = 0; t < q->n_tasks; t++) {
            jw_key(w, q->task[t]);
            jw_obj_begin(w);
            jw_kv_double(w, "val_loss", q->task_loss[t]);
            jw_kv_double(w, "accuracy", q->task_accuracy[t]);
            jw_obj_end(w);
        }
        jw_obj_end(w);
    }
}

static double objective_stat(const config_objective *o, const arch_stats *st) {
    switch (o->kind) {
    case CONFIG_OBJ_PARAMS: return (double)st->params;
    case CONFIG_OBJ_CACHE_BYTES: return (double)st->cache_bytes;
    case CONFIG_OBJ_FLOPS: return (double)st->flops_per_token;
    default: return NAN;
    }
}

// Evaluates one genome: the closed-form objectives first; training only for a
// candidate within every hard limit that needs no training.
static int evaluate_one(arch_search *as, individual *ind, int steps, star_error *err) {
    const star_config *cfg = &as->cfg;
    const genome *g = ind->x;
    arch a;
    if (genome_resolve(g, as->space.dims, &a, err) != 0) return star_error_prefix(err, "resolving a candidate");
    memset(&as->last, 0, sizeof as->last);
    as->last.hash = ind->hash;
    ind->cv = 0;
    char why[256] = "";
    int need_quality = 0;
    for (int k = 0; k < cfg->n_objectives; k++) {
        const config_objective *o = &cfg->objectives[k];
        if (o->kind == CONFIG_OBJ_QUALITY) {
            need_quality = 1;
            ind->f[k] = INFINITY;
            continue;
        }
        arch_stats st;
        int bytes = o->dtype == CONFIG_DTYPE_FP32 ? 4 : 2;
        arch_stats_compute(&a, o->context, bytes, &st);
        if (k == 0 || o->kind == CONFIG_OBJ_PARAMS) as->last.stats = st;
        ind->f[k] = objective_stat(o, &st);
        if (o->has_max && ind->f[k] > o->max) {
            ind->cv += (ind->f[k] - o->max) / (o->max > 0 ? o->max : 1);
            size_t n = strlen(why);
            snprintf(why + n, sizeof why - n, "%s%s %.4g > max %.4g", n ? "; " : "", config_objective_name(o->kind),
                     ind->f[k], o->max);
        }
    }
    if (as->last.stats.params == 0) arch_stats_compute(&a, 4096, 2, &as->last.stats);
    if (ind->cv > 0) {
        snprintf(ind->reason, sizeof ind->reason, "%s (not trained)", why);
        return 0;
    }
    if (!need_quality) return 0;
    quality_result *q = &as->last.q;
    // run.keep_weights all: the trained models go to RUN/weights/<hash>-f<steps>/, written
    // by the rank that trained them (rank 0 of its group; docs/run.md).
    char final_dir[4096], tmp_dir[4096], gs[GENOME_STRING_MAX];
    quality_save save = {.dir = tmp_dir, .genome = gs};
    int keep = cfg->run.keep_weights == CONFIG_KEEP_ALL && (!as->group || dist_rank(as->group) == 0);
    if (keep) {
        int trained_steps = steps > 0 ? steps : cfg->evaluation.budget.steps;
        if (genome_to_string(g, gs, sizeof gs) < 0) return STAR_FAIL(err, "a candidate's genome is too long to print");
        if (run_weights_begin(cfg->run.dir, ind->hash, trained_steps, final_dir, tmp_dir, err) != 0) return -1;
    }
    int rc = quality_evaluate_save(cfg, &a, eval_seed(as, ind->hash), steps, as->group, keep ? &save : NULL, q, err);
    if (keep && (rc != 0 || !q->ok)) run_weights_discard(tmp_dir);
    else if (keep && run_weights_commit(tmp_dir, final_dir, err) != 0) return -1;
    if (rc != 0) return -1;
    as->last.trained = 1;
    if (!q->ok) {
        individual_set_failed(ind, "%s", q->reason);
        return 0;
    }
    for (int k = 0; k < cfg->n_objectives; k++) {
        const config_objective *o = &cfg->objectives[k];
        if (o->kind != CONFIG_OBJ_QUALITY) continue;
        ind->f[k] = q->quality;
        if (o->has_max && q->quality > o->max) {
            ind->cv += (q->quality - o->max) / (o->max > 0 ? o->max : 1);
            snprintf(ind->reason, sizeof ind->reason, "quality %.4g > max %.4g", q->quality, o->max);
        }
    }
    return 0;
}

static int evaluate_batch(void *ctx, individual **inds, int n, star_error *err) {
    for (int i = 0; i < n; i++)
        if (evaluate_one(ctx, inds[i], 0, err) != 0) return -1;
    return 0;
}

static int evaluate_fidelity(void *ctx, individual *ind, int steps, star_error *err) {
    return evaluate_one(ctx, ind, steps, err);
}

// Training FLOPs per token at the training length: what makes one candidate cost more
// than another (steps and batch are the same for all of a batch).
static double evaluate_cost(void *ctx, const individual *ind) {
    arch_search *as = ctx;
    arch a;
    star_error err;
    if (genome_resolve(ind->x, as->space.dims, &a, &err) != 0) return 0;
    arch_stats st;
    arch_stats_compute(&a, as->cfg.evaluation.budget.seq_len, 4, &st);
    return (double)st.flops_per_token;
}

int arch_search_create(const star_config *cfg, arch_search **out, star_error *err) {
    *out = NULL;
    if (cfg->evaluation.backend == CONFIG_BACKEND_CUDA) {
        // Checked once here, before the run directory exists, not per candidate.
        if (!cuda_backend_built())
            return STAR_FAIL(err, "evaluation.backend: cuda is not available in this build (it has no CUDA backend: "
                                  "configure with a CUDA compiler); use cpu");
        if (cfg->evaluation.ranks_per_candidate > 1 && !nccl_built())
            return STAR_FAIL(err, "evaluation: backend cuda with ranks_per_candidate %d: data-parallel training on "
                                  "GPUs needs NCCL, and this build has none; use ranks_per_candidate 1",
                             cfg->evaluation.ranks_per_candidate);
        star_error cerr;
        if (cuda_backend_check(&cerr) != 0) return STAR_FAIL(err, "evaluation.backend: cuda: %s (use cpu)", cerr.msg);
    }
    arch_search *as = calloc(1, sizeof *as);
    if (!as) return STAR_FAIL(err, "out of memory");
    as->cfg = *cfg;
    genome_space *sp = &as->space;
    sp->classes = 0;
    for (int i = 0; i < cfg->space.n_classes; i++) sp->classes |= GENOME_CLASS_BIT(cfg->space.classes[i]);
    sp->depth_min = cfg->space.depth_min;
    sp->depth_max = cfg->space.depth_max;
    sp->dims.width = cfg->space.width;
    sp->dims.vocab = cfg->space.vocab;
    sp->allow_featurizer_sharing = cfg->space.share_featurizer;
    sp->allow_feature_group_sharing = cfg->space.share_feature_group;
    if (genome_space_check(sp, err) != 0) goto fail;
    const config_mutation *mu = &cfg->algorithm.mutation;
    as->rates = (genome_mutation_rates){.backbone = mu->backbone, .op = mu->op, .featurizer = mu->featurizer,
                                        .norm = mu->norm, .insert = mu->insert, .del = mu->del};
    for (int i = 0; i < cfg->algorithm.n_seed_with; i++) {
        genome *g = &as->seeds[as->n_seeds];
        if (genome_load_file(cfg->algorithm.seed_with[i], g, NULL, err) != 0) {
            star_error_prefix(err, "algorithm.seed_with[%d]", i);
            goto fail;
        }
        if (genome_in_space(g, sp, err) != 0) {
            star_error_prefix(err, "algorithm.seed_with[%d] %s is outside the search space", i,
                              cfg->algorithm.seed_with[i]);
            goto fail;
        }
        as->seed_ptrs[as->n_seeds] = g;
        as->n_seeds++;
    }
    for (int k = 0; k < cfg->n_objectives; k++) as->obj_names[k] = config_objective_name(cfg->objectives[k].kind);
    as->rep = (representation){.name = "genome",
                               .size = sizeof(genome),
                               .ctx = as,
                               .sample = rep_sample,
                               .crossover = rep_crossover,
                               .mutate = rep_mutate,
                               .repair = rep_repair,
                               .hash = rep_hash};
    as->prob = (problem){.name = "architecture",
                         .n_obj = cfg->n_objectives,
                         .n_constraints = 0,
                         .ctx = as,
                         .evaluate_batch = evaluate_batch,
                         .evaluate_fidelity = evaluate_fidelity,
                         .cost = evaluate_cost};
    if (quality_check_data(cfg, err) != 0) goto fail;
    quality_set_threads(cfg->evaluation.threads);
    *out = as;
    return 0;
fail:
    free(as);
    return -1;
}

void arch_search_free(arch_search *as) {
    if (!as) return;
    if (as->nccl) quality_set_cuda(0, NULL);
    nccl_group_free(as->nccl);
    free(as);
}

void arch_search_set_group(arch_search *as, const dist_comm *group) { as->group = group; }

int arch_search_setup_cuda(arch_search *as, int group_index, star_error *err) {
    const star_config *cfg = &as->cfg;
    if (cfg->evaluation.backend != CONFIG_BACKEND_CUDA) return 0;
    int device = 0;
    if (cuda_rank_device(&device, err) != 0) return -1;
    if (cfg->evaluation.ranks_per_candidate > 1 && as->group && dist_size(as->group) > 1) {
        // Sums wait at most as long as a candidate may hang (docs/distributed.md).
        double timeout = cfg->evaluation.hang_timeout_s > 0 ? (double)cfg->evaluation.hang_timeout_s : 0;
        if (nccl_group_create(group_index, dist_rank(dist_world()), device, timeout, &as->nccl, err) != 0) return -1;
    }
    quality_set_cuda(device, as->nccl);
    return 0;
}

void arch_search_fill_spec(arch_search *as, run_spec *spec) {
    spec->rep = &as->rep;
    spec->prob = &as->prob;
    spec->obj_names = as->obj_names;
    spec->n_obj = as->cfg.n_objectives;
    spec->params.n_obj = as->cfg.n_objectives;
    spec->params.seeds = as->seed_ptrs;
    spec->params.n_seeds = as->n_seeds < spec->params.pop_size ? as->n_seeds : spec->params.pop_size;
    for (int k = 0; k < as->cfg.n_objectives; k++) {
        const config_objective *o = &as->cfg.objectives[k];
        spec->hv_ref[k] = o->has_max ? o->max : NAN;
    }
    const config_fidelity *fi = &as->cfg.evaluation.fidelity;
    spec->n_rungs = fi->n_rungs > 8 ? 8 : fi->n_rungs;
    for (int r = 0; r < spec->n_rungs; r++) spec->rungs[r] = fi->rungs[r];
    spec->keep = fi->keep;
    spec->n_full_fidelity = 0;
    for (int i = 0; i < spec->params.n_seeds && i < (int)(sizeof spec->full_fidelity / sizeof spec->full_fidelity[0]); i++)
        spec->full_fidelity[spec->n_full_fidelity++] = as->rep.hash(as->rep.ctx, as->seed_ptrs[i]);
    spec->write_x = write_x;
    spec->write_metrics = write_metrics;
    spec->eval_seed = eval_seed;
    spec->ctx = as;
}
