// star: tie sets and feature-group sets from the backbone genes.
#include "genome/sharing.h"

#include "genome/gene_table.h"

static int first_with(const genome *g, int upto, int cls, int group_gene, int group) {
    for (int j = 0; j < upto; j++)
        if (g->liv[j].bb[BB_CLASS] == cls && g->liv[j].bb[group_gene] == group) return j;
    return upto;
}

void genome_sharing_compute(const genome *g, genome_sharing *s) {
    for (int i = 0; i < GENOME_MAX_DEPTH; i++) {
        s->tie_owner[i] = s->fg_owner[i] = i;
        s->tie_to[i] = s->kv_from[i] = -1;
        s->tie_followers[i] = s->kv_followers[i] = 0;
    }
    int depth = g->depth < 0 ? 0 : g->depth > GENOME_MAX_DEPTH ? GENOME_MAX_DEPTH : g->depth;
    for (int i = 0; i < depth; i++) {
        const liv_gene *l = &g->liv[i];
        int cls = l->bb[BB_CLASS];
        s->tie_owner[i] = first_with(g, i, cls, BB_FEAT_GROUP, l->bb[BB_FEAT_GROUP]);
        s->fg_owner[i] = first_with(g, i, cls, BB_FG_GROUP, l->bb[BB_FG_GROUP]);
        if (l->bb[BB_FEAT_STRATEGY] == SHARE_TIE && s->tie_owner[i] != i) {
            s->tie_to[i] = s->tie_owner[i];
            s->tie_followers[s->tie_owner[i]]++;
        }
        if (l->bb[BB_FG_STRATEGY] == SHARE_TIE && s->fg_owner[i] != i && gene_class_has_memory(cls)) {
            s->kv_from[i] = s->fg_owner[i];
            s->kv_followers[s->fg_owner[i]]++;
        }
    }
}
