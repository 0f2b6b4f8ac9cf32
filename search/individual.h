// star search: one candidate of a population. The decision vector x is opaque to the
// search (a genome, a real vector): its size and operators come from the representation
// (search/representation.h). Every objective is minimized. A candidate that could not
// be evaluated (training diverged, out of memory) is kept as infeasible with a reason
// and cv = SEARCH_CV_FAILED, so everything that was evaluated beats it.
#ifndef STAR_SEARCH_INDIVIDUAL_H
#define STAR_SEARCH_INDIVIDUAL_H

#include <stddef.h>
#include <stdint.h>

#define SEARCH_MAX_OBJ 8
// Constraint violation of a failed candidate: larger than any sum of normalized excesses.
#define SEARCH_CV_FAILED 1e30

enum { INDIVIDUAL_OK = 0, INDIVIDUAL_FAILED = 1 };

typedef struct individual {
    void *x;        // owned; `size` bytes of the representation
    uint64_t hash;  // representation hash of x: equal hashes = same candidate
    double f[SEARCH_MAX_OBJ];
    double cv;      // constraint violation; 0 = feasible
    int status;     // INDIVIDUAL_OK or INDIVIDUAL_FAILED
    char reason[256];  // why it failed (empty when ok)
    int rank;          // constrained non-domination rank in its population (0 = first front)
    double crowding;   // crowding distance within its front (infinite at the extremes)
} individual;

// Allocates x (zeroed) and clears every other field.
void individual_init(individual *ind, size_t size);
void individual_free(individual *ind);
// Copies x and every result field; dst must be initialized with the same size.
void individual_copy(individual *dst, const individual *src, size_t size);
// Marks the candidate failed: status, reason, cv = SEARCH_CV_FAILED.
void individual_set_failed(individual *ind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int individual_feasible(const individual *ind);

// A population is a plain array of individuals, each with its own x.
individual *population_new(int n, size_t size);
void population_free(individual *pop, int n);

#endif
