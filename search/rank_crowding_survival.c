// NSGA-II survival: rank the whole pool (constrained non-domination, crowding per front),
// keep whole fronts in the order (cv, rank) while they fit, and cut the front that does
// not fit by pruning (Kukkonen & Deb 2006, "Improved pruning of non-dominated solutions
// based on crowding distance for bi-objective optimization problems"; pymoo's "pcd"):
// the member with the smallest crowding distance goes, the crowding of those left is
// recomputed, and so on until the front fits. The one-shot cut of the 2002 paper
// sorts by crowding computed once, so two close neighbours both look crowded and
// both go, leaving a hole; pruning removes one and then sees the other as isolated.
// The extremes of every objective have infinite crowding and stay; a repeated
// objective vector has crowding 0 and goes first.
#include <math.h>
#include <stdlib.h>

#include "search/algorithm.h"
#include "search/index_sort.h"
#include "search/ranking.h"

static int cmp_survival(const void *ctx, int a, int b) {
    const individual *pool = ctx;
    return survival_compare(&pool[a], &pool[b]);
}

static int same_class(const individual *a, const individual *b) { return a->cv == b->cv && a->rank == b->rank; }

// The member of front[0..m) to remove: the smallest crowding (NaN, from a failed
// candidate's objectives, counts as smallest); of equals, the latest in the pool, so a
// copy made this generation goes before the parent it copies.
static int most_crowded(const individual *pool, const int *front, int m) {
    int worst = 0;
    double w = isnan(pool[front[0]].crowding) ? -INFINITY : pool[front[0]].crowding;
    for (int i = 1; i < m; i++) {
        double c = isnan(pool[front[i]].crowding) ? -INFINITY : pool[front[i]].crowding;
        if (c < w || (c == w && front[i] > front[worst])) {
            worst = i;
            w = c;
        }
    }
    return worst;
}

// Cuts front[0..m) down to n members in place (crowding recomputed after each removal:
// O((m - n) * n_obj * m log m), fine for the populations of a search).
static void prune_front(individual *pool, int *front, int m, int n, int n_obj) {
    while (m > n) {
        crowding_distance(pool, front, m, n_obj);
        int w = most_crowded(pool, front, m);
        for (int i = w; i < m - 1; i++) front[i] = front[i + 1];
        m--;
    }
}

int rank_crowding_survive(individual *pool, int n_parents, int n_pool, int n_keep, int n_obj, pcg32 *rng,
                          int *keep_idx, star_error *err) {
    if (n_keep < 0 || n_keep > n_pool) return STAR_FAIL(err, "survival: keeping %d of a pool of %d", n_keep, n_pool);
    population_rank(pool, n_pool, n_obj);
    int *order = star_malloc((size_t)(n_pool > 0 ? n_pool : 1) * sizeof *order);
    for (int i = 0; i < n_pool; i++) order[i] = i;
    index_sort(order, n_pool, cmp_survival, pool);  // stable: ties keep pool order
    if (n_keep > 0 && n_keep < n_pool && same_class(&pool[order[n_keep - 1]], &pool[order[n_keep]])) {
        // order[s..e) is the front that does not fit; order[0..s) fits whole.
        const individual *cut = &pool[order[n_keep - 1]];
        int s = n_keep - 1, e = n_keep;
        while (s > 0 && same_class(&pool[order[s - 1]], cut)) s--;
        while (e < n_pool && same_class(&pool[order[e]], cut)) e++;
        prune_front(pool, order + s, e - s, n_keep - s, n_obj);
    }
    for (int i = 0; i < n_keep; i++) keep_idx[i] = order[i];
    free(order);
    return 0;
}
