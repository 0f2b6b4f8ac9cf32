// star: a batch of token sequences. inputs[b*T + t] is the token the model reads at
// position t of row b; targets[b*T + t] is the token its output at that position must
// predict, or -1 where the position is not scored (MAD scores only some positions;
// padding is never scored). Losses and accuracies are means over scored positions.
#ifndef STAR_EVAL_BATCH_H
#define STAR_EVAL_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define TOKEN_UNSCORED (-1)

typedef struct token_batch {
    int B, T;           // current shape; B * T <= capacity
    int32_t *inputs;    // [B, T]
    int32_t *targets;   // [B, T], TOKEN_UNSCORED where not scored
    size_t capacity;    // elements allocated in each array
} token_batch;

// Allocates [B, T] arrays (zeroed inputs, unscored targets). A caller may later set a
// smaller B or T; token_batch_check_shape guards that the arrays still hold them.
int token_batch_alloc(token_batch *b, int B, int T, star_error *err);
void token_batch_free(token_batch *b);
int token_batch_check_shape(const token_batch *b, star_error *err);

// Positions with a target, and how many of them the predicted tokens [B, T] get right
// (the accuracy of MAD is correct / scored).
long token_batch_scored(const token_batch *b);
long token_batch_correct(const token_batch *b, const int32_t *predicted);

#endif
