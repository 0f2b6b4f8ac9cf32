// star search: the front of all evaluations: the non-dominated set of every feasible
// point a run evaluated, where a run's last population keeps at most its size of them
// (random search is scored this way; bench/bench_zdt scores NSGA-II both ways). Kept by
// wrapping a problem's evaluation: pass fa->wrapped to search_run.
#ifndef STAR_SEARCH_FRONT_ALL_H
#define STAR_SEARCH_FRONT_ALL_H

#include "search/problem.h"

typedef struct front_all {
    problem wrapped;      // inner, its evaluations recorded (ctx: this struct)
    const problem *inner;
    double *f;            // n points x inner->n_obj, mutually non-dominated
    int n, cap;
} front_all;

// fa must stay where it is while fa->wrapped is in use.
void front_all_init(front_all *fa, const problem *inner);
void front_all_free(front_all *fa);
// Adds one point (n_obj values) unless a recorded point dominates or equals it, dropping
// the recorded points it dominates (search/ranking.h's pareto_dominance).
int front_all_add(front_all *fa, const double *f, star_error *err);

#endif
