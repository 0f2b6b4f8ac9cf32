// star: the CUDA backend's C API (callable from C: eval/ and the tests).
// Every function runs on the given stream (NULL: the default stream) without waiting for
// the device unless it says so, and returns 0, or -1 with err naming the failing CUDA or
// cuBLAS call and its file:line. A kernel's own run-time faults surface at the next
// synchronizing call.
//
// Precision: activations, activation gradients and the compute copy of the weights are
// floatX (bf16); every reduction accumulates in fp32 (fp64 for the loss mean and the
// gradient norm); parameter gradients, master weights and AdamW moments are fp32; logits
// and probabilities are fp32.
// Semantics and layouts are those of the CPU operator of the same name in operators/
// (the CUDA name adds _cuda). As on the CPU, every backward ACCUMULATES (+=) into its
// gradients, except the loss, which overwrites dlogits, and the activation gradients of
// the kernels that take a grad_write: with GRAD_SET they overwrite instead (below).
#ifndef STAR_KERNELS_KERNELS_H
#define STAR_KERNELS_KERNELS_H

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

// The project's C headers have no C++ guards: give their functions C linkage here (the
// system headers they include are already in, above, outside the block).
#ifdef __cplusplus
extern "C" {
#endif
#include "common/error.h"
#include "genome/arch.h"      // act_kind
#include "operators/adamw.h"  // adamw_hparams
#include "operators/attention.h"         // attn_shape
#include "operators/linear_attention.h"  // linatt_phi
#include "operators/ssd_scan.h"          // ssd_shape
#ifdef __cplusplus
}
#endif

#ifdef __CUDACC__
#include <cuda_bf16.h>
typedef __nv_bfloat16 floatX;  // the CUDA path's compute precision
#else
typedef uint16_t floatX;  // the same two bytes (bf16 bit pattern); C code only moves them
#endif

typedef struct CUstream_st *star_stream;  // the same type as cudaStream_t

// How a backward writes an activation gradient: GRAD_ADD adds to what the buffer holds
// (dx += ...), GRAD_SET overwrites it (dx = ..., the old values are never read, so the
// buffer may hold anything, NaN included). The first kernel to write a gradient in a
// backward pass sets it: no memset before, one read fewer. Parameter gradients always add.
typedef enum grad_write { GRAD_ADD = 0, GRAD_SET = 1 } grad_write;

