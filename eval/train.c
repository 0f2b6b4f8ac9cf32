#include "eval/train.h"

#include "common/timer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

// Linear warm-up to lr over warmup_steps, then cosine decay to min_lr_frac * lr.
static double lr_at(const train_params *p, int step) {
    if (step < p->warmup_steps) return p->lr * (double)(step + 1) / p->warmup_steps;
    double span = (double)p->steps - p->warmup_steps;
    double progress = span > 0 ? ((double)step - p->warmup_steps) / span : 1.0;
    if (progress > 1) progress = 1;
    double floor_lr = p->min_lr_frac * p->lr;
    return floor_lr + 0.5 * (p->lr - floor_lr) * (1.0 + cos(M_PI * progress));
}

int evaluate_validation(model *m, const data_source *data, int B, int T, int max_batches, train_result *r,
                        star_error *err) {
    token_batch b;
    if (token_batch_alloc(&b, B, T, err) != 0) return -1;
    int n = data->val_count(data->ctx, B, T);
    if (max_batches > 0 && n > max_batches) n = max_batches;
    double loss_sum = 0;
    long scored = 0, correct = 0;
    int V = model_arch(m)->dims.vocab;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        double loss;
        if (data->val_batch(data->ctx, i, &b, err) != 0 || model_forward(m, &b, &loss, err) != 0) {
            rc = -1;
            break;
        }
        long s = token_batch_scored(&b);
        if (s == 0) continue;
        loss_sum += loss * (double)s;
        scored += s;
        correct += crossentropy_correct(NULL, model_logits(m), b.targets, (long)B * T, V);
    }
    token_batch_free(&b);
    if (rc != 0) return -1;
    if (scored == 0) return STAR_FAIL(err, "the validation set has no scored positions");
    r->val_loss = loss_sum / (double)scored;
    r->bits_per_byte = data->is_bytes ? r->val_loss / log(2.0) : 0;
    r->accuracy = (double)correct / (double)scored;
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
    token_batch b;
    if (token_batch_alloc(&b, p->batch, p->seq_len, err) != 0) return -1;
    int tail_from = p->steps - (p->steps / 10 > 0 ? p->steps / 10 : 1);
    double tail_sum = 0;
    int tail_n = 0, rc = 0;
    r->ok = 1;
    for (int step = 0; step < p->steps; step++) {
        double loss;
        if (data->train_batch(data->ctx, &b, err) != 0 || model_forward(m, &b, &loss, err) != 0) {
            rc = -1;
            break;
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
        double gnorm = adamw_grad_norm(m);
        if (!isfinite(gnorm)) {
            r->ok = 0;
            snprintf(r->reason, sizeof r->reason, "diverged: gradient norm %s at step %d", isnan(gnorm) ? "NaN" : "Inf",
                     step);
            break;
        }
        double scale = (p->clip > 0 && gnorm > p->clip) ? p->clip / gnorm : 1.0;
        adamw_step(opt, m, lr_at(p, step), p->beta1, p->beta2, p->eps, p->weight_decay, scale);
        if (step >= tail_from) {
            tail_sum += loss;
            tail_n++;
        }
        r->steps_done = step + 1;
        if (p->log_every > 0 && (step % p->log_every == 0 || step == p->steps - 1))
            fprintf(stderr, "step %5d/%d  loss %.4f  lr %.2e  grad norm %.3f\n", step + 1, p->steps, loss, lr_at(p, step),
                    gnorm);
        if (p->time_limit_s > 0 && star_now_s() - t0 > p->time_limit_s) {
            r->ok = 0;
            snprintf(r->reason, sizeof r->reason, "time limit: %.0f s exceeded at step %d of %d", p->time_limit_s, step + 1,
                     p->steps);
            break;
        }
    }
    token_batch_free(&b);
    if (rc != 0) return -1;
    r->train_loss = tail_n ? tail_sum / tail_n : NAN;
    r->wall_s = star_now_s() - t0;
    r->tokens_per_s = r->wall_s > 0 ? (double)r->steps_done * p->batch * p->seq_len / r->wall_s : 0;
    if (!r->ok) return 0;
    if (evaluate_validation(m, data, p->batch, p->seq_len, p->val_batches, r, err) != 0) return -1;
    if (!isfinite(r->val_loss)) {
        r->ok = 0;
        snprintf(r->reason, sizeof r->reason, "diverged: validation loss is not finite");
    }
    return 0;
}
