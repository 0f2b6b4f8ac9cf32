#include "search/front_all.h"

#include <stdlib.h>
#include <string.h>

#include "search/ranking.h"

int front_all_add(front_all *fa, const double *p, star_error *err) {
    int m = fa->inner->n_obj;
    size_t row = sizeof(double) * m;
    for (int i = 0; i < fa->n; i++) {  // a recorded point dominates p, or is p: nothing to add
        const double *q = fa->f + (size_t)i * m;
        if (pareto_dominance(q, p, m) == 1 || !memcmp(q, p, row)) return 0;
    }
    int k = 0;
    for (int i = 0; i < fa->n; i++)  // drop the points p dominates
        if (pareto_dominance(p, fa->f + (size_t)i * m, m) != 1)
            memmove(fa->f + (size_t)k++ * m, fa->f + (size_t)i * m, row);
    fa->n = k;
    if (fa->n == fa->cap) {
        int cap = fa->cap ? 2 * fa->cap : 256;
        double *f = realloc(fa->f, sizeof(double) * (size_t)cap * m);
        if (!f) return STAR_FAIL(err, "front of all evaluations: cannot grow to %d points", cap);
        fa->f = f, fa->cap = cap;
    }
    memcpy(fa->f + (size_t)fa->n++ * m, p, row);
    return 0;
}

static int record(front_all *fa, individual *ind, star_error *err) {
    return ind->status == INDIVIDUAL_OK && ind->cv == 0 ? front_all_add(fa, ind->f, err) : 0;
}

static int evaluate_batch(void *ctx, individual **inds, int n, star_error *err) {
    front_all *fa = ctx;
    if (fa->inner->evaluate_batch(fa->inner->ctx, inds, n, err)) return -1;
    for (int i = 0; i < n; i++)
        if (record(fa, inds[i], err)) return -1;
    return 0;
}

static int evaluate_fidelity(void *ctx, individual *ind, int fidelity, star_error *err) {
    front_all *fa = ctx;
    if (fa->inner->evaluate_fidelity(fa->inner->ctx, ind, fidelity, err)) return -1;
    return record(fa, ind, err);
}

static double cost(void *ctx, const individual *ind) {
    const front_all *fa = ctx;
    return fa->inner->cost(fa->inner->ctx, ind);
}

void front_all_init(front_all *fa, const problem *inner) {
    memset(fa, 0, sizeof *fa);
    fa->inner = inner;
    fa->wrapped = *inner;
    fa->wrapped.ctx = fa;
    fa->wrapped.evaluate_batch = evaluate_batch;
    fa->wrapped.evaluate_fidelity = inner->evaluate_fidelity ? evaluate_fidelity : NULL;
    fa->wrapped.cost = inner->cost ? cost : NULL;
}

void front_all_free(front_all *fa) {
    free(fa->f);
    fa->f = NULL;
    fa->n = fa->cap = 0;
}
