// A plain generational GA with elitism, the baseline NSGA-II is compared against.
// Parents are picked by the same binary tournament on (cv, rank, crowding), where rank
// is the constrained non-domination rank. Survival: the GA_ELITE best parents by
// (cv, rank, crowding) are kept, and pop_size - GA_ELITE offspring replace everyone
// else, whatever their quality (no competition between offspring and parents beyond
// the elites). With one objective this is the textbook GA with elitism.
#include <stdlib.h>

#include "common/error.h"
#include "search/algorithm.h"
#include "search/index_sort.h"
#include "search/ranking.h"

#define GA_ELITE 2

static int ga_elite(int pop_size) { return pop_size > GA_ELITE ? GA_ELITE : pop_size - 1; }

static int ga_offspring_count(int pop_size) { return pop_size - ga_elite(pop_size); }

static int cmp_survival(const void *ctx, int a, int b) {
    const individual *pool = ctx;
    return survival_compare(&pool[a], &pool[b]);
}

static int ga_survive(individual *pool, int n_parents, int n_pool, int n_keep, int n_obj, pcg32 *rng, int *keep_idx,
                      star_error *err) {
    int n_offspring = n_pool - n_parents;
    int elite = n_keep - n_offspring;
    if (elite < 0) elite = 0;
    if (elite > n_parents)
        return STAR_FAIL(err, "ga survival: %d survivors from %d parents and %d offspring", n_keep, n_parents,
                         n_offspring);
    population_rank(pool, n_parents, n_obj);
    int *order = star_malloc((size_t)(n_parents > 0 ? n_parents : 1) * sizeof *order);
    for (int i = 0; i < n_parents; i++) order[i] = i;
    index_sort(order, n_parents, cmp_survival, pool);
    int m = 0;
    for (int i = 0; i < elite; i++) keep_idx[m++] = order[i];
    for (int i = 0; m < n_keep; i++) keep_idx[m++] = n_parents + i;
    free(order);
    return 0;
}

const algorithm algorithm_ga = {
    .name = "ga",
    .breeds = 1,
    .offspring_count = ga_offspring_count,
    .select_parents = tournament_select,
    .survive = ga_survive,
};
