// star: token embedding lookup. table [V,C]; tokens int32 [N]; out [N,C].
// The LM head reuses the same table (tied), so its gradient adds into dtable too.
#ifndef STAR_OPERATORS_EMBEDDING_H
#define STAR_OPERATORS_EMBEDDING_H

#include <stdint.h>

#include "common/error.h"
#include "operators/real.h"

// out[n,:] = table[tokens[n],:]  (overwrites out). Fails, naming the position, on a
// token outside [0, V).
int embedding_forward(real *out, const int32_t *tokens, const real *table, long N, int V, int C, star_error *err);
// dtable[tokens[n],:] += dout[n,:]   (tokens already checked by the forward)
void embedding_backward(real *dtable, const real *dout, const int32_t *tokens, long N, int C);

#endif
