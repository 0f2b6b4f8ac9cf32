// star: k-point crossover aligned on LIV boundaries (variation.h describes it).
#include "genome/variation.h"

#include "genome/gene_table.h"

#define MAX_POINTS 16

// k sorted cut positions in 0..depth.
static void draw_cuts(int depth, int k, pcg32 *rng, int *cuts) {
    for (int i = 0; i < k; i++) cuts[i] = (int)pcg32_bounded(rng, (uint32_t)(depth + 1));
    for (int i = 1; i < k; i++)  // insertion sort: k is small
        for (int j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
            int t = cuts[j];
            cuts[j] = cuts[j - 1];
            cuts[j - 1] = t;
        }
}

void genome_crossover(const genome *a, const genome *b, int points, const genome_space *s, pcg32 *rng,
                      genome *child) {
    int k = points < 1 ? 1 : points > MAX_POINTS ? MAX_POINTS : points;
    int ca[MAX_POINTS + 2], cb[MAX_POINTS + 2];
    draw_cuts(a->depth, k, rng, ca + 1);
    draw_cuts(b->depth, k, rng, cb + 1);
    ca[0] = cb[0] = 0;
    ca[k + 1] = a->depth;
    cb[k + 1] = b->depth;
    genome g;
    genome_clear(&g);
    for (int seg = 0; seg <= k; seg++) {  // even segments from a, odd from b
        const genome *p = seg % 2 ? b : a;
        const int *c = seg % 2 ? cb : ca;
        for (int i = c[seg]; i < c[seg + 1] && g.depth < GENOME_MAX_DEPTH; i++) g.liv[g.depth++] = p->liv[i];
    }
    if (g.depth > s->depth_max) g.depth = s->depth_max;
    for (; g.depth < s->depth_min; g.depth++)
        g.liv[g.depth] = g.depth < a->depth ? a->liv[g.depth] : genome_random_liv(s, rng);
    for (int c = 1; c <= LIV_CLASS_COUNT; c++) {
        const genome *p = pcg32_bounded(rng, 2) ? b : a;
        for (int kk = 0; kk < OP_GENES; kk++) g.op[c - 1][kk] = p->op[c - 1][kk];
        for (int sl = 0; sl < GENOME_FEATURE_GROUPS; sl++)
            for (int kk = 0; kk < FZ_GENES; kk++) g.feat[c - 1][sl][kk] = p->feat[c - 1][sl][kk];
    }
    genome_space_repair(&g, s, rng);
    *child = g;
}
