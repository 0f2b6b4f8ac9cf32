// The real-vector representation (SBX, polynomial mutation, hash) and the fitness cache.
#include <stdlib.h>

#include "search/fitness_cache.h"
#include "search/real_vector.h"
#include "tests/test_util.h"

static void test_operators(void) {
    star_error err;
    real_vector_space s;
    CHECK(real_vector_space_init(&s, 0, &err) == -1);
    CHECK(real_vector_space_init(&s, 10, &err) == 0);
    CHECK_NEAR(s.var_mutation, 0.1, 1e-15);
    representation rep = real_vector_representation(&s);
    CHECK(rep.size == 10 * sizeof(double));
    pcg32 rng = pcg32_derive(5, 0);
    double a[10], b[10], c[10];
    int in_bounds = 1;
    long changed = 0;
    for (int t = 0; t < 2000; t++) {
        rep.sample(rep.ctx, &rng, a, &err);
        rep.sample(rep.ctx, &rng, b, &err);
        rep.crossover(rep.ctx, &rng, a, b, c, &err);
        for (int i = 0; i < 10; i++) in_bounds &= c[i] >= 0 && c[i] <= 1 && a[i] >= 0 && a[i] < 1;
        memcpy(b, c, sizeof c);
        rep.mutate(rep.ctx, &rng, c, &err);
        for (int i = 0; i < 10; i++) {
            in_bounds &= c[i] >= 0 && c[i] <= 1;
            changed += c[i] != b[i];
        }
    }
    CHECK(in_bounds);
    // Mutation touches each variable with probability 1/n: about 2000 of 20000.
    CHECK_MSG(changed > 1700 && changed < 2300, "mutated %ld of 20000 variables", changed);

    // Identical parents give the same child; SBX children of 0.4 and 0.6 centre on 0.5.
    rep.crossover(rep.ctx, &rng, a, a, c, &err);
    CHECK(!memcmp(a, c, sizeof a));
    s.var_crossover = 1.0;
    double pa[10], pb[10], sum = 0, spread = 0;
    for (int i = 0; i < 10; i++) pa[i] = 0.4, pb[i] = 0.6;
    for (int t = 0; t < 2000; t++) {
        rep.crossover(rep.ctx, &rng, pa, pb, c, &err);
        for (int i = 0; i < 10; i++) sum += c[i], spread += fabs(c[i] - 0.5);
    }
    CHECK_NEAR(sum / 20000, 0.5, 0.005);
    // Far from the bounds SBX spreads the children to mean -/+ beta (b - a) / 2 with
    // E[beta] = (eta+1)/(2(eta+2)) + (eta+1)/(2 eta) = 1.00392 for eta 15 (Deb & Agrawal
    // 1995), so the mean distance from the centre is 0.1004.
    CHECK_NEAR(spread / 20000, 0.1 * (16.0 / 34 + 16.0 / 30), 0.002);

    // Polynomial mutation of 0.5 (every variable, eta 20): |delta| = 1 - (2u)^(1/21) for
    // u < 1/2 and the mirror image above, so E|delta| = 1/22 (the bound terms are
    // 0.5^21, negligible).
    s.var_mutation = 1.0;
    double moved = 0;
    for (int t = 0; t < 2000; t++) {
        for (int i = 0; i < 10; i++) c[i] = 0.5;
        rep.mutate(rep.ctx, &rng, c, &err);
        for (int i = 0; i < 10; i++) moved += fabs(c[i] - 0.5);
    }
    CHECK_NEAR(moved / 20000, 1.0 / 22, 0.002);
    // Near a bound the step shrinks with the distance to it: from 1e-4 a downward move
    // lands uniformly in [0, 1e-4], never below 0.
    int below = 0, inside = 1;
    for (int t = 0; t < 2000; t++) {
        for (int i = 0; i < 10; i++) c[i] = 1e-4;
        rep.mutate(rep.ctx, &rng, c, &err);
        for (int i = 0; i < 10; i++) {
            inside &= c[i] >= 0.0;
            below += c[i] < 1e-4;
        }
    }
    CHECK(inside);
    CHECK_MSG(below > 9500 && below < 10500, "%d of 20000 moved down", below);

    // Hash: equal vectors, equal hashes; a one-ulp change gives another.
    memcpy(b, a, sizeof a);
    CHECK(rep.hash(rep.ctx, a) == rep.hash(rep.ctx, b));
    b[3] = nextafter(b[3], 2.0);
    CHECK(rep.hash(rep.ctx, a) != rep.hash(rep.ctx, b));
}

static void test_cache(void) {
    fitness_cache c;
    fitness_cache_init(&c);
    individual ind, got;
    memset(&ind, 0, sizeof ind);
    memset(&got, 0, sizeof got);
    CHECK(fitness_cache_get(&c, 42, &got) == 0);
    for (int i = 0; i < 5000; i++) {
        ind.hash = (uint64_t)i * 0x9E3779B97F4A7C15ULL;
        ind.f[0] = i;
        ind.f[1] = -i;
        ind.cv = i % 3 ? 0.0 : 0.25;
        ind.status = INDIVIDUAL_OK;
        ind.reason[0] = '\0';
        if (i % 7 == 0) individual_set_failed(&ind, "failed %d", i);
        fitness_cache_put(&c, &ind);
    }
    CHECK(c.count == 5000);
    int all = 1;
    for (int i = 0; i < 5000; i++) {
        int ok = fitness_cache_get(&c, (uint64_t)i * 0x9E3779B97F4A7C15ULL, &got);
        all &= ok && got.f[0] == i && got.f[1] == -i;
        if (i % 7 == 0) {
            char want[32];
            snprintf(want, sizeof want, "failed %d", i);
            all &= got.status == INDIVIDUAL_FAILED && got.cv == SEARCH_CV_FAILED && !strcmp(got.reason, want);
        } else {
            all &= got.status == INDIVIDUAL_OK && got.cv == (i % 3 ? 0.0 : 0.25) && got.reason[0] == '\0';
        }
    }
    CHECK(all);
    CHECK(fitness_cache_get(&c, 12345, &got) == 0);
    // Putting a hash again replaces its entry.
    ind.hash = 0;
    ind.f[0] = 99;
    ind.status = INDIVIDUAL_OK;
    ind.cv = 0;
    fitness_cache_put(&c, &ind);
    CHECK(c.count == 5000);
    CHECK(fitness_cache_get(&c, 0, &got) == 1 && got.f[0] == 99 && got.status == INDIVIDUAL_OK);
    fitness_cache_free(&c);
}

int main(void) {
    test_operators();
    test_cache();
    TEST_END();
}
