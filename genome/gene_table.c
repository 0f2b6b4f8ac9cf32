// star: gene table version 1. Rows are indexed by class digit; docs/genome.md is the
// same table in words and must change with it (and STAR_GENE_TABLE_VERSION with both).
#include "genome/gene_table.h"

#include <string.h>

// Featurizer gene rows: {F1 token mixing, F2 channel mixing, F3 expansion, F4 repeat}.
#define FZ_PLAIN {2, 2, 1, 1}      // short conv length and grouped projection can vary
#define FZ_ABSENT {1, 1, 1, 1}
#define FZ_ONES {1, 1, 1, 1}

static const gene_class_info classes[] = {
    {0},
    [LIV_SA1] = {"SA-1", {2, 1, 3, 1, 2}, {1, 1, 2, 1, 1}, {"Q", "K", "V"},
                 {FZ_PLAIN, FZ_PLAIN, FZ_PLAIN}, {FZ_ONES, FZ_ONES, FZ_ONES}, 0x6, 0},
    [LIV_SA2] = {"SA-2", {2, 1, 3, 1, 2}, {1, 1, 2, 1, 1}, {"Q", "K", "V"},
                 {FZ_PLAIN, {2, 2, 1, 3}, FZ_PLAIN}, {FZ_ONES, {1, 1, 1, 2}, FZ_ONES}, 0x6, 0},
    [LIV_SA3] = {"SA-3", {2, 4, 3, 1, 2}, {1, 2, 2, 1, 1}, {"Q", "K", "V"},
                 {FZ_PLAIN, FZ_PLAIN, FZ_PLAIN}, {FZ_ONES, FZ_ONES, FZ_ONES}, 0x6, 0},
    [LIV_SADIFF] = {"SA-diff", {2, 1, 3, 1, 2}, {1, 1, 2, 1, 1}, {"Q", "K", "V"},
                    {FZ_PLAIN, FZ_PLAIN, FZ_PLAIN}, {FZ_ONES, FZ_ONES, FZ_ONES}, 0x6, 0},
    [LIV_REC1] = {"Rec-1", {2, 1, 3, 2, 2}, {1, 1, 2, 1, 1}, {"Q", "K", "V"},
                  {FZ_PLAIN, FZ_PLAIN, FZ_PLAIN}, {FZ_ONES, FZ_ONES, FZ_ONES}, 0x6, 0},
    [LIV_REC2] = {"Rec-2", {2, 3, 3, 1, 2}, {1, 2, 2, 1, 1}, {"C", "B", "X"},
                  {{2, 2, 2, 1}, FZ_PLAIN, FZ_PLAIN}, {{1, 1, 2, 1}, FZ_ONES, FZ_ONES}, 0x6, 1},
    [LIV_GCONV1] = {"GConv-1", {2, 3, 1, 3, 2}, {1, 1, 1, 1, 1}, {"gate", "value", NULL},
                    {{2, 2, 2, 1}, FZ_PLAIN, FZ_ABSENT}, {FZ_ONES, FZ_ONES, FZ_ONES}, 0, 0},
    [LIV_GCONV2] = {"GConv-2", {2, 1, 1, 3, 2}, {1, 1, 1, 1, 1}, {"gate", "value", NULL},
                    {{2, 2, 2, 1}, FZ_PLAIN, FZ_ABSENT}, {FZ_ONES, FZ_ONES, FZ_ONES}, 0, 0},
    [LIV_GMEMLESS] = {"GMemless", {1, 1, 1, 2, 1}, {1, 1, 1, 1, 1}, {"gate", "up", NULL},
                      {{1, 2, 3, 1}, {1, 2, 1, 1}, FZ_ABSENT}, {{1, 1, 2, 1}, FZ_ONES, FZ_ONES}, 0, 0},
};
static_assert(sizeof classes / sizeof classes[0] == LIV_CLASS_COUNT + 1,
              "the gene table needs one row per LIV class");

const char *const gene_backbone_names[BB_GENES] = {
    "class", "featurizer_group", "featurizer_strategy", "feature_group_group", "feature_group_strategy"};
const char *const gene_op_names[OP_GENES] = {"featurization", "token_mixing", "sparsity", "nonlinearity",
                                             "channel_mixing"};
const char *const gene_feat_names[FZ_GENES] = {"token_mixing", "channel_mixing", "expansion", "repeat"};
const char *const gene_norm_names[NORM_ALLELES + 1] = {NULL, "pre", "post", "none"};

const gene_class_info *gene_class(int c) {
    return (c >= 1 && c <= LIV_CLASS_COUNT) ? &classes[c] : NULL;
}

const char *liv_class_name(int c) { return gene_class(c) ? classes[c].name : "?"; }

int liv_class_from_name(const char *s) {
    if (!s) return 0;
    if (s[0] >= '1' && s[0] <= '0' + LIV_CLASS_COUNT && s[1] == '\0') return s[0] - '0';
    for (int c = 1; c <= LIV_CLASS_COUNT; c++)
        if (!strcmp(classes[c].name, s)) return c;
    return 0;
}

int gene_class_has_memory(int c) { return gene_class(c) && classes[c].memory_slots != 0; }

int gene_sa3_window(int a) { return 32 << a; }          // 64, 128, 256, 512
int gene_rec2_state(int a) { return 8 << a; }           // 16, 32, 64
int gene_gconv1_kernel(int a) { return (2 << a) - 1; }  // 3, 7, 15
int gene_head_dim_request(int a) { return 16 << a; }    // 32, 64, 128
int gene_short_conv_len(int a) { return a == 1 ? 3 : 4; }
int gene_proj_groups(int a) { return a == 1 ? 1 : 4; }
int gene_kv_repeat(int a, int n_heads) { return a == 1 ? 2 : a == 2 ? 4 : n_heads; }

int gene_inner_width(int c, int e, int width) {
    switch (c) {
    case LIV_GMEMLESS:
        if (e == 1) return 2 * width;
        if (e == 2) return (8 * width / 3 + 31) / 32 * 32;  // 8D/3 rounded up to a multiple of 32
        return 4 * width;
    case LIV_REC2:
    case LIV_GCONV1:
    case LIV_GCONV2:
        return e * width;
    default:
        return width;
    }
}

int gene_head_dim(int sparsity_allele, int inner) {
    int want = gene_head_dim_request(sparsity_allele);
    for (int h = 128; h >= 32; h /= 2)
        if (h <= want && h <= inner && inner % h == 0) return h;
    return 32;  // inner is a multiple of 32 for every class that has heads
}

void genome_set_default_genes(genome *g) {
    for (int c = 1; c <= LIV_CLASS_COUNT; c++) {
        memcpy(g->op[c - 1], classes[c].op_default, OP_GENES);
        memcpy(g->feat[c - 1], classes[c].feat_default, sizeof g->feat[0]);
    }
}

liv_gene liv_gene_default(int c) {
    liv_gene l;
    l.bb[BB_CLASS] = (uint8_t)c;
    l.bb[BB_FEAT_GROUP] = 1;
    l.bb[BB_FEAT_STRATEGY] = SHARE_NONE;
    l.bb[BB_FG_GROUP] = 1;
    l.bb[BB_FG_STRATEGY] = SHARE_NONE;
    l.norm = NORM_PRE;
    return l;
}
