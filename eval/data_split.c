#include "eval/data_split.h"

uint64_t data_split_valid_len(uint64_t n, int seq_len) {
    uint64_t window = (uint64_t)seq_len + 1;
    uint64_t valid = n / 10;
    if (valid < window) valid = window;
    if (n < valid + window) return 0;
    return valid;
}

uint64_t data_split_valid_sequences(uint64_t n, int T) {
    if (T < 1 || n < 2) return 0;
    return (n - 1) / (uint64_t)T;
}

uint64_t data_uniform_u64(pcg32 *rng, uint64_t bound) {
    if (bound <= 1) return 0;
    if (bound <= UINT32_MAX) return pcg32_bounded(rng, (uint32_t)bound);
    // Reject the low (2^64 mod bound) values so every residue is equally likely.
    uint64_t threshold = -bound % bound;
    for (;;) {
        uint64_t r = ((uint64_t)pcg32_next(rng) << 32) | pcg32_next(rng);
        if (r >= threshold) return r % bound;
    }
}
