#include "eval/batch_slice.h"

#include <string.h>

int batch_slice_init(batch_slice *sl, const dist_comm *group, int B, int T, star_error *err) {
    memset(sl, 0, sizeof *sl);
    sl->n = group ? dist_size(group) : 1;
    sl->r = group ? dist_rank(group) : 0;
    sl->group = sl->n > 1 ? group : NULL;
    if (!sl->group) return 0;
    if (B < sl->n) return STAR_FAIL(err, "a batch of %d rows cannot be split over %d ranks", B, sl->n);
    return token_batch_alloc(&sl->global, B, T, err);
}

void batch_slice_free(batch_slice *sl) {
    if (sl->group) token_batch_free(&sl->global);
}

token_batch *batch_slice_source(batch_slice *sl, token_batch *local) { return sl->group ? &sl->global : local; }

void batch_slice_take(batch_slice *sl, token_batch *local) {
    if (!sl->group) return;
    const token_batch *g = &sl->global;
    int r0 = (int)((long)g->B * sl->r / sl->n), r1 = (int)((long)g->B * (sl->r + 1) / sl->n);
    local->B = r1 - r0;
    local->T = g->T;
    size_t off = (size_t)r0 * (size_t)g->T, len = (size_t)(r1 - r0) * (size_t)g->T;
    memcpy(local->inputs, g->inputs + off, len * sizeof *local->inputs);
    memcpy(local->targets, g->targets + off, len * sizeof *local->targets);
}
