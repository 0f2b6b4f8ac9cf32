// YAML form: round trips over random genomes, the livs and string forms, errors that
// name file:line:col and key, refusal of another gene table version, and the baselines.
#include <stdlib.h>
#include <string.h>

#include "genome/arch.h"
#include "genome/genome_check.h"
#include "genome/genome_string.h"
#include "genome/genome_yaml.h"
#include "genome/space.h"
#include "tests/test_util.h"

static int load(const char *text, genome *g, genome_dims *dims, star_error *err) {
    return genome_load_text(text, strlen(text), "g.yaml", g, dims, err);
}

static void test_round_trip(void) {
    genome_space s = genome_space_default();
    s.depth_min = 1;
    s.depth_max = 20;
    pcg32 rng;
    pcg32_seed(&rng, 77, 1);
    int ok = 1;
    for (int t = 0; t < 1500 && ok; t++) {
        genome g, h;
        genome_random(&s, &rng, &g);
        genome_dims dims = {0, 0};
        char *y = genome_yaml_write(&g, t % 2 ? &s.dims : NULL);
        star_error err = {0};
        if (load(y, &h, &dims, &err) || !genome_equal(&g, &h)) {
            CHECK_MSG(0, "round trip failed: %s\n%s", err.msg, y);
            ok = 0;
        }
        if (t % 2) CHECK(dims.width == s.dims.width && dims.vocab == s.dims.vocab);
        else CHECK(dims.width == 0 && dims.vocab == 0);
        free(y);
    }
}

