#include "cli/arch_picture.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "genome/arch.h"
#include "genome/gene_table.h"
#include "genome/genome_stats.h"
#include "genome/genome_string.h"
#include "plot/arch_svg.h"

// 52300 -> "52.3k", 1200000 -> "1.20M".
static void human_count(long long v, char *out, size_t cap) {
    if (v >= 1000000) snprintf(out, cap, "%.2fM", v / 1e6);
    else if (v >= 1000) snprintf(out, cap, "%.1fk", v / 1e3);
    else snprintf(out, cap, "%lld", v);
}

// The shapes of one LIV in a few words.
static void liv_detail(const liv_spec *l, char *out, size_t cap) {
    const char *heads = l->n_heads == 1 ? "head" : "heads";
    switch (l->cls) {
    case LIV_SA1: snprintf(out, cap, "softmax, %d %s x %d", l->n_heads, heads, l->head_dim); break;
    case LIV_SA2: snprintf(out, cap, "GQA, %d %s x %d, %d kv", l->n_heads, heads, l->head_dim, l->n_kv_heads); break;
    case LIV_SA3: snprintf(out, cap, "window %d, %d %s x %d", l->window, l->n_heads, heads, l->head_dim); break;
    case LIV_SADIFF: snprintf(out, cap, "differential, %d %s x %d", l->n_heads, heads, l->head_dim); break;
    case LIV_REC1: snprintf(out, cap, "linear attention, %d %s x %d", l->n_heads, heads, l->head_dim); break;
    case LIV_REC2: snprintf(out, cap, "diagonal recurrence, state %d, %d %s", l->state_dim, l->n_heads, heads); break;
    case LIV_GCONV1: snprintf(out, cap, "gated short conv, kernel %d", l->conv_len); break;
    case LIV_GCONV2: snprintf(out, cap, "gated long conv, %d modes", l->filter_modes); break;
    case LIV_GMEMLESS: snprintf(out, cap, "%s, inner %d", l->act == ACT_GELU ? "GeGLU" : "SwiGLU", l->inner); break;
    default: snprintf(out, cap, "inner %d", l->inner); break;
    }
    if (l->norm == NORM_POST) snprintf(out + strlen(out), cap - strlen(out), ", post-norm");
    else if (l->norm == NORM_NONE) snprintf(out + strlen(out), cap - strlen(out), ", no norm");
}

int arch_picture_write(const char *path, const genome *g, genome_dims dims, star_error *err) {
    arch a;
    if (genome_resolve(g, dims, &a, err) != 0) return -1;
    static arch_svg d;  // ~10 KB; one picture at a time
    memset(&d, 0, sizeof d);
    char summary[256], str[GENOME_STRING_MAX], n1[32];
    genome_summary(g, summary, sizeof summary);
    genome_to_string(g, str, sizeof str);
    snprintf(d.title, sizeof d.title, "%s", summary);
    snprintf(d.subtitle, sizeof d.subtitle, "%s", str);
    arch_stats total;
    arch_stats_compute(&a, 1, 2, &total);
    human_count(total.params, n1, sizeof n1);
    snprintf(d.footer, sizeof d.footer, "%d LIVs, width %d, vocab %d: %s parameters (tied weights once)", a.depth,
             dims.width, dims.vocab, n1);
    d.n = a.depth < ARCH_SVG_MAX_BLOCKS ? a.depth : ARCH_SVG_MAX_BLOCKS;
    for (int i = 0; i < d.n; i++) {
        const liv_spec *l = &a.liv[i];
        arch_svg_block *b = &d.blocks[i];
        snprintf(b->name, sizeof b->name, "%s", liv_class_name(l->cls));
        b->colour = (int)l->cls - 1;
        liv_detail(l, b->detail, sizeof b->detail);
        arch_stats st;
        arch_liv_stats(&a, i, 1, 2, &st);
        human_count(st.params, n1, sizeof n1);
        snprintf(b->note, sizeof b->note, "%s params", n1);
        b->tie_to = l->tie_to;
        b->kv_from = l->kv_from;
    }
    int to_stdout = !path || !strcmp(path, "-");
    FILE *f = to_stdout ? stdout : fopen(path, "w");
    if (!f) return STAR_FAIL(err, "%s: cannot write (%s)", path, strerror(errno));
    int rc = arch_svg_write(f, &d);
    if (!to_stdout && fclose(f) != 0) rc = -1;
    if (rc != 0) return STAR_FAIL(err, "%s: write failed (%s)", to_stdout ? "standard output" : path, strerror(errno));
    return 0;
}
