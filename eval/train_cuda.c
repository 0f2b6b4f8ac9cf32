// star: training one model on a CUDA device: eval/train.c's loop (warm-up then cosine
// learning rate, global-norm clipping, divergence checks, validation) over cuda_model.
// The gradient norm and the clip factor stay on the device; the host reads the loss and
// the norm once per step (8 bytes each) for the divergence check and the log. Alone, a
// step is cuda_model_train_step (one CUDA graph launch with STAR_CUDA_GRAPH=1). Data
// parallel over a group of ranks (one GPU each) as eval/train.h describes for the CPU,
// with the gradients summed through NCCL (dist/nccl_group.h).
#include "eval/model_cuda.h"

#if defined(STAR_WITH_CUDA) && !defined(STAR_REAL_DOUBLE)

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timer.h"
#include "dist/nccl_group.h"
#include "eval/batch_slice.h"
#include "kernels/kernels.h"
#include "operators/crossentropy.h"

// Validation loss and accuracy; in a group each rank scores its rows of every batch and
// the sums are added over the ranks.
static int validate(cuda_model *g, const data_source *data, int B, int T, int max_batches, const dist_comm *group,
                    train_result *r, star_error *err) {
    batch_slice sl;
    if (batch_slice_init(&sl, group, B, T, err) != 0) return -1;
    token_batch b;
    if (token_batch_alloc(&b, train_rows_per_rank(B, sl.n), T, err) != 0) {
        batch_slice_free(&sl);
        return -1;
    }
    int V = model_arch(cuda_model_host(g))->dims.vocab;
    float *logits = malloc(sizeof(float) * (size_t)b.B * T * V);
    int total = data->val_count(data->ctx, B, T), n = total, rc = 0;
    if (max_batches > 0 && n > max_batches) n = max_batches;
    double sums[3] = {0, 0, 0};  // loss * scored, scored, correct
    if (!logits) rc = STAR_FAIL(err, "out of host memory for the validation logits");
    for (int i = 0; i < n && rc == 0; i++) {
        double loss;
        if (data->val_batch(data->ctx, validation_batch_index(i, n, total), batch_slice_source(&sl, &b), err) != 0) {
            rc = -1;
            break;
        }
        batch_slice_take(&sl, &b);
        if (cuda_model_forward(g, &b, &loss, err) != 0 || cuda_model_logits(g, logits, err) != 0) {
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
    batch_slice_free(&sl);
    if (rc != 0) return -1;
    if (sl.group && dist_allreduce_sum_double(sl.group, sums, 3, err) != 0) return -1;
    if (sums[1] == 0) return STAR_FAIL(err, "the validation set has no scored positions");
    r->val_loss = sums[0] / sums[1];
    r->bits_per_byte = data->is_bytes ? r->val_loss / log(2.0) : 0;
    r->accuracy = sums[2] / sums[1];
    return 0;
}

// Data parallel: each rank's gradients, weighted by its share of the group's scored
// positions, are summed over NCCL as the backward pass makes them final.
typedef struct grad_sum {
    nccl_group *nccl;
    float scale;
} grad_sum;

static int sum_ready_grads(void *ctx, float *begin, size_t n, star_stream s, star_error *err) {
    grad_sum *gs = ctx;
    return nccl_group_allreduce(gs->nccl, begin, n, gs->scale, s, err);
}

// Gradient bucket: large enough that NCCL runs near its bandwidth, small enough that the
// sums start early in the backward pass. STAR_NCCL_BUCKET_MB overrides it.
static size_t bucket_floats(void) {
    const char *v = getenv("STAR_NCCL_BUCKET_MB");
    double mb = v && atof(v) > 0 ? atof(v) : 32;
    return (size_t)(mb * 1048576.0 / sizeof(float));
}

int cuda_train_step(cuda_model *g, nccl_group *nccl, const token_batch *b, const dist_comm *group, int step,
                    const train_params *p, cuda_step_result *out, star_error *err) {
    memset(out, 0, sizeof *out);
    if (!nccl && (!group || dist_size(group) <= 1)) {  // alone: the step that can be captured
        adamw_hparams hp = {.lr = train_lr_at(p, step), .beta1 = p->beta1, .beta2 = p->beta2, .eps = p->eps,
                            .weight_decay = p->weight_decay};
        return cuda_model_train_step(g, b, p->clip, hp, out, err);
    }
    double loss;
    if (cuda_model_forward(g, b, &loss, err) != 0) return -1;
    // The group's mean loss: sums of loss * scored and of scored over the ranks.
    double scored = (double)token_batch_scored(b), sums[2] = {scored > 0 ? loss * scored : 0, scored};
    if (group && dist_size(group) > 1) {
        if (dist_allreduce_sum_double(group, sums, 2, err) != 0) return -1;
        loss = sums[1] > 0 ? sums[0] / sums[1] : loss;
    }
    out->loss = loss;
    if (!isfinite(loss)) return 0;
    grad_sum gs = {.nccl = nccl, .scale = sums[1] > 0 ? (float)(scored / sums[1]) : 0.0f};
    if (nccl) cuda_model_on_grads_ready(g, sum_ready_grads, &gs, bucket_floats());
    int rc = cuda_model_zero_grad(g, err) != 0 || cuda_model_backward(g, err) != 0 ? -1 : 0;
    if (nccl) {
        cuda_model_on_grads_ready(g, NULL, NULL, 0);
        if (rc == 0) rc = nccl_group_join(nccl, cuda_model_stream(g), err);
    }
    if (rc != 0 || cuda_model_grad_norm(g, p->clip, &out->grad_norm, err) != 0) return -1;
    if (!isfinite(out->grad_norm)) return 0;
    adamw_hparams hp = {.lr = train_lr_at(p, step), .beta1 = p->beta1, .beta2 = p->beta2, .eps = p->eps,
                        .weight_decay = p->weight_decay};
    out->lr = hp.lr;
    if (cuda_model_adamw_step(g, hp, p->clip > 0, err) != 0) return -1;
    out->stepped = 1;
    return 0;
}

int train_run_cuda(cuda_model *g, const data_source *data, const train_params *p, train_result *r, star_error *err) {
    memset(r, 0, sizeof *r);
    if (p->group && dist_size(p->group) > 1 && !p->nccl)
        return STAR_FAIL(err, "data-parallel training on the CUDA backend needs the group's NCCL communicator");
    if (p->nccl && nccl_group_size(p->nccl) != (p->group ? dist_size(p->group) : 1))
        return STAR_FAIL(err, "the NCCL group has %d ranks and the MPI group %d", nccl_group_size(p->nccl),
                         p->group ? dist_size(p->group) : 1);
    double t0 = star_now_s();
    batch_slice sl;
    if (batch_slice_init(&sl, p->group, p->batch, p->seq_len, err) != 0) return -1;
    token_batch b;
    if (token_batch_alloc(&b, train_rows_per_rank(p->batch, sl.n), p->seq_len, err) != 0) {
        batch_slice_free(&sl);
        return -1;
    }
    int leader = sl.r == 0;
    int tail_from = p->steps - (p->steps / 10 > 0 ? p->steps / 10 : 1);
    double tail_sum = 0;
    int tail_n = 0, rc = 0;
    r->ok = 1;
    for (int step = 0; step < p->steps; step++) {
        cuda_step_result sr;
        if (data->train_batch(data->ctx, batch_slice_source(&sl, &b), err) != 0) {
            rc = -1;
            break;
        }
        batch_slice_take(&sl, &b);
        if (cuda_train_step(g, p->nccl, &b, sl.group, step, p, &sr, err) != 0) {
            rc = -1;
            break;
        }
        // Every rank sees the same summed loss and gradient norm: they stop together.
        if (!isfinite(sr.loss)) {
            r->ok = 0;
            snprintf(r->reason, sizeof r->reason, "diverged: training loss %s at step %d", isnan(sr.loss) ? "NaN" : "Inf",
                     step);
            break;
        }
        if (!sr.stepped) {
            r->ok = 0;
            snprintf(r->reason, sizeof r->reason, "diverged: gradient norm %s at step %d",
                     isnan(sr.grad_norm) ? "NaN" : "Inf", step);
            break;
        }
        if (step >= tail_from) {
            tail_sum += sr.loss;
            tail_n++;
        }
        r->steps_done = step + 1;
        if (leader && p->log_every > 0 && (step % p->log_every == 0 || step == p->steps - 1))
            fprintf(stderr, "step %5d/%d  loss %.6f  lr %.2e  grad norm %.4f\n", step + 1, p->steps, sr.loss, sr.lr,
                    sr.grad_norm);
        // The group stops together: on the leader's clock.
        double over = p->time_limit_s > 0 && star_now_s() - t0 > p->time_limit_s;
        if (sl.group && p->time_limit_s > 0 && dist_bcast(sl.group, &over, sizeof over, 0, err) != 0) {
            rc = -1;
            break;
        }
        if (over) {
            r->ok = 0;
            snprintf(r->reason, sizeof r->reason, "time limit: %.0f s exceeded at step %d of %d", p->time_limit_s,
                     step + 1, p->steps);
            break;
        }
    }
    token_batch_free(&b);
    batch_slice_free(&sl);
    if (rc != 0 || cuda_model_sync(g, err) != 0) return -1;
    if (sl.group) {
        model *host = cuda_model_host(g);
        if (cuda_model_download_weights(g, host, err) != 0 || train_check_same_weights(host, sl.group, err) != 0)
            return -1;
    }
    r->train_loss = tail_n ? tail_sum / tail_n : NAN;
    r->wall_s = star_now_s() - t0;
    r->tokens_per_s = r->wall_s > 0 ? (double)r->steps_done * p->batch * p->seq_len / r->wall_s : 0;
    if (!r->ok) return 0;
    if (validate(g, data, p->batch, p->seq_len, p->val_batches, sl.group, r, err) != 0) return -1;
    if (!isfinite(r->val_loss)) {
        r->ok = 0;
        snprintf(r->reason, sizeof r->reason, "diverged: validation loss is not finite");
    }
    return 0;
}

int cuda_rank_device(int *device, star_error *err) {
    *device = 0;
    int count = 0;
    if (star_cuda_device_count(&count, err) != 0) return -1;
    if (count == 0) return STAR_FAIL(err, "the CUDA backend needs a CUDA device and none was found");
    *device = dist_local_rank() % count;
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

int cuda_rank_device(int *device, star_error *err) {
    *device = 0;
    return cuda_backend_check(err);
}

int cuda_backend_check(star_error *err) {
    return STAR_FAIL(err, "this build has no CUDA backend (it needs a CUDA compiler at configure time)");
}

int train_new_cuda(const arch *a, model_options opt, int device, const data_source *data, const train_params *p,
                   size_t *params, train_result *r, star_error *err) {
    (void)a, (void)opt, (void)device, (void)data, (void)p, (void)params, (void)r;
    return cuda_backend_check(err);
}

#endif  // STAR_WITH_CUDA && !STAR_REAL_DOUBLE
