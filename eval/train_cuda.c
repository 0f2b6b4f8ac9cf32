// star: training one model on a CUDA device: eval/train.c's loop (warm-up then cosine
// learning rate, global-norm clipping, divergence checks, validation) over cuda_model.
// The gradient norm and the clip factor stay on the device; the host reads the loss and
// the norm once per step (8 bytes each) for the divergence check and the log.
#include "eval/model_cuda.h"

#if defined(STAR_WITH_CUDA) && !defined(STAR_REAL_DOUBLE)

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timer.h"
#include "kernels/kernels.h"
#include "operators/crossentropy.h"

static int validate(cuda_model *g, const data_source *data, int B, int T, int max_batches, train_result *r,
                    star_error *err) {
    token_batch b;
    if (token_batch_alloc(&b, B, T, err) != 0) return -1;
    int V = model_arch(cuda_model_host(g))->dims.vocab;
    float *logits = malloc(sizeof(float) * (size_t)B * T * V);
    int n = data->val_count(data->ctx, B, T), rc = 0;
    if (max_batches > 0 && n > max_batches) n = max_batches;
    double sums[3] = {0, 0, 0};  // loss * scored, scored, correct
    if (!logits) rc = STAR_FAIL(err, "out of host memory for the validation logits");
    for (int i = 0; i < n && rc == 0; i++) {
        double loss;
        if (data->val_batch(data->ctx, i, &b, err) != 0 || cuda_model_forward(g, &b, &loss, err) != 0 ||
            cuda_model_logits(g, logits, err) != 0) {
            rc = -1;
            break;
        }
        long s = token_batch_scored(&b);
        if (s == 0) continue;
        sums[0] += loss * (double)s;
        sums[1] += (double)s;
        sums[2] += (double)crossentropy_correct(NULL, logits, b.targets, (long)b.B * b.T, V);
    }
    free(logits);
    token_batch_free(&b);
    if (rc != 0) return -1;
    if (sums[1] == 0) return STAR_FAIL(err, "the validation set has no scored positions");
    r->val_loss = sums[0] / sums[1];
    r->bits_per_byte = data->is_bytes ? r->val_loss / log(2.0) : 0;
    r->accuracy = sums[2] / sums[1];
    return 0;
}

int train_run_cuda(cuda_model *g, const data_source *data, const train_params *p, train_result *r, star_error *err) {
    memset(r, 0, sizeof *r);
    if (p->group && dist_size(p->group) > 1)
        return STAR_FAIL(err, "the CUDA backend trains on one device (no data-parallel group yet)");
    double t0 = star_now_s();
    token_batch b;
    if (token_batch_alloc(&b, p->batch, p->seq_len, err) != 0) return -1;
    int tail_from = p->steps - (p->steps / 10 > 0 ? p->steps / 10 : 1);
    double tail_sum = 0;
    int tail_n = 0, rc = 0;
    r->ok = 1;
    adamw_hparams hp = {.beta1 = p->beta1, .beta2 = p->beta2, .eps = p->eps, .weight_decay = p->weight_decay};
    for (int step = 0; step < p->steps; step++) {
        double loss, gnorm;
        if (data->train_batch(data->ctx, &b, err) != 0 || cuda_model_forward(g, &b, &loss, err) != 0) {
            rc = -1;
            break;
        }
        if (!isfinite(loss)) {
            r->ok = 0;
            snprintf(r->reason, sizeof r->reason, "diverged: training loss %s at step %d", isnan(loss) ? "NaN" : "Inf",
                     step);
            break;
        }
        if (cuda_model_zero_grad(g, err) != 0 || cuda_model_backward(g, err) != 0 ||
            cuda_model_grad_norm(g, p->clip, &gnorm, err) != 0) {
            rc = -1;
            break;
        }
        if (!isfinite(gnorm)) {
            r->ok = 0;
            snprintf(r->reason, sizeof r->reason, "diverged: gradient norm %s at step %d", isnan(gnorm) ? "NaN" : "Inf",
                     step);
            break;
        }
        hp.lr = train_lr_at(p, step);
        if (cuda_model_adamw_step(g, hp, p->clip > 0, err) != 0) {
            rc = -1;
            break;
        }
        if (step >= tail_from) {
            tail_sum += loss;
            tail_n++;
        }
        r->steps_done = step + 1;
        if (p->log_every > 0 && (step % p->log_every == 0 || step == p->steps - 1))
            fprintf(stderr, "step %5d/%d  loss %.6f  lr %.2e  grad norm %.4f\n", step + 1, p->steps, loss, hp.lr, gnorm);
        if (p->time_limit_s > 0 && star_now_s() - t0 > p->time_limit_s) {
            r->ok = 0;
            snprintf(r->reason, sizeof r->reason, "time limit: %.0f s exceeded at step %d of %d", p->time_limit_s,
                     step + 1, p->steps);
            break;
        }
    }
    token_batch_free(&b);
    if (rc != 0 || cuda_model_sync(g, err) != 0) return -1;
    r->train_loss = tail_n ? tail_sum / tail_n : NAN;
    r->wall_s = star_now_s() - t0;
    r->tokens_per_s = r->wall_s > 0 ? (double)r->steps_done * p->batch * p->seq_len / r->wall_s : 0;
    if (!r->ok) return 0;
    if (validate(g, data, p->batch, p->seq_len, p->val_batches, r, err) != 0) return -1;
    if (!isfinite(r->val_loss)) {
        r->ok = 0;
        snprintf(r->reason, sizeof r->reason, "diverged: validation loss is not finite");
    }
    return 0;
}

int cuda_backend_check(star_error *err) {
    int count = 0;
    if (star_cuda_device_count(&count, err) != 0) return -1;
    if (count == 0) return STAR_FAIL(err, "the CUDA backend needs a CUDA device and none was found");
    return 0;
}

int train_new_cuda(const arch *a, model_options opt, int device, const data_source *data, const train_params *p,
                   size_t *params, train_result *r, star_error *err) {
    memset(r, 0, sizeof *r);
    if (params) *params = 0;
    cuda_model *g;
    star_error merr;
    if (cuda_model_create(a, opt, device, &g, &merr) != 0) {
        // Out of device memory or a class the device does not run is the model's failure;
        // a failure that left the device unusable (a sticky error) stops the caller.
        star_error serr;
        if (star_cuda_sync(NULL, &serr) != 0)
            return STAR_FAIL(err, "%s; the CUDA device is no longer usable: %s", merr.msg, serr.msg);
        snprintf(r->reason, sizeof r->reason, "%s", merr.msg);
        return 0;
    }
    if (params) *params = model_param_count(cuda_model_host(g));
    int rc = train_run_cuda(g, data, p, r, err);
    cuda_model_free(g);
    return rc;
}

#else

int cuda_backend_check(star_error *err) {
    return STAR_FAIL(err, "this build has no CUDA backend (it needs a CUDA compiler at configure time)");
}

int train_new_cuda(const arch *a, model_options opt, int device, const data_source *data, const train_params *p,
                   size_t *params, train_result *r, star_error *err) {
    (void)a, (void)opt, (void)device, (void)data, (void)p, (void)params, (void)r;
    return cuda_backend_check(err);
}

#endif  // STAR_WITH_CUDA && !STAR_REAL_DOUBLE
