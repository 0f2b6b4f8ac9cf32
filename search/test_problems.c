#include "search/test_problems.h"

#include <stdlib.h>
#include <string.h>

int test_problem_init(test_problem *tp, const char *name, int n_obj, star_error *err) {
    memset(tp, 0, sizeof *tp);
    if (!strcmp(name, "zdt1")) return problem_zdt_init(tp, 1, err);
    if (!strcmp(name, "zdt2")) return problem_zdt_init(tp, 2, err);
    if (!strcmp(name, "zdt3")) return problem_zdt_init(tp, 3, err);
    if (!strcmp(name, "dtlz2")) return problem_dtlz2_init(tp, n_obj, err);
    return STAR_FAIL(err, "unknown test problem '%s' (expected zdt1, zdt2, zdt3 or dtlz2)", name);
}

static int test_problem_evaluate_batch(void *ctx, individual **inds, int n, star_error *err) {
    test_problem *tp = ctx;
    for (int i = 0; i < n; i++) {
        tp->evaluate(inds[i]->x, tp->n_var, tp->n_obj, inds[i]->f);
        inds[i]->cv = 0.0;
        inds[i]->status = INDIVIDUAL_OK;
        tp->n_evaluations++;
    }
    return 0;
}

problem test_problem_problem(test_problem *tp) {
    problem p;
    memset(&p, 0, sizeof p);
    p.name = tp->name;
    p.n_obj = tp->n_obj;
    p.n_constraints = 0;
    p.ctx = tp;
    p.evaluate_batch = test_problem_evaluate_batch;
    return p;
}

int test_problem_front(const test_problem *tp, int n_points, double **f, int *n_out, star_error *err) {
    if (n_points < 2 || n_points < tp->n_obj)
        return STAR_FAIL(err, "%s: front sample of %d points (expected >= %d)", tp->name, n_points,
                         tp->n_obj > 2 ? tp->n_obj : 2);
    double *buf = star_malloc((size_t)n_points * tp->n_obj * sizeof *buf);
    *n_out = tp->front(n_points, tp->n_obj, buf);
    *f = buf;
    return 0;
}
