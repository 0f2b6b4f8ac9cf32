// star: closed-form counts of a resolved architecture (docs/genome.md, "Stats", has
// every formula): parameters (a tied weight counted once), inference cache bytes per
// sequence at a context length and element size, and FLOPs per token.
#ifndef STAR_GENOME_GENOME_STATS_H
#define STAR_GENOME_GENOME_STATS_H

#include <stdint.h>

#include "common/error.h"
#include "genome/arch.h"

typedef struct arch_stats {
    int64_t params;                 // allocated parameters; embedding tied with the LM head
    int64_t cache_bytes;            // KV cache, recurrent state and conv history per sequence
    int64_t flops_per_token;        // forward, at the stated context
    int64_t train_flops_per_token;  // 3x forward (forward + backward)
} arch_stats;

// One LIV's share (no embedding, final norm or LM head).
void arch_liv_stats(const arch *a, int i, long context, int dtype_bytes, arch_stats *out);
// The whole model: LIVs + embedding (V*D) + final RMSNorm (D) + LM head FLOPs (2*V*D).
void arch_stats_compute(const arch *a, long context, int dtype_bytes, arch_stats *out);
// Resolves g at dims and counts; fails if g is invalid, context < 1 or dtype_bytes < 1.
int genome_stats(const genome *g, genome_dims dims, long context, int dtype_bytes, arch_stats *out,
                 star_error *err);

#endif
