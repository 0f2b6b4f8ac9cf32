#include <stdlib.h>

#include "search/algorithm.h"
#include "search/index_sort.h"
#include "search/ranking.h"

static int cmp_survival(const void *ctx, int a, int b) {
    const individual *pool = ctx;
    return survival_compare(&pool[a], &pool[b]);
}

// Ranking the pool as a whole and sorting by (cv, rank, crowding) keeps whole fronts
// first and cuts the splitting front by crowding computed over the whole front, as
// NSGA-II does.
int rank_crowding_survive(individual *pool, int n_parents, int n_pool, int n_keep, int n_obj, pcg32 *rng,
                          int *keep_idx, star_error *err) {
    if (n_keep > n_pool) return STAR_FAIL(err, "survival: keeping %d of a pool of %d", n_keep, n_pool);
    population_rank(pool, n_pool, n_obj);
    int *order = star_malloc((size_t)n_pool * sizeof *order);
    for (int i = 0; i < n_pool; i++) order[i] = i;
    index_sort(order, n_pool, cmp_survival, pool);  // stable: ties keep pool order
    for (int i = 0; i < n_keep; i++) keep_idx[i] = order[i];
    free(order);
    return 0;
}
