// Constrained domination, fast non-dominated sort, crowding distance, the tournament
// and the two survivals on small hand-made sets whose answers are worked out by hand.
#include <math.h>
#include <stdlib.h>

#include "search/algorithm.h"
#include "search/ranking.h"
#include "tests/test_util.h"

static individual point(double f0, double f1, double cv) {
    individual ind;
    memset(&ind, 0, sizeof ind);
    ind.f[0] = f0;
    ind.f[1] = f1;
    ind.cv = cv;
    return ind;
}

static void test_dominance(void) {
    individual a = point(1, 2, 0), b = point(2, 3, 0), c = point(0, 5, 0), d = point(1, 2, 0);
    CHECK(constrained_dominance(&a, &b, 2) == 1);
    CHECK(constrained_dominance(&b, &a, 2) == -1);
    CHECK(constrained_dominance(&a, &c, 2) == 0);  // trade-off
    CHECK(constrained_dominance(&a, &d, 2) == 0);  // equal
    individual weak = point(1, 3, 0);
    CHECK(constrained_dominance(&a, &weak, 2) == 1);  // equal in one, better in the other
    // Feasible beats infeasible whatever the objectives; lower cv wins among infeasible.
    individual inf1 = point(0, 0, 0.5), inf2 = point(9, 9, 0.2);
    CHECK(constrained_dominance(&b, &inf1, 2) == 1);
    CHECK(constrained_dominance(&inf1, &b, 2) == -1);
    CHECK(constrained_dominance(&inf2, &inf1, 2) == 1);
    individual inf3 = point(0, 0, 0.2);
    CHECK(constrained_dominance(&inf2, &inf3, 2) == 0);  // same cv: objectives do not matter
    // A failed candidate loses to every evaluated one.
    individual failed = point(NAN, NAN, 0);
    individual_set_failed(&failed, "diverged at step %d", 12);
    CHECK(failed.cv == SEARCH_CV_FAILED);
    CHECK(!strcmp(failed.reason, "diverged at step 12"));
    CHECK(!individual_feasible(&failed));
    CHECK(constrained_dominance(&inf1, &failed, 2) == 1);
    CHECK(constrained_dominance(&failed, &a, 2) == -1);
}

static void test_sort_and_crowding(void) {
    // A(1,5) B(2,3) C(4,1) are non-dominated; D(3,4) only by B; F(4,4) by B, C, D;
    // E(5,5) by everyone, F included.
    individual pop[6] = {point(1, 5, 0), point(2, 3, 0), point(4, 1, 0), point(3, 4, 0), point(5, 5, 0), point(4, 4, 0)};
    int rank[6];
    int n_fronts = nondominated_sort(pop, 6, 2, rank);
    CHECK(n_fronts == 4);
    const int expect[6] = {0, 0, 0, 1, 3, 2};
    for (int i = 0; i < 6; i++) CHECK_MSG(rank[i] == expect[i], "rank[%d] = %d, expected %d", i, rank[i], expect[i]);

    CHECK(population_rank(pop, 6, 2) == 4);
    for (int i = 0; i < 6; i++) CHECK(pop[i].rank == expect[i]);
    // Front {A, B, C}: B's gaps are (4-1)/3 in f0 and (5-1)/4 in f1.
    CHECK(isinf(pop[0].crowding) && isinf(pop[2].crowding));
    CHECK_NEAR(pop[1].crowding, 2.0, 1e-12);
    CHECK(isinf(pop[3].crowding));  // alone in its front

    // Four points on a front: (0,4) (1,2) (3,1) (4,0).
    individual q[4] = {point(0, 4, 0), point(1, 2, 0), point(3, 1, 0), point(4, 0, 0)};
    int idx[4] = {0, 1, 2, 3};
    crowding_distance(q, idx, 4, 2);
    CHECK(isinf(q[0].crowding) && isinf(q[3].crowding));
    CHECK_NEAR(q[1].crowding, 3.0 / 4 + 3.0 / 4, 1e-12);
    CHECK_NEAR(q[2].crowding, 3.0 / 4 + 2.0 / 4, 1e-12);

    // A repeated objective vector gets 0 and leaves the others' gaps as if it were not
    // there: (1,2) twice between (0,4) and (4,0) is one interior point, crowding 1 + 1.
    individual d[4] = {point(0, 4, 0), point(1, 2, 0), point(4, 0, 0), point(1, 2, 0)};
    crowding_distance(d, idx, 4, 2);
    CHECK(isinf(d[0].crowding) && isinf(d[2].crowding));
    CHECK_NEAR(d[1].crowding, 2.0, 1e-12);
    CHECK(d[3].crowding == 0.0);
    // Two distinct vectors and a copy: both distinct ones are extremes, the copy is 0.
    individual e[3] = {point(0, 1, 0), point(1, 0, 0), point(0, 1, 0)};
    crowding_distance(e, idx, 3, 2);
    CHECK(isinf(e[0].crowding) && isinf(e[1].crowding) && e[2].crowding == 0.0);

    // Infeasible members rank after every feasible one, ordered by cv.
    individual mix[5] = {point(9, 9, 0), point(0, 0, 0.3), point(0, 0, 0.1), point(1, 1, 0), point(5, 5, 0.1)};
    population_rank(mix, 5, 2);
    CHECK(mix[3].rank == 0 && mix[0].rank == 1);
    CHECK(mix[2].rank == 2 && mix[4].rank == 2);
    CHECK(mix[1].rank == 3);
}

