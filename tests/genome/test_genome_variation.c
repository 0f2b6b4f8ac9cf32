// Random genomes, mutation and crossover: every result is a valid genome of its space
// (classes, depth bounds, sharing switches) over thousands of draws; the same seed gives
// the same genomes; each operator does what it says.
#include <string.h>

#include "genome/genome_check.h"
#include "genome/genome_string.h"
#include "genome/space.h"
#include "genome/variation.h"
#include "tests/test_util.h"

static int in_space(const genome *g, const genome_space *s) {
    star_error err = {0};
    if (genome_in_space(g, s, &err)) {
        CHECK_MSG(0, "not in space: %s", err.msg);
        return 0;
    }
    return 1;
}

static genome_space narrow_space(void) {
    genome_space s = genome_space_default();
    s.classes = GENOME_CLASS_BIT(LIV_SA1) | GENOME_CLASS_BIT(LIV_REC2) | GENOME_CLASS_BIT(LIV_GMEMLESS);
    s.depth_min = 3;
    s.depth_max = 6;
    s.dims = (genome_dims){96, 300};
    s.allow_featurizer_sharing = 0;
    return s;
}

static void test_space_checks(void) {
    genome_space s = genome_space_default();
    star_error err = {0};
    CHECK(genome_space_check(&s, &err) == 0);
    s.depth_min = 9;
    CHECK(genome_space_check(&s, &err) == -1);
    s = genome_space_default();
    s.classes = 0;
    CHECK(genome_space_check(&s, &err) == -1);
    s = narrow_space();
    genome g;
    CHECK(genome_parse("11111-21111-91111", &g, &err) == 0);
    CHECK(genome_in_space(&g, &s, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "LIV 2 (position 6-10) gene 'class': SA-2 is not one of the space's classes");
    CHECK(genome_parse("11111-11211-91111", &g, &err) == 0);
    CHECK(genome_in_space(&g, &s, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "does not allow featurizer sharing");
    CHECK(genome_parse("11111-91111", &g, &err) == 0);
    CHECK(genome_in_space(&g, &s, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "depth 2 outside the space's 3..6");
    // Repair into the space: the disallowed class is resampled, the tie removed.
    pcg32 rng;
    pcg32_seed(&rng, 1, 1);
    CHECK(genome_parse("11111-21211-91111", &g, &err) == 0);
    genome_space_repair(&g, &s, &rng);
    CHECK(in_space(&g, &s));
    CHECK(g.liv[0].bb[BB_CLASS] == LIV_SA1 && g.liv[2].bb[BB_CLASS] == LIV_GMEMLESS);
    CHECK(g.liv[1].bb[BB_CLASS] != LIV_SA2 && g.liv[1].bb[BB_FEAT_STRATEGY] == SHARE_NONE);
}

static void test_random(void) {
    genome_space spaces[2] = {genome_space_default(), narrow_space()};
    for (int si = 0; si < 2; si++) {
        const genome_space *s = &spaces[si];
        pcg32 rng;
        pcg32_seed(&rng, 99, (uint64_t)si);
        int depth_seen[GENOME_MAX_DEPTH + 1] = {0}, class_seen[LIV_CLASS_COUNT + 1] = {0}, ties = 0, reuses = 0;
        int ok = 1;
        for (int t = 0; t < 3000 && ok; t++) {
            genome g;
            genome_random(s, &rng, &g);
            ok = in_space(&g, s);
            depth_seen[g.depth]++;
            for (int i = 0; i < g.depth; i++) {
                class_seen[g.liv[i].bb[BB_CLASS]]++;
                ties += g.liv[i].bb[BB_FEAT_STRATEGY] == SHARE_TIE;
                reuses += g.liv[i].bb[BB_FG_STRATEGY] == SHARE_TIE;
            }
        }
        for (int d = s->depth_min; d <= s->depth_max; d++) CHECK_MSG(depth_seen[d] > 0, "depth %d never drawn", d);
        for (int c = 1; c <= LIV_CLASS_COUNT; c++)
            CHECK((class_seen[c] > 0) == !!(s->classes & GENOME_CLASS_BIT(c)));
        CHECK((ties > 0) == s->allow_featurizer_sharing);
        CHECK(reuses > 0);
    }
}

static void test_determinism(void) {
    genome_space s = genome_space_default();
    genome_mutation_rates r = genome_mutation_rates_default();
    char first[3][GENOME_STRING_MAX];
    for (int rep = 0; rep < 3; rep++) {
        pcg32 rng;
        pcg32_seed(&rng, rep == 2 ? 8 : 7, 3);  // runs 0 and 1 share a seed
        genome a, b, c;
        genome_random(&s, &rng, &a);
        genome_random(&s, &rng, &b);
        genome_crossover(&a, &b, 2, &s, &rng, &c);
        genome_mutate(&c, &s, &r, &rng);
        char sa[GENOME_STRING_MAX], sc[GENOME_STRING_MAX];
        genome_to_string(&a, sa, sizeof sa);
        genome_to_string(&c, sc, sizeof sc);
        snprintf(first[rep], sizeof first[rep], "%.500s|%.500s", sa, sc);
    }
    CHECK(!strcmp(first[0], first[1]));
    CHECK(strcmp(first[0], first[2]) != 0);
}

static void test_mutation(void) {
    genome_space s = narrow_space();
    s.allow_featurizer_sharing = 1;
    pcg32 rng;
    pcg32_seed(&rng, 5, 5);
    genome_mutation_rates r = genome_mutation_rates_default();
    int ok = 1, depth_changed = 0, changed_total = 0;
    genome g;
    genome_random(&s, &rng, &g);
    for (int t = 0; t < 5000 && ok; t++) {
        int d = g.depth;
        changed_total += genome_mutate(&g, &s, &r, &rng) > 0;
        ok = in_space(&g, &s);
        depth_changed += g.depth != d;
    }
    CHECK(depth_changed > 100 && changed_total > 2500);
    // Zero rates: nothing changes.
    genome_mutation_rates zero = {0};
    genome h = g;
    CHECK(genome_mutate(&h, &s, &zero, &rng) == 0 && genome_equal(&g, &h));
    // Backbone rate 1: every class changes (three classes allowed).
    genome_mutation_rates all_bb = zero;
    all_bb.backbone = 1;
    h = g;
    genome_mutate(&h, &s, &all_bb, &rng);
    CHECK(h.depth == g.depth);
    for (int i = 0; i < g.depth; i++) CHECK(h.liv[i].bb[BB_CLASS] != g.liv[i].bb[BB_CLASS]);
    // Insert / delete at rate 1 move the depth by one, and never past the bounds.
    genome_mutation_rates ins = zero, del = zero;
    ins.insert = 1;
    del.del = 1;
    h = g;
    while (h.depth < s.depth_max) {
        int d = h.depth;
        genome_mutate(&h, &s, &ins, &rng);
        CHECK(h.depth == d + 1);
    }
    genome_mutate(&h, &s, &ins, &rng);
    CHECK(h.depth == s.depth_max);
    while (h.depth > s.depth_min) {
        int d = h.depth;
        genome_mutate(&h, &s, &del, &rng);
        CHECK(h.depth == d - 1);
    }
    genome_mutate(&h, &s, &del, &rng);
    CHECK(h.depth == s.depth_min);
    // Operator rate 1 changes every multi-allele operator gene of used classes only.
    genome_mutation_rates ops = zero;
    ops.op = 1;
    star_error err = {0};
    CHECK(genome_parse("11111-11111-11111", &g, &err) == 0);
    h = g;
    genome_mutate(&h, &s, &ops, &rng);
    CHECK(h.op[0][OP_SPARSITY] != g.op[0][OP_SPARSITY]);
    CHECK(!memcmp(h.op[LIV_REC2 - 1], g.op[LIV_REC2 - 1], OP_GENES));
}

static void test_crossover(void) {
    genome_space s = genome_space_default();
    s.depth_min = 2;
    s.depth_max = 10;
    genome a, b;
    star_error err = {0};
    CHECK(genome_parse("11111-11111-11111-11111-11111-11111", &a, &err) == 0);
    CHECK(genome_parse("91111-91111-91111-91111-91111-91111;o9=11121", &b, &err) == 0);
    pcg32 rng;
    pcg32_seed(&rng, 11, 2);
    int depths[GENOME_MAX_DEPTH + 1] = {0}, op_from_b = 0, ok = 1;
    for (int t = 0; t < 3000 && ok; t++) {
        genome c;
        genome_crossover(&a, &b, 1, &s, &rng, &c);
        ok = in_space(&c, &s);
        depths[c.depth]++;
        op_from_b += c.op[LIV_GMEMLESS - 1][OP_NONLINEARITY] == 2;
        // One point: a prefix of a's LIVs, then a suffix of b's (padding with a's LIVs
        // only when the child is too short, which keeps the prefix shape).
        int i = 0;
        while (i < c.depth && c.liv[i].bb[BB_CLASS] == LIV_SA1) i++;
        while (i < c.depth && c.liv[i].bb[BB_CLASS] == LIV_GMEMLESS) i++;
        if (i != c.depth && c.depth > s.depth_min) {
            CHECK_MSG(0, "child is not a prefix of a then a suffix of b");
            ok = 0;
        }
    }
    int distinct = 0;
    for (int d = 0; d <= GENOME_MAX_DEPTH; d++) distinct += depths[d] > 0;
    CHECK(depths[0] == 0 && depths[1] == 0);
    CHECK(distinct >= 8);  // cut positions drawn independently: depths 2..10 appear
    CHECK(op_from_b > 1200 && op_from_b < 1800);
    // Many points, random parents, tight bounds.
    s.depth_min = 4;
    s.depth_max = 5;
    ok = 1;
    for (int t = 0; t < 3000 && ok; t++) {
        genome p, q, c;
        genome_space wide = genome_space_default();
        wide.depth_max = 12;
        genome_random(&wide, &rng, &p);
        genome_random(&wide, &rng, &q);
        genome_crossover(&p, &q, 1 + (int)pcg32_bounded(&rng, 5), &s, &rng, &c);
        ok = in_space(&c, &s);
    }
}

int main(void) {
    test_space_checks();
    test_random();
    test_determinism();
    test_mutation();
    test_crossover();
    TEST_END();
}
