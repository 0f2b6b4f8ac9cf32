#include "search/algorithm.h"
#include "search/ranking.h"

void tournament_select(const individual *pop, int n, pcg32 *rng, int *out_idx, int n_out) {
    for (int k = 0; k < n_out; k++) {
        if (n < 2) {
            out_idx[k] = 0;
            continue;
        }
        int a = (int)pcg32_bounded(rng, (uint32_t)n);
        int b = (int)pcg32_bounded(rng, (uint32_t)(n - 1));
        if (b >= a) b++;  // distinct from a
        int c = survival_compare(&pop[a], &pop[b]);
        if (c == 0) c = pcg32_bounded(rng, 2) ? -1 : 1;
        out_idx[k] = c < 0 ? a : b;
    }
}
