// star: softmax cross-entropy over the vocabulary, fused with the softmax.
// logits [N,V]; targets int32 [N], target -1 marks a position that is not scored.
// loss = mean over scored positions of (logsumexp(logits_n) - logits_n[target_n]),
// computed after subtracting the row max (finite for any finite logits).
#ifndef STAR_OPERATORS_CROSSENTROPY_H
#define STAR_OPERATORS_CROSSENTROPY_H

#include <stdint.h>

#include "common/error.h"
#include "operators/real.h"

// Writes probs [N,V] (softmax rows, saved for the backward; probs may alias logits),
// *loss (mean nats over scored positions, 0 when none) and *n_scored. losses [N] (or
// NULL) gets each position's loss (0 where not scored). Fails, naming the position, on
// a target outside [-1, V).
int crossentropy_forward(double *loss, long *n_scored, real *probs, real *losses, const real *logits,
                         const int32_t *targets, long N, int V, star_error *err);
// OVERWRITES dlogits [N,V] (the loss is where backpropagation starts, so there is
// nothing to accumulate into): dloss * (probs - onehot(target)) / n_scored on scored
// rows, 0 on the others. dlogits may alias probs.
void crossentropy_backward(real *dlogits, const real *probs, const int32_t *targets, long N, int V, real dloss);

// Number of scored positions whose argmax (first maximum) equals the target; works on
// logits or probs alike. correct [N] (or NULL) gets 1 right, 0 wrong, -1 not scored.
long crossentropy_correct(int8_t *correct, const real *logits, const int32_t *targets, long N, int V);

#endif
