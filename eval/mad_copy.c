// star: MAD's selective copying and compression. Both ask the model to reproduce
// tokens it read earlier, at positions whose inputs carry no information about them.
#include <stdlib.h>

#include "eval/mad_gen.h"

// Selective copying: num_tokens_to_copy content tokens scattered among blanks, a copy
// token, then as many blanks, at which the content must be reproduced in order.
// Tokens: content 0 .. vocab-3, blank vocab-2, copy vocab-1. Targets are not shifted
// (as MAD): the output at the j-th blank after the copy token is the j-th content token.
// MAD scatters blanks with np.insert at indices below the number of content tokens, so
// its last content token always ends the scattered part; star places the content at
// uniformly random positions of that part.
void mad_gen_selective_copying(const mad_task_params *p, pcg32 *rng, int32_t *in, int32_t *tg) {
    int n_copy = p->num_tokens_to_copy, T = p->seq_len;
    int blank = p->vocab_size - 2, copy = p->vocab_size - 1, n_content = p->vocab_size - 2;
    int region = T - n_copy - 1;  // content and blanks before the copy token
    int32_t *content = star_malloc((size_t)n_copy * sizeof *content);
    for (int i = 0; i < n_copy; i++) content[i] = (int32_t)pcg32_bounded(rng, (uint32_t)n_content);
    // Selection sampling (Knuth's algorithm S): each position holds content with
    // probability needed / remaining, which picks a uniformly random subset.
    int placed = 0;
    for (int t = 0; t < region; t++) {
        int is_content = (int)pcg32_bounded(rng, (uint32_t)(region - t)) < n_copy - placed;
        in[t] = is_content ? content[placed++] : blank;
        tg[t] = TOKEN_UNSCORED;
    }
    in[region] = copy;
    tg[region] = TOKEN_UNSCORED;
    for (int j = 0; j < n_copy; j++) {
        in[region + 1 + j] = blank;
        tg[region + 1 + j] = content[j];
    }
    free(content);
}

// Compression, adapted to causal models. MAD's instance is n = seq_len tokens: n-1
// random tokens from 0 .. vocab-2 and the compression token vocab-1; an encoder reads
// it, and a decoder must rebuild it from the compression token's embedding alone. A
// causal model has no such bottleneck, so star appends a read-out: after the n tokens
// come n more compression tokens, and the output at position n-1+j must be the j-th
// random token (j < n-1). T = 2n; the last two positions are not scored.
void mad_gen_compression(const mad_task_params *p, pcg32 *rng, int32_t *in, int32_t *tg) {
    int n = p->seq_len, marker = p->vocab_size - 1;
    for (int t = 0; t < n - 1; t++) in[t] = (int32_t)pcg32_bounded(rng, (uint32_t)(p->vocab_size - 1));
    for (int t = n - 1; t < 2 * n; t++) in[t] = marker;
    for (int t = 0; t < 2 * n; t++) tg[t] = TOKEN_UNSCORED;
    for (int j = 0; j < n - 1; j++) tg[n - 1 + j] = in[j];
}
