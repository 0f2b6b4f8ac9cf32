#include "eval/quality.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <cblas.h>

#include "common/file.h"
#include "eval/checkpoint.h"
#include "eval/data_open.h"
#include "eval/model.h"
#include "eval/model_cuda.h"
#include "eval/train.h"

void quality_set_threads(int threads) {
#ifdef _OPENMP
    if (threads > 0) omp_set_num_threads(threads);
    int n = omp_get_max_threads();
#else
    int n = threads > 0 ? threads : 1;
#endif
    (void)n;
    // OpenBLAS runs single-threaded inside the OpenMP threads of operators/matmul.c: at
    // the sizes of a search its own thread pool spins against OpenMP's (measured 2x
    // slower on 2 cores than one BLAS thread per OpenMP thread).
    openblas_set_num_threads(1);
}

static void train_params_from(const star_config *cfg, int steps, int T, train_params *p) {
    const config_budget *bu = &cfg->evaluation.budget;
    train_params_default(p);
    p->steps = steps > 0 ? steps : bu->steps;
    p->batch = bu->batch;
    p->seq_len = T;
    p->lr = bu->lr;
    // The warm-up is the budget's, cut to a tenth of a shorter rung.
    p->warmup_steps = bu->warmup < p->steps ? bu->warmup : p->steps / 10;
    p->weight_decay = bu->weight_decay;
    p->clip = bu->clip;
    p->val_batches = validation_batches(QUALITY_VAL_SEQUENCES, p->batch);
    p->time_limit_s = (double)cfg->evaluation.time_limit_s;
}

static struct {
    int device;
    struct nccl_group *nccl;
} cuda_use;

void quality_set_cuda(int device, struct nccl_group *nccl) {
    cuda_use.device = device;
    cuda_use.nccl = nccl;
}

#if defined(STAR_WITH_CUDA) && !defined(STAR_REAL_DOUBLE)
#include "kernels/kernels.h"

// Trains on the device (data parallel over tp->group through tp->nccl when set), keeping
// the weights when save_dir is set: copied to the host model and saved when ok.
static int train_cuda_save(const arch *a, model_options mo, const data_source *src, const train_params *tp,
                           const char *save_dir, const char *genome, train_result *r, star_error *err) {
    memset(r, 0, sizeof *r);
    cuda_model *g = NULL;
    star_error merr;
    int made = cuda_model_create(a, mo, cuda_use.device, &g, &merr);
    if (made != 0) {
        star_error serr;
        if (star_cuda_sync(NULL, &serr) != 0)
            return STAR_FAIL(err, "%s; the CUDA device is no longer usable: %s", merr.msg, serr.msg);
    }
    // The ranks of a group train together or not at all.
    if (tp->group && dist_agree(tp->group, made, &merr) != 0) made = -1;
    if (made != 0) {
        cuda_model_free(g);
        snprintf(r->reason, sizeof r->reason, "%s", merr.msg);
        return 0;
    }
    int rc = train_run_cuda(g, src, tp, r, err);
    if (rc == 0 && r->ok && save_dir) rc = cuda_model_download_weights(g, cuda_model_host(g), err);
    if (rc == 0 && r->ok && save_dir) rc = checkpoint_save(save_dir, cuda_model_host(g), NULL, genome, tp->steps, err);
    cuda_model_free(g);
    return rc;
}
#endif

// Trains one model on one data source and scores it, on the config's backend; when
// save_dir is not NULL, rank 0 of the group saves the trained model there.
static int train_one(const star_config *cfg, const arch *a, const data_source *src, uint64_t seed, int steps, int T,
                     const dist_comm *group, const char *save_dir, const char *genome, train_result *r,
                     star_error *err) {
    int n_ranks = group ? dist_size(group) : 1;
    model_options mo = {.max_batch = train_rows_per_rank(cfg->evaluation.budget.batch, n_ranks),
                        .max_seq = T,
                        .seed = seed,
                        .memory_limit_bytes = (size_t)cfg->evaluation.memory_limit_mb * 1048576u};
    train_params tp;
    train_params_from(cfg, steps, T, &tp);
    if (save_dir && group && dist_rank(group) != 0) save_dir = NULL;
    if (cfg->evaluation.backend == CONFIG_BACKEND_CUDA) {
        if (n_ranks > 1 && !cuda_use.nccl)
            return STAR_FAIL(err, "evaluation.ranks_per_candidate %d with backend cuda: no NCCL communicator was set up "
                                  "for the group", n_ranks);
        tp.group = group;
        tp.nccl = cuda_use.nccl;
#if defined(STAR_WITH_CUDA) && !defined(STAR_REAL_DOUBLE)
        return train_cuda_save(a, mo, src, &tp, save_dir, genome, r, err);
#else
        return train_new_cuda(a, mo, cuda_use.device, src, &tp, NULL, r, err);
#endif
    }
    model *m;
    star_error merr;
    if (model_create(a, mo, &m, &merr) != 0) {
        // Out of memory is the candidate's failure, not the search's.
        memset(r, 0, sizeof *r);
        snprintf(r->reason, sizeof r->reason, "%s", merr.msg);
        return 0;
    }
    tp.group = group;
    int rc = train_run(m, src, &tp, r, err);
    if (rc == 0 && r->ok && save_dir) rc = checkpoint_save(save_dir, m, NULL, genome, tp.steps, err);
    model_free(m);
    return rc;
}

