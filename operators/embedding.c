#include "operators/embedding.h"

#include <string.h>

int embedding_forward(real *out, const int32_t *tokens, const real *table, long N, int V, int C, star_error *err) {
    for (long n = 0; n < N; n++)
        if (tokens[n] < 0 || tokens[n] >= V)
            return STAR_FAIL(err, "token %d at position %ld is outside the vocabulary [0, %d)", (int)tokens[n], n, V);
#pragma omp parallel for schedule(static)
    for (long n = 0; n < N; n++) memcpy(out + n * C, table + (long)tokens[n] * C, sizeof(real) * (size_t)C);
    return 0;
}

// Serial over positions: several positions may hold the same token, and their sum must
// not depend on the thread count.
void embedding_backward(real *dtable, const real *dout, const int32_t *tokens, long N, int C) {
    for (long n = 0; n < N; n++) {
        real *d = dtable + (long)tokens[n] * C;
        const real *g = dout + n * C;
        for (int c = 0; c < C; c++) d[c] += g[c];
    }
}
