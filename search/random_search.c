// Random search: every generation is a batch of fresh samples of the representation;
// survival is the same rank-and-crowding cut of (population + samples) as NSGA-II's,
// so the population is always the best non-dominated set seen so far (up to its size)
// and the reported front is the best found by pure sampling at equal evaluations.
#include "search/algorithm.h"

const algorithm algorithm_random = {
    .name = "random",
    .breeds = 0,
    .offspring_count = NULL,
    .select_parents = NULL,
    .survive = rank_crowding_survive,
};