static data_kind kind_of(const config_data *data) {
    return data->kind == CONFIG_DATA_MAD ? DATA_MAD : data->kind == CONFIG_DATA_TEXT ? DATA_TEXT : DATA_BIN;
}

int quality_check_data(const star_config *cfg, star_error *err) {
    const config_data *data = &cfg->evaluation.data;
    int n = data->kind == CONFIG_DATA_MAD ? data->n_mad : 1;
    for (int i = 0; i < n; i++) {
        const char *what = data->kind == CONFIG_DATA_MAD ? config_mad_task_name(data->mad[i]) : data->path;
        data_handle h;
        data_source src;
        if (data_open(&h, kind_of(data), what, cfg->evaluation.budget.seq_len, cfg->space.vocab, 0, &src, err) != 0)
            return star_error_prefix(err, "evaluation.data");
        data_close(&h);
    }
    return 0;
}

int quality_evaluate(const star_config *cfg, const arch *a, uint64_t seed, int steps, quality_result *out,
                     star_error *err) {
    return quality_evaluate_group(cfg, a, seed, steps, NULL, out, err);
}

int quality_evaluate_group(const star_config *cfg, const arch *a, uint64_t seed, int steps, const dist_comm *group,
                           quality_result *out, star_error *err) {
    return quality_evaluate_save(cfg, a, seed, steps, group, NULL, out, err);
}

int quality_evaluate_save(const star_config *cfg, const arch *a, uint64_t seed, int steps, const dist_comm *group,
                          const quality_save *save, quality_result *out, star_error *err) {
    memset(out, 0, sizeof *out);
    const config_data *data = &cfg->evaluation.data;
    int n = data->kind == CONFIG_DATA_MAD ? data->n_mad : 1;
    if (n > QUALITY_MAX_TASKS) n = QUALITY_MAX_TASKS;
    out->ok = 1;
    for (int i = 0; i < n; i++) {
        data_kind kind = kind_of(data);
        const char *what = kind == DATA_MAD ? config_mad_task_name(data->mad[i]) : data->path;
        char dir[4096];
        const char *save_dir = NULL;
        if (save) {
            if (kind != DATA_MAD) snprintf(dir, sizeof dir, "%s", save->dir);
            else if (path_join(dir, sizeof dir, save->dir, what, err) != 0) return -1;
            save_dir = dir;
        }
        data_handle h;
        data_source src;
        // Checked whole by quality_check_data when the search began: no scan per candidate.
        if (data_open_again(&h, kind, what, cfg->evaluation.budget.seq_len, a->dims.vocab, seed, &src, err) != 0)
            return star_error_prefix(err, "evaluation.data");
        train_result r;
        int rc = train_one(cfg, a, &src, seed, steps, h.seq_len, group, save_dir, save ? save->genome : NULL, &r, err);
        data_close(&h);
        if (rc != 0) return -1;
        snprintf(out->task[i], sizeof out->task[i], "%s", kind == DATA_MAD ? what : kind == DATA_TEXT ? "text" : "bin");
        out->n_tasks = i + 1;
        if (!r.ok) {
            out->ok = 0;
            snprintf(out->reason, sizeof out->reason, "%s%s%s", kind == DATA_MAD ? what : "", kind == DATA_MAD ? ": " : "",
                     r.reason);
            return 0;
        }
        out->task_loss[i] = r.val_loss;
        out->task_accuracy[i] = r.accuracy;
        out->quality += r.val_loss / n;
        out->accuracy += r.accuracy / n;
        out->bits_per_byte += r.bits_per_byte / n;
        out->train_loss += r.train_loss / n;
        out->tokens_per_s += r.tokens_per_s / n;
        out->wall_s += r.wall_s;
    }
    return 0;
}
