// Incremental decoding (eval/model_decode.c):
//  (a) the logits of decode_step at every position equal model_forward's logits on the
//      same sequence (causal, so each row is the forward of its prefix), for genomes of
//      every class and sharing pattern and for random genomes of the default space;
//  (b) decode_cache_bytes equals genome_stats' cache_bytes at the same context and
//      dtype, over hand-picked and random genomes (windows shorter and longer than the
//      context, GQA, feature convs, tying and reuse);
//  (c) decoding past the context, a token outside the vocabulary and a state used with
//      another model fail with a clear message.
#include <stdlib.h>
#include <string.h>

#include "common/pcg32.h"
#include "eval/model.h"
#include "genome/genome_check.h"
#include "genome/genome_stats.h"
#include "genome/genome_string.h"
#include "genome/space.h"
#include "tests/test_util.h"

#define VOCAB 13
#define TOL 1e-4

// Spread the weights (initial scales leave most paths nearly silent) so every LIV
// visibly shapes the logits.
static void spread_weights(model *m, pcg32 *rng) {
    for (int i = 0; i < model_n_tensors(m); i++) {
        param_tensor *t = model_tensor(m, i);
        double fan_in = t->ndim >= 2 ? t->shape[t->ndim - 1] : 1;
        for (size_t k = 0; k < t->numel; k++) {
            if (t->decay) t->data[k] = (real)(pcg32_normal(rng) / sqrt(fan_in));
            else t->data[k] += (real)(0.3 * pcg32_normal(rng));
        }
    }
}

static int build(const genome *g, genome_dims dims, int T, model **m, arch *a) {
    star_error err;
    model_options opt = {.max_batch = 1, .max_seq = T, .seed = 3};
    if (genome_resolve(g, dims, a, &err) != 0 || model_create(a, opt, m, &err) != 0) {
        star_error_print(&err);
        return -1;
    }
    return 0;
}

// Decodes a random sequence of length T through a cache of max_context >= T and checks
// every position's logits and the cache size. Returns the worst relative difference.
static double check_decode(const genome *g, genome_dims dims, int T, int max_context, pcg32 *rng, const char *label) {
    star_error err;
    arch a;
    model *m = NULL;
    if (build(g, dims, T, &m, &a) != 0) {
        CHECK_MSG(0, "%s: model", label);
        return INFINITY;
    }
    spread_weights(m, rng);
    token_batch b;
    if (token_batch_alloc(&b, 1, T, &err) != 0) {
        star_error_print(&err);
        CHECK(0);
        model_free(m);
        return INFINITY;
    }
    for (int t = 0; t < T; t++) b.inputs[t] = (int32_t)pcg32_bounded(rng, dims.vocab);
    double loss;
    int rc = model_forward(m, &b, &loss, &err);
    CHECK(rc == 0);
    const real *full = model_logits(m);
    decode_state *d = NULL;
    rc = decode_create(m, max_context, &d, &err);
    if (rc != 0) star_error_print(&err);
    CHECK(rc == 0);
    double worst = 0;
    real *logits = malloc(sizeof(real) * dims.vocab);
    for (int t = 0; d && t < T; t++) {
        if (decode_step(m, d, b.inputs[t], logits, &err) != 0) {
            star_error_print(&err);
            CHECK_MSG(0, "%s: decode_step at %d", label, t);
            break;
        }
        double scale = 1;
        for (int v = 0; v < dims.vocab; v++) scale = fmax(scale, fabs(full[(size_t)t * dims.vocab + v]));
        for (int v = 0; v < dims.vocab; v++) {
            double diff = fabs(logits[v] - full[(size_t)t * dims.vocab + v]) / scale;
            if (!(diff <= worst)) worst = diff;  // NaN propagates
        }
    }
    CHECK_MSG(worst <= TOL, "%s: decode logits differ from the forward by %.3g (relative)", label, worst);
    if (d) {
        arch_stats st;
        CHECK(genome_stats(g, dims, max_context, 2, &st, &err) == 0);
        CHECK_MSG(decode_cache_bytes(d, 2) == (size_t)st.cache_bytes,
                  "%s: decode cache %zu bytes, genome_stats %lld at context %d", label, decode_cache_bytes(d, 2),
                  (long long)st.cache_bytes, max_context);
    }
    free(logits);
    decode_free(d);
    token_batch_free(&b);
    model_free(m);
    return worst;
}

typedef struct decode_case {
    const char *genome;
    int width, T, max_context;
} decode_case;

static const decode_case cases[] = {
    {"11111-91111", 64, 12, 12},                                   // SA-1, 1 head of 64
    {"11111-91111-11111;n=123;o1=11111", 64, 10, 16},              // 2 heads, every norm gene
    {"21111-21111;o2=11111", 128, 12, 12},                         // GQA 4 -> 2
    {"21111-91111;o2=11111;f2=1111.1113.1111", 128, 10, 10},       // MQA 4 -> 1
    {"21111-21112-21212;o2=21111", 128, 11, 20},                   // GQA, reuse, tie + reuse, feature convs
    {"31111-91111-31112;o3=11111", 32, 80, 90},                    // window 64 < context: ring buffer, reuse
    {"31111;o3=14111", 32, 20, 20},                                // window 512 > context
    {"41111-41111;o4=11111", 64, 12, 12},                          // differential attention, 2 heads
    {"41111-41112-41211;o4=21111", 64, 12, 14},                    // SA-diff reuse, tie, feature convs
    {"51111-91111-51112;o5=11121", 64, 20, 20},                    // Rec-1 elu+1 (past one chunk), reuse
    {"51111-51212;o5=21111;f5=1211.2111.1111", 32, 18, 18},        // tie + reuse, conv and grouped features
    {"61111-91111-61112", 64, 20, 24},                             // Rec-2, reuse
    {"61111-61212-61211;o6=23111", 32, 18, 18},                    // state 64, tie + reuse, tie, feature convs
    {"71111-71211;o7=13131;f7=1121.1111.1111", 32, 20, 20},        // GConv-1 kernel 15, expansion 2, tie
    {"71111;o7=21112;f7=2111.1211.1111", 32, 12, 12},              // feature convs, grouped value, diagonal out
    {"81111-91111", 32, 20, 33},                                   // GConv-2, context longer than the sequence
    {"81111-81211;o8=21131;f8=1121.1111.1111", 32, 17, 17},        // feature convs, silu, expansion 2, tie
    {"91111-91211;o9=11121;f9=1131.1211.1111", 32, 9, 9},          // GeGLU 4x, tie, grouped up
    {"11111-51111-61111-71111-81111-21111-31111-41111-91111;n=123123123", 64, 16, 16},  // every class
};

