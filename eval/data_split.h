// star: the rules shared by the token data loaders (byte text and .bin shards).
// Split: when one token array must give both splits, its last 10% (rounded down, but at
// least seq_len + 1 tokens) is validation and the rest training; both parts must hold
// at least seq_len + 1 tokens (one window of inputs plus the shifted target).
// Windows: a training row is a window at a uniformly random start in the training part;
// validation sequence i reads tokens [i*T, i*T + T] of the validation part, so the
// validation set is the same for every run and the windows tile it without overlap
// (the last input token of one is the first target of the next).
#ifndef STAR_EVAL_DATA_SPLIT_H
#define STAR_EVAL_DATA_SPLIT_H

#include <stdint.h>

#include "common/pcg32.h"

// Tokens of an n-token array that the split rule gives to validation (0 if n is too
// short for both parts to hold seq_len + 1 tokens).
uint64_t data_split_valid_len(uint64_t n, int seq_len);

// Validation sequences of length T in a validation part of n tokens: (n - 1) / T.
uint64_t data_split_valid_sequences(uint64_t n, int T);

// Uniform integer in [0, bound) for 64-bit bounds, by rejection (bound >= 1).
uint64_t data_uniform_u64(pcg32 *rng, uint64_t bound);

#endif
