// star: the model of eval/model.h on a CUDA device (kernels/kernels.h). The same parameter
// tensors (names, shapes, order, initialization from the same seed) as the CPU model, so
// weights, gradients and optimizer moments move between the two by tensor index.
//
// Precision: fp32 master weights, gradients and AdamW moments; bf16 compute copies of the
// weights, bf16 activations and activation gradients; fp32 logits (see kernels/kernels.h).
// Memory: every device buffer of the model (weights, gradients, moments, activations
// for the planned batch, scratch) lies in one arena, sized once at creation and allocated
// with one cudaMalloc; a training step allocates nothing (the cuFFT plans of the long
// convolutions, the cuBLASLt workspace, the AdamW tensor list, the model's stream and the
// pinned host staging of the captured step are made once at creation too, outside the
// arena; a captured step's graph when it is first captured).
//
// Wired LIV classes: SA-1, SA-2, SA-3, SA-diff (head dim 32, 64 or 128), Rec-1, Rec-2,
// GConv-1, GConv-2, GMemless, with every featurization (short convs, grouped projections),
// norm placement, output projection and sharing: every genome of the gene table. A shape
// outside the kernels (an attention head dim other than 32, 64, 128; recurrence dims above
// 128; convolutions longer than 16), which only a hand-made arch can hold, fails at
// creation naming the LIV, its class and the shape.
//
// Everything but cuda_backend_built, cuda_backend_check and train_new_cuda exists only in
// a CUDA build (STAR_WITH_CUDA defined); callers test that macro and give a clear error
// without it.
#ifndef STAR_EVAL_MODEL_CUDA_H
#define STAR_EVAL_MODEL_CUDA_H

#include <stddef.h>

#include "common/error.h"
#include "eval/batch.h"
#include "eval/model.h"
#include "eval/optimizer.h"
#include "eval/train.h"
#include "genome/arch.h"
#include "operators/adamw.h"

typedef struct cuda_model cuda_model;

// 1 in a build with the CUDA backend, 0 otherwise.
int cuda_backend_built(void);
// 0 when this build has the CUDA backend and a CUDA device is present; otherwise fails
// saying which of the two is missing. A command calls it once, before any work.
int cuda_backend_check(star_error *err);
// The CUDA device of this rank: its index among the ranks of its machine, modulo the
// devices the process sees (one GPU per rank; with CUDA_VISIBLE_DEVICES set per rank by the
// launcher, device 0).
int cuda_rank_device(int *device, star_error *err);
// Fails naming the first LIV (index and class) or shape the CUDA model does not run.
int cuda_model_check_arch(const arch *a, star_error *err);
// Plans and allocates the model on device `device` for batches up to opt.max_batch x
// opt.max_seq (opt.memory_limit_bytes bounds the arena). Weights are initialized as the
// CPU model_create initializes them from opt.seed.
int cuda_model_create(const arch *a, model_options opt, int device, cuda_model **out, star_error *err);
void cuda_model_free(cuda_model *g);

// The host model holding the parameter tensors' names and shapes (activations planned
// for one token): the staging area for weights and optimizer state in checkpoints.
model *cuda_model_host(cuda_model *g);
size_t cuda_model_arena_bytes(const cuda_model *g);

// Weights (fp32) from / to a CPU model of the same architecture; the upload refreshes
// the bf16 copies.
int cuda_model_upload_weights(cuda_model *g, model *src, star_error *err);
int cuda_model_download_weights(cuda_model *g, model *dst, star_error *err);
// Parameter gradients (fp32) into dst's grad tensors.
int cuda_model_download_grads(cuda_model *g, model *dst, star_error *err);
// AdamW moments and step count from / to a host optimizer state (tensor order).
int cuda_model_upload_optimizer(cuda_model *g, const adamw_state *s, star_error *err);
int cuda_model_download_optimizer(cuda_model *g, adamw_state *s, star_error *err);

