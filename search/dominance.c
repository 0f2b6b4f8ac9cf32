#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "search/ranking.h"

int pareto_dominance(const double *a, const double *b, int n_obj) {
    int a_better = 0, b_better = 0;
    for (int k = 0; k < n_obj; k++) {
        if (a[k] < b[k]) a_better = 1;
        else if (b[k] < a[k]) b_better = 1;
    }
    if (a_better && !b_better) return 1;
    if (b_better && !a_better) return -1;
    return 0;
}

int constrained_dominance(const individual *a, const individual *b, int n_obj) {
    int fa = a->cv <= 0.0, fb = b->cv <= 0.0;
    if (fa && !fb) return 1;
    if (fb && !fa) return -1;
    if (!fa) return a->cv < b->cv ? 1 : b->cv < a->cv ? -1 : 0;
    return pareto_dominance(a->f, b->f, n_obj);
}

int survival_compare(const individual *a, const individual *b) {
    if (a->cv != b->cv) return a->cv < b->cv ? -1 : 1;
    if (a->rank != b->rank) return a->rank < b->rank ? -1 : 1;
    if (a->crowding != b->crowding) return a->crowding > b->crowding ? -1 : 1;
    return 0;
}

int pareto_filter(double *f, int n, int n_obj) {
    char *drop = star_calloc((size_t)(n > 0 ? n : 1), 1);
    for (int i = 0; i < n; i++) {
        if (drop[i]) continue;
        for (int j = 0; j < n; j++) {
            if (j == i || drop[j]) continue;
            int d = pareto_dominance(&f[(size_t)j * n_obj], &f[(size_t)i * n_obj], n_obj);
            // A later exact duplicate of a kept row goes too.
            if (d == 1 || (d == 0 && j < i && !memcmp(&f[(size_t)j * n_obj], &f[(size_t)i * n_obj], n_obj * sizeof(double)))) {
                drop[i] = 1;
                break;
            }
        }
    }
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (drop[i]) continue;
        if (m != i) memmove(&f[(size_t)m * n_obj], &f[(size_t)i * n_obj], n_obj * sizeof(double));
        m++;
    }
    free(drop);
    return m;
}
