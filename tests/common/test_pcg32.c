// PCG32 against the output of the PCG paper's reference demo (pcg32-demo, seed 42,
// stream 54): its first six 32-bit outputs, and the dice rolls of round 1.
#include "common/pcg32.h"
#include "tests/test_util.h"

int main(void) {
    pcg32 rng;
    pcg32_seed(&rng, 42u, 54u);
    const uint32_t expect[6] = {0xa15c02b7u, 0x7b47f409u, 0xba1d3330u, 0x83d2f293u, 0xbfa4784bu, 0xcbed606eu};
    for (int i = 0; i < 6; i++) CHECK_MSG(pcg32_next(&rng) == expect[i], "output %d", i);

    // Same state, same sequence; another stream, another sequence.
    pcg32 a, b, c;
    pcg32_seed(&a, 7, 1);
    pcg32_seed(&b, 7, 1);
    pcg32_seed(&c, 7, 2);
    int same = 1, differ = 0;
    for (int i = 0; i < 100; i++) {
        uint32_t x = pcg32_next(&a), y = pcg32_next(&b), z = pcg32_next(&c);
        same &= x == y;
        differ += x != z;
    }
    CHECK(same);
    CHECK(differ > 90);

    // Bounded integers stay in range and are roughly uniform.
    int counts[6] = {0};
    pcg32_seed(&a, 1, 1);
    for (int i = 0; i < 60000; i++) {
        uint32_t r = pcg32_bounded(&a, 6);
        CHECK(r < 6);
        if (r < 6) counts[r]++;
    }
    for (int k = 0; k < 6; k++) CHECK_MSG(counts[k] > 9500 && counts[k] < 10500, "count[%d] = %d", k, counts[k]);

    // Floats in [0,1), mean near 1/2; normals with mean near 0 and variance near 1.
    double s = 0, s2 = 0, n = 0;
    for (int i = 0; i < 100000; i++) {
        float f = pcg32_float(&a);
        double d = pcg32_double(&a);
        CHECK(f >= 0 && f < 1 && d >= 0 && d < 1);
        s += f;
        double z = pcg32_normal(&a);
        n += z;
        s2 += z * z;
    }
    CHECK_NEAR(s / 100000, 0.5, 0.01);
    CHECK_NEAR(n / 100000, 0.0, 0.02);
    CHECK_NEAR(s2 / 100000, 1.0, 0.03);

    // Derived streams are deterministic and distinct per tag.
    pcg32 d1 = pcg32_derive(1, 5), d2 = pcg32_derive(1, 5), d3 = pcg32_derive(1, 6);
    CHECK(pcg32_next(&d1) == pcg32_next(&d2));
    CHECK(pcg32_next(&d1) != pcg32_next(&d3));

    // Advancing by k is k outputs; advances compose (checked where stepping is too long).
    const uint64_t ks[] = {0, 1, 2, 3, 63, 64, 1000, 131072};
    for (int i = 0; i < 8; i++) {
        pcg32 x = pcg32_derive(9, 3), y = x;
        for (uint64_t k = 0; k < ks[i]; k++) pcg32_next(&x);
        pcg32_advance(&y, ks[i]);
        CHECK_MSG(x.state == y.state && x.inc == y.inc && pcg32_next(&x) == pcg32_next(&y), "advance %llu",
                  (unsigned long long)ks[i]);
    }
    pcg32 p1 = pcg32_derive(4, 4), p2 = p1;
    pcg32_advance(&p1, 1ULL << 40);
    pcg32_advance(&p1, 12345);
    pcg32_advance(&p2, (1ULL << 40) + 12345);
    CHECK(p1.state == p2.state);
    pcg32_advance(&p2, UINT64_MAX);  // the period is 2^64: one step short of a full turn
    pcg32_next(&p2);
    CHECK(p1.state == p2.state);
    TEST_END();
}
