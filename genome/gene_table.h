// star: the gene table, version STAR_GENE_TABLE_VERSION (docs/genome.md prints it).
// For every LIV class: how many alleles each operator and featurizer gene has (1 means
// the gene is fixed), the default allele (the classic form of the class), the names of
// its feature-group slots and which slots are "memory" (shared by feature-group
// sharing). Validation, repair, mutation, random sampling, resolution and the docs all
// read these tables, so a class is added in one place.
#ifndef STAR_GENOME_GENE_TABLE_H
#define STAR_GENOME_GENE_TABLE_H

#include <stdint.h>

#include "genome/genome.h"

typedef struct gene_class_info {
    const char *name;                                       // "SA-1", ... "GMemless"
    uint8_t op_alleles[OP_GENES];                           // allele counts (1 = fixed)
    uint8_t op_default[OP_GENES];
    const char *slot_names[GENOME_FEATURE_GROUPS];          // NULL: slot absent
    uint8_t feat_alleles[GENOME_FEATURE_GROUPS][FZ_GENES];
    uint8_t feat_default[GENOME_FEATURE_GROUPS][FZ_GENES];
    unsigned memory_slots;  // bit s: slot s is shared by feature-group sharing
    int memory_extra;       // 1: the memory unit also holds dt projection, dt bias, A_log (Rec-2)
} gene_class_info;

// Row for class c (1..LIV_CLASS_COUNT); NULL otherwise.
const gene_class_info *gene_class(int c);
const char *liv_class_name(int c);  // "?" when out of range
// Class from its name ("SA-1") or its digit ("1"); 0 when unknown.
int liv_class_from_name(const char *s);
// True if the class has memory feature groups (feature-group sharing can apply).
int gene_class_has_memory(int c);

// Gene names as they appear in messages and YAML keys.
extern const char *const gene_backbone_names[BB_GENES];  // class, featurizer_group, ...
extern const char *const gene_op_names[OP_GENES];        // featurization, token_mixing, ...
extern const char *const gene_feat_names[FZ_GENES];      // token_mixing, channel_mixing, ...
extern const char *const gene_norm_names[NORM_ALLELES + 1];  // [1] pre, [2] post, [3] none

// Allele -> value. Each takes a valid allele of the gene it names.
int gene_sa3_window(int allele);          // O2 of SA-3: 64, 128, 256, 512
int gene_rec2_state(int allele);          // O2 of Rec-2: 16, 32, 64
int gene_gconv1_kernel(int allele);       // O2 of GConv-1: 3, 7, 15
int gene_head_dim_request(int allele);    // O3: 32, 64, 128
int gene_short_conv_len(int allele);      // F1: 3, 4
int gene_proj_groups(int allele);         // F2: 1 (dense), 4 (block-diagonal)
int gene_kv_repeat(int allele, int n_heads);  // F4 of SA-2: 2, 4, n_heads (MQA)
#define GCONV2_FILTER_MODES 8

// Inner width of class c at width D for featurizer-expansion allele e (F3 on slot 0).
int gene_inner_width(int c, int e, int width);
// Head dim actually used: the largest of 128, 64, 32 that is <= the requested size
// (O3 allele), divides inner and is <= inner.
int gene_head_dim(int sparsity_allele, int inner);

// Sets every class's operator and featurizer genome to its default.
void genome_set_default_genes(genome *g);
// A LIV gene with no sharing and pre-norm.
liv_gene liv_gene_default(int c);

#endif
