// Crowding distance (Deb et al. 2002) over one front. A member whose objective vector
// repeats that of an earlier member (in idx order) gets 0 and is left out of everyone's
// gaps, as in pymoo: a copy adds no spread, and counting it would give both copies the
// isolation of a single point, so survival could keep copies over distinct points.
#include <math.h>
#include <stdlib.h>

#include "common/error.h"
#include "search/index_sort.h"
#include "search/ranking.h"

typedef struct by_objective {
    const individual *pop;
    int k;
} by_objective;

static int cmp_objective(const void *ctx, int a, int b) {
    const by_objective *c = ctx;
    double fa = c->pop[a].f[c->k], fb = c->pop[b].f[c->k];
    return fa < fb ? -1 : fa > fb ? 1 : 0;
}

typedef struct by_position {
    const individual *pop;
    const int *idx;
    int n_obj;
} by_position;

// Positions in idx, ordered lexicographically by their members' objective vectors, so
// equal vectors end up next to each other.
static int cmp_position(const void *ctx, int a, int b) {
    const by_position *c = ctx;
    const double *fa = c->pop[c->idx[a]].f, *fb = c->pop[c->idx[b]].f;
    for (int k = 0; k < c->n_obj; k++)
        if (fa[k] != fb[k]) return fa[k] < fb[k] ? -1 : fa[k] > fb[k] ? 1 : 0;
    return 0;
}

static int same_vector(const double *a, const double *b, int n_obj) {
    for (int k = 0; k < n_obj; k++)
        if (!(a[k] == b[k])) return 0;  // NaN repeats nothing
    return 1;
}

// Writes the members of idx that repeat no earlier member to u (in idx order); returns
// how many. The sort is stable, so in a run of equal vectors the first is the earliest.
static int unique_members(const individual *pop, const int *idx, int m, int n_obj, int *u) {
    int *pos = star_malloc((size_t)m * sizeof *pos);
    char *repeat = star_calloc((size_t)m, 1);
    for (int a = 0; a < m; a++) pos[a] = a;
    by_position c = {pop, idx, n_obj};
    index_sort(pos, m, cmp_position, &c);
    for (int a = 1; a < m; a++)
        if (same_vector(pop[idx[pos[a]]].f, pop[idx[pos[a - 1]]].f, n_obj)) repeat[pos[a]] = 1;
    int n = 0;
    for (int a = 0; a < m; a++)
        if (!repeat[a]) u[n++] = idx[a];
    free(pos);
    free(repeat);
    return n;
}

void crowding_distance(individual *pop, const int *idx, int m, int n_obj) {
    for (int a = 0; a < m; a++) pop[idx[a]].crowding = 0.0;
    if (m <= 0) return;
    int *u = star_malloc((size_t)m * sizeof *u);
    int n = unique_members(pop, idx, m, n_obj, u);
    if (n <= 2) {
        for (int a = 0; a < n; a++) pop[u[a]].crowding = INFINITY;
        free(u);
        return;
    }
    int *order = star_malloc((size_t)n * sizeof *order);
    for (int k = 0; k < n_obj; k++) {
        for (int a = 0; a < n; a++) order[a] = u[a];
        by_objective c = {pop, k};
        index_sort(order, n, cmp_objective, &c);
        double lo = pop[order[0]].f[k], hi = pop[order[n - 1]].f[k];
        pop[order[0]].crowding = INFINITY;
        pop[order[n - 1]].crowding = INFINITY;
        if (!(hi > lo)) continue;  // a flat objective separates no one
        for (int a = 1; a < n - 1; a++)
            pop[order[a]].crowding += (pop[order[a + 1]].f[k] - pop[order[a - 1]].f[k]) / (hi - lo);
    }
    free(order);
    free(u);
}
