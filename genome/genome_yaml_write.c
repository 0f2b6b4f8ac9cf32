// star: writing a genome as YAML that genome_load_text reads back to the same genome.
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "genome/gene_table.h"
#include "genome/genome_string.h"
#include "genome/genome_yaml.h"

typedef struct text {
    char *p;
    size_t len, cap;
} text;

static void add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(text *t, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        t->cap = 2 * t->cap + (size_t)(n > 0 ? n : 64);
        t->p = star_realloc(t->p, t->cap);
    }
}

// A name for allele a of a choice, or the digit when a is out of range.
static void choice(text *t, const char *const *names, int n, int a) {
    if (a >= 1 && a <= n) add(t, "%s", names[a]);
    else add(t, "%d", a);
}

static void write_livs(text *t, const genome *g) {
    static const char *const tie_names[] = {NULL, "none", "tie"};
    static const char *const reuse_names[] = {NULL, "none", "reuse"};
    add(t, "livs:\n");
    for (int i = 0; i < g->depth; i++) {
        const liv_gene *l = &g->liv[i];
        add(t, "  - {class: ");
        if (gene_class(l->bb[BB_CLASS])) add(t, "%s", liv_class_name(l->bb[BB_CLASS]));
        else add(t, "%d", l->bb[BB_CLASS]);
        add(t, ", featurizer_sharing: {group: %d, strategy: ", l->bb[BB_FEAT_GROUP]);
        choice(t, tie_names, 2, l->bb[BB_FEAT_STRATEGY]);
        add(t, "}, feature_group_sharing: {group: %d, strategy: ", l->bb[BB_FG_GROUP]);
        choice(t, reuse_names, 2, l->bb[BB_FG_STRATEGY]);
        add(t, "}, norm: ");
        choice(t, gene_norm_names, NORM_ALLELES, l->norm);
        add(t, "}\n");
    }
}

char *genome_yaml_write(const genome *g, const genome_dims *dims) {
    text t = {star_malloc(1024), 0, 1024};
    t.p[0] = '\0';
    char summary[256], str[GENOME_STRING_MAX];
    genome_summary(g, summary, sizeof summary);
    add(&t, "# star genome: %s\n", summary);
    if (genome_to_string(g, str, sizeof str) > 0) add(&t, "# string: %s\n", str);
    add(&t, "gene_table_version: %d\n", STAR_GENE_TABLE_VERSION);
    // A dim of 0 is one the genome was read without (genome_yaml_read): not written,
    // since 0 is no valid value and would not load back.
    if (dims && dims->width > 0) add(&t, "width: %d\n", dims->width);
    if (dims && dims->vocab > 0) add(&t, "vocab: %d\n", dims->vocab);
    write_livs(&t, g);
    int used[LIV_CLASS_COUNT + 1] = {0};
    for (int i = 0; i < g->depth; i++)
        if (gene_class(g->liv[i].bb[BB_CLASS])) used[g->liv[i].bb[BB_CLASS]] = 1;
    int header = 0;
    for (int c = 1; c <= LIV_CLASS_COUNT; c++) {
        if (!used[c] && !memcmp(g->op[c - 1], gene_class(c)->op_default, OP_GENES)) continue;
        if (!header++) add(&t, "operators:\n");
        add(&t, "  %s: {", liv_class_name(c));
        for (int k = 0; k < OP_GENES; k++) add(&t, "%s%s: %d", k ? ", " : "", gene_op_names[k], g->op[c - 1][k]);
        add(&t, "}\n");
    }
    header = 0;
    for (int c = 1; c <= LIV_CLASS_COUNT; c++) {
        const gene_class_info *ci = gene_class(c);
        if (!used[c] && !memcmp(g->feat[c - 1], ci->feat_default, sizeof g->feat[0])) continue;
        if (!header++) add(&t, "featurizers:\n");
        add(&t, "  %s:\n", ci->name);
        for (int s = 0; s < GENOME_FEATURE_GROUPS && ci->slot_names[s]; s++) {
            add(&t, "    - {");
            for (int k = 0; k < FZ_GENES; k++)
                add(&t, "%s%s: %d", k ? ", " : "", gene_feat_names[k], g->feat[c - 1][s][k]);
            add(&t, "}  # %s\n", ci->slot_names[s]);
        }
    }
    return t.p;
}
