// NSGA-II (Deb et al. 2002): binary tournament on (cv, rank, crowding) picks parents;
// parents and offspring compete together and the best by constrained non-domination
// rank survive ((mu + lambda) elitism), the front that does not fit being cut by
// crowding distance with pruning (Kukkonen & Deb 2006; rank_crowding_survival.c).
#include "search/algorithm.h"

const algorithm algorithm_nsga2 = {
    .name = "nsga2",
    .breeds = 1,
    .offspring_count = NULL,
    .select_parents = tournament_select,
    .survive = rank_crowding_survive,
};
