#include "common/pcg32.h"

#include <math.h>

void pcg32_seed(pcg32 *rng, uint64_t initstate, uint64_t stream) {
    rng->state = 0u;
    rng->inc = (stream << 1u) | 1u;
    pcg32_next(rng);
    rng->state += initstate;
    pcg32_next(rng);
}

uint32_t pcg32_next(pcg32 *rng) {
    uint64_t old = rng->state;
    rng->state = old * 6364136223846793005ULL + rng->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

// The LCG's k-step map is again affine, state -> A state + C; A and C are built by
// squaring (Brown 1994, as pcg_advance_lcg_64 of the reference code).
void pcg32_advance(pcg32 *rng, uint64_t delta) {
    uint64_t mult = 6364136223846793005ULL, plus = rng->inc, acc_mult = 1u, acc_plus = 0u;
    while (delta > 0) {
        if (delta & 1u) {
            acc_mult *= mult;
            acc_plus = acc_plus * mult + plus;
        }
        plus = (mult + 1u) * plus;
        mult *= mult;
        delta >>= 1u;
    }
    rng->state = acc_mult * rng->state + acc_plus;
}

uint32_t pcg32_bounded(pcg32 *rng, uint32_t bound) {
    if (bound <= 1) return 0;
    // Reject the low (2^32 mod bound) values so every residue is equally likely.
    uint32_t threshold = -bound % bound;
    for (;;) {
        uint32_t r = pcg32_next(rng);
        if (r >= threshold) return r % bound;
    }
}

float pcg32_float(pcg32 *rng) { return (float)(pcg32_next(rng) >> 8) * (1.0f / 16777216.0f); }

double pcg32_double(pcg32 *rng) {
    uint64_t hi = pcg32_next(rng) >> 5, lo = pcg32_next(rng) >> 6;  // 27 + 26 bits
    return (double)(hi * 67108864.0 + lo) * (1.0 / 9007199254740992.0);
}

double pcg32_normal(pcg32 *rng) {
    double u1 = pcg32_double(rng), u2 = pcg32_double(rng);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

pcg32 pcg32_derive(uint64_t seed, uint64_t tag) {
    // SplitMix64 of the tag decorrelates neighbouring tags before they pick a stream.
    uint64_t z = tag + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    pcg32 r;
    pcg32_seed(&r, seed ^ z, z);
    return r;
}
