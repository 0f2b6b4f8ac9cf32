#include "operators/crossentropy.h"

#include <stdlib.h>

int crossentropy_forward(double *loss, long *n_scored, real *probs, real *losses, const real *logits,
                         const int32_t *targets, long N, int V, star_error *err) {
    for (long n = 0; n < N; n++)
        if (targets[n] < -1 || targets[n] >= V)
            return STAR_FAIL(err, "target %d at position %ld is outside the vocabulary [0, %d) (or -1, not scored)",
                             (int)targets[n], n, V);
    real *row = losses ? losses : star_malloc(sizeof(real) * (size_t)(N > 0 ? N : 1));
#pragma omp parallel for schedule(static)
    for (long n = 0; n < N; n++) {
        const real *x = logits + n * V;
        real *p = probs + n * V;
        real m = x[0];
        for (int i = 1; i < V; i++) m = x[i] > m ? x[i] : m;
        double sum = 0;
        for (int i = 0; i < V; i++) sum += exp((double)x[i] - m);
        // The loss is read before probs overwrites the row (probs may alias logits).
        double lse = m + log(sum);
        row[n] = targets[n] >= 0 ? (real)(lse - x[targets[n]]) : 0;
        for (int i = 0; i < V; i++) p[i] = (real)exp((double)x[i] - lse);
    }
    // Summed in position order after the parallel loop: independent of the thread count.
    double total = 0;
    long count = 0;
    for (long n = 0; n < N; n++) {
        if (targets[n] < 0) continue;
        count++;
        total += row[n];
    }
    if (!losses) free(row);
    *loss = count ? total / count : 0;
    *n_scored = count;
    return 0;
}

void crossentropy_backward(real *dlogits, const real *probs, const int32_t *targets, long N, int V, real dloss) {
    long count = 0;
    for (long n = 0; n < N; n++) count += targets[n] >= 0;
    real k = count ? dloss / (real)count : 0;
#pragma omp parallel for schedule(static)
    for (long n = 0; n < N; n++) {
        real *d = dlogits + n * V;
        const real *p = probs + n * V;
        if (targets[n] < 0) {
            for (int i = 0; i < V; i++) d[i] = 0;
            continue;
        }
        for (int i = 0; i < V; i++) d[i] = k * p[i];
        d[targets[n]] -= k;
    }
}

long crossentropy_correct(int8_t *correct, const real *logits, const int32_t *targets, long N, int V) {
    long right = 0;
    for (long n = 0; n < N; n++) {
        if (targets[n] < 0) {
            if (correct) correct[n] = -1;
            continue;
        }
        const real *x = logits + n * V;
        int best = 0;
        for (int i = 1; i < V; i++)
            if (x[i] > x[best]) best = i;
        int ok = best == targets[n];
        right += ok;
        if (correct) correct[n] = (int8_t)ok;
    }
    return right;
}
