// star search: the order NSGA-II puts on a population (Deb et al. 2002, "A fast and
// elitist multiobjective genetic algorithm: NSGA-II"). Constrained domination (Deb
// 2000): a feasible candidate beats an infeasible one, of two infeasible ones the lower
// constraint violation wins, and of two feasible ones Pareto dominance decides. The
// fronts of the fast non-dominated sort follow that relation; within a front the
// crowding distance prefers isolated points.
#ifndef STAR_SEARCH_RANKING_H
#define STAR_SEARCH_RANKING_H

#include "search/individual.h"

// 1 if a dominates b, -1 if b dominates a, 0 otherwise (on f[0..n_obj) and cv).
int constrained_dominance(const individual *a, const individual *b, int n_obj);
// Plain Pareto dominance of objective vectors: 1, -1 or 0 as above.
int pareto_dominance(const double *a, const double *b, int n_obj);

// Fast non-dominated sort under constrained domination: rank[i] = front of pop[i]
// (0 = non-dominated). Returns the number of fronts.
int nondominated_sort(const individual *pop, int n, int n_obj, int *rank);

// Crowding distance of the members idx[0..m) of one front, written to .crowding:
// the extremes of every objective get +inf; interior points sum, over objectives, the
// normalized gap between their neighbours. A member repeating an earlier member's
// objective vector gets 0 and is left out of the others' gaps.
void crowding_distance(individual *pop, const int *idx, int m, int n_obj);

// Sets rank and crowding of every member of pop (non-dominated sort + crowding per
// front). Returns the number of fronts.
int population_rank(individual *pop, int n, int n_obj);

// The survival order: lower cv, then lower rank, then larger crowding; 0 when tied.
int survival_compare(const individual *a, const individual *b);

// Keeps the non-dominated rows of f (n x n_obj, row-major) in place, in their order;
// returns how many remain. Duplicate rows are kept once.
int pareto_filter(double *f, int n, int n_obj);

#endif
