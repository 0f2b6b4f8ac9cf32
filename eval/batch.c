#include "eval/batch.h"

#include <stdlib.h>

int token_batch_alloc(token_batch *b, int B, int T, star_error *err) {
    b->B = b->T = 0;
    b->inputs = b->targets = NULL;
    b->capacity = 0;
    if (B < 1 || T < 1) return STAR_FAIL(err, "token batch: B and T must be >= 1, got B=%d T=%d", B, T);
    size_t n = (size_t)B * (size_t)T;
    b->inputs = star_calloc(n, sizeof *b->inputs);
    b->targets = star_malloc(n * sizeof *b->targets);
    for (size_t i = 0; i < n; i++) b->targets[i] = TOKEN_UNSCORED;
    b->B = B;
    b->T = T;
    b->capacity = n;
    return 0;
}

void token_batch_free(token_batch *b) {
    free(b->inputs);
    free(b->targets);
    b->inputs = b->targets = NULL;
    b->B = b->T = 0;
    b->capacity = 0;
}

int token_batch_check_shape(const token_batch *b, star_error *err) {
    if (b->B < 1 || b->T < 1 || !b->inputs || !b->targets)
        return STAR_FAIL(err, "token batch: shape B=%d T=%d is empty or the batch is not allocated", b->B, b->T);
    if ((size_t)b->B * (size_t)b->T > b->capacity)
        return STAR_FAIL(err, "token batch: shape B=%d T=%d exceeds the %zu positions allocated", b->B, b->T,
                         b->capacity);
    return 0;
}

long token_batch_scored(const token_batch *b) {
    long n = 0;
    for (size_t i = 0; i < (size_t)b->B * (size_t)b->T; i++) n += b->targets[i] >= 0;
    return n;
}

long token_batch_correct(const token_batch *b, const int32_t *predicted) {
    long n = 0;
    for (size_t i = 0; i < (size_t)b->B * (size_t)b->T; i++) n += b->targets[i] >= 0 && predicted[i] == b->targets[i];
    return n;
}
