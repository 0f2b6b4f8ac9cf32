// Closed-form stats against figures derived by hand from the formulas of
// docs/genome.md (each expected value below is written out from its terms).
#include "genome/genome_stats.h"
#include "genome/genome_string.h"
#include "tests/test_util.h"

static arch_stats stats(const char *s, int width, int vocab, long context, int b) {
    genome g;
    arch_stats st = {-1, -1, -1, -1};
    star_error err = {0};
    if (genome_parse(s, &g, &err) || genome_stats(&g, (genome_dims){width, vocab}, context, b, &st, &err))
        CHECK_MSG(0, "%s: %s", s, err.msg);
    return st;
}

static void test_transformer_cache(void) {
    // 12 SA-1 LIVs at width 768, context 4096, bf16: K and V of every LIV.
    char s[12 * 6];
    for (int i = 0; i < 12; i++) {
        memcpy(s + 6 * i, "11111", 5);
        s[6 * i + 5] = i < 11 ? '-' : '\0';
    }
    arch_stats st = stats(s, 768, 50304, 4096, 2);
    CHECK(st.cache_bytes == 2LL * 12 * 4096 * 768 * 2);
    // Each LIV: norm + Q, K, V + output projection; embedding tied with the head + final norm.
    CHECK(st.params == 12LL * (768 + 4LL * 768 * 768) + 50304LL * 768 + 768);
}

static void test_sa1_gmemless(void) {
    // D = 64, V = 256, T = 128, bf16. GMemless inner = 8*64/3 = 170.7 -> 192.
    arch_stats st = stats("11111-91111", 64, 256, 128, 2);
    long long emb = 256 * 64 + 64;
    long long sa = 64 + 3 * 64 * 64 + 64 * 64;       // 16448
    long long mlp = 64 + 2 * 64 * 192 + 192 * 64;    // 36928
    CHECK(st.params == emb + sa + mlp);
    CHECK(st.params == 69824);
    CHECK(st.cache_bytes == 2 * 128 * 64 * 2);
    long long f = 2 * 256 * 64 + (2 * (3 * 4096 + 4096) + 4 * 128 * 64) + 2 * (2 * 64 * 192 + 192 * 64);
    CHECK(st.flops_per_token == f);
    CHECK(st.flops_per_token == 172032);
    CHECK(st.train_flops_per_token == 3 * f);
}

static void test_sharing(void) {
    // Tied featurizer: the second LIV adds only its norm and output projection; FLOPs
    // count the tied weights at both uses; the cache is unchanged.
    arch_stats st = stats("11211-11211", 64, 256, 128, 2);
    CHECK(st.params == 256 * 64 + 64 + (64 + 4 * 4096) + (64 + 4096));
    CHECK(st.cache_bytes == 2 * (2 * 128 * 64 * 2));
    CHECK(st.flops_per_token == 2 * 256 * 64 + 2 * (2 * 4 * 4096 + 4 * 128 * 64));
    // Reused K/V: the second LIV has no K/V projections and no cache of its own.
    st = stats("11111-11112", 64, 256, 128, 2);
    CHECK(st.params == 256 * 64 + 64 + (64 + 4 * 4096) + (64 + 2 * 4096));
    CHECK(st.cache_bytes == 2 * 128 * 64 * 2);
    CHECK(st.flops_per_token == 2 * 256 * 64 + (2 * 4 * 4096 + 4 * 128 * 64) + (2 * 2 * 4096 + 4 * 128 * 64));
    // Rec-2 reusing B, X, dt: no state of its own, half the state FLOPs (read only).
    arch_stats one = stats("61111", 64, 256, 100, 4), two = stats("61111-61112", 64, 256, 100, 4);
    CHECK(two.cache_bytes == one.cache_bytes);
    long long follower = 64 + 64 * 32 + 128 * 64 + 2;  // norm, C projection, out projection, skip
    CHECK(two.params - one.params == follower);
    CHECK(two.flops_per_token - one.flops_per_token == 2 * (64 * 32 + 128 * 64) + 2 * 2 * 32 * 64);
}

