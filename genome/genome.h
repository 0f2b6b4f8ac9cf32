// star: the genome. STAR's three levels plus ours (docs/genome.md is the gene table):
//  - backbone: per LIV, 5 genes (class, featurizer-sharing group and strategy,
//    feature-group-sharing group and strategy) and our norm/residual gene;
//  - operator genome: 5 genes per class (featurization, token-mixing structure,
//    structured sparsity, nonlinearity, channel mixing), shared by every LIV of it;
//  - featurizer genome: per class and feature group, 4 genes (token mixing, channel
//    mixing, expansion factor, repeat factor).
// Depth varies between the space's bounds. Every gene is an allele number 1..n where n
// comes from the gene table (genome/gene_table.h) and may depend on the class.
#ifndef STAR_GENOME_GENOME_H
#define STAR_GENOME_GENOME_H

#include <assert.h>
#include <stdint.h>

#define STAR_GENE_TABLE_VERSION 1
#define GENOME_MAX_DEPTH 64
#define GENOME_FEATURE_GROUPS 3  // feature-group slots per class (e.g. Q, K, V)

// LIV classes; the number is the backbone's class digit.
typedef enum liv_class {
    LIV_SA1 = 1,      // softmax multi-head attention
    LIV_SA2 = 2,      // grouped-query attention
    LIV_SA3 = 3,      // sliding-window attention
    LIV_SADIFF = 4,   // differential attention
    LIV_REC1 = 5,     // linear attention
    LIV_REC2 = 6,     // input-varying diagonal recurrence (Mamba-2 / SSD-like)
    LIV_GCONV1 = 7,   // gated short convolution
    LIV_GCONV2 = 8,   // gated long convolution (Hyena-like)
    LIV_GMEMLESS = 9, // memoryless gated MLP (SwiGLU)
} liv_class;
#define LIV_CLASS_COUNT 9
static_assert(LIV_GMEMLESS == LIV_CLASS_COUNT, "class digits must run 1..LIV_CLASS_COUNT");

// Backbone gene positions (the 5 STAR digits) and ours.
enum { BB_CLASS, BB_FEAT_GROUP, BB_FEAT_STRATEGY, BB_FG_GROUP, BB_FG_STRATEGY, BB_GENES };
// Sharing strategies.
enum { SHARE_NONE = 1, SHARE_TIE = 2 };
// Norm/residual gene.
enum { NORM_PRE = 1, NORM_POST = 2, NORM_NONE = 3, NORM_ALLELES = 3 };

// Operator genome gene positions.
enum { OP_FEATURIZATION, OP_TOKEN_MIXING, OP_SPARSITY, OP_NONLINEARITY, OP_CHANNEL_MIXING, OP_GENES };
// Featurizer genome gene positions.
enum { FZ_TOKEN_MIXING, FZ_CHANNEL_MIXING, FZ_EXPANSION, FZ_REPEAT, FZ_GENES };

typedef struct liv_gene {
    uint8_t bb[BB_GENES];  // class, feat group, feat strategy, fg group, fg strategy
    uint8_t norm;          // NORM_*
} liv_gene;

typedef struct genome {
    int depth;
    liv_gene liv[GENOME_MAX_DEPTH];
    uint8_t op[LIV_CLASS_COUNT][OP_GENES];                           // index: class - 1
    uint8_t feat[LIV_CLASS_COUNT][GENOME_FEATURE_GROUPS][FZ_GENES];  // index: class - 1
} genome;

// The dimensions a genome is built at: they are not genes (the search space fixes them).
typedef struct genome_dims {
    int width;  // model width D
    int vocab;  // vocabulary size
} genome_dims;

// A genome of depth 0 with every class's operator and featurizer genome at its
// default and every byte past the depth zero (genomes are compared and copied as bytes
// by the search, so unused LIV slots are kept zero by every genome operation).
void genome_clear(genome *g);
// Zeroes the LIV slots past g->depth.
void genome_zero_tail(genome *g);
// Same depth, LIV genes, operator and featurizer genomes (bytes past the depth ignored).
int genome_equal(const genome *a, const genome *b);

#endif
