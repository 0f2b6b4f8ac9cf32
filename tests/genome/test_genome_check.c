// Validity rules and their repair: each rule is broken on purpose, the message must
// name the gene's position and the rule, and repair must fix exactly that.
#include <string.h>

#include "genome/genome_check.h"
#include "genome/genome_string.h"
#include "tests/genome/genome_test_util.h"
#include "tests/test_util.h"

static const genome_dims DIMS = {128, 256};

static void parse_ok(const char *s, genome *g) {
    star_error err = {0};
    int rc = genome_parse(s, g, &err);
    CHECK_MSG(rc == 0, "%s: %s", s, err.msg);
}

// g must fail check with both needles, and be valid after a repair that changes n genes.
static void expect_rule(genome *g, const char *needle1, const char *needle2, int n_changed) {
    star_error err = {0};
    CHECK(genome_check(g, DIMS, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, needle1);
    if (needle2) CHECK_STR_CONTAINS(err.msg, needle2);
    int changed = genome_repair(g, DIMS);
    CHECK_MSG(changed == n_changed, "repair changed %d genes, expected %d (%s)", changed, n_changed, needle1);
    err.msg[0] = 0;
    CHECK_MSG(genome_check(g, DIMS, &err) == 0, "after repair: %s", err.msg);
}

static void test_dims(void) {
    genome g;
    parse_ok("11111", &g);
    star_error err = {0};
    CHECK(genome_check(&g, DIMS, &err) == 0);
    CHECK(genome_check(&g, (genome_dims){100, 256}, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "width 100: expected a multiple of 32");
    CHECK(genome_check(&g, (genome_dims){0, 256}, &err) == -1);
    CHECK(genome_check(&g, (genome_dims){128, 1}, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "vocab 1");
}

static void test_alleles(void) {
    genome g;
    parse_ok("11111-11111-11111", &g);
    g.liv[2].bb[BB_CLASS] = 0;
    expect_rule(&g, "LIV 3 (position 11-15) gene 'class': allele 0 out of range 1..9", NULL, 1);
    CHECK(g.liv[2].bb[BB_CLASS] == LIV_SA1);

    g.liv[1].bb[BB_FEAT_STRATEGY] = 3;
    expect_rule(&g, "LIV 2 (position 6-10) gene 'featurizer_strategy': allele 3 out of range 1..2", NULL, 1);

    g.liv[0].norm = 4;
    expect_rule(&g, "LIV 1 gene 'norm'", "allele 4 out of range 1..3", 1);
    CHECK(g.liv[0].norm == NORM_PRE);

    g.depth = 0;
    expect_rule(&g, "genome depth 0 out of range 1..64", NULL, 1);
    CHECK(g.depth == 1);
}

static void test_class_genes(void) {
    genome g;
    parse_ok("31111", &g);
    g.op[LIV_SA3 - 1][OP_TOKEN_MIXING] = 5;
    expect_rule(&g, "operator genome of SA-3 (o3 gene 2 'token_mixing'): allele 5 out of range 1..4", NULL, 1);
    CHECK(g.op[LIV_SA3 - 1][OP_TOKEN_MIXING] == 2);  // the default (window 128)

    // A fixed gene (GMemless featurization) must be 1 even for a class the genome does not use.
    g.op[LIV_GMEMLESS - 1][OP_FEATURIZATION] = 2;
    expect_rule(&g, "operator genome of GMemless (o9 gene 1 'featurization'): allele 2, but the gene is fixed", NULL,
                1);

    g.feat[LIV_SA2 - 1][1][FZ_REPEAT] = 4;
    expect_rule(&g, "featurizer genome of SA-2 (f2 slot 2 'K', gene 4 'repeat'): allele 4 out of range 1..3", NULL, 1);
    CHECK(g.feat[LIV_SA2 - 1][1][FZ_REPEAT] == 2);

    g.feat[LIV_GCONV1 - 1][2][FZ_CHANNEL_MIXING] = 2;
    expect_rule(&g, "f7 slot 3 'absent', gene 2 'channel_mixing'", "fixed", 1);
}

static void test_cross_gene_rules(void) {
    genome g;
    // Diagonal channel mixing with an expanded inner width.
    parse_ok("71111;o7=11112;f7=1121.1111.1111", &g);
    expect_rule(&g, "o7 gene 5 'channel_mixing'", "expansion gives 256 at width 128", 1);
    CHECK(g.op[LIV_GCONV1 - 1][OP_CHANNEL_MIXING] == 1);
    parse_ok("71111;o7=11112", &g);  // inner == width: diagonal is fine
    star_error err = {0};
    CHECK(genome_check(&g, DIMS, &err) == 0);

    // Feature-group reuse on a class without memory.
    parse_ok("91111-91112", &g);
    expect_rule(&g, "LIV 2 (position 6-10) gene 'feature_group_strategy'", "GMemless has no memory", 1);
    CHECK(g.liv[1].bb[BB_FG_STRATEGY] == SHARE_NONE);

    // LIV 3 ties its featurizer to LIV 2, which reuses K/V of LIV 1; LIV 3 computes its own.
    parse_ok("11111-12112-12221", &g);
    expect_rule(&g, "LIV 3 (position 11-15) gene 'featurizer_strategy'", "reuses the memory groups of LIV 1", 1);
    CHECK(g.liv[2].bb[BB_FEAT_STRATEGY] == SHARE_NONE);
    // The same tie is fine when LIV 3 reuses memory too.
    parse_ok("11111-12112-12212", &g);
    CHECK(genome_check(&g, DIMS, &err) == 0);
}

// Repair makes any raw genome valid, is idempotent, and leaves valid genomes alone.
static void test_repair_random(void) {
    pcg32 rng;
    pcg32_seed(&rng, 3, 11);
    int bad = 0;
    for (int trial = 0; trial < 3000 && !bad; trial++) {
        genome g, h;
        test_random_genes(&g, &rng, 16);
        if (trial % 3 == 0) g.op[pcg32_bounded(&rng, 9)][pcg32_bounded(&rng, OP_GENES)] = 0;
        genome_repair(&g, DIMS);
        star_error err = {0};
        if (genome_check(&g, DIMS, &err)) {
            bad = 1;
            CHECK_MSG(0, "repaired genome invalid: %s", err.msg);
        }
        h = g;
        if (genome_repair(&h, DIMS) != 0 || !genome_equal(&g, &h)) {
            bad = 1;
            CHECK_MSG(0, "repair not idempotent");
        }
    }
    CHECK(!bad);
}

int main(void) {
    test_dims();
    test_alleles();
    test_class_genes();
    test_cross_gene_rules();
    test_repair_random();
    TEST_END();
}
