// star: STAR string printing and parsing.
#include "genome/genome_string.h"

#include <stdio.h>
#include <string.h>

#include "genome/gene_table.h"

typedef struct sbuf {
    char *p;
    size_t cap, len;
    int bad;
} sbuf;

static void put(sbuf *b, char ch) {
    if (b->len + 1 >= b->cap) {
        b->bad = 1;
        return;
    }
    b->p[b->len++] = ch;
    b->p[b->len] = '\0';
}

static void put_digit(sbuf *b, int v) {
    if (v < 1 || v > 9) b->bad = 1;
    put(b, (char)('0' + (v < 0 || v > 9 ? 0 : v)));
}

int genome_to_string(const genome *g, char *buf, size_t cap) {
    sbuf b = {buf, cap, 0, cap == 0};
    if (cap) buf[0] = '\0';
    if (g->depth < 0 || g->depth > GENOME_MAX_DEPTH) b.bad = 1;
    for (int i = 0; i < g->depth && !b.bad; i++) {
        if (i) put(&b, '-');
        for (int k = 0; k < BB_GENES; k++) put_digit(&b, g->liv[i].bb[k]);
    }
    int any_norm = 0;
    for (int i = 0; i < g->depth && !b.bad; i++) any_norm |= g->liv[i].norm != NORM_PRE;
    if (any_norm && !b.bad) {
        put(&b, ';'), put(&b, 'n'), put(&b, '=');
        for (int i = 0; i < g->depth; i++) put_digit(&b, g->liv[i].norm);
    }
    for (int c = 1; c <= LIV_CLASS_COUNT && !b.bad; c++) {
        if (!memcmp(g->op[c - 1], gene_class(c)->op_default, OP_GENES)) continue;
        put(&b, ';'), put(&b, 'o'), put_digit(&b, c), put(&b, '=');
        for (int k = 0; k < OP_GENES; k++) put_digit(&b, g->op[c - 1][k]);
    }
    for (int c = 1; c <= LIV_CLASS_COUNT && !b.bad; c++) {
        if (!memcmp(g->feat[c - 1], gene_class(c)->feat_default, sizeof g->feat[0])) continue;
        put(&b, ';'), put(&b, 'f'), put_digit(&b, c), put(&b, '=');
        for (int s = 0; s < GENOME_FEATURE_GROUPS; s++) {
            if (s) put(&b, '.');
            for (int k = 0; k < FZ_GENES; k++) put_digit(&b, g->feat[c - 1][s][k]);
        }
    }
    if (b.bad) {
        if (cap) buf[0] = '\0';
        return -1;
    }
    return (int)b.len;
}

// ---- parsing ----

typedef struct parser {
    const char *s;
    size_t i;
    star_error *err;
} parser;

static void describe(const parser *p, char *out, size_t cap) {
    char ch = p->s[p->i];
    if (!ch) snprintf(out, cap, "end of string");
    else if (ch >= 32 && ch < 127) snprintf(out, cap, "'%c'", ch);
    else snprintf(out, cap, "byte 0x%02x", (unsigned char)ch);
}

static int fail_expected(parser *p, const char *where, const char *expected) {
    char got[32];
    describe(p, got, sizeof got);
    if (where && where[0])
        return STAR_FAIL(p->err, "genome string position %zu (%s): expected %s, got %s", p->i + 1, where, expected,
                         got);
    return STAR_FAIL(p->err, "genome string position %zu: expected %s, got %s", p->i + 1, expected, got);
}

static int digit(parser *p, int hi, const char *where, uint8_t *out) {
    char ch = p->s[p->i];
    if (ch < '1' || ch > '0' + hi) {
        char expected[32];
        snprintf(expected, sizeof expected, "a digit 1-%d", hi);
        return fail_expected(p, where, expected);
    }
    *out = (uint8_t)(ch - '0');
    p->i++;
    return 0;
}

static int literal(parser *p, char ch, const char *where) {
    if (p->s[p->i] != ch) {
        char expected[8] = {'\'', ch, '\'', 0};
        return fail_expected(p, where, expected);
    }
    p->i++;
    return 0;
}

