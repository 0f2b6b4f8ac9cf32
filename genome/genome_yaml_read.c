// star: reading a genome from YAML (the form genome_yaml.h shows).
#include <stdio.h>
#include <string.h>

#include "common/file.h"
#include "genome/gene_table.h"
#include "genome/genome_check.h"
#include "genome/genome_string.h"
#include "genome/genome_yaml.h"

static void join(char *out, size_t cap, const char *prefix, const char *key) {
    if (prefix && prefix[0]) snprintf(out, cap, "%s.%s", prefix, key);
    else snprintf(out, cap, "%s", key);
}

// A choice given by name (names[1..n]) or by its allele digit.
static int read_choice(ydoc *d, ynode *v, const char *path, const char *const *names, int n, uint8_t *out,
                       star_error *err) {
    const char *s = ynode_scalar(v);
    if (s) {
        for (int a = 1; a <= n; a++)
            if (names[a] && !strcmp(s, names[a])) return *out = (uint8_t)a, 0;
        if (s[0] >= '1' && s[0] < '1' + n && !s[1]) return *out = (uint8_t)(s[0] - '0'), 0;
    }
    char list[128] = "";
    for (int a = 1; a <= n; a++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s (%d)", a > 1 ? ", " : "", names[a], a);
    return ynode_fail(d, v, path, err, "expected one of %s, got %s", list, s ? s : "a collection");
}

static int read_allele(ydoc *d, ynode *map, const char *prefix, const char *key, int n, uint8_t *out,
                       star_error *err) {
    ynode *v = ynode_get(d, map, key);
    if (!v) return 0;
    char path[256];
    join(path, sizeof path, prefix, key);
    long a;
    if (ynode_as_long(d, v, path, 1, n, &a, err)) return -1;
    *out = (uint8_t)a;
    return 0;
}

static int read_class_name(ydoc *d, ynode *v, const char *path, int *cls, star_error *err) {
    const char *s = ynode_scalar(v);
    *cls = liv_class_from_name(s);
    if (*cls) return 0;
    char list[160] = "";
    for (int c = 1; c <= LIV_CLASS_COUNT; c++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", c > 1 ? ", " : "", liv_class_name(c));
    return ynode_fail(d, v, path, err, "expected a LIV class (%s, or its digit 1-9), got %s", list,
                      s ? s : "a collection");
}

static int read_sharing(ydoc *d, ynode *map, const char *prefix, const char *key, const char *shared_name,
                        uint8_t *group, uint8_t *strategy, star_error *err) {
    static const char *const keys[] = {"group", "strategy", NULL};
    ynode *v = ynode_get(d, map, key);
    if (!v) return 0;
    char path[256], sub[288];
    join(path, sizeof path, prefix, key);
    if (ynode_check_keys(d, v, path, keys, err)) return -1;
    if (read_allele(d, v, path, "group", 9, group, err)) return -1;
    ynode *s = ynode_get(d, v, "strategy");
    const char *const names[] = {NULL, "none", shared_name};
    join(sub, sizeof sub, path, "strategy");
    return s ? read_choice(d, s, sub, names, 2, strategy, err) : 0;
}

static int read_liv(ydoc *d, ynode *n, const char *path, liv_gene *l, star_error *err) {
    static const char *const keys[] = {"class", "featurizer_sharing", "feature_group_sharing", "norm", NULL};
    if (ynode_check_keys(d, n, path, keys, err)) return -1;
    ynode *c = ynode_get(d, n, "class");
    char sub[288];
    if (!c) return ynode_fail(d, n, path, err, "missing key 'class'");
    join(sub, sizeof sub, path, "class");
    int cls;
    if (read_class_name(d, c, sub, &cls, err)) return -1;
    *l = liv_gene_default(cls);
    if (read_sharing(d, n, path, "featurizer_sharing", "tie", &l->bb[BB_FEAT_GROUP], &l->bb[BB_FEAT_STRATEGY], err))
        return -1;
    if (read_sharing(d, n, path, "feature_group_sharing", "reuse", &l->bb[BB_FG_GROUP], &l->bb[BB_FG_STRATEGY], err))
        return -1;
    ynode *v = ynode_get(d, n, "norm");
    join(sub, sizeof sub, path, "norm");
    return v ? read_choice(d, v, sub, gene_norm_names, NORM_ALLELES, &l->norm, err) : 0;
}

static int read_livs(ydoc *d, ynode *n, const char *path, genome *g, star_error *err) {
    if (!ynode_is_seq(n) || ynode_len(n) == 0 || ynode_len(n) > GENOME_MAX_DEPTH)
        return ynode_fail(d, n, path, err, "expected a list of 1 to %d LIVs", GENOME_MAX_DEPTH);
    g->depth = (int)ynode_len(n);
    for (int i = 0; i < g->depth; i++) {
        char sub[288];
        snprintf(sub, sizeof sub, "%s[%d]", path, i);
        if (read_liv(d, ynode_seq_item(d, n, (size_t)i), sub, &g->liv[i], err)) return -1;
    }
    return 0;
}

static int read_operators(ydoc *d, ynode *n, const char *path, genome *g, star_error *err) {
    if (!ynode_is_map(n)) return ynode_fail(d, n, path, err, "expected a mapping of class name to operator genes");
    for (size_t i = 0; i < ynode_len(n); i++) {
        ynode *k = ynode_map_key(d, n, i), *v = ynode_map_value(d, n, i);
        char sub[288];
        int c;
        snprintf(sub, sizeof sub, "%s.%s", path, ynode_scalar(k) ? ynode_scalar(k) : "?");
        if (read_class_name(d, k, sub, &c, err)) return -1;
        static const char *const keys[OP_GENES + 1] = {"featurization", "token_mixing", "sparsity", "nonlinearity",
                                                       "channel_mixing", NULL};
        if (ynode_check_keys(d, v, sub, keys, err)) return -1;
        for (int gk = 0; gk < OP_GENES; gk++)
            if (read_allele(d, v, sub, gene_op_names[gk], gene_class(c)->op_alleles[gk], &g->op[c - 1][gk], err))
                return -1;
    }
    return 0;
}

static int read_featurizers(ydoc *d, ynode *n, const char *path, genome *g, star_error *err) {
    if (!ynode_is_map(n)) return ynode_fail(d, n, path, err, "expected a mapping of class name to feature groups");
    static const char *const keys[FZ_GENES + 1] = {"token_mixing", "channel_mixing", "expansion", "repeat", NULL};
    for (size_t i = 0; i < ynode_len(n); i++) {
        ynode *k = ynode_map_key(d, n, i), *v = ynode_map_value(d, n, i);
        char sub[288];
        int c;
        snprintf(sub, sizeof sub, "%s.%s", path, ynode_scalar(k) ? ynode_scalar(k) : "?");
        if (read_class_name(d, k, sub, &c, err)) return -1;
        const gene_class_info *t = gene_class(c);
        int slots = 0;
        while (slots < GENOME_FEATURE_GROUPS && t->slot_names[slots]) slots++;
        if (!ynode_is_seq(v) || ynode_len(v) > (size_t)slots)
            return ynode_fail(d, v, sub, err, "expected a list of at most %d feature groups (%s%s%s%s%s)", slots,
                              t->slot_names[0], slots > 1 ? ", " : "", slots > 1 ? t->slot_names[1] : "",
                              slots > 2 ? ", " : "", slots > 2 ? t->slot_names[2] : "");
        for (size_t s = 0; s < ynode_len(v); s++) {
            ynode *item = ynode_seq_item(d, v, s);
            char item_path[320];
            snprintf(item_path, sizeof item_path, "%s[%zu]", sub, s);
            if (ynode_check_keys(d, item, item_path, keys, err)) return -1;
            for (int gk = 0; gk < FZ_GENES; gk++)
                if (read_allele(d, item, item_path, gene_feat_names[gk], t->feat_alleles[s][gk], &g->feat[c - 1][s][gk],
                                err))
                    return -1;
        }
    }
    return 0;
}

static int read_dim(ydoc *d, ynode *n, const char *prefix, const char *key, long lo, long hi, int *out,
                    star_error *err) {
    ynode *v = ynode_get(d, n, key);
    *out = 0;
    if (!v) return 0;
    char path[256];
    join(path, sizeof path, prefix, key);
    long x;
    if (ynode_as_long(d, v, path, lo, hi, &x, err)) return -1;
    if (!strcmp(key, "width") && x % 32) return ynode_fail(d, v, path, err, "expected a multiple of 32, got %ld", x);
    *out = (int)x;
    return 0;
}

int genome_yaml_read(ydoc *d, ynode *n, const char *keypath, genome *out, genome_dims *dims_out, star_error *err) {
    // source and resolved: what star export adds beside the genome (docs/export.md); the
    // genome is the truth, so they are accepted and not read.
    static const char *const keys[] = {"gene_table_version", "width", "vocab", "string", "livs", "operators",
                                       "featurizers", "source", "resolved", NULL};
    char path[256];
    if (!n) return STAR_FAIL(err, "%s: empty document: expected a genome mapping", d->name);
    if (ynode_check_keys(d, n, keypath, keys, err)) return -1;
    ynode *v = ynode_get(d, n, "gene_table_version");
    join(path, sizeof path, keypath, "gene_table_version");
    if (!v) return ynode_fail(d, n, keypath, err, "missing key 'gene_table_version' (this build reads version %d)",
                              STAR_GENE_TABLE_VERSION);
    long version;
    if (ynode_as_long(d, v, path, 1, 1000000, &version, err)) return -1;
    if (version != STAR_GENE_TABLE_VERSION)
        return ynode_fail(d, v, path, err,
                          "this genome was written with gene table version %ld; this build reads version %d only",
                          version, STAR_GENE_TABLE_VERSION);
    genome_dims dims;
    if (read_dim(d, n, keypath, "width", 32, GENOME_WIDTH_MAX, &dims.width, err)) return -1;
    if (read_dim(d, n, keypath, "vocab", 2, GENOME_VOCAB_MAX, &dims.vocab, err)) return -1;
    genome g;
    genome_clear(&g);
    ynode *str = ynode_get(d, n, "string"), *livs = ynode_get(d, n, "livs");
    if (str && livs)
        return ynode_fail(d, livs, keypath, err, "give either 'string' or 'livs', not both");
    if (!str && !livs) return ynode_fail(d, n, keypath, err, "missing key: expected 'string' or 'livs'");
    if (str) {
        const char *s;
        join(path, sizeof path, keypath, "string");
        if (ynode_as_string(d, str, path, &s, err)) return -1;
        star_error perr;
        if (genome_parse(s, &g, &perr)) return ynode_fail(d, str, path, err, "%s", perr.msg);
    } else {
        join(path, sizeof path, keypath, "livs");
        if (read_livs(d, livs, path, &g, err)) return -1;
    }
    join(path, sizeof path, keypath, "operators");
    if ((v = ynode_get(d, n, "operators")) && read_operators(d, v, path, &g, err)) return -1;
    join(path, sizeof path, keypath, "featurizers");
    if ((v = ynode_get(d, n, "featurizers")) && read_featurizers(d, v, path, &g, err)) return -1;
    genome_dims check_dims = {dims.width ? dims.width : 256, dims.vocab ? dims.vocab : 256};
    star_error cerr;
    if (genome_check(&g, check_dims, &cerr)) {
        // Point at the LIV's own entry when the rule names one.
        int liv = 0;
        ynode *at = str ? str : livs;
        join(path, sizeof path, keypath, str ? "string" : "livs");
        if (livs && sscanf(cerr.msg, "LIV %d", &liv) == 1 && liv >= 1 && liv <= g.depth) {
            at = ynode_seq_item(d, livs, (size_t)(liv - 1));
            snprintf(path + strlen(path), sizeof path - strlen(path), "[%d]", liv - 1);
        }
        return ynode_fail(d, at, path, err, "%s", cerr.msg);
    }
    *out = g;
    if (dims_out) *dims_out = dims;
    return 0;
}

int genome_load_text(const char *text, size_t len, const char *name, genome *g, genome_dims *dims,
                     star_error *err) {
    ydoc d;
    if (ydoc_load_string(&d, text, len, name, err)) return -1;
    int rc = genome_yaml_read(&d, ydoc_root(&d), "", g, dims, err);
    ydoc_free(&d);
    return rc;
}

int genome_load_file(const char *path, genome *g, genome_dims *dims, star_error *err) {
    ydoc d;
    if (ydoc_load_file(&d, path, err)) return -1;
    int rc = genome_yaml_read(&d, ydoc_root(&d), "", g, dims, err);
    ydoc_free(&d);
    return rc;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

int genome_load_arg(const char *arg, genome *g, genome_dims *dims, star_error *err) {
    if (file_exists(arg) || ends_with(arg, ".yaml") || ends_with(arg, ".yml"))
        return genome_load_file(arg, g, dims, err);
    if (dims) *dims = (genome_dims){0, 0};
    return genome_parse(arg, g, err);
}