// Cache sizes only (no decoding): contexts from 1 to past every window.
static void check_cache_bytes(const char *gs, int width, int context) {
    star_error err;
    genome g;
    arch a;
    arch_stats st;
    genome_dims dims = {width, VOCAB};
    model *m = NULL;
    decode_state *d = NULL;
    if (genome_parse(gs, &g, &err) != 0 || genome_stats(&g, dims, context, 2, &st, &err) != 0 ||
        build(&g, dims, 4, &m, &a) != 0 || decode_create(m, context, &d, &err) != 0) {
        star_error_print(&err);
        CHECK_MSG(0, "%s at context %d", gs, context);
        model_free(m);
        return;
    }
    CHECK_MSG(decode_cache_bytes(d, 2) == (size_t)st.cache_bytes, "%s: decode cache %zu bytes, genome_stats %lld at %d",
              gs, decode_cache_bytes(d, 2), (long long)st.cache_bytes, context);
    CHECK(decode_cache_bytes(d, 4) == 2 * decode_cache_bytes(d, 2));
    decode_free(d);
    model_free(m);
}

static void check_errors(pcg32 *rng) {
    star_error err;
    genome g;
    arch a;
    model *m = NULL, *m2 = NULL;
    genome_dims dims = {32, VOCAB};
    if (genome_parse("11111-81111", &g, &err) != 0 || build(&g, dims, 4, &m, &a) != 0 || build(&g, dims, 4, &m2, &a)) {
        CHECK(0);
        return;
    }
    decode_state *d = NULL;
    CHECK(decode_create(m, 0, &d, &err) == -1 && d == NULL);
    CHECK_STR_CONTAINS(err.msg, "context");
    CHECK(decode_create(m, 3, &d, &err) == 0);
    real logits[VOCAB];
    CHECK(decode_step(m, d, VOCAB, logits, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "token 13 at position 0 is outside the vocabulary");
    CHECK(decode_step(m2, d, 1, logits, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "another model");
    for (int t = 0; t < 3; t++) CHECK(decode_step(m, d, t, logits, &err) == 0);
    CHECK(decode_step(m, d, 1, logits, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "position 3 is past the context of 3 tokens");
    decode_free(d);
    model_free(m);
    model_free(m2);
}

int main(void) {
    pcg32 rng = pcg32_derive(99, 5);
    star_error err;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const decode_case *c = &cases[i];
        genome g;
        if (genome_parse(c->genome, &g, &err) != 0) {
            star_error_print(&err);
            CHECK_MSG(0, "parse %s", c->genome);
            continue;
        }
        genome_dims dims = {c->width, VOCAB};
        double worst = check_decode(&g, dims, c->T, c->max_context, &rng, c->genome);
        printf("decode %-70s worst rel diff %.2g\n", c->genome, worst);
    }
    // Random genomes of every class with both kinds of sharing.
    genome_space sp = genome_space_default();
    sp.dims = (genome_dims){64, VOCAB};
    sp.depth_min = 1;
    sp.depth_max = 6;
    for (int r = 0; r < 40; r++) {
        genome g;
        genome_random(&sp, &rng, &g);
        char gs[GENOME_STRING_MAX];
        genome_to_string(&g, gs, sizeof gs);
        double worst = check_decode(&g, sp.dims, 12, 12 + r % 3, &rng, gs);
        if (r < 5) printf("decode random %s worst rel diff %.2g\n", gs, worst);
    }
    // Cache bytes at contexts around the windows (64..512) and the conv lengths.
    static const char *const stats_genomes[] = {
        "11111-91111", "21111-21112;o2=11111", "21111;f2=1111.1113.1111", "31111-31112-31212", "31111;o3=14111",
        "41111-41112;o4=21111", "51111-51212;o5=21111", "61111-61112-61211;o6=23111", "71111;o7=23111",
        "71111-71211;o7=11111;f7=1121.1111.1111", "81111-81111;o8=21111", "91111-91111;f9=1131.1111.1111",
        "11111-51111-61111-71111-81111-21111-31111-41111-91111;o1=21111;o6=21111;o8=21111",
    };
    static const int contexts[] = {1, 2, 63, 64, 65, 200, 513};
    for (size_t i = 0; i < sizeof stats_genomes / sizeof stats_genomes[0]; i++)
        for (size_t k = 0; k < sizeof contexts / sizeof contexts[0]; k++)
            check_cache_bytes(stats_genomes[i], i % 2 ? 64 : 128, contexts[k]);
    check_errors(&rng);
    TEST_END();
}
