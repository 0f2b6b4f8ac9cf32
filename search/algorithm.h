// star search: an algorithm is the part of an evolutionary search that decides who
// breeds and who survives; everything else (sampling, crossover, mutation, dedup,
// evaluation, hooks) is the generic driver's (search/driver.h), as in pymoo's
// GeneticAlgorithm. Adding an algorithm is adding one file that defines one of these
// tables and one line in algorithm.c's list. Shared parts live in their own files:
// binary tournament (tournament.c) and rank-and-crowding survival
// (rank_crowding_survival.c).
#ifndef STAR_SEARCH_ALGORITHM_H
#define STAR_SEARCH_ALGORITHM_H

#include "common/error.h"
#include "common/pcg32.h"
#include "search/individual.h"

typedef struct algorithm {
    const char *name;
    // 1: offspring are bred from parents (select_parents, crossover, mutation);
    // 0: offspring are fresh samples of the representation.
    int breeds;
    // Offspring per generation for a population of pop_size (NULL: pop_size).
    int (*offspring_count)(int pop_size);
    // Fills out_idx[0..n_out) with indices into pop (rank and crowding are set);
    // offspring k is bred from out_idx[2k] and out_idx[2k+1]. NULL when !breeds.
    void (*select_parents)(const individual *pop, int n, pcg32 *rng, int *out_idx, int n_out);
    // pool = the current population [0, n_parents) followed by the evaluated offspring
    // [n_parents, n_pool). Writes the n_keep distinct survivors' indices to keep_idx;
    // the driver then ranks the survivors among themselves (rank, crowding).
    int (*survive)(individual *pool, int n_parents, int n_pool, int n_keep, int n_obj, pcg32 *rng, int *keep_idx,
                   star_error *err);
} algorithm;

extern const algorithm algorithm_nsga2;
extern const algorithm algorithm_ga;
extern const algorithm algorithm_random;

// "nsga2", "ga" or "random"; NULL if unknown.
const algorithm *algorithm_by_name(const char *name);
// The names, comma-separated, for error messages.
const char *algorithm_names(void);

// Binary tournament: two distinct random members meet; lower cv, then lower rank,
// then larger crowding wins; a full tie is decided at random.
void tournament_select(const individual *pop, int n, pcg32 *rng, int *out_idx, int n_out);

// (mu + lambda) survival of NSGA-II: rank the whole pool, keep whole fronts while they
// fit, fill the rest by pruning the splitting front: drop its most crowded member,
// recompute crowding, repeat (Kukkonen & Deb 2006); the extremes always stay.
int rank_crowding_survive(individual *pool, int n_parents, int n_pool, int n_keep, int n_obj, pcg32 *rng,
                          int *keep_idx, star_error *err);

#endif