#ifdef __cplusplus
extern "C" {
#endif

// ---- Device, context, memory (kernels/device.cu) ---------------------------------------
// Number of CUDA devices: 0, not an error, when there is no device or no driver.
int star_cuda_device_count(int *count, star_error *err);

// One device's context: makes the device current and holds the cuBLASLt handle and its
// workspace (one stream at a time may use a context's matrix products).
typedef struct star_cuda star_cuda;
int star_cuda_create(star_cuda **out, int device, star_error *err);
int star_cuda_destroy(star_cuda *ctx, star_error *err);  // NULL is fine

int star_cuda_malloc(void **ptr, size_t bytes, star_error *err);
int star_cuda_free(void *ptr, star_error *err);  // NULL is fine
// Synchronous copies between host and device (on the legacy default stream: they do not
// wait for work queued on a non-blocking stream, see star_cuda_stream_create).
int star_cuda_upload(void *dst, const void *src, size_t bytes, star_error *err);
int star_cuda_download(void *dst, const void *src, size_t bytes, star_error *err);
// Copies queued on stream s, ordered with the stream's other work. The host buffer of an
// upload may be reused on return; a download into pageable memory has completed on
// return, one into pinned memory (star_cuda_host_alloc) once the stream gets there. Inside
// a stream capture the host side must be pinned.
int star_cuda_upload_async(void *dst, const void *src, size_t bytes, star_stream s, star_error *err);
int star_cuda_download_async(void *dst, const void *src, size_t bytes, star_stream s, star_error *err);
int star_cuda_memset(void *ptr, int byte, size_t bytes, star_stream s, star_error *err);
int star_cuda_sync(star_stream s, star_error *err);
// Waits for all work on the current device, every stream included.
int star_cuda_device_sync(star_error *err);
// A stream of the current device that does not synchronize with the legacy default stream
// (cudaStreamNonBlocking): work on it can be captured into a CUDA graph. NULL is fine for
// destroy.
int star_cuda_stream_create(star_stream *s, star_error *err);
int star_cuda_stream_destroy(star_stream s, star_error *err);
// Pinned (page-locked) host memory: the host side of copies captured into a graph.
int star_cuda_host_alloc(void **ptr, size_t bytes, star_error *err);
int star_cuda_host_free(void *ptr, star_error *err);  // NULL is fine
// Clears the calling thread's last CUDA error after a failure that left the device usable
// (a cudaMalloc that found no room): the next launch check would report it otherwise.
// A sticky error (a faulted kernel) stays and the next call reports it.
void star_cuda_clear_error(void);

// Element-wise conversions on the device (round to nearest even).
int cast_f32_to_bf16_cuda(floatX *out, const float *in, long n, star_stream s, star_error *err);
int cast_bf16_to_f32_cuda(float *out, const floatX *in, long n, star_stream s, star_error *err);

// ---- Matrix products (kernels/matmul.cu), cuBLASLt, fp32 accumulation -------------------
// out [N,OC] = inp [N,C] @ w [OC,C]^T   (overwrites out)
int matmul_forward_cuda(star_cuda *ctx, floatX *out, const floatX *inp, const floatX *w, int N, int C, int OC,
                        star_stream s, star_error *err);
// The same product with an fp32 output (the logits for the loss).
int matmul_forward_f32_cuda(star_cuda *ctx, float *out, const floatX *inp, const floatX *w, int N, int C, int OC,
                            star_stream s, star_error *err);
// dinp [N,C] += dout @ w (= with GRAD_SET);  dw [OC,C] (fp32) += dout^T @ inp   (either
// may be NULL)
int matmul_backward_cuda(star_cuda *ctx, floatX *dinp, float *dw, const floatX *dout, const floatX *inp,
                         const floatX *w, int N, int C, int OC, grad_write dinp_mode, star_stream s, star_error *err);

// ---- RMS normalization (kernels/rmsnorm.cu) --------------------------------------------
// x, y [N,C]; w [C] or NULL for w = 1 (the per-head variant is N*H rows of hd channels);
// rstd [N] fp32, saved for the backward. y may alias x.
int rmsnorm_forward_cuda(floatX *y, float *rstd, const floatX *x, const floatX *w, long N, int C, star_stream s,
                         star_error *err);
// Fused residual add: sum = x + r (rounded to floatX), y = rmsnorm(sum). sum may alias x
// or r. Its backward is rmsnorm_backward_cuda with x = sum, accumulating into the residual
// stream's gradient (the add passes the gradient to x and r unchanged).
int rmsnorm_residual_forward_cuda(floatX *sum, floatX *y, float *rstd, const floatX *x, const floatX *r,
                                  const floatX *w, long N, int C, star_stream s, star_error *err);
// dx += dL/dx; dw (fp32) += dL/dw; either may be NULL (dw NULL when w is NULL); dx must not
// alias dy. dw is summed in a fixed order (deterministic) through scratch, which holds
// rmsnorm_backward_scratch_floats(C) floats (NULL when dw is NULL).
long rmsnorm_backward_scratch_floats(int C);
int rmsnorm_backward_cuda(floatX *dx, float *dw, float *scratch, const floatX *dy, const floatX *x, const floatX *w,
                          const float *rstd, long N, int C, star_stream s, star_error *err);

// ---- Gated product, SwiGLU / GeGLU (kernels/glu.cu) ------------------------------------
// y = act(g) * u over n values (y may alias g or u)
int glu_forward_cuda(floatX *y, const floatX *g, const floatX *u, long n, act_kind k, star_stream s, star_error *err);
// dg += dy * u * act'(g); du += dy * act(g)   (either may be NULL; = with GRAD_SET)
int glu_backward_cuda(floatX *dg, floatX *du, const floatX *dy, const floatX *g, const floatX *u, long n, act_kind k,
                      grad_write mode, star_stream s, star_error *err);

// ---- Rotary position embedding (kernels/rope.cu) ---------------------------------------
// x, out [B,T,H,hd], hd even, positions pos0 + t. out may alias x.
int rope_forward_cuda(floatX *out, const floatX *x, int B, int T, int H, int hd, int pos0, star_stream s,
                      star_error *err);
// dx += R(pos)^T dout   (= with GRAD_SET; dx must not alias dout)
int rope_backward_cuda(floatX *dx, const floatX *dout, int B, int T, int H, int hd, int pos0, grad_write mode,
                       star_stream s, star_error *err);

// ---- Token embedding (kernels/embedding.cu) --------------------------------------------
// out [N,C] = table [V,C] rows at tokens [N] (device int32). Tokens are checked on the host
// as data is read; here a token outside [0, V) gives a NaN row, never a read outside.
int embedding_forward_cuda(floatX *out, const int32_t *tokens, const floatX *table, long N, int V, int C,
                           star_stream s, star_error *err);
// dtable [V,C] (fp32) += dout rows at their tokens, each token's rows added in position
// order onto dtable's value: bit-identical to the CPU operator. Tokens outside [0, V) are
// skipped. scratch holds embedding_backward_scratch_bytes(N, V) bytes.
int embedding_backward_scratch_bytes(size_t *bytes, long N, int V, star_error *err);
int embedding_backward_cuda(float *dtable, void *scratch, size_t scratch_bytes, const floatX *dout,
                            const int32_t *tokens, long N, int V, int C, star_stream s, star_error *err);

// ---- Softmax cross-entropy (kernels/crossentropy.cu) -----------------------------------
// logits, probs [N,V] fp32 (probs may alias logits); targets [N] device int32, -1 = not
// scored. losses [N] gets each position's loss (0 where not scored); *d_loss (device
// double) the mean over scored positions (0 when none) and *d_count (device int) their
// number. A target outside [-1, V) gives a NaN loss (targets are checked on the host).
int crossentropy_forward_cuda(float *probs, float *losses, double *d_loss, int *d_count, const float *logits,
                              const int32_t *targets, long N, int V, star_stream s, star_error *err);
// OVERWRITES dlogits [N,V]: dloss * (probs - onehot(target)) / count on scored rows, 0 on
// the others; d_count as written by the forward.
int crossentropy_backward_cuda(floatX *dlogits, const float *probs, const int32_t *targets, const int *d_count,
                               long N, int V, float dloss, star_stream s, star_error *err);
// Forward and backward in one pass over the logits, no probs kept: losses, *d_loss and
// *d_count as the forward writes them, dlogits as the backward does.
int crossentropy_fused_cuda(floatX *dlogits, float *losses, double *d_loss, int *d_count, const float *logits,
                            const int32_t *targets, long N, int V, float dloss, star_stream s, star_error *err);

// ---- Causal softmax attention (kernels/attention.cu), flash-attention style ----------
// The CPU operator's layouts: q, out [B,T,H,hd]; k, v [B,T,Hkv,hd] (GQA: head h reads kv
// head h / (H/Hkv)); lse [B,H,T] fp32 (the logsumexp of each score row, saved for the
// backward); window 0 = full causal, w > 0 = keys i - w < j <= i. hd 32, 64 or 128; every
// tensor 16-byte aligned (cudaMalloc'd buffers at offsets that are multiples of 8 values).
int attention_forward_cuda(floatX *out, float *lse, const floatX *q, const floatX *k, const floatX *v, attn_shape s,
                           star_stream st, star_error *err);
// dq, dk, dv += the gradients (bf16, fp32 inside), from the forward's out and lse on the
// same q, k, v; each overwritten instead where its mode is GRAD_SET. Deterministic (no
// atomics) except in version 3 (dq's last bits). scratch holds
// attention_backward_scratch_floats(s) floats (D = rowsum(dout * out), version 3's dQ
// buffer).
typedef struct attn_grad_write {
    grad_write dq, dk, dv;
} attn_grad_write;
long attention_backward_scratch_floats(attn_shape s);
int attention_backward_cuda(floatX *dq, floatX *dk, floatX *dv, float *scratch, const floatX *dout,
                            const floatX *out, const float *lse, const floatX *q, const floatX *k, const floatX *v,
                            attn_shape s, attn_grad_write mode, star_stream st, star_error *err);

// Three versions of the kernels, same results within bf16 rounding: version 2 (ldmatrix,
// cp.async double buffering, larger tiles; the default), version 1 (the first kernels,
// kept to compare) and version 3 (version 2 with dQ added by fp32 atomics in the dK/dV
// pass, as FlashAttention-2: five tile products instead of seven, not deterministic in
// dq's last bits; where it does not pay, value width 128, and at q.k width 16, version 3
// runs version 2's dQ kernel). The environment variables STAR_ATTN_V1=1 (version 1) and
// STAR_ATTN_ATOMIC_DQ=1 (version 3; unset or 0: version 2) are read at each call unless
// attention_kernel_version_set_cuda fixed the version for the process (1, 2 or 3;
// anything else goes back to the environment).
void attention_kernel_version_set_cuda(int version);
// 1, 2 or 3 as above; -1 with err naming the variable when one is neither 0 nor 1, or both
// are 1.
int attention_kernel_version_cuda(star_error *err);
// Versions 2 and 3's forward at value width 64 runs 32 query rows per warp; 16 runs the
// 16-row warps it had before (the same bits: for tests and timings); 0 or 32 the
// default. Value widths 32 and 128 always run 16.
void attention_forward_rows_per_warp_set_cuda(int rows);
// Versions 2 and 3's dK/dV pass at value widths 32 and 64: rows 32 streams 32-row query
// tiles (128 registers, 2 blocks per SM), 64 streams 64-row ones (1 block per SM), with the
// same dk and dv bits (for tests and timings); 0 the default: 32, but 64 for version 3 at
// value width 32. Value width 128 always streams 32.
void attention_backward_dkv_rows_set_cuda(int rows);
// Version 2's dQ kernel at value widths 32 and 64: blocks 2 holds it to 128 registers so
// that 2 blocks of 8 warps share an SM, 1 lets it use more and run alone, with the same
// bits (for tests and timings); 0 the default, 2.
void attention_backward_dq_blocks_set_cuda(int blocks);
// Version 2's default kernels at value widths 32 and 64 (the forward's 32-row warps, the
// 32-row dK/dV tiles, the dQ kernel at 2 blocks per SM) stream their tiles through stages
// buffers: 2 (tile n + 1 loads while tile n computes, two barriers per tile) or 3 (tile
// n + 2, one barrier), with the same bits (for tests and timings); 0 (the default) reads
// the environment variable STAR_ATTN_STAGES at each call (unset: the defaults, 2 for the
// forward and 3 for the backward; a value other than 2 or 3 fails the call naming it).
void attention_stages_set_cuda(int stages);
// The buffers asked for (set, else STAR_ATTN_STAGES), 0 for the defaults; -1 with err for
// a bad variable.
int attention_stages_cuda(star_error *err);
// Version 2's passes on Hopper's warpgroup products (wgmma; kernels/attention_wgmma.cuh)
// at q.k and value width 64 on a compute capability 9.0 device, by mask: 1 the backward's
// dK/dV pass, 2 its dQ pass, 4 the forward, 8 the forward pipelined (the same bits as 4),
// 16 the selected passes with their two warpgroups ping-ponged (the same bits), 32 with
// one warpgroup per block (the same bits; not with 16), their sums for several, 0 none;
// -1 (the default) reads the environment variable STAR_ATTN_WGMMA at each call (unset: 0;
// a value other than 0 to 63 fails the call naming it). Elsewhere the
// usual passes run either way.
// The sums run in another order, within bf16 rounding of the usual passes; still
// deterministic.
void attention_wgmma_set_cuda(int mask);
// The mask asked for (set, else STAR_ATTN_WGMMA); -1 with err for a bad variable.
int attention_wgmma_cuda(star_error *err);

// Differential attention (operators/attention.h's diff_attention_*), hd 64 or 128: two
// score maps over the halves of q and k, out = (1 - lambda_init) headRMS(o1 - lambda_h o2).
// lambda [H] fp32. What the forward saves for the backward (caller-allocated, device):
typedef struct diff_attn_saved_cuda {
    floatX *o1, *o2;  // [B,T,H,hd]
    float *lse;       // [2][B,H,T]: map 1, then map 2
    float *rstd;      // [B,T,H] of the head norm
} diff_attn_saved_cuda;
int diff_attention_forward_cuda(floatX *out, const diff_attn_saved_cuda *sv, const floatX *q, const floatX *k,
                                const floatX *v, const float *lambda, attn_shape s, star_stream st, star_error *err);
// dq, dk, dv += (bf16; = where mode says GRAD_SET); dlambda [H] (fp32) +=, summed in a
// fixed order. scratch holds diff_attention_backward_scratch_bytes(s) bytes (16-byte
// aligned).
size_t diff_attention_backward_scratch_bytes(attn_shape s);
int diff_attention_backward_cuda(floatX *dq, floatX *dk, floatX *dv, float *dlambda, void *scratch,
                                 size_t scratch_bytes, const floatX *dout, const diff_attn_saved_cuda *sv,
                                 const floatX *q, const floatX *k, const floatX *v, const float *lambda, attn_shape s,
                                 attn_grad_write mode, star_stream st, star_error *err);

// ---- AdamW over a list of tensors (kernels/adamw.cu) -----------------------------------
typedef struct adamw_tensor_cuda {
    float *param;        // fp32 master weights [n]
    const float *grad;   // fp32 gradient [n]
    float *m, *v;        // fp32 moments [n]
    floatX *param_bf16;  // compute copy, rewritten after each update, or NULL
    long n;
    int decay;  // 1: weight decay applies (matrices), 0: not (gains, biases)
} adamw_tensor_cuda;
// The list is uploaded once; each update is then one launch over all its tensors.
typedef struct adamw_list_cuda adamw_list_cuda;
int adamw_list_create_cuda(adamw_list_cuda **out, const adamw_tensor_cuda *tensors, int n_tensors, star_error *err);
int adamw_list_destroy_cuda(adamw_list_cuda *list, star_error *err);  // NULL is fine
// Global gradient norm over the list (fp64, fixed order), kept on the device with the clip
// factor grad_clip_scale(norm, max_norm) for the next update.
int grad_global_norm_cuda(adamw_list_cuda *list, double max_norm, star_stream s, star_error *err);
// The norm from the last grad_global_norm_cuda (waits for the stream).
int grad_global_norm_read_cuda(adamw_list_cuda *list, double *norm, star_stream s, star_error *err);
// One step t >= 1 on every tensor, g = grad * grad_scale * (clip ? clip factor : 1).
int adamw_update_cuda(adamw_list_cuda *list, long t, adamw_hparams hp, double grad_scale, int clip, star_stream s,
                      star_error *err);
// The float constants of step t as the update uses them (1 - beta and the bias
// corrections computed in double on the host, then rounded, as operators/adamw.c does).
typedef struct adamw_consts_cuda {
    float b1, b2, c1, c2, eps, lr, wd, bc1, bc2;
    double grad_scale;
} adamw_consts_cuda;
int adamw_consts_make_cuda(adamw_consts_cuda *k, long t, adamw_hparams hp, double grad_scale, star_error *err);
// adamw_update_cuda with the constants read from device memory d_k when the kernel runs
// (the same kernel, so the same bits): a captured CUDA graph does each step with the
// learning rate and bias corrections written to d_k before it runs, never re-instantiated.
// guard (device double, or NULL): when *guard or the last global norm is not finite the
// update leaves weights, moments and the bf16 copies as they were (the uncaptured step
// stops before AdamW then).
int adamw_update_device_cuda(adamw_list_cuda *list, const adamw_consts_cuda *d_k, const double *guard, int clip,
                             star_stream s, star_error *err);
// Queues the copy of the last global norm (one double) into dst, host (pinned inside a
// capture) or device, without waiting.
int grad_global_norm_copy_cuda(adamw_list_cuda *list, double *dst, star_stream s, star_error *err);

// ---- Sequence mixers other than softmax attention ----------------------------------------
// Layouts and semantics as the CPU operators (operators/short_conv.h, long_conv.h,
// linear_attention.h, ssd_scan.h). Activations and their gradients are floatX; filter taps
// of the short convolution are the floatX compute copy; the long filter h is fp32 (it is
// generated, not stored); per-channel / per-head scalars (long_conv skip, SSD dt_bias,
// A_log, D) are read as the fp32 master values and their gradients are fp32. Every
// reduction is in a fixed order (deterministic, no atomics). Outputs must not alias inputs.

// Short causal convolution (kernels/short_conv.cu): x, y [B,T,C]; w [C][K], 1 <= K <= 16.
int short_conv_forward_cuda(floatX *y, const floatX *x, const floatX *w, int B, int T, int C, int K, star_stream s,
                            star_error *err);
// dx += ... (= with GRAD_SET); dw (fp32) += ... (either may be NULL); scratch holds
// short_conv_backward_scratch_floats(C, K) floats (NULL when dw is NULL).
long short_conv_backward_scratch_floats(int C, int K);
int short_conv_backward_cuda(floatX *dx, float *dw, float *scratch, const floatX *dy, const floatX *x, const floatX *w,
                             int B, int T, int C, int K, grad_write dx_mode, star_stream s, star_error *err);

// Long causal convolution through cuFFT (kernels/long_conv.cu): x, y [B,T,C]; h [C][T]
// fp32; skip [C] fp32 or NULL. A plan holds the FFT plans and buffers of one shape
// (about 12 B*C*n bytes, n = the power of two >= 2T); one stream at a time may use it.
// B <= 65535, T <= 2097120.
typedef struct long_conv_plan_cuda long_conv_plan_cuda;
int long_conv_plan_create_cuda(long_conv_plan_cuda **out, int B, int T, int C, star_error *err);
int long_conv_plan_destroy_cuda(long_conv_plan_cuda *p, star_error *err);  // NULL is fine
int long_conv_forward_cuda(long_conv_plan_cuda *p, floatX *y, const floatX *x, const float *h, const float *skip,
                           star_stream s, star_error *err);
// dx (floatX) += h correlated with dy + skip dy; dh [C][T] (fp32) += sum_{b,t} dy[t] x[t-k];
// dskip (fp32) += sum_{b,t} dy x. Each may be NULL.
int long_conv_backward_cuda(long_conv_plan_cuda *p, floatX *dx, float *dh, float *dskip, const floatX *dy,
                            const floatX *x, const float *h, const float *skip, star_stream s, star_error *err);

// The chunked scans of linear attention and the SSD compute their intra-chunk products on
// tensor cores (bf16 operands, fp32 accumulation; kernels/chunked_scan_tc.cuh) or on the
// fp32 CUDA-core path. The choice comes from the environment variable STAR_SCAN_TC (1 or
// unset: tensor cores, 0: fp32), read at each call, unless scan_tensor_cores_set_cuda
// fixed it for the process (1 or 0; -1 goes back to the environment).
void scan_tensor_cores_set_cuda(int mode);
// 1 or 0 as above; -1 with err naming the value when STAR_SCAN_TC is neither 0 nor 1.
int scan_tensor_cores_cuda(star_error *err);

// Causal linear attention (kernels/linear_attention.cu), chunked: q, k, v, o [B,T,H*D],
// D <= 128. The forward saves nothing; the backward recomputes.
int linear_attention_forward_cuda(floatX *o, const floatX *q, const floatX *k, const floatX *v, int B, int T, int H,
                                  int D, linatt_phi phi, star_stream s, star_error *err);
// dq, dk, dv += gradients (each may be NULL).
int linear_attention_backward_cuda(floatX *dq, floatX *dk, floatX *dv, const floatX *dout, const floatX *q,
                                   const floatX *k, const floatX *v, int B, int T, int H, int D, linatt_phi phi,
                                   star_stream s, star_error *err);

// SSD scan (kernels/ssd_scan.cu), chunked: x, y [B,T,H,P]; Bm, Cm [B,T,N]; dt [B,T,H] raw;
// dt_bias, D [H] fp32 or NULL; A_log [H] fp32. P, N <= 128.
typedef struct ssd_inputs_cuda {
    const floatX *x, *Bm, *Cm, *dt;
    const float *dt_bias, *A_log, *D;
} ssd_inputs_cuda;
typedef struct ssd_grads_cuda {  // each ACCUMULATED (+=), each may be NULL
    floatX *dx, *dBm, *dCm, *ddt;
    float *ddt_bias, *dA_log, *dD;
} ssd_grads_cuda;
int ssd_scan_forward_cuda(floatX *y, const ssd_inputs_cuda *in, ssd_shape s, star_stream st, star_error *err);
// scratch holds ssd_scan_backward_scratch_bytes(s) bytes (fp32: per-head dB, dC and per-step
// dot products, about 4 B*T*H*(2N+3) bytes).
size_t ssd_scan_backward_scratch_bytes(ssd_shape s);
int ssd_scan_backward_cuda(const ssd_grads_cuda *g, void *scratch, size_t scratch_bytes, const floatX *dy,
                           const ssd_inputs_cuda *in, ssd_shape s, star_stream st, star_error *err);

// ---- CUDA graphs (kernels/graph.cu) -----------------------------------------------------
// Work queued on a capturable stream (star_cuda_stream_create) between begin and end is
// recorded, not run, and instantiated into a graph that one launch replays with the same
// arguments and device pointers. Nothing may synchronize, allocate or use the legacy
// default stream while capturing.
typedef struct star_cuda_graph star_cuda_graph;
int star_cuda_capture_begin(star_stream s, star_error *err);
// Ends the capture on s. ok = 1: instantiates what was recorded into *out. ok = 0 (a call
// failed while capturing, err says which): discards it, leaves s usable and returns -1
// keeping err.
int star_cuda_capture_end(star_stream s, int ok, star_cuda_graph **out, star_error *err);
int star_cuda_graph_launch(star_cuda_graph *gr, star_stream s, star_error *err);
void star_cuda_graph_destroy(star_cuda_graph *gr);  // NULL is fine

// ---- Model glue (kernels/elementwise.cu) -------------------------------------------------
// out = a + b over n values (out may alias a or b).
int add_cuda(floatX *out, const floatX *a, const floatX *b, long n, star_stream s, star_error *err);
// Device-to-device copy on the stream.
int star_cuda_copy(void *dst, const void *src, size_t bytes, star_stream s, star_error *err);
// Diagonal output projection: y [N,C] = x * w[c] (w fp32 master values).
int scale_channels_forward_cuda(floatX *y, const floatX *x, const float *w, long N, int C, star_stream s,
                                star_error *err);
// dx += dy * w[c] (= with GRAD_SET); dw[c] (fp32) += sum_n dy x (fixed order). Either may
// be NULL.
int scale_channels_backward_cuda(floatX *dx, float *dw, const floatX *dy, const floatX *x, const float *w, long N,
                                 int C, grad_write dx_mode, star_stream s, star_error *err);
// Block-diagonal projection w [G][OC/G][C/G] written as the dense [OC][C] matrix (zeros
// off the blocks), so matmul_*_cuda runs it; the dense fp32 gradient's blocks are then
// added into the grouped one: dw += blocks of ddense.
int grouped_to_dense_cuda(floatX *dense, const floatX *w, int OC, int C, int G, star_stream s, star_error *err);
int grouped_grad_gather_cuda(float *dw, const float *ddense, int OC, int C, int G, star_stream s, star_error *err);
// The implicit filter of the gated long convolution (operators/long_conv.h), fp32:
// h [C][T] = filter(a, b [C][M], alpha [C]) (overwrites); da, db, dalpha += (each may be NULL).
int long_conv_filter_forward_cuda(float *h, const float *a, const float *b, const float *alpha, int C, int T, int M,
                                  star_stream s, star_error *err);
int long_conv_filter_backward_cuda(float *da, float *db, float *dalpha, const float *dh, const float *a, const float *b,
                                   const float *alpha, int C, int T, int M, star_stream s, star_error *err);

// ---- Hopper's warpgroup products (kernels/wgmma.cuh), checked one tile at a time ---------
// c [64][64] fp32 = a [64][K] times bt [64][K]^T (row major, device memory; K a multiple of
// 16 up to 256) through wgmma.mma_async on one warpgroup. a_mode: 0 A K-major in shared
// memory, 1 A M-major in shared memory, 2 A from registers; b_mn: 1 stores B N-major.
// For diagnosis only, a_mode 3 and b_mn 2: M- and N-major with the descriptor's two
// strides read the other way round (wgmma.cuh says which reading is right). swizzle: 0
// the layout without swizzle, 128 the 128-byte swizzle (wgmma.cuh).
// Fails naming the device where it is not compute capability 9.0 (the kernels are sm_90a).
int wgmma_tile_product_cuda(float *c, const floatX *a, const floatX *bt, int K, int a_mode, int b_mn, int swizzle,
                            star_stream s, star_error *err);
// Throughput of the products alone, for timings side by side (test_wgmma --time): blocks
// warpgroups each chain iters x 4 m64n64k16 products (K 64, one accumulator) from tiles
// written once in the given arrangement (a_mode 0 to 2, b_mn 0 or 1, swizzle 0 or 128);
// out[blocks] gets each block's sum. 2 x 64^3 x iters x blocks flops in all.
int wgmma_rate_run_cuda(float *out, int blocks, int iters, int a_mode, int b_mn, int swizzle, star_stream s,
                        star_error *err);
// The blocks for it: 4 warpgroups per SM of the current device; -1 on a CUDA error.
int wgmma_rate_blocks_cuda(star_error *err);
// 1 where the current device runs the sm_90a wgmma kernels (compute capability 9.0); 0
// with err saying what the device is; -1 on a CUDA error.
int wgmma_available_cuda(star_error *err);

// ---- Device facts for benchmarks (kernels/device_info.cu) ---------------------------------
int star_cuda_device_name(int device, char *name, size_t cap, star_error *err);
// Device memory in use (total - free, every process on the device) and the total.
int star_cuda_memory_used(size_t *used, size_t *total, star_error *err);
// Marks where a profiler run with --profile-from-start off (ncu) records: on 1 starts, 0
// stops (cudaProfilerStart/Stop; no effect without a profiler). star bench wraps its
// timed steps in it (bench/step_profile.sh).
int star_cuda_profile_range(int on, star_error *err);
// The bf16 matrix-product rate of this device: reps products of n x n x n (after two
// warm-up ones) through matmul_forward_cuda, timed with CUDA events. Allocates 3 n^2 bf16.
int matmul_peak_tflops_cuda(star_cuda *ctx, int n, int reps, double *tflops, star_error *err);

#ifdef __cplusplus
}
#endif

#endif
