// search/front_all: the front of all evaluations keeps exactly the points no other
// recorded point weakly dominates (a duplicate is not added again, a dominated point
// never enters, a newcomer evicts what it dominates), and its wrapper records every
// feasible evaluation, skipping failed and infeasible ones.
#include <string.h>

#include "search/front_all.h"
#include "tests/test_util.h"

static int has(const front_all *fa, double a, double b) {
    for (int i = 0; i < fa->n; i++)
        if (fa->f[2 * i] == a && fa->f[2 * i + 1] == b) return 1;
    return 0;
}

// A problem whose evaluation copies x's two values into f; x[2] != 0 marks a failure,
// x[3] the constraint violation.
static int copy_eval(void *ctx, individual **inds, int n, star_error *err) {
    (void)ctx, (void)err;
    for (int i = 0; i < n; i++) {
        const double *x = inds[i]->x;
        inds[i]->f[0] = x[0], inds[i]->f[1] = x[1];
        inds[i]->status = x[2] != 0 ? INDIVIDUAL_FAILED : INDIVIDUAL_OK;
        inds[i]->cv = x[3];
    }
    return 0;
}

int main(void) {
    star_error err;
    problem p;
    memset(&p, 0, sizeof p);
    p.name = "copy", p.n_obj = 2, p.evaluate_batch = copy_eval;
    front_all fa;
    front_all_init(&fa, &p);
    CHECK(fa.wrapped.ctx == &fa && fa.wrapped.evaluate_fidelity == NULL && fa.wrapped.cost == NULL);
    static const double pts[][2] = {{1, 5}, {2, 4}, {3, 3}, {2, 4}, {2.5, 4.5}, {0.5, 6}, {2, 2}, {4, 1}};
    for (int i = 0; i < 8; i++) CHECK(front_all_add(&fa, pts[i], &err) == 0);
    // {2,4} twice is kept once, {2.5,4.5} is dominated by {2,4}, {2,2} evicts {2,4} and {3,3}.
    CHECK(fa.n == 4);
    CHECK(has(&fa, 1, 5) && has(&fa, 0.5, 6) && has(&fa, 2, 2) && has(&fa, 4, 1));
    CHECK(!has(&fa, 2, 4) && !has(&fa, 3, 3) && !has(&fa, 2.5, 4.5));
    front_all_free(&fa);
    CHECK(fa.n == 0 && fa.f == NULL);

    // Through the wrapper: 600 points (past the first growth), failed and infeasible skipped.
    front_all_init(&fa, &p);
    individual inds[602], *ptrs[602];
    for (int i = 0; i < 602; i++) {
        individual_init(&inds[i], 4 * sizeof(double));
        double *x = inds[i].x;
        x[0] = i, x[1] = 600 - i;              // mutually non-dominated
        if (i == 600) x[0] = -1, x[1] = -1, x[2] = 1;  // failed: would dominate all
        if (i == 601) x[0] = -1, x[1] = -1, x[3] = 0.5;  // infeasible: would too
        ptrs[i] = &inds[i];
    }
    CHECK(fa.wrapped.evaluate_batch(fa.wrapped.ctx, ptrs, 602, &err) == 0);
    CHECK(fa.n == 600 && has(&fa, 0, 600) && has(&fa, 599, 1) && !has(&fa, -1, -1));
    for (int i = 0; i < 602; i++) individual_free(&inds[i]);
    front_all_free(&fa);
    TEST_END();
}
