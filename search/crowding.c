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

void crowding_distance(individual *pop, const int *idx, int m, int n_obj) {
    for (int a = 0; a < m; a++) pop[idx[a]].crowding = 0.0;
    if (m <= 2) {
        for (int a = 0; a < m; a++) pop[idx[a]].crowding = INFINITY;
        return;
    }
    int *order = star_malloc((size_t)m * sizeof *order);
    for (int k = 0; k < n_obj; k++) {
        for (int a = 0; a < m; a++) order[a] = idx[a];
        by_objective c = {pop, k};
        index_sort(order, m, cmp_objective, &c);
        double lo = pop[order[0]].f[k], hi = pop[order[m - 1]].f[k];
        pop[order[0]].crowding = INFINITY;
        pop[order[m - 1]].crowding = INFINITY;
        if (!(hi > lo)) continue;  // a flat objective separates no one
        for (int a = 1; a < m - 1; a++)
            pop[order[a]].crowding += (pop[order[a + 1]].f[k] - pop[order[a - 1]].f[k]) / (hi - lo);
    }
    free(order);
}
