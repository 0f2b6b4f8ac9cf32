// star search: how decision vectors are made, recombined and changed. The search never
// looks inside x; a representation (real vectors for the test problems, genomes for
// architectures) fills this table. x is a flat block of `size` bytes (no pointers
// inside), so the driver can copy and compare it with memcpy. Every random choice takes
// the rng the driver hands in, which keeps a generation reproducible from the seed.
#ifndef STAR_SEARCH_REPRESENTATION_H
#define STAR_SEARCH_REPRESENTATION_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/pcg32.h"

typedef struct representation {
    const char *name;
    size_t size;  // bytes of one decision vector
    void *ctx;    // the representation's own settings (bounds, rates, gene table, ...)
    // A fresh random x.
    int (*sample)(void *ctx, pcg32 *rng, void *x, star_error *err);
    // One child from parents a and b (crossover points, rates live in ctx).
    int (*crossover)(void *ctx, pcg32 *rng, const void *a, const void *b, void *child, star_error *err);
    // Changes x in place (per-gene rates live in ctx).
    int (*mutate)(void *ctx, pcg32 *rng, void *x, star_error *err);
    // Makes x valid in place; NULL when every x is valid.
    int (*repair)(void *ctx, pcg32 *rng, void *x, star_error *err);
    // Equal for two x that are the same candidate (for genomes: the canonical form).
    uint64_t (*hash)(void *ctx, const void *x);
} representation;

#endif
