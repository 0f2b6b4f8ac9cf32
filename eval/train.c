#include "eval/train.h"

#include "common/timer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eval/batch_slice.h"
#include "eval/optimizer.h"
#include "operators/crossentropy.h"

void train_params_default(train_params *p) {
    memset(p, 0, sizeof *p);
    p->steps = 300;
    p->batch = 16;
    p->seq_len = 128;
    p->lr = 3e-3;
    p->min_lr_frac = 0.1;
    p->warmup_steps = 30;
    p->weight_decay = 0.1;
    p->clip = 1.0;
    p->beta1 = 0.9;
    p->beta2 = 0.95;
    p->eps = 1e-8;
}

double train_lr_at(const train_params *p, int step) {
    if (step < p->warmup_steps) return p->lr * (double)(step + 1) / p->warmup_steps;
    double span = (double)p->steps - p->warmup_steps;
    double progress = span > 0 ? ((double)step - p->warmup_steps) / span : 1.0;
    if (progress > 1) progress = 1;
    double floor_lr = p->min_lr_frac * p->lr;
    return floor_lr + 0.5 * (p->lr - floor_lr) * (1.0 + cos(M_PI * progress));
}

int train_rows_per_rank(int B, int n) { return n > 1 ? (B + n - 1) / n : B; }

int evaluate_validation(model *m, const data_source *data, int B, int T, int max_batches, train_result *r,
                        star_error *err) {
    return evaluate_validation_group(m, data, B, T, max_batches, NULL, r, err);
}

int evaluate_validation_group(model *m, const data_source *data, int B, int T, int max_batches,
                              const dist_comm *group, train_result *r, star_error *err) {
    batch_slice sl;
    if (batch_slice_init(&sl, group, B, T, err) != 0) return -1;
    token_batch b;
    if (token_batch_alloc(&b, train_rows_per_rank(B, sl.n), T, err) != 0) {
        batch_slice_free(&sl);
        return -1;
    }
    int total = data->val_count(data->ctx, B, T), n = total;
    if (max_batches > 0 && n > max_batches) n = max_batches;
    double sums[3] = {0, 0, 0};  // loss * scored, scored, correct
    int V = model_arch(m)->dims.vocab;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        double loss;
        if (data->val_batch(data->ctx, validation_batch_index(i, n, total), batch_slice_source(&sl, &b), err) != 0) {
            rc = -1;
            break;
        }
        batch_slice_take(&sl, &b);
        if (model_forward(m, &b, &loss, err) != 0) {
            rc = -1;
            break;
        }
        long s = token_batch_scored(&b);
        if (s == 0) continue;
        sums[0] += loss * (double)s;
        sums[1] += (double)s;
        sums[2] += (double)crossentropy_correct(NULL, model_logits(m), b.targets, (long)b.B * b.T, V);
    }
    token_batch_free(&b);
    batch_slice_free(&sl);
    if (rc != 0) return -1;
    if (sl.group && dist_allreduce_sum_double(sl.group, sums, 3, err) != 0) return -1;
    if (sums[1] == 0) return STAR_FAIL(err, "the validation set has no scored positions");
    r->val_loss = sums[0] / sums[1];
    r->bits_per_byte = data->is_bytes ? r->val_loss / log(2.0) : 0;
    r->accuracy = sums[2] / sums[1];
    return 0;
}

// Sums the group's gradients, each rank's weighted by its scored positions, and divides
// by the group's: every rank ends with the gradient of the global batch's mean loss.
static int allreduce_grads(model *m, const dist_comm *group, double scored, double total, real **buf, star_error *err) {
    int nt = model_n_tensors(m);
    size_t n = model_param_count(m), off = 0;
    if (!*buf) *buf = star_malloc(sizeof(real) * (n ? n : 1));
    for (int i = 0; i < nt; i++) {
        const param_tensor *t = model_tensor(m, i);
        for (size_t k = 0; k < t->numel; k++) (*buf)[off + k] = (real)(t->grad[k] * scored);
        off += t->numel;
    }
#ifdef STAR_REAL_DOUBLE
    if (dist_allreduce_sum_double(group, *buf, n, err) != 0) return -1;
#else
    if (dist_allreduce_sum_float(group, *buf, n, err) != 0) return -1;
#endif
    off = 0;
    for (int i = 0; i < nt; i++) {
        param_tensor *t = model_tensor(m, i);
        for (size_t k = 0; k < t->numel; k++) t->grad[k] = (real)((*buf)[off + k] / total);
        off += t->numel;
    }
    return 0;
}

// 64-bit FNV-1a of every weight: the ranks of a group must hold the same model.
static uint64_t params_hash(model *m) {
    uint64_t h = 1469598103934665603ULL;
    int nt = model_n_tensors(m);
    for (int i = 0; i < nt; i++) {
        const param_tensor *t = model_tensor(m, i);
        const unsigned char *p = (const unsigned char *)t->data;
        for (size_t k = 0; k < t->numel * sizeof(real); k++) h = (h ^ p[k]) * 1099511628211ULL;
    }
    return h;
}