static void test_forms(void) {
    genome g, h;
    genome_dims dims;
    star_error err = {0};
    const char *livs =
        "gene_table_version: 1\nwidth: 64\nvocab: 100\nlivs:\n"
        "  - {class: SA-2, norm: post}\n"
        "  - {class: 9, featurizer_sharing: {group: 3}}\n"
        "  - {class: SA-2, feature_group_sharing: {group: 1, strategy: reuse}}\n"
        "  - {class: SA-2, featurizer_sharing: {group: 1, strategy: 2}, norm: 3}\n"
        "operators:\n  SA-2: {featurization: 2, sparsity: 1}\n"
        "featurizers:\n  SA-2:\n    - {token_mixing: 2}\n    - {repeat: 3, channel_mixing: 2}\n";
    CHECK_MSG(load(livs, &g, &dims, &err) == 0, "%s", err.msg);
    CHECK(dims.width == 64 && dims.vocab == 100);
    CHECK(genome_parse("21111-93111-21112-21211;n=2113;o2=21111;f2=2111.1213.1111", &h, &err) == 0);
    CHECK(genome_equal(&g, &h));
    // The string form, with an operator override on top.
    const char *str = "gene_table_version: 1\nstring: '11111-91111'\noperators:\n  GMemless: {nonlinearity: 2}\n";
    CHECK_MSG(load(str, &g, &dims, &err) == 0, "%s", err.msg);
    CHECK(genome_parse("11111-91111;o9=11121", &h, &err) == 0 && genome_equal(&g, &h));
    // genome_load_arg: a string that is not a file is parsed as a genome string.
    CHECK(genome_load_arg("11111-91111", &g, &dims, &err) == 0 && g.depth == 2 && dims.width == 0);
    CHECK(genome_load_arg("missing/genome.yaml", &g, &dims, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "missing/genome.yaml");
}

static void expect_error(const char *text, const char *needle1, const char *needle2) {
    genome g;
    star_error err = {0};
    CHECK_MSG(load(text, &g, NULL, &err) == -1, "loaded: %s", text);
    CHECK_STR_CONTAINS(err.msg, needle1);
    if (needle2) CHECK_STR_CONTAINS(err.msg, needle2);
}

static void test_errors(void) {
    expect_error("gene_table_version: 2\nstring: '11111'\n", "g.yaml:1:21: gene_table_version:",
                 "gene table version 2; this build reads version 1");
    expect_error("string: '11111'\n", "g.yaml:1:1", "missing key 'gene_table_version'");
    expect_error("gene_table_version: 1\nstrng: '11111'\n", "g.yaml:2:1: strng: unknown key", NULL);
    expect_error("gene_table_version: 1\n", "expected 'string' or 'livs'", NULL);
    expect_error("gene_table_version: 1\nstring: '11111'\nlivs: [{class: SA-1}]\n", "not both", NULL);
    expect_error("gene_table_version: 1\nstring: '11x11'\n", "g.yaml:2:9: string: genome string position 3", NULL);
    expect_error("gene_table_version: 1\nlivs:\n  - {class: SA-1}\n  - {class: SA-7}\n",
                 "g.yaml:4:13: livs[1].class: expected a LIV class", "GMemless");
    expect_error("gene_table_version: 1\nlivs:\n  - {class: SA-1, norm: sideways}\n", "g.yaml:3:25: livs[0].norm",
                 "pre (1), post (2), none (3)");
    expect_error("gene_table_version: 1\nlivs:\n  - {class: SA-1, featurizer_sharing: {group: 10}}\n",
                 "livs[0].featurizer_sharing.group: expected an integer in [1, 9], got 10", NULL);
    expect_error("gene_table_version: 1\nlivs:\n  - {class: SA-1, feature_group_sharing: {strategy: tie}}\n",
                 "livs[0].feature_group_sharing.strategy", "none (1), reuse (2)");
    expect_error("gene_table_version: 1\nstring: '31111'\noperators:\n  SA-3: {token_mixing: 5}\n",
                 "g.yaml:4:24: operators.SA-3.token_mixing: expected an integer in [1, 4], got 5", NULL);
    expect_error("gene_table_version: 1\nstring: '71111'\nfeaturizers:\n  GConv-1: [{}, {}, {}]\n",
                 "featurizers.GConv-1: expected a list of at most 2 feature groups (gate, value)", NULL);
    expect_error("gene_table_version: 1\nwidth: 100\nstring: '11111'\n", "g.yaml:2:8: width: expected a multiple of 32",
                 NULL);
    // A rule broken across genes points at the LIV's entry.
    expect_error("gene_table_version: 1\nlivs:\n  - {class: SA-1}\n  - {class: GMemless, feature_group_sharing: "
                 "{strategy: reuse}}\n",
                 "g.yaml:4:5: livs[1]: LIV 2 (position 6-10) gene 'feature_group_strategy'", "no memory");
}

static void test_baselines(void) {
    static const struct {
        const char *path, *summary;
    } files[] = {
        {"configs/baselines/transformer.yaml", "4xSA-1 4xGMemless"},
        {"configs/baselines/striped.yaml", "1xSA-1 1xGConv-1 2xGConv-2 4xGMemless"},
        {"configs/baselines/recurrent.yaml", "4xRec-2 4xGMemless"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        genome g;
        genome_dims dims;
        star_error err = {0};
        if (genome_load_file(files[i].path, &g, &dims, &err)) {
            CHECK_MSG(0, "%s", err.msg);
            continue;
        }
        char sum[128];
        genome_summary(&g, sum, sizeof sum);
        CHECK_MSG(!strcmp(sum, files[i].summary), "%s: %s", files[i].path, sum);
        CHECK(g.depth == 8);
        arch a;
        CHECK(genome_resolve(&g, (genome_dims){128, 256}, &a, &err) == 0);
        for (int l = 0; l < g.depth; l++)
            CHECK(a.liv[l].norm == NORM_PRE && a.liv[l].tie_to < 0 && a.liv[l].kv_from < 0);
        if (i == 0) CHECK(a.liv[0].head_dim == 64 && a.liv[1].inner == 352);  // 8*128/3 -> 352
        if (i == 1) CHECK(a.liv[0].feat[0].conv_len == 3 && a.liv[2].conv_len == 7);
        if (i == 2) CHECK(a.liv[0].state_dim == 32 && a.liv[0].inner == 256 && a.liv[0].feat[2].conv_len == 4);
    }
}

int main(void) {
    test_round_trip();
    test_forms();
    test_errors();
    test_baselines();
    TEST_END();
}
