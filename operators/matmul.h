// star: matrix products of the CPU engine, through OpenBLAS.
// Layout as llm.c: activations are row-major [N, C]; a weight is [OC, C] and
// out = inp @ w^T. Convention for every backward in operators/: gradients are
// ACCUMULATED (+=) into both the input gradient and the parameter gradients, so
// residual branches, tied weights and shared features need no extra buffers.
#ifndef STAR_OPERATORS_MATMUL_H
#define STAR_OPERATORS_MATMUL_H

#include "operators/real.h"

// out[n, oc] = sum_c inp[n, c] w[oc, c]   (overwrites out)
void matmul_forward(real *out, const real *inp, const real *w, int N, int C, int OC);
// dinp += dout @ w ; dw += dout^T @ inp   (either gradient pointer may be NULL)
void matmul_backward(real *dinp, real *dw, const real *dout, const real *inp, const real *w, int N, int C, int OC);

// Block-diagonal ("grouped") projection with G blocks: w is [G][OC/G][C/G]; block g
// maps input channels [g*C/G, (g+1)*C/G) to output channels [g*OC/G, (g+1)*OC/G).
void matmul_grouped_forward(real *out, const real *inp, const real *w, int N, int C, int OC, int G);
void matmul_grouped_backward(real *dinp, real *dw, const real *dout, const real *inp, const real *w, int N, int C,
                             int OC, int G);

// General strided product used inside operators: C = alpha * op(A) op(B) + beta * C,
// row-major, op = transpose when the flag is set.
void gemm(int trans_a, int trans_b, int M, int N, int K, real alpha, const real *A, int lda, const real *B, int ldb,
          real beta, real *C, int ldc);

#endif
