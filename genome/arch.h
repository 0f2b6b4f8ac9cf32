// star: a genome resolved into concrete layer shapes ("architecture"). Everything that
// builds or counts a model reads this, never the raw genes: the genome's alleles are
// turned into head counts, windows, kernel lengths and sharing targets in exactly one
// place (genome_resolve). See docs/genome.md for the meaning of each field.
#ifndef STAR_GENOME_ARCH_H
#define STAR_GENOME_ARCH_H

#include "common/error.h"
#include "genome/genome.h"

typedef enum act_kind { ACT_IDENTITY = 0, ACT_SIGMOID, ACT_SILU, ACT_GELU, ACT_ELU1 } act_kind;

typedef struct feature_spec {
    int present;   // 1 if this class has this feature group
    int dim;       // output features of this group
    int conv_len;  // depthwise causal short conv on the feature (0 = none)
    int groups;    // 1 = dense projection D->dim, 4 = block-diagonal with 4 blocks
} feature_spec;

typedef struct liv_spec {
    liv_class cls;
    int norm;        // NORM_*
    int width;       // D (input and output of the LIV)
    int inner;       // inner width (heads * head_dim, or expanded channels)
    int n_heads;     // query heads (SA/Rec); 0 for conv and MLP classes
    int head_dim;    // value/query head dim (SA, Rec-1); value dim per head P (Rec-2)
    int n_kv_heads;  // SA-2 (GQA); = n_heads for the other attention classes
    int window;      // SA-3 sliding window (0 = unlimited)
    int state_dim;   // Rec-2 state size N per head
    int conv_len;    // GConv-1 kernel length
    int filter_modes;// GConv-2 implicit filter: number of sinusoid modes
    act_kind act;    // gate / feature map / MLP activation
    int out_dense;   // 1 = dense output projection inner->D, 0 = diagonal (inner == D)
    feature_spec feat[GENOME_FEATURE_GROUPS];
    int tie_to;      // featurizer sharing: index of the LIV whose weights this one uses, or -1
    int kv_from;     // feature-group sharing: index of the LIV whose K/V (B/X/dt) this reuses, or -1
} liv_spec;

typedef struct arch {
    genome_dims dims;
    int depth;
    liv_spec liv[GENOME_MAX_DEPTH];
} arch;

// Resolves a valid genome at dims; fails naming the gene position if it is not valid.
int genome_resolve(const genome *g, genome_dims dims, arch *out, star_error *err);

#endif