int train_check_same_weights(model *m, const dist_comm *group, star_error *err) {
    uint64_t mine = params_hash(m), root = mine;
    if (dist_bcast(group, &root, sizeof root, 0, err) != 0) return -1;
    double differ = root != mine;
    if (dist_allreduce_sum_double(group, &differ, 1, err) != 0) return -1;
    if (differ > 0)
        return STAR_FAIL(err, "data-parallel training: %.0f rank(s) of the group ended with weights that differ from "
                              "rank 0's (the all-reduce did not give every rank the same sums)",
                         differ);
    return 0;
}

int train_run(model *m, const data_source *data, const train_params *p, train_result *r, star_error *err) {
    adamw_state opt;
    if (adamw_init(&opt, m, err) != 0) return -1;
    int rc = train_run_with(m, &opt, data, p, r, err);
    adamw_free(&opt);
    return rc;
}

int train_run_with(model *m, adamw_state *opt, const data_source *data, const train_params *p, train_result *r,
                   star_error *err) {
    memset(r, 0, sizeof *r);
    double t0 = star_now_s();
    batch_slice sl;
    if (batch_slice_init(&sl, p->group, p->batch, p->seq_len, err) != 0) return -1;
    token_batch b;
    if (token_batch_alloc(&b, train_rows_per_rank(p->batch, sl.n), p->seq_len, err) != 0) {
        batch_slice_free(&sl);
        return -1;
    }
    int leader = sl.r == 0;
    real *gbuf = NULL;
    int tail_from = p->steps - (p->steps / 10 > 0 ? p->steps / 10 : 1);
    double tail_sum = 0;
    int tail_n = 0, rc = 0;
    r->ok = 1;
    for (int step = 0; step < p->steps; step++) {
        double loss;
        if (data->train_batch(data->ctx, batch_slice_source(&sl, &b), err) != 0) {
            rc = -1;
            break;
        }
        batch_slice_take(&sl, &b);
        if (model_forward(m, &b, &loss, err) != 0) {
            rc = -1;
            break;
        }
        // The group's mean loss: sums of loss * scored and of scored over the ranks.
        double scored = (double)token_batch_scored(&b), sums[2] = {scored > 0 ? loss * scored : 0, scored};
        if (sl.group) {
            if (dist_allreduce_sum_double(sl.group, sums, 2, err) != 0) {
                rc = -1;
                break;
            }
            loss = sums[1] > 0 ? sums[0] / sums[1] : loss;
        }
        if (!isfinite(loss)) {
            r->ok = 0;
            snprintf(r->reason, sizeof r->reason, "diverged: training loss %s at step %d", isnan(loss) ? "NaN" : "Inf",
                     step);
            break;
        }
        model_zero_grad(m);
        if (model_backward(m, err) != 0) {
            rc = -1;
            break;
        }
        if (sl.group && sums[1] > 0 && allreduce_grads(m, sl.group, scored, sums[1], &gbuf, err) != 0) {
            rc = -1;
            break;
        }
        double gnorm = adamw_grad_norm(m);
        if (!isfinite(gnorm)) {
            r->ok = 0;
            snprintf(r->reason, sizeof r->reason, "diverged: gradient norm %s at step %d", isnan(gnorm) ? "NaN" : "Inf",
                     step);
            break;
        }
        double scale = (p->clip > 0 && gnorm > p->clip) ? p->clip / gnorm : 1.0;
        adamw_step(opt, m, train_lr_at(p, step), p->beta1, p->beta2, p->eps, p->weight_decay, scale);
        if (step >= tail_from) {
            tail_sum += loss;
            tail_n++;
        }
        r->steps_done = step + 1;
        if (leader && p->log_every > 0 && (step % p->log_every == 0 || step == p->steps - 1))
            fprintf(stderr, "step %5d/%d  loss %.6f  lr %.2e  grad norm %.4f\n", step + 1, p->steps, loss,
                    train_lr_at(p, step), gnorm);
        // The group stops together: on the leader's clock.
        double over = p->time_limit_s > 0 && star_now_s() - t0 > p->time_limit_s;
        if (sl.group && p->time_limit_s > 0 && dist_bcast(sl.group, &over, sizeof over, 0, err) != 0) {
            rc = -1;
            break;
        }
        if (over) {
            r->ok = 0;
            snprintf(r->reason, sizeof r->reason, "time limit: %.0f s exceeded at step %d of %d", p->time_limit_s, step + 1,
                     p->steps);
            break;
        }
    }
    free(gbuf);
    token_batch_free(&b);
    batch_slice_free(&sl);
    if (rc != 0) return -1;
    if (sl.group && train_check_same_weights(m, sl.group, err) != 0) return -1;
    r->train_loss = tail_n ? tail_sum / tail_n : NAN;
    r->wall_s = star_now_s() - t0;
    r->tokens_per_s = r->wall_s > 0 ? (double)r->steps_done * p->batch * p->seq_len / r->wall_s : 0;
    if (!r->ok) return 0;
    if (evaluate_validation_group(m, data, p->batch, p->seq_len, p->val_batches, sl.group, r, err) != 0) return -1;
    if (!isfinite(r->val_loss)) {
        r->ok = 0;
        snprintf(r->reason, sizeof r->reason, "diverged: validation loss is not finite");
    }
    return 0;
}