// Mean cross-entropy over scored positions, as model_forward; keeps what backward needs.
int cuda_model_forward(cuda_model *g, const token_batch *b, double *loss, star_error *err);
// Logits [B,T,V] of the last forward, copied to the host.
int cuda_model_logits(cuda_model *g, float *out, star_error *err);
int cuda_model_zero_grad(cuda_model *g, star_error *err);
// Gradients of the last forward's loss, ACCUMULATED into the fp32 parameter gradients.
int cuda_model_backward(cuda_model *g, star_error *err);
// Global gradient norm (fp64, on the device; it also keeps the clip factor for max_norm).
int cuda_model_grad_norm(cuda_model *g, double max_norm, double *norm, star_error *err);
// Data parallel: parameter gradients handed out as they become final during
// cuda_model_backward, so their sum over ranks overlaps the rest of the backward pass.
// fn gets ranges [begin, begin + n) of the contiguous fp32 gradient block, from its end
// towards its start, every gradient in exactly one range per backward; a range is handed
// out once at least min_floats are final (the last one may be smaller). The work that
// produced them is queued on stream s. fn NULL: none (the default).
struct CUstream_st;  // cudaStream_t
typedef int (*cuda_grads_ready_fn)(void *ctx, float *begin, size_t n, struct CUstream_st *s, star_error *err);
void cuda_model_on_grads_ready(cuda_model *g, cuda_grads_ready_fn fn, void *ctx, size_t min_floats);
// The stream the model's work is queued on: the model's own, non-blocking with respect to
// the legacy default stream (every copy of the model is queued on it), so it can be
// captured.
struct CUstream_st *cuda_model_stream(const cuda_model *g);
// One AdamW step (t counts from 1), clipped by the factor of the last grad norm when clip.
int cuda_model_adamw_step(cuda_model *g, adamw_hparams hp, int clip, star_error *err);
long cuda_model_step_count(const cuda_model *g);
int cuda_model_sync(cuda_model *g, star_error *err);

// What one training step gives: the loss, the global gradient norm (0 when the loss was
// not finite), the learning rate AdamW used and whether it stepped.
typedef struct cuda_step_result {
    double loss, grad_norm, lr;
    int stepped;
} cuda_step_result;

// One training step of this model alone on batch b: forward, backward, global norm (clip
// factor for max_norm > 0), AdamW with hp (its step count is the model's). A loss that is
// not finite ends the step before the backward, a gradient norm that is not finite before
// AdamW: stepped = 0, weights and optimizer state as they were.
// With the CUDA graph on (the default; STAR_CUDA_GRAPH=0 at creation or cuda_model_set_graph
// turns it off) the
// step is one graph launch: the first step of a batch shape runs uncaptured (libraries
// and kernels load), the second captures the step, every later one of that shape replays
// it; a new shape (or max_norm) captures again. Tokens go through pinned staging buffers,
// the learning rate and bias corrections through device memory, the loss and norm come
// back after one stream sync. Results are the uncaptured step's, bit for bit; a step with
// a loss that is not finite runs its backward in the graph, but AdamW skips it on the
// device, so weights and moments are left as the uncaptured step leaves them.
int cuda_model_train_step(cuda_model *g, const token_batch *b, double max_norm, adamw_hparams hp,
                          cuda_step_result *out, star_error *err);
// Turns the captured step on (1) or off (0, which frees the graph). cuda_model_graph:
// whether it is on; cuda_model_graph_captures: how many times the step was captured.
void cuda_model_set_graph(cuda_model *g, int on);
int cuda_model_graph(const cuda_model *g);
int cuda_model_graph_captures(const cuda_model *g);
// STAR_CUDA_GRAPH: unset, empty or 1: on (the default), 0: off; anything else fails naming
// the value.
int cuda_graph_env(int *on, star_error *err);

// One training step on this rank's batch b: forward, the group's mean loss (MPI), backward
// with the gradients summed over nccl's ranks as they become final (nccl NULL: alone),
// global norm, AdamW at the schedule's learning rate for step. A loss or gradient norm
// that is not finite ends the step early with stepped = 0 (the same on every rank).
// Alone (no nccl, a group of at most one rank) this is cuda_model_train_step, captured as
// a CUDA graph when the model's graph is on; data-parallel steps are not captured.
struct nccl_group;
int cuda_train_step(cuda_model *g, struct nccl_group *nccl, const token_batch *b, const dist_comm *group, int step,
                    const train_params *p, cuda_step_result *out, star_error *err);

// train_run_with on the device: the same schedule, clipping, divergence checks, logging
// and validation scoring; data parallel over p->group through p->nccl (eval/train.h).
int train_run_cuda(cuda_model *g, const data_source *data, const train_params *p, train_result *r, star_error *err);

// Creates a fresh model of a on device `device` (weights from opt.seed, as on the CPU),
// trains it with train_run_cuda and frees it; *params (may be NULL) gets its parameter
// count. A model that cannot be created (a class or shape the CUDA backend does not run,
// an arena over opt.memory_limit_bytes or one the device cannot allocate) is the model's
// failure, not an error: r->ok = 0 with the reason, as for the CPU memory limit.
// Without the CUDA backend it fails saying so.
int train_new_cuda(const arch *a, model_options opt, int device, const data_source *data, const train_params *p,
                   size_t *params, train_result *r, star_error *err);

#endif
