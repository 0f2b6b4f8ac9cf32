// star: PCG32 (O'Neill 2014, "PCG: A Family of Simple Fast Space-Efficient Statistically
// Good Algorithms for Random Number Generation"): a 64-bit LCG state with the XSH-RR
// output permutation, 32-bit outputs, and 2^63 selectable streams. Every random
// choice in star takes an explicit pcg32 state; all states derive from the config seed.
#ifndef STAR_COMMON_PCG32_H
#define STAR_COMMON_PCG32_H

#include <stdint.h>

typedef struct pcg32 {
    uint64_t state;
    uint64_t inc;  // always odd: (stream << 1) | 1
} pcg32;

// pcg32_srandom_r of the paper's reference code.
void pcg32_seed(pcg32 *rng, uint64_t initstate, uint64_t stream);
uint32_t pcg32_next(pcg32 *rng);
// Skips delta outputs in O(log delta) steps: the state delta calls of pcg32_next reach.
void pcg32_advance(pcg32 *rng, uint64_t delta);
// Unbiased integer in [0, bound) by rejection (the reference pcg32_boundedrand_r).
uint32_t pcg32_bounded(pcg32 *rng, uint32_t bound);
// Uniform float in [0, 1) with 24 random bits (1 output); double with 53 (2 outputs).
float pcg32_float(pcg32 *rng);
double pcg32_double(pcg32 *rng);
// Standard normal by Box-Muller (one value per call, always 4 outputs; deterministic).
double pcg32_normal(pcg32 *rng);
// A child stream, deterministic in (parent seed material, tag): used to give each
// generation / candidate / data loader its own independent stream.
pcg32 pcg32_derive(uint64_t seed, uint64_t tag);

#endif
