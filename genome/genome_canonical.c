// star: canonical form. Each step removes one way two genomes can spell the same model:
//  1. repair (invalid combinations resolved as genome_repair documents);
//  2. classes the genome does not use: operator and featurizer genomes at defaults;
//  3. genes without effect: F1 (short-conv length) when O1 = 1 (direct featurization);
//  4. genes whose alleles collapse: O3 rewritten to the allele of the head dim actually
//     used; F4 of SA-2 to the smallest allele giving the same number of K/V heads;
//  5. sharing genes, per class and per kind (featurizer / feature group): sets with
//     followers get groups 1, 2, ... in order of their owners, owner and followers
//     strategy 2; every LIV that neither follows nor is followed gets strategy 1 and the
//     smallest group in which it captures nobody (a group with no set, or whose owner
//     comes before it).
#include "genome/genome_canonical.h"

#include <stdio.h>
#include <string.h>

#include "genome/gene_table.h"
#include "genome/genome_check.h"
#include "genome/genome_string.h"
#include "genome/sharing.h"

static void canonical_class_genes(genome *g, int c, int used, int width) {
    const gene_class_info *t = gene_class(c);
    uint8_t *op = g->op[c - 1];
    uint8_t(*fz)[FZ_GENES] = g->feat[c - 1];
    if (!used) {
        memcpy(op, t->op_default, OP_GENES);
        memcpy(fz, t->feat_default, sizeof g->feat[0]);
        return;
    }
    if (op[OP_FEATURIZATION] == 1)
        for (int s = 0; s < GENOME_FEATURE_GROUPS; s++) fz[s][FZ_TOKEN_MIXING] = 1;
    if (t->op_alleles[OP_SPARSITY] > 1) {
        int inner = gene_inner_width(c, fz[0][FZ_EXPANSION], width);
        int hd = gene_head_dim(op[OP_SPARSITY], inner);
        for (int a = 1; a <= t->op_alleles[OP_SPARSITY]; a++)
            if (gene_head_dim_request(a) == hd) op[OP_SPARSITY] = (uint8_t)a;
        if (c == LIV_SA2) {  // n_kv_heads = max(1, n_heads / repeat), lowered to a divisor
            int n_heads = inner / hd, n_kv[4] = {0};
            for (int a = 1; a <= 3; a++) {
                int kv = n_heads / gene_kv_repeat(a, n_heads);
                if (kv < 1) kv = 1;
                while (n_heads % kv) kv--;
                n_kv[a] = kv;
            }
            int cur = fz[1][FZ_REPEAT];
            for (int a = cur - 1; a >= 1; a--)
                if (n_kv[a] == n_kv[cur]) fz[1][FZ_REPEAT] = (uint8_t)a;
        }
    }
}

// Rewrites the group and strategy genes of one sharing kind from who follows whom.
static void canonical_sharing(genome *g, const int *follows, int group_gene, int strategy_gene) {
    int followed[GENOME_MAX_DEPTH] = {0};
    for (int i = 0; i < g->depth; i++)
        if (follows[i] >= 0) followed[follows[i]] = 1;
    int next_group[LIV_CLASS_COUNT + 1];
    // owner_at[c][k]: depth index of the owner holding group k of class c, or -1.
    int owner_at[LIV_CLASS_COUNT + 1][10];
    for (int c = 0; c <= LIV_CLASS_COUNT; c++) {
        next_group[c] = 1;
        for (int k = 0; k < 10; k++) owner_at[c][k] = -1;
    }
    for (int i = 0; i < g->depth; i++) {
        liv_gene *l = &g->liv[i];
        int c = l->bb[BB_CLASS];
        if (follows[i] >= 0) {
            l->bb[group_gene] = g->liv[follows[i]].bb[group_gene];
            l->bb[strategy_gene] = SHARE_TIE;
        } else if (followed[i]) {
            int k = next_group[c]++;  // at most 9 sets per class: each had its own group
            owner_at[c][k] = i;
            l->bb[group_gene] = (uint8_t)k;
            l->bb[strategy_gene] = SHARE_TIE;
        }
    }
    for (int i = 0; i < g->depth; i++) {
        if (follows[i] >= 0 || followed[i]) continue;
        liv_gene *l = &g->liv[i];
        int c = l->bb[BB_CLASS], k = 1;
        while (k < 9 && owner_at[c][k] > i) k++;  // a later owner would be captured
        l->bb[group_gene] = (uint8_t)k;
        l->bb[strategy_gene] = SHARE_NONE;
    }
}

void genome_canonical(const genome *in, genome_dims dims, genome *out) {
    genome g = *in;
    genome_repair(&g, dims);
    genome_zero_tail(&g);
    int used[LIV_CLASS_COUNT + 1] = {0};
    for (int i = 0; i < g.depth; i++) used[g.liv[i].bb[BB_CLASS]] = 1;
    for (int c = 1; c <= LIV_CLASS_COUNT; c++) canonical_class_genes(&g, c, used[c], dims.width);
    genome_sharing s;
    genome_sharing_compute(&g, &s);
    canonical_sharing(&g, s.tie_to, BB_FEAT_GROUP, BB_FEAT_STRATEGY);
    canonical_sharing(&g, s.kv_from, BB_FG_GROUP, BB_FG_STRATEGY);
    *out = g;
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint64_t genome_hash(const genome *g, genome_dims dims) {
    genome c;
    genome_canonical(g, dims, &c);
    char buf[GENOME_STRING_MAX];
    int n = genome_to_string(&c, buf, sizeof buf);
    char tail[48];
    int m = snprintf(tail, sizeof tail, "|%d|%d", dims.width, dims.vocab);
    uint64_t h = fnv1a(0xcbf29ce484222325ULL, buf, n > 0 ? (size_t)n : 0);
    return fnv1a(h, tail, (size_t)m);
}
