// star search: the hypervolume indicator: the volume of objective space (minimized)
// dominated by a point set and bounded by a reference point. Points that do not
// strictly dominate the reference contribute nothing and are ignored. Exact: a sort
// sweep in 2-D, a sweep over the third objective with an incremental 2-D staircase in
// 3-D (O(n^2)), and slicing on the last objective (HSO) above that, which is fine for
// the population sizes of a search.
#ifndef STAR_SEARCH_HYPERVOLUME_H
#define STAR_SEARCH_HYPERVOLUME_H

#include "common/error.h"
#include "search/individual.h"

// f: n points x n_obj (row-major); n_obj in 1..SEARCH_MAX_OBJ.
int hypervolume(const double *f, int n, int n_obj, const double *ref, double *out, star_error *err);
// Of the feasible members of a population (failed and infeasible ones are skipped).
int population_hypervolume(const individual *pop, int n, int n_obj, const double *ref, double *out,
                           star_error *err);

#endif