static void test_classes(void) {
    // Rec-2 default at D = 64: inner 128, P = 64 -> 2 heads, N = 32; fp32, T = 1000.
    arch_stats st = stats("61111", 64, 256, 1000, 4);
    long long liv = 64 + 2 * (64 * 32) + 64 * 128 + (64 * 2 + 2 + 2) + 128 * 64 + 2;
    CHECK(liv == 20678);
    CHECK(st.params == 256 * 64 + 64 + liv);
    CHECK(st.cache_bytes == 2 * 32 * 64 * 4);
    CHECK(st.flops_per_token == 2 * 256 * 64 + 2 * (2 * 2048 + 8192 + 128 + 8192) + 4 * 2 * 32 * 64);
    // GConv-2 at D = 64, T = 1024, bf16: implicit filter 64*(2*8+2); FFT size 2048.
    st = stats("81111", 64, 256, 1024, 2);
    CHECK(st.params == 256 * 64 + 64 + 64 + 3 * 4096 + 64 * 18);
    CHECK(st.cache_bytes == 1023 * 64 * 2);
    CHECK(st.flops_per_token == 2 * 256 * 64 + 2 * 3 * 4096 + 20 * 64 * 11);
    // GConv-1 default: kernel 3 on inner = D.
    st = stats("71111", 64, 256, 50, 2);
    CHECK(st.params == 256 * 64 + 64 + 64 + 3 * 4096 + 3 * 64);
    CHECK(st.cache_bytes == 2 * 64 * 2);
    CHECK(st.flops_per_token == 2 * 256 * 64 + 2 * 3 * 4096 + 2 * 3 * 64);
    // GConv-1 with diagonal channel mixing: D scales instead of a D x D matrix.
    st = stats("71111;o7=11112", 64, 256, 50, 2);
    CHECK(st.params == 256 * 64 + 64 + 64 + 2 * 4096 + 3 * 64 + 64);
    // Rec-1 at D = 64: one head of 64, state 64 x 64.
    st = stats("51111", 64, 256, 500, 2);
    CHECK(st.cache_bytes == 64 * 64 * 2);
    CHECK(st.flops_per_token == 2 * 256 * 64 + 2 * 4 * 4096 + 4 * 64 * 64);
    // SA-2 default at D = 256: 4 heads of 64, one K/V head.
    st = stats("21111", 256, 1000, 100, 2);
    CHECK(st.params == 1000 * 256 + 256 + 256 + 2 * 256 * 256 + 2 * 256 * 64);
    CHECK(st.cache_bytes == 2 * 100 * 64 * 2);
    CHECK(st.flops_per_token == 2 * 1000 * 256 + 2 * (2 * 65536 + 2 * 16384) + 4 * 100 * 256);
    // SA-3 default (window 128) at T = 4096 and at T = 100.
    st = stats("31111", 64, 256, 4096, 2);
    CHECK(st.cache_bytes == 2 * 128 * 64 * 2);
    CHECK(st.flops_per_token == 2 * 256 * 64 + 2 * 4 * 4096 + 4 * 128 * 64);
    st = stats("31111", 64, 256, 100, 2);
    CHECK(st.cache_bytes == 2 * 100 * 64 * 2);
    // SA-diff: one lambda per head (D = 128: 2 heads of 64).
    st = stats("41111", 128, 256, 10, 2);
    CHECK(st.params == 256 * 128 + 128 + 128 + 4 * 128 * 128 + 2);
    // GMemless expansions: 2D and 4D.
    st = stats("91111;f9=1111.1111.1111", 64, 256, 10, 2);
    CHECK(st.params == 256 * 64 + 64 + 64 + 3 * 64 * 128 && st.cache_bytes == 0);
    st = stats("91111;f9=1131.1111.1111", 64, 256, 10, 2);
    CHECK(st.params == 256 * 64 + 64 + 64 + 3 * 64 * 256);
}

static void test_featurizers_and_norm(void) {
    arch_stats base = stats("11111", 64, 256, 128, 2);
    // Short convs of length 4 on Q, K and V.
    arch_stats st = stats("11111;o1=21211;f1=2111.2111.2111", 64, 256, 128, 2);
    CHECK(st.params - base.params == 3 * 4 * 64);
    CHECK(st.cache_bytes - base.cache_bytes == 3 * 3 * 64 * 2);
    CHECK(st.flops_per_token - base.flops_per_token == 3 * 2 * 4 * 64);
    // Block-diagonal Q projection with 4 blocks.
    st = stats("11111;f1=1211.1111.1111", 64, 256, 128, 2);
    CHECK(base.params - st.params == 4096 - 1024);
    CHECK(base.flops_per_token - st.flops_per_token == 2 * (4096 - 1024));
    // No norm: no norm weight.
    st = stats("11111;n=3", 64, 256, 128, 2);
    CHECK(base.params - st.params == 64);
    CHECK(st.flops_per_token == base.flops_per_token);
}

static void test_errors(void) {
    genome g;
    arch_stats st;
    star_error err = {0};
    CHECK(genome_parse("11111", &g, &err) == 0);
    CHECK(genome_stats(&g, (genome_dims){64, 256}, 0, 2, &st, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "context 0");
    CHECK(genome_stats(&g, (genome_dims){64, 256}, 10, 0, &st, &err) == -1);
    CHECK(genome_stats(&g, (genome_dims){65, 256}, 10, 2, &st, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "width 65");
}

int main(void) {
    test_transformer_cache();
    test_sa1_gmemless();
    test_sharing();
    test_classes();
    test_featurizers_and_norm();
    test_errors();
    TEST_END();
}
