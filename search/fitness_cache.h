// star search: results by candidate hash, so a candidate met again (a re-drawn
// duplicate, a child identical to an earlier one) is never evaluated twice within a
// run. An open-addressing table of 64-bit hashes; it stores only results (objectives,
// cv, status, reason), never x.
#ifndef STAR_SEARCH_FITNESS_CACHE_H
#define STAR_SEARCH_FITNESS_CACHE_H

#include <stdint.h>

#include "search/individual.h"

typedef struct fitness_entry fitness_entry;

typedef struct fitness_cache {
    fitness_entry *slots;
    long cap;    // power of two
    long count;
} fitness_cache;

void fitness_cache_init(fitness_cache *c);
void fitness_cache_free(fitness_cache *c);
// Stores (or replaces) the results of ind under ind->hash.
void fitness_cache_put(fitness_cache *c, const individual *ind);
// 1 and fills f, cv, status and reason of ind when hash is known; 0 otherwise.
int fitness_cache_get(const fitness_cache *c, uint64_t hash, individual *ind);

#endif
