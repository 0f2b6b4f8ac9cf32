// star: the MAD generators behind eval/mad.h, one per task family. Each writes one
// example of T = mad_task_seq_len(p) positions from the example's own stream.
#ifndef STAR_EVAL_MAD_GEN_H
#define STAR_EVAL_MAD_GEN_H

#include <stdint.h>

#include "common/pcg32.h"
#include "eval/mad.h"

// In-context recall and its noisy variant (same generator; noise when frac_noise > 0).
void mad_gen_recall(const mad_task_params *p, int train, pcg32 *rng, int32_t *in, int32_t *tg);
void mad_gen_fuzzy_recall(const mad_task_params *p, int train, pcg32 *rng, int32_t *in, int32_t *tg);
void mad_gen_selective_copying(const mad_task_params *p, pcg32 *rng, int32_t *in, int32_t *tg);
void mad_gen_compression(const mad_task_params *p, pcg32 *rng, int32_t *in, int32_t *tg);
void mad_gen_memorization(const mad_task_params *p, pcg32 *rng, int32_t *in, int32_t *tg);

// The memorization facts: value of key k (k < mad_memorization_keys(p)), fixed by seed.
int mad_memorization_keys(const mad_task_params *p);
void mad_memorization_map(const mad_task_params *p, int32_t *value_of_key);

// Writes a token string s[0..L) whose scored labels are lab[0..L) (-1 = not scored) as
// T shifted positions: in[t] = s[t], tg[t] = s[t+1] (train) or lab[t+1] (validation);
// positions without a next token are unscored (L <= T + 1).
void mad_emit_shifted(const int32_t *s, const int32_t *lab, int L, int T, int train, int32_t *in, int32_t *tg);

#endif