static void test_tournament(void) {
    individual pop[4] = {point(3, 3, 0), point(1, 1, 0), point(2, 2, 0), point(0, 0, 0.5)};
    population_rank(pop, 4, 2);  // ranks: 1, 0, ... (pop[1] best, pop[3] infeasible last)
    pcg32 rng = pcg32_derive(7, 1);
    int idx[4000], wins[4] = {0};
    tournament_select(pop, 4, &rng, idx, 4000);
    for (int k = 0; k < 4000; k++) {
        CHECK(idx[k] >= 0 && idx[k] < 4);
        wins[idx[k]]++;
    }
    // The best wins every meeting it is in (half of all: 2 of the 4 draws per pair),
    // the infeasible one never wins.
    CHECK(wins[3] == 0);
    CHECK_MSG(wins[1] > 1800 && wins[1] < 2200, "best won %d of 4000", wins[1]);
    CHECK(wins[1] > wins[2] && wins[2] > wins[0]);
}

static void test_survival(void) {
    // Pool: a front of four (0,4) (1,2) (3,1) (4,0), a dominated point, an infeasible one.
    individual pool[6] = {point(5, 5, 0), point(0, 4, 0), point(1, 2, 0), point(3, 1, 0), point(4, 0, 0),
                          point(0, 0, 1.0)};
    int keep[5];
    pcg32 rng = pcg32_derive(1, 1);
    star_error err;
    CHECK(rank_crowding_survive(pool, 3, 6, 2, 2, &rng, keep, &err) == 0);
    // Two of the front survive: its extremes (infinite crowding).
    CHECK((keep[0] == 1 && keep[1] == 4) || (keep[0] == 4 && keep[1] == 1));
    CHECK(rank_crowding_survive(pool, 3, 6, 3, 2, &rng, keep, &err) == 0);
    CHECK(keep[2] == 2);  // then the interior point with the larger crowding
    CHECK(rank_crowding_survive(pool, 3, 6, 5, 2, &rng, keep, &err) == 0);
    CHECK(keep[4] == 0);  // the whole front, then the dominated point, not the infeasible one
    CHECK(rank_crowding_survive(pool, 3, 6, 7, 2, &rng, keep, &err) == -1);

    // Pruning: six points on the line f0 + f1 = 10 at f0 = 0, 2, 5, 5.1, 8.2, 10; keep 4.
    // Crowding computed once ranks 5 (3.1/5) and 5.1 (3.2/5) lowest, and a one-shot cut
    // would drop both, leaving the hole 2..8.2. Pruning drops 5, recomputes (2: 5.1/5,
    // 5.1: 6.2/5, 8.2: 4.9/5) and drops 8.2: the survivors are 0, 2, 5.1, 10.
    const double line[6] = {5.1, 0, 8.2, 2, 10, 5};
    individual lp[6];
    for (int i = 0; i < 6; i++) lp[i] = point(line[i], 10 - line[i], 0);
    CHECK(rank_crowding_survive(lp, 3, 6, 4, 2, &rng, keep, &err) == 0);
    int kept[6] = {0};
    for (int i = 0; i < 4; i++) kept[keep[i]]++;
    CHECK_MSG(kept[0] && kept[1] && kept[3] && kept[4] && !kept[2] && !kept[5], "kept %d %d %d %d", keep[0], keep[1],
              keep[2], keep[3]);

    // A repeated objective vector goes first, the later copy of the two: pool (0,4)
    // (2,2) (3.6,0.4) (3.8,0.2) (4,0) and a copy of (2,2), keep 5. Counting the copy as a
    // point would rate both copies (1.0 and 0.8) above (3.8,0.2) (0.2) and keep them.
    individual dp[6] = {point(0, 4, 0),     point(2, 2, 0), point(3.6, 0.4, 0),
                        point(3.8, 0.2, 0), point(4, 0, 0), point(2, 2, 0)};
    CHECK(rank_crowding_survive(dp, 5, 6, 5, 2, &rng, keep, &err) == 0);
    int kd[6] = {0};
    for (int i = 0; i < 5; i++) kd[keep[i]]++;
    CHECK(kd[0] && kd[1] && kd[2] && kd[3] && kd[4] && !kd[5]);

    // GA: 4 parents + 2 offspring, keep 4: the two best parents and both offspring,
    // however poor the offspring.
    individual ga_pool[6] = {point(3, 3, 0), point(0, 1, 0), point(2, 2, 0), point(1, 0, 0), point(9, 9, 0),
                             point(8, 8, 2.0)};
    int k4[4];
    CHECK(algorithm_ga.offspring_count(4) == 2);
    CHECK(algorithm_ga.survive(ga_pool, 4, 6, 4, 2, &rng, k4, &err) == 0);
    int has[6] = {0};
    for (int i = 0; i < 4; i++) has[k4[i]]++;
    CHECK(has[1] == 1 && has[3] == 1 && has[4] == 1 && has[5] == 1);
    CHECK(has[0] == 0 && has[2] == 0);
}

static void test_pareto_filter(void) {
    double f[] = {1, 5, 2, 3, 3, 4, 2, 3, 4, 1, 5, 5, 0, 6};
    int m = pareto_filter(f, 7, 2);
    CHECK(m == 4);
    const double expect[] = {1, 5, 2, 3, 4, 1, 0, 6};
    for (int i = 0; i < 8 && m == 4; i++) CHECK(f[i] == expect[i]);
}

static void test_lookup(void) {
    CHECK(algorithm_by_name("nsga2") == &algorithm_nsga2);
    CHECK(algorithm_by_name("ga") == &algorithm_ga);
    CHECK(algorithm_by_name("random") == &algorithm_random);
    CHECK(algorithm_by_name("moead") == NULL);
    CHECK_STR_CONTAINS(algorithm_names(), "nsga2");
}

int main(void) {
    test_dominance();
    test_sort_and_crowding();
    test_tournament();
    test_survival();
    test_pareto_filter();
    test_lookup();
    TEST_END();
}
