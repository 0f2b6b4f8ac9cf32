// Finite-difference check (double build) of model_forward / model_backward: the
// gradient of the mean cross-entropy with respect to every parameter tensor (up to 40
// entries of each), for small genomes covering every class, every norm gene, feature
// convs, grouped projections, expansion factors, GQA, sliding windows shorter and
// longer than the sequence, featurizer tying and feature-group reuse. Each genome's
// allocated parameter count must equal genome_stats' closed form.
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "eval/model.h"
#include "genome/genome_check.h"
#include "genome/genome_stats.h"
#include "genome/genome_string.h"
#include "tests/gradcheck.h"
#include "tests/test_util.h"

#define EPS 1e-5
#define TOL 1e-5
#define MAXC 40
#define VOCAB 11

typedef struct grad_case {
    const char *genome;
    int width, B, T;
} grad_case;

// Head dim 32 everywhere (o<c> gene 3 = 1) so width 32 gives one head and width 64 two.
static const grad_case cases[] = {
    {"11111-91111;o1=11111", 32, 2, 7},                     // SA-1 + SwiGLU, pre-norm
    {"11111-91111-11111;n=123;o1=11111", 32, 2, 8},         // norm genes pre, post, none
    {"91111-91111;n=21", 32, 2, 7},                         // post-norm first
    {"11111-11111;o1=11111", 64, 2, 8},                     // two heads
    {"11111-11111;o1=21111;f1=1111.2111.1111", 32, 2, 9},   // feature convs of length 3 and 4
    {"11111;o1=11112", 32, 2, 7},                           // diagonal output projection
    {"11111-91111;o1=11111;f1=1211.1211.1211", 32, 2, 8},   // grouped projections
    {"21111-21111;o2=11111", 64, 2, 8},                     // GQA 2 -> 1
    {"21111-21112;o2=21111", 64, 2, 9},                     // GQA, K/V reuse, feature convs
    {"31111-91111;o3=11111", 32, 2, 8},                     // window 64 > T
    {"31111-31112;o3=11111", 32, 1, 70},                    // window 64 < T, K/V reuse
    {"41111-41111;o4=11111", 32, 2, 8},                     // differential attention
    {"41111-41212;o4=21111", 32, 2, 7},                     // SA-diff: tie + reuse, feature convs
    {"51111-91111;o5=11111", 32, 2, 9},                     // linear attention
    {"51111-51112;o5=11121", 32, 2, 8},                     // elu+1 features, reuse
    {"51111-51211;o5=21111;f5=1211.2111.1111", 32, 2, 7},   // tie, conv features, grouped q
    {"61111-91111;o6=11111", 32, 2, 8},                     // Rec-2, expansion 2 (2 heads)
    {"61111-61112;o6=12111;f6=1111.1111.1111", 32, 2, 9},   // expansion 1, state 32, reuse
    {"61111-61212-61211;o6=21111", 32, 2, 8},               // tie + reuse, tie only, conv features
    {"71111-71111;o7=11131", 32, 2, 8},                     // GConv-1 kernel 3, silu gate
    {"71111-71211;o7=12121;f7=1121.1111.1111", 32, 2, 9},   // kernel 7, sigmoid, expansion 2, tie
    {"71111;o7=21112;f7=2111.1211.1111", 32, 2, 8},         // feature convs, grouped value, diagonal out
    {"81111-91111", 32, 2, 9},                              // GConv-2
    {"81111-81211;o8=11131;f8=1121.1111.1111", 32, 2, 8},   // silu gate, expansion 2, tie
    {"81111;o8=21111", 32, 2, 7},                           // feature convs
    {"91111-91211;o9=11121", 32, 2, 8},                     // GeGLU, tie
    {"91111-91111;f9=1121.1211.1111", 32, 2, 7},            // expansion 8/3, grouped up
    {"91111;f9=1131.1111.1111", 32, 2, 8},                  // expansion 4
    {"11111-51111-61111-71111-81111-21111-31111-41111-91111;o1=11111;o2=11111;o3=11111;o4=11111;o5=11111;o6=11111",
     32, 2, 8},                                             // every class in one stack
};

typedef struct loss_ctx {
    model *m;
    token_batch *b;
} loss_ctx;

static double model_loss(void *p) {
    loss_ctx *c = p;
    star_error err;
    double loss = 0;
    if (model_forward(c->m, c->b, &loss, &err) != 0) {
        star_error_print(&err);
        return NAN;
    }
    return loss;
}

// Weights at their small initial scale leave many paths nearly silent; spread them so
// every term contributes visibly to the loss.
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

static void check_case(const grad_case *gc, pcg32 *rng) {
    star_error err;
    genome g;
    arch a;
    arch_stats st;
    genome_dims dims = {gc->width, VOCAB};
    printf("-- %s (width %d, B %d, T %d)\n", gc->genome, gc->width, gc->B, gc->T);
    if (genome_parse(gc->genome, &g, &err) != 0 || genome_resolve(&g, dims, &a, &err) != 0 ||
        genome_stats(&g, dims, gc->T, 2, &st, &err) != 0) {
        star_error_print(&err);
        CHECK_MSG(0, "genome %s does not resolve", gc->genome);
        return;
    }
    model *m = NULL;
    model_options opt = {.max_batch = gc->B, .max_seq = gc->T, .seed = 7};
    if (model_create(&a, opt, &m, &err) != 0) {
        star_error_print(&err);
        CHECK_MSG(0, "model_create %s", gc->genome);
        return;
    }
    CHECK_MSG(model_param_count(m) == (size_t)st.params, "%s: model has %zu parameters, genome_stats says %lld",
              gc->genome, model_param_count(m), (long long)st.params);
    token_batch b;
    if (token_batch_alloc(&b, gc->B, gc->T, &err) != 0) {
        star_error_print(&err);
        model_free(m);
        CHECK(0);
        return;
    }
    for (int p = 0; p < gc->B * gc->T; p++) {
        b.inputs[p] = (int32_t)pcg32_bounded(rng, VOCAB);
        b.targets[p] = p % 5 == 3 ? TOKEN_UNSCORED : (int32_t)pcg32_bounded(rng, VOCAB);
    }
    spread_weights(m, rng);
    loss_ctx ctx = {m, &b};
    double loss = model_loss(&ctx);
    CHECK(isfinite(loss));
    model_zero_grad(m);
    int rc = model_backward(m, &err);
    if (rc != 0) star_error_print(&err);
    CHECK(rc == 0);
    // The analytic gradients must not move while the loss is re-evaluated: copy them.
    for (int i = 0; i < model_n_tensors(m); i++) {
        param_tensor *t = model_tensor(m, i);
        real *grad = malloc(t->numel * sizeof(real));
        memcpy(grad, t->grad, t->numel * sizeof(real));
        char name[160];
        snprintf(name, sizeof name, "%s", t->name);
        CHECK_MSG(gradcheck(name, t->data, grad, (long)t->numel, model_loss, &ctx, EPS, TOL, MAXC) == 0, "%s: %s",
                  gc->genome, t->name);
        free(grad);
    }
    token_batch_free(&b);
    model_free(m);
}

int main(void) {
#ifdef _OPENMP
    // Thousands of tiny forwards: threads only add start-up and contention costs.
    omp_set_num_threads(1);
#endif
    (void)fill_normal, (void)dot_weights;  // gradcheck.h helpers this test does not need
    pcg32 rng = pcg32_derive(2024, 1);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i], &rng);
    TEST_END();
}
