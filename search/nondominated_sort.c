// Deb's fast non-dominated sort: O(M N^2) comparisons, each pair compared once; the
// dominance relation is kept as an N x N byte matrix (populations here are hundreds).
#include <stdlib.h>

#include "common/error.h"
#include "search/ranking.h"

int nondominated_sort(const individual *pop, int n, int n_obj, int *rank) {
    if (n <= 0) return 0;
    unsigned char *dom = star_calloc((size_t)n * n, 1);  // dom[i*n+j]: i dominates j
    int *count = star_calloc((size_t)n, sizeof *count);  // how many dominate i
    for (int i = 0; i < n; i++) {
        for (int j = i + 1; j < n; j++) {
            int d = constrained_dominance(&pop[i], &pop[j], n_obj);
            if (d == 1) {
                dom[(size_t)i * n + j] = 1;
                count[j]++;
            } else if (d == -1) {
                dom[(size_t)j * n + i] = 1;
                count[i]++;
            }
        }
    }
    int *front = star_malloc((size_t)n * sizeof *front), *next = star_malloc((size_t)n * sizeof *next);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (count[i] == 0) front[m++] = i;
    int r = 0;
    while (m > 0) {
        int m_next = 0;
        for (int a = 0; a < m; a++) {
            int i = front[a];
            rank[i] = r;
            for (int j = 0; j < n; j++)
                if (dom[(size_t)i * n + j] && --count[j] == 0) next[m_next++] = j;
        }
        int *t = front;
        front = next;
        next = t;
        m = m_next;
        r++;
    }
    free(dom);
    free(count);
    free(front);
    free(next);
    return r;
}

int population_rank(individual *pop, int n, int n_obj) {
    if (n <= 0) return 0;
    int *rank = star_malloc((size_t)n * sizeof *rank), *idx = star_malloc((size_t)n * sizeof *idx);
    int n_fronts = nondominated_sort(pop, n, n_obj, rank);
    for (int r = 0; r < n_fronts; r++) {
        int m = 0;
        for (int i = 0; i < n; i++)
            if (rank[i] == r) idx[m++] = i;
        for (int a = 0; a < m; a++) pop[idx[a]].rank = r;
        crowding_distance(pop, idx, m, n_obj);
    }
    free(rank);
    free(idx);
    return n_fronts;
}
