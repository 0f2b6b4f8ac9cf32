// star: `star genome decode`: a genome's strings and hash, then one line per LIV with
// its class, norm, sharing, resolved shapes and parameters.
#include "cli/genome_decode.h"

#include <inttypes.h>
#include <string.h>

#include "genome/arch.h"
#include "genome/gene_table.h"
#include "genome/genome_canonical.h"
#include "genome/genome_stats.h"
#include "genome/genome_string.h"

static const char *act_name(act_kind a) {
    static const char *const names[] = {"identity", "sigmoid", "silu", "gelu", "elu+1"};
    return names[a];
}

static void details(const liv_spec *l, char *out, size_t cap) {
    switch (l->cls) {
    case LIV_SA3: snprintf(out, cap, "window %d", l->window); break;
    case LIV_SADIFF: snprintf(out, cap, "differential"); break;
    case LIV_REC1: snprintf(out, cap, "phi %s", act_name(l->act)); break;
    case LIV_REC2: snprintf(out, cap, "state %d", l->state_dim); break;
    case LIV_GCONV1: snprintf(out, cap, "kernel %d, gate %s", l->conv_len, act_name(l->act)); break;
    case LIV_GCONV2: snprintf(out, cap, "modes %d, gate %s", l->filter_modes, act_name(l->act)); break;
    case LIV_GMEMLESS: snprintf(out, cap, "%s", l->act == ACT_GELU ? "GeGLU" : "SwiGLU"); break;
    default: snprintf(out, cap, "softmax"); break;
    }
    if (!l->out_dense) snprintf(out + strlen(out), cap - strlen(out), ", out diag");
}

static void features(const liv_spec *l, char *out, size_t cap) {
    const gene_class_info *t = gene_class(l->cls);
    out[0] = '\0';
    for (int s = 0; s < GENOME_FEATURE_GROUPS; s++) {
        const feature_spec *f = &l->feat[s];
        if (!f->present) continue;
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%s%s %d", n ? ", " : "", t->slot_names[s], f->dim);
        if (f->conv_len) snprintf(out + strlen(out), cap - strlen(out), "/c%d", f->conv_len);
        if (f->groups > 1) snprintf(out + strlen(out), cap - strlen(out), "/g%d", f->groups);
    }
}

int genome_decode_print(FILE *f, const genome *g, genome_dims dims, star_error *err) {
    arch a;
    if (genome_resolve(g, dims, &a, err)) return -1;
    genome c;
    genome_canonical(g, dims, &c);
    char str[GENOME_STRING_MAX], cstr[GENOME_STRING_MAX], summary[256];
    genome_to_string(g, str, sizeof str);
    genome_to_string(&c, cstr, sizeof cstr);
    genome_summary(g, summary, sizeof summary);
    arch_stats total;
    arch_stats_compute(&a, 1, 2, &total);
    fprintf(f, "genome     %s\ncanonical  %s\nhash       %016" PRIx64 "\n", str, cstr, genome_hash(g, dims));
    fprintf(f, "summary    %s; width %d, vocab %d; %lld parameters (embedding %lld, tied with the head)\n\n",
            summary, dims.width, dims.vocab, (long long)total.params, (long long)dims.vocab * dims.width);
    fprintf(f, "%4s  %-9s %-5s %-14s %6s  %-12s %-22s %-32s %10s\n", "LIV", "class", "norm", "sharing", "inner",
            "heads", "details", "features", "params");
    for (int i = 0; i < a.depth; i++) {
        const liv_spec *l = &a.liv[i];
        char share[32] = "-", heads[32] = "-", det[64], feat[96];
        if (l->tie_to >= 0 && l->kv_from >= 0)
            snprintf(share, sizeof share, "tie>%d kv>%d", l->tie_to + 1, l->kv_from + 1);
        else if (l->tie_to >= 0) snprintf(share, sizeof share, "tie>%d", l->tie_to + 1);
        else if (l->kv_from >= 0) snprintf(share, sizeof share, "kv>%d", l->kv_from + 1);
        if (l->n_heads) {
            snprintf(heads, sizeof heads, "%dx%d", l->n_heads, l->head_dim);
            if (l->n_kv_heads != l->n_heads)
                snprintf(heads + strlen(heads), sizeof heads - strlen(heads), " kv%d", l->n_kv_heads);
        }
        details(l, det, sizeof det);
        features(l, feat, sizeof feat);
        arch_stats st;
        arch_liv_stats(&a, i, 1, 2, &st);
        fprintf(f, "%4d  %-9s %-5s %-14s %6d  %-12s %-22s %-32s %10lld\n", i + 1, liv_class_name(l->cls),
                gene_norm_names[l->norm], share, l->inner, heads, det, feat, (long long)st.params);
    }
    return 0;
}
