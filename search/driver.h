// star search: the generic generational driver. It knows nothing of genomes or models:
// a representation makes and changes decision vectors, a problem evaluates them, an
// algorithm picks parents and survivors, and hooks let the caller archive, resume and
// report. The driver writes no files.
//
// Generation 0 is the seed individuals followed by random samples; generation g >= 1
// breeds (or samples) offspring, evaluates the new ones as one batch, and lets the
// algorithm choose the next population from parents + offspring, which the driver then
// ranks (rank, crowding). Generation g draws every random number from
// pcg32_derive(seed, g), so a run is reproducible from the seed alone, on any machine.
//
// Dedup by hash: an offspring that repeats a member of the current population or an
// earlier offspring of the same generation is re-drawn (up to SEARCH_MAX_REDRAWS times;
// after that it is kept). No candidate is evaluated twice: a hash already in the
// run's fitness cache takes the stored result, and the lookup hook may supply results
// from an outside store (the archive, on resume) before the problem is asked.
#ifndef STAR_SEARCH_DRIVER_H
#define STAR_SEARCH_DRIVER_H

#include <stdint.h>

#include "common/error.h"
#include "search/algorithm.h"
#include "search/individual.h"
#include "search/problem.h"
#include "search/representation.h"

#define SEARCH_MAX_REDRAWS 32

typedef struct search_params {
    int pop_size;           // >= 2
    int generations;        // generations after the initial one (>= 0)
    double crossover_rate;  // probability a bred child comes from crossover (else a copy of parent a)
    double mutation_rate;   // probability a bred child is passed to the representation's mutate
    uint64_t seed;
    int n_obj;              // must equal the problem's (0: take the problem's)
    const void *const *seeds;  // n_seeds decision vectors put first into generation 0
    int n_seeds;               // <= pop_size
} search_params;

// Every callback is optional (NULL). Those returning int return -1 with err set to
// stop the search with that error.
typedef struct search_hooks {
    void *ctx;
    // Once per NEW evaluation (not for cache or lookup hits), in batch order.
    int (*on_evaluated)(void *ctx, int gen, const individual *ind, star_error *err);
    // 1 when an outside store already has the result of this hash (then fill f, cv,
    // status, reason of ind), 0 when not, -1 on error.
    int (*lookup)(void *ctx, uint64_t hash, individual *ind, star_error *err);
    // After the population of generation gen is settled and ranked; return 1 to stop
    // the search early (the population so far is the result), 0 to go on, -1 on error.
    int (*on_generation)(void *ctx, int gen, const individual *pop, int n, star_error *err);
} search_hooks;

typedef struct search_result {
    individual *pop;  // final population, ranked; free with search_result_free
    int n;
    int generations_done;  // last generation completed
    long n_evaluated;      // candidates the problem evaluated
    long n_cache_hits;     // candidates answered by the fitness cache
    long n_lookups;        // candidates answered by the lookup hook
    long n_redraws;        // offspring re-drawn as duplicates
    long n_duplicates_kept;  // duplicates kept after SEARCH_MAX_REDRAWS re-draws
} search_result;

// result may be NULL. hooks may be NULL.
int search_run(const search_params *params, const representation *rep, const problem *prob, const algorithm *alg,
               const search_hooks *hooks, search_result *result, star_error *err);
void search_result_free(search_result *r);

#endif
