// star: input-varying diagonal recurrence (Rec-2), Mamba-2 / SSD style, with one scalar
// decay per head and B, C shared by all heads (one group):
//   dt_t = softplus(dt_raw_t + dt_bias_h)            (applied here, with its backward)
//   a_t  = exp(-dt_t * exp(A_log_h))
//   S_t  = a_t S_{t-1} + dt_t B_t x_t^T               (S: N x P per head, S_{-1} = 0)
//   y_t  = C_t^T S_t + D_h x_t                        (skip D optional, applied here)
// Layout: x, y [B,T,H,P]; Bm, Cm [B,T,N]; dt [B,T,H]; dt_bias, A_log, D [H].
//
// Two forms compute the same output:
// - recurrent: the scan above, step by step;
// - chunked (chunk length L): with cum_i the running sum of log a inside a chunk,
//   Y = ((C B^T) o M) (dt X) + diag(exp(cum)) C S_prev, where M_ij = exp(cum_i - cum_j)
//   for j <= i and 0 above (the "segsum" mask), then the state is passed on:
//   S = exp(cum_last) S_prev + B^T diag(exp(cum_last - cum_j) dt_j) X.
// The backward runs the scan in reverse with state checkpoints every L steps and
// recomputes everything from the inputs: the forward saves nothing.
// Decode keeps S: the cache is H*N*P per sequence.
#ifndef STAR_OPERATORS_SSD_SCAN_H
#define STAR_OPERATORS_SSD_SCAN_H

#include "common/error.h"
#include "operators/real.h"

typedef struct ssd_shape {
    int B, T, H, P, N;  // batch, time, heads, head (value) dim, state dim
} ssd_shape;

typedef struct ssd_inputs {
    const real *x;        // [B,T,H,P]
    const real *Bm;       // [B,T,N]
    const real *Cm;       // [B,T,N]
    const real *dt;       // [B,T,H] raw (before softplus)
    const real *dt_bias;  // [H] or NULL
    const real *A_log;    // [H]
    const real *D;        // [H] or NULL
} ssd_inputs;

// Gradients, each ACCUMULATED (+=) and each may be NULL; shapes as the inputs.
typedef struct ssd_grads {
    real *dx, *dBm, *dCm, *ddt, *ddt_bias, *dA_log, *dD;
} ssd_grads;

// y = scan(inputs)   (overwrites y)
int ssd_scan_forward_recurrent(real *y, const ssd_inputs *in, ssd_shape s, star_error *err);
int ssd_scan_forward_chunked(real *y, const ssd_inputs *in, ssd_shape s, int L, star_error *err);
int ssd_scan_backward(const ssd_grads *g, const real *dy, const ssd_inputs *in, ssd_shape s, int L, star_error *err);
// One decode step for s.B sequences (s.T is ignored: the inputs hold one position,
// x [B,H,P], Bm, Cm [B,N], dt [B,H]); state [B][H][N][P] (zeros at the start); y [B,H,P].
void ssd_scan_step(real *y, real *state, const ssd_inputs *in, ssd_shape s);

#endif
