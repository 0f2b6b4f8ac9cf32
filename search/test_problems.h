// star search: standard test problems with known Pareto fronts, to check algorithms
// against (Zitzler, Deb & Thiele 2000, "Comparison of multiobjective evolutionary
// algorithms"; Deb, Thiele, Laumanns & Zitzler 2002, "Scalable multi-objective
// optimization test problems"). Decision vectors are real vectors in [0,1]^n_var
// (search/real_vector.h); every problem is unconstrained.
//   zdt1, zdt2, zdt3: 2 objectives, n_var 30 (convex, concave, disconnected fronts)
//   dtlz2:            n_obj objectives, n_var = n_obj + 9 (front: unit sphere octant)
#ifndef STAR_SEARCH_TEST_PROBLEMS_H
#define STAR_SEARCH_TEST_PROBLEMS_H

#include "common/error.h"
#include "search/problem.h"

typedef struct test_problem {
    const char *name;
    int n_var, n_obj;
    void (*evaluate)(const double *x, int n_var, int n_obj, double *f);
    // Writes up to n_points rows (n_obj each) of the true front into f; returns how many.
    int (*front)(int n_points, int n_obj, double *f);
    long n_evaluations;  // counted by the problem's evaluate_batch
} test_problem;

int problem_zdt_init(test_problem *tp, int which, star_error *err);       // which: 1, 2 or 3
int problem_dtlz2_init(test_problem *tp, int n_obj, star_error *err);     // n_obj: 2..SEARCH_MAX_OBJ
// By name: "zdt1", "zdt2", "zdt3", "dtlz2" (n_obj used by dtlz2 only).
int test_problem_init(test_problem *tp, const char *name, int n_obj, star_error *err);

// The problem view (ctx = tp, which must outlive it).
problem test_problem_problem(test_problem *tp);
// A sample of the true Pareto front of at most n_points non-dominated points;
// *f (n_out x n_obj) is the caller's to free.
int test_problem_front(const test_problem *tp, int n_points, double **f, int *n_out, star_error *err);

#endif
