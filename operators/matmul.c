#include "operators/matmul.h"

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

void gemm(int trans_a, int trans_b, int M, int N, int K, real alpha, const real *A, int lda, const real *B, int ldb,
          real beta, real *C, int ldc) {
    if (M <= 0 || N <= 0) return;
#ifdef STAR_REAL_DOUBLE
    cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N, K,
                alpha, A, lda, B, ldb, beta, C, ldc);
#else
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N, K,
                alpha, A, lda, B, ldb, beta, C, ldc);
#endif
}

// Products are split into row blocks, one per OpenMP thread, each a single-threaded
// BLAS call: every output element is computed by exactly one call in the same order
// whatever the thread count, so results do not depend on it.
static int row_blocks(int rows) {
#ifdef _OPENMP
    int t = omp_in_parallel() ? 1 : omp_get_max_threads();
    int b = rows / 16 < t ? rows / 16 : t;  // at least 16 rows per block
    return b > 1 ? b : 1;
#else
    return 1;
#endif
}

void matmul_forward(real *out, const real *inp, const real *w, int N, int C, int OC) {
    int nb = row_blocks(N);
#pragma omp parallel for schedule(static) if (nb > 1)
    for (int b = 0; b < nb; b++) {
        int r0 = (int)((long)N * b / nb), r1 = (int)((long)N * (b + 1) / nb);
        gemm(0, 1, r1 - r0, OC, C, 1, inp + (long)r0 * C, C, w, C, 0, out + (long)r0 * OC, OC);
    }
}

void matmul_backward(real *dinp, real *dw, const real *dout, const real *inp, const real *w, int N, int C, int OC) {
    if (dinp) {
        int nb = row_blocks(N);
#pragma omp parallel for schedule(static) if (nb > 1)
        for (int b = 0; b < nb; b++) {
            int r0 = (int)((long)N * b / nb), r1 = (int)((long)N * (b + 1) / nb);
            gemm(0, 0, r1 - r0, C, OC, 1, dout + (long)r0 * OC, OC, w, C, 1, dinp + (long)r0 * C, C);
        }
    }
    if (dw) {
        // Blocks of dw's rows (output channels): the reduction over N stays inside one call.
        int nb = row_blocks(OC);
#pragma omp parallel for schedule(static) if (nb > 1)
        for (int b = 0; b < nb; b++) {
            int r0 = (int)((long)OC * b / nb), r1 = (int)((long)OC * (b + 1) / nb);
            gemm(1, 0, r1 - r0, C, N, 1, dout + r0, OC, inp, C, 1, dw + (long)r0 * C, C);
        }
    }
}

void matmul_grouped_forward(real *out, const real *inp, const real *w, int N, int C, int OC, int G) {
    int c = C / G, oc = OC / G;
    for (int g = 0; g < G; g++)
        gemm(0, 1, N, oc, c, 1, inp + g * c, C, w + (long)g * oc * c, c, 0, out + g * oc, OC);
}

void matmul_grouped_backward(real *dinp, real *dw, const real *dout, const real *inp, const real *w, int N, int C,
                             int OC, int G) {
    int c = C / G, oc = OC / G;
    for (int g = 0; g < G; g++) {
        const real *wg = w + (long)g * oc * c;
        if (dinp) gemm(0, 0, N, c, oc, 1, dout + g * oc, OC, wg, c, 1, dinp + g * c, C);
        if (dw) gemm(1, 0, oc, c, N, 1, dout + g * oc, OC, inp + g * c, C, 1, dw + (long)g * oc * c, c);
    }
}