static int parse_backbone(parser *p, genome *g) {
    for (;;) {
        if (g->depth == GENOME_MAX_DEPTH)
            return STAR_FAIL(p->err, "genome string position %zu: more than %d LIVs", p->i + 1, GENOME_MAX_DEPTH);
        liv_gene *l = &g->liv[g->depth++];
        l->norm = NORM_PRE;
        for (int k = 0; k < BB_GENES; k++) {
            char where[64];
            snprintf(where, sizeof where, "LIV %d, gene '%s'", g->depth, gene_backbone_names[k]);
            if (digit(p, 9, where, &l->bb[k])) return -1;
        }
        char ch = p->s[p->i];
        if (ch == '-') {
            p->i++;
            continue;
        }
        if (ch == ';' || ch == '\0') return 0;
        return fail_expected(p, "", "'-' (next LIV), ';' (a section) or the end");
    }
}

static int parse_norms(parser *p, genome *g) {
    for (int i = 0; i < g->depth; i++) {
        char where[64];
        snprintf(where, sizeof where, "norm of LIV %d of %d", i + 1, g->depth);
        if (digit(p, NORM_ALLELES, where, &g->liv[i].norm)) return -1;
    }
    return 0;
}

static int parse_ops(parser *p, genome *g, int c) {
    for (int k = 0; k < OP_GENES; k++) {
        char where[96];
        snprintf(where, sizeof where, "operator genome of %s, gene '%s'", liv_class_name(c), gene_op_names[k]);
        if (digit(p, 9, where, &g->op[c - 1][k])) return -1;
    }
    return 0;
}

static int parse_feats(parser *p, genome *g, int c) {
    for (int s = 0; s < GENOME_FEATURE_GROUPS; s++) {
        char where[112];
        if (s) {
            snprintf(where, sizeof where, "featurizer genome of %s, before slot %d", liv_class_name(c), s + 1);
            if (literal(p, '.', where)) return -1;
        }
        for (int k = 0; k < FZ_GENES; k++) {
            snprintf(where, sizeof where, "featurizer genome of %s, slot %d, gene '%s'", liv_class_name(c), s + 1,
                     gene_feat_names[k]);
            if (digit(p, 9, where, &g->feat[c - 1][s][k])) return -1;
        }
    }
    return 0;
}

static int parse_section(parser *p, genome *g, int seen[3][LIV_CLASS_COUNT + 1]) {
    size_t start = p->i;
    char kind = p->s[p->i];
    int idx = kind == 'n' ? 0 : kind == 'o' ? 1 : kind == 'f' ? 2 : -1;
    if (idx < 0) return fail_expected(p, "", "a section 'n=', 'o<class>=' or 'f<class>=' after ';'");
    p->i++;
    uint8_t c = 0;
    if (idx > 0 && digit(p, LIV_CLASS_COUNT, "class digit of the section", &c)) return -1;
    if (seen[idx][c]) {
        char name[4] = {kind, c ? (char)('0' + c) : '\0', '\0', '\0'};
        return STAR_FAIL(p->err, "genome string position %zu: section '%s' given twice", start + 1, name);
    }
    seen[idx][c] = 1;
    if (literal(p, '=', "after the section name")) return -1;
    int rc = idx == 0 ? parse_norms(p, g) : idx == 1 ? parse_ops(p, g, c) : parse_feats(p, g, c);
    if (rc) return -1;
    if (p->s[p->i] != ';' && p->s[p->i] != '\0') return fail_expected(p, "", "';' (next section) or the end");
    return 0;
}

int genome_parse(const char *s, genome *out, star_error *err) {
    genome g;
    genome_clear(&g);
    if (!s || !s[0]) return STAR_FAIL(err, "genome string is empty");
    parser p = {s, 0, err};
    if (parse_backbone(&p, &g)) return -1;
    int seen[3][LIV_CLASS_COUNT + 1] = {{0}};
    while (s[p.i] == ';') {
        p.i++;
        if (parse_section(&p, &g, seen)) return -1;
    }
    *out = g;
    return 0;
}

void genome_summary(const genome *g, char *buf, size_t cap) {
    int count[LIV_CLASS_COUNT + 1] = {0};
    for (int i = 0; i < g->depth; i++)
        if (g->liv[i].bb[BB_CLASS] >= 1 && g->liv[i].bb[BB_CLASS] <= LIV_CLASS_COUNT) count[g->liv[i].bb[BB_CLASS]]++;
    size_t len = 0;
    if (cap) buf[0] = '\0';
    for (int c = 1; c <= LIV_CLASS_COUNT; c++) {
        if (!count[c] || len >= cap) continue;
        int n = snprintf(buf + len, cap - len, "%s%dx%s", len ? " " : "", count[c], liv_class_name(c));
        if (n > 0) len += (size_t)n;
    }
}
