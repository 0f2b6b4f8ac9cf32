// star: MAD's memorization: a fixed map from keys to values, the same for every example
// (it is fixed by the task's seed, not by the example), so a model can only answer by
// storing the facts in its weights. Each pair is a key then the insert token; the
// output at the insert token must be the key's value (targets are not shifted, as MAD).
// Tokens: keys 0 .. K-1 with K = (vocab-1)/2, values K .. vocab-2, insert token vocab-1.
#include <stdlib.h>

#include "eval/mad_gen.h"

int mad_memorization_keys(const mad_task_params *p) { return (p->vocab_size - 1) / 2; }

void mad_memorization_map(const mad_task_params *p, int32_t *value_of_key) {
    int content = p->vocab_size - 1, n_keys = content / 2, n_values = content - n_keys;
    int32_t *values = star_malloc((size_t)n_values * sizeof *values);
    for (int i = 0; i < n_values; i++) values[i] = n_keys + i;
    // MAD zips shuffled keys with shuffled values: each key gets a distinct random value.
    pcg32 rng = pcg32_derive(p->seed, 0x6d656d6f72697aull);  // "memoriz"
    for (int i = n_values - 1; i > 0; i--) {
        int j = (int)pcg32_bounded(&rng, (uint32_t)(i + 1));
        int32_t t = values[i];
        values[i] = values[j];
        values[j] = t;
    }
    for (int k = 0; k < n_keys; k++) value_of_key[k] = values[k];
    free(values);
}

void mad_gen_memorization(const mad_task_params *p, pcg32 *rng, int32_t *in, int32_t *tg) {
    int n_keys = mad_memorization_keys(p), insert = p->vocab_size - 1;
    int32_t *value_of = star_malloc((size_t)n_keys * sizeof *value_of);
    mad_memorization_map(p, value_of);
    for (int i = 0; i < p->seq_len / 2; i++) {
        int k = (int)pcg32_bounded(rng, (uint32_t)n_keys);
        in[2 * i] = k;
        tg[2 * i] = TOKEN_UNSCORED;
        in[2 * i + 1] = insert;
        tg[2 * i + 1] = value_of[k];
    }
    free(value_of);
}
