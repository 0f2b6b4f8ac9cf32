// STAR string form: parse of known strings, round trips over random genomes, and
// parse errors that name the character position and what was expected.
#include <stdio.h>
#include <string.h>

#include "genome/genome_check.h"
#include "genome/genome_string.h"
#include "tests/genome/genome_test_util.h"
#include "tests/test_util.h"

static void test_known(void) {
    genome g;
    star_error err = {0};
    CHECK(genome_parse("21211-31112-21221-32112", &g, &err) == 0);
    CHECK(g.depth == 4);
    CHECK(g.liv[0].bb[BB_CLASS] == 2 && g.liv[0].bb[BB_FEAT_GROUP] == 1 && g.liv[0].bb[BB_FEAT_STRATEGY] == 2);
    CHECK(g.liv[3].bb[BB_CLASS] == 3 && g.liv[3].bb[BB_FG_GROUP] == 1 && g.liv[3].bb[BB_FG_STRATEGY] == 2);
    for (int i = 0; i < 4; i++) CHECK(g.liv[i].norm == NORM_PRE);
    CHECK(g.op[LIV_SA3 - 1][OP_TOKEN_MIXING] == 2);  // defaults filled in
    char buf[GENOME_STRING_MAX];
    CHECK(genome_to_string(&g, buf, sizeof buf) > 0);
    CHECK(!strcmp(buf, "21211-31112-21221-32112"));

    const char *full = "11111-91111;n=21;o1=21311;f1=2111.1211.2111;f9=1131.1211.1111";
    CHECK(genome_parse(full, &g, &err) == 0);
    CHECK(g.liv[0].norm == NORM_POST && g.liv[1].norm == NORM_PRE);
    CHECK(g.op[0][OP_FEATURIZATION] == 2 && g.op[0][OP_SPARSITY] == 3);
    CHECK(g.feat[0][1][FZ_CHANNEL_MIXING] == 2 && g.feat[8][0][FZ_EXPANSION] == 3);
    CHECK(genome_to_string(&g, buf, sizeof buf) > 0);
    CHECK_MSG(!strcmp(buf, full), "printed %s", buf);
    // Sections in another order parse to the same genome.
    genome h;
    CHECK(genome_parse("11111-91111;f9=1131.1211.1111;o1=21311;n=21;f1=2111.1211.2111", &h, &err) == 0);
    CHECK(genome_equal(&g, &h));
    // A section equal to the default is accepted and not printed back.
    CHECK(genome_parse("11111;o1=11211", &g, &err) == 0);
    CHECK(genome_to_string(&g, buf, sizeof buf) > 0 && !strcmp(buf, "11111"));
    // A buffer too small fails cleanly.
    CHECK(genome_to_string(&g, buf, 3) == -1 && buf[0] == '\0');
}

static void expect_error(const char *s, const char *needle1, const char *needle2) {
    genome g;
    star_error err = {0};
    CHECK_MSG(genome_parse(s, &g, &err) == -1, "'%s' parsed", s);
    CHECK_STR_CONTAINS(err.msg, needle1);
    if (needle2) CHECK_STR_CONTAINS(err.msg, needle2);
}

static void test_errors(void) {
    expect_error("11111-x1111", "genome string position 7 (LIV 2, gene 'class'): expected a digit 1-9, got 'x'",
                 NULL);
    expect_error("", "empty", NULL);
    expect_error("1111", "position 5 (LIV 1, gene 'feature_group_strategy')", "got end of string");
    expect_error("11101", "position 4 (LIV 1, gene 'feature_group_group')", "got '0'");
    expect_error("111111", "position 6", "'-' (next LIV)");
    expect_error("11111-", "position 7", "end of string");
    expect_error("11111;x=1", "position 7", "a section");
    expect_error("11111-11111;n=1", "position 16 (norm of LIV 2 of 2)", "a digit 1-3");
    expect_error("11111;n=4", "position 9", "a digit 1-3");
    expect_error("11111;n=11", "position 10", "';' (next section) or the end");
    expect_error("11111;o0=11111", "position 8 (class digit of the section)", NULL);
    expect_error("11111;o1:11111", "position 9 (after the section name): expected '='", NULL);
    expect_error("11111;o1=1111", "position 14 (operator genome of SA-1, gene 'channel_mixing')", NULL);
    expect_error("11111;f2=1111.1111", "position 19 (featurizer genome of SA-2, before slot 3): expected '.'", NULL);
    expect_error("11111;f2=1111.11a1", "position 17 (featurizer genome of SA-2, slot 2, gene 'expansion')", NULL);
    expect_error("11111;o1=21211;o1=21211", "position 16: section 'o1' given twice", NULL);
    // More LIVs than the limit.
    char s[GENOME_MAX_DEPTH * 6 + 8];
    size_t n = 0;
    for (int i = 0; i <= GENOME_MAX_DEPTH; i++) n += (size_t)sprintf(s + n, "%s11111", i ? "-" : "");
    expect_error(s, "more than 64 LIVs", NULL);
}

static void test_round_trip(void) {
    pcg32 rng;
    pcg32_seed(&rng, 42, 7);
    genome_dims dims = {128, 256};
    int ok = 0;
    for (int trial = 0; trial < 3000; trial++) {
        genome g, h;
        test_random_genes(&g, &rng, GENOME_MAX_DEPTH);
        if (trial % 2) genome_repair(&g, dims);  // valid and not-yet-valid genomes alike
        char buf[GENOME_STRING_MAX];
        star_error err = {0};
        int n = genome_to_string(&g, buf, sizeof buf);
        if (n <= 0 || genome_parse(buf, &h, &err) || !genome_equal(&g, &h)) {
            CHECK_MSG(0, "round trip failed for %s: %s", buf, err.msg);
            break;
        }
        ok++;
    }
    CHECK(ok == 3000);
}

static void test_summary(void) {
    genome g;
    star_error err = {0};
    CHECK(genome_parse("11111-91111-11111-91111-61111", &g, &err) == 0);
    char buf[128];
    genome_summary(&g, buf, sizeof buf);
    CHECK_MSG(!strcmp(buf, "2xSA-1 1xRec-2 2xGMemless"), "%s", buf);
}

int main(void) {
    test_known();
    test_errors();
    test_round_trip();
    test_summary();
    TEST_END();
}
