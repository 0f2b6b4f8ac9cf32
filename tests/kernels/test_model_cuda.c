// star: the CUDA model (eval/model_cuda.h) against the CPU model (eval/model.h) on the
// same fp32 weights and batches: the loss, every parameter gradient, and the loss curve
// of a few AdamW steps. Architectures: Transformer++ and the striped hybrid
// (configs/baselines/), differential attention (SA-diff, whose lambda gradient is
// compared like every other tensor) alternating with SwiGLU at head dim 64, and at head
// dim 128 with feature convs, a post-norm and a LIV reusing an earlier one's K/V, and
// random genomes over the classes the CUDA backend runs (sharing, grouped projections,
// feature convs and every norm placement included; one of them holding SA-diff), and
// attention and SA-diff at head dim 32. Every random genome of the whole gene table, at
// widths 128 to 1024, passes the backend's shape check (this part runs without a GPU);
// a head dim no genome resolves to (96, in a hand-made arch) is refused with a message
// naming the class and the head dim.
//
// Tolerances (bf16 weights, activations and activation gradients against an fp32 CPU
// model): loss relative error < 2e-2; each gradient tensor's error in norm relative to
// max(its norm, 1% of the global gradient norm) < 5e-2 (a tensor whose gradient is below
// 1% of the global norm cannot steer training, and its relative error is dominated by
// bf16 cancellation). Loss curves of 16 AdamW steps (lr 3e-3) on a learnable rule: the
// first 4 steps within 5% (+0.02 nats) of each other (the trajectories start from the
// same weights), then only loosely: at these learning rates a tiny model's training is
// chaotic (loss spikes come at slightly different steps), so the mean of the last 4 steps
// within 15% (+0.1 nats), and both curves must fall.
// The captured training step (CUDA graph, cuda_model_set_graph) against the uncaptured one:
// two models from the same seed on the same batches give bit-identical losses, gradient
// norms, final weights and AdamW moments (Transformer++ with a shape change and back, the
// striped hybrid with GConv-2 and attention, a Rec-2 genome and the SA-diff + SwiGLU
// genome with a shape change), a shape change captures again (counted), and a step whose
// loss is not finite leaves weights and moments as the uncaptured step does.
// Prints one line per model with the worst tensor. Exit 77 without a CUDA device.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pcg32.h"
#include "common/timer.h"
#include "eval/model.h"
#include "eval/model_cuda.h"
#include "eval/optimizer.h"
#include "eval/quality.h"
#include "genome/arch.h"
#include "genome/genome_string.h"
#include "genome/genome_yaml.h"
#include "genome/space.h"
#include "kernels/kernels.h"
#include "tests/test_util.h"

#define LOSS_TOL 2e-2
#define GRAD_TOL 5e-2
#define CURVE_STEPS 16
#define CURVE_TIGHT 4

static star_error err;

static void fill_batch(token_batch *b, int V, int learnable, pcg32 *rng) {
    for (int r = 0; r < b->B; r++) {
        int tok = (int)pcg32_bounded(rng, (uint32_t)V);
        for (int t = 0; t < b->T; t++) {
            int p = r * b->T + t;
            b->inputs[p] = tok;
            // A learnable rule (next = 3 tok + 1 mod V) or random targets.
            int next = learnable ? (3 * tok + 1) % V : (int)pcg32_bounded(rng, (uint32_t)V);
            b->targets[p] = (t % 11 == 5) ? TOKEN_UNSCORED : next;  // a few unscored positions
            tok = learnable ? next : (int)pcg32_bounded(rng, (uint32_t)V);
        }
    }
}

static double norm2(const float *a, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * a[i];
    return sqrt(s);
}

static double diff2(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return sqrt(s);
}

// One architecture: loss and gradients at the same weights, then the loss curves.
static void check_arch(const char *name, const arch *a, int B, int T, uint64_t seed) {
    int V = a->dims.vocab;
    double t_start = star_now_s();
    model_options mo = {.max_batch = B, .max_seq = T, .seed = seed};
    model *cpu = NULL;
    cuda_model *gpu = NULL;
    token_batch b;
    adamw_state opt = {0};
    if (model_create(a, mo, &cpu, &err) != 0 || cuda_model_create(a, mo, 0, &gpu, &err) != 0 ||
        token_batch_alloc(&b, B, T, &err) != 0) {
        fprintf(stderr, "%s: cannot create the models: %s\n", name, err.msg);
        CHECK(0);
        goto out;
    }
    CHECK(cuda_model_upload_weights(gpu, cpu, &err) == 0);
    pcg32 rng = pcg32_derive(seed, 7);
    fill_batch(&b, V, 0, &rng);

    // ---- loss and gradients -------------------------------------------------------------
    double lc = NAN, lg = NAN;
    model_zero_grad(cpu);
    CHECK(model_forward(cpu, &b, &lc, &err) == 0 && model_backward(cpu, &err) == 0);
    CHECK(cuda_model_forward(gpu, &b, &lg, &err) == 0 && cuda_model_zero_grad(gpu, &err) == 0 &&
          cuda_model_backward(gpu, &err) == 0);
    model *h = cuda_model_host(gpu);
    if (cuda_model_download_grads(gpu, h, &err) != 0) {
        fprintf(stderr, "%s: %s\n", name, err.msg);
        CHECK(0);
        goto out;
    }
    double loss_rel = fabs(lg - lc) / fabs(lc);
    CHECK_MSG(isfinite(lg) && loss_rel < LOSS_TOL, "%s: loss GPU %.6f CPU %.6f", name, lg, lc);
    int nt = model_n_tensors(cpu);
    double total = 0;
    for (int i = 0; i < nt; i++) {
        double n = norm2(model_tensor(cpu, i)->grad, model_tensor(cpu, i)->numel);
        total += n * n;
    }
    total = sqrt(total);
    double worst = 0;
    const char *worst_name = "-";
    int bad = 0;
    for (int i = 0; i < nt; i++) {
        const param_tensor *tc = model_tensor(cpu, i), *tg = model_tensor(h, i);
        double nc = norm2(tc->grad, tc->numel), d = diff2(tg->grad, tc->grad, tc->numel);
        double denom = fmax(nc, 1e-2 * total), rel = denom > 0 ? d / denom : d;
        if (!isfinite(rel)) rel = INFINITY;
        if (rel > worst) {
            worst = rel;
            worst_name = tc->name;
        }
        if (!(rel < GRAD_TOL)) {
            bad++;
            fprintf(stderr, "%s: gradient of %s: relative error %.4f (|cpu| %.3e, |gpu| %.3e, global %.3e)\n", name,
                    tc->name, rel, nc, norm2(tg->grad, tg->numel), total);
        }
    }
    CHECK_MSG(bad == 0, "%s: %d of %d gradient tensors outside %.0e", name, bad, nt, GRAD_TOL);
    printf("%-28s loss cpu %.5f gpu %.5f (rel %.1e); %3d tensors, worst gradient %.2e (%s)\n", name, lc, lg, loss_rel,
           nt, worst, worst_name);

    // ---- a few AdamW steps from the same weights -------------------------------------------
    if (adamw_init(&opt, cpu, &err) != 0) {
        CHECK(0);
        goto out;
    }
    double t_cpu = 0, t_gpu = 0;
    adamw_hparams hp = {.lr = 3e-3, .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.1};
    double first[2] = {0, 0}, last[2] = {0, 0}, tail[2] = {0, 0}, worst_step = 0;
    for (int s = 0; s < CURVE_STEPS; s++) {
        pcg32 r2 = pcg32_derive(seed, 100 + (uint64_t)s);
        fill_batch(&b, V, 1, &r2);
        double l0 = NAN, l1 = NAN, gn_cpu, gn_gpu = NAN, t0 = star_now_s();
        model_zero_grad(cpu);
        if (model_forward(cpu, &b, &l0, &err) != 0 || model_backward(cpu, &err) != 0) break;
        gn_cpu = adamw_grad_norm(cpu);
        adamw_step(&opt, cpu, hp.lr, hp.beta1, hp.beta2, hp.eps, hp.weight_decay, grad_clip_scale(gn_cpu, 1.0));
        double t1 = star_now_s();
        t_cpu += t1 - t0;
        if (cuda_model_forward(gpu, &b, &l1, &err) != 0 || cuda_model_zero_grad(gpu, &err) != 0 ||
            cuda_model_backward(gpu, &err) != 0 || cuda_model_grad_norm(gpu, 1.0, &gn_gpu, &err) != 0 ||
            cuda_model_adamw_step(gpu, hp, 1, &err) != 0) {
            fprintf(stderr, "%s: step %d: %s\n", name, s, err.msg);
            CHECK(0);
            break;
        }
        t_gpu += star_now_s() - t1;
        if (s == 0) {
            first[0] = l0;
            first[1] = l1;
        }
        last[0] = l0;
        last[1] = l1;
        double dev = fabs(l1 - l0) / fabs(l0);
        if (s < CURVE_TIGHT) {
            if (dev > worst_step) worst_step = dev;
            CHECK_MSG(isfinite(l1) && fabs(l1 - l0) <= 0.05 * fabs(l0) + 0.02,
                      "%s: step %d loss GPU %.5f CPU %.5f (grad norm GPU %.4f CPU %.4f)", name, s, l1, l0, gn_gpu, gn_cpu);
        }
        CHECK_MSG(isfinite(l1), "%s: step %d: GPU loss %g", name, s, l1);
        if (s >= CURVE_STEPS - 4) {
            tail[0] += l0 / 4;
            tail[1] += l1 / 4;
        }
    }
    CHECK_MSG(fabs(tail[1] - tail[0]) <= 0.15 * tail[0] + 0.1, "%s: mean loss of the last 4 steps GPU %.4f CPU %.4f",
              name, tail[1], tail[0]);
    CHECK_MSG(last[1] < first[1] - 0.1 && last[0] < first[0] - 0.1, "%s: loss did not fall: CPU %.4f -> %.4f, GPU %.4f -> %.4f",
              name, first[0], last[0], first[1], last[1]);
    printf("%-28s %d steps: CPU %.4f -> %.4f (last 4: %.4f), GPU %.4f -> %.4f (last 4: %.4f); first %d steps within "
           "%.1e; time CPU %.2f s, GPU %.2f s\n",
           "", CURVE_STEPS, first[0], last[0], tail[0], first[1], last[1], tail[1], CURVE_TIGHT, worst_step, t_cpu, t_gpu);
out:
    printf("%-28s %.2f s in all\n", "", star_now_s() - t_start);
    adamw_free(&opt);
    token_batch_free(&b);
    cuda_model_free(gpu);
    model_free(cpu);
}

// ---- the captured step against the uncaptured one ------------------------------------------
static int same_double(double a, double b) { return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0; }

// Steps at T, then (T2 > 0) two at T2, then back at T; lr huge: the run diverges at its
// second step (the first one the graph runs) and both models must stop there alike.
static void check_graph(const char *name, const arch *a, int B, int T, int T2, double lr, uint64_t seed) {
    enum { STEPS = 8 };
    model_options mo = {.max_batch = B, .max_seq = T, .seed = seed};
    cuda_model *g[2] = {NULL, NULL};
    adamw_state st[2];
    memset(st, 0, sizeof st);
    token_batch b;
    memset(&b, 0, sizeof b);
    if (cuda_model_create(a, mo, 0, &g[0], &err) != 0 || cuda_model_create(a, mo, 0, &g[1], &err) != 0 ||
        token_batch_alloc(&b, B, T, &err) != 0) {
        fprintf(stderr, "%s: cannot create the models: %s\n", name, err.msg);
        CHECK(0);
        goto out;
    }
    cuda_model_set_graph(g[0], 0);
    cuda_model_set_graph(g[1], 1);
    adamw_hparams hp = {.lr = lr, .beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.1};
    int diverge = lr > 1e30, steps_done = 0, stopped_at = -1, same = 1;
    for (int s = 0; s < STEPS; s++) {
        b.B = B;
        b.T = (T2 > 0 && (s == 3 || s == 4)) ? T2 : T;
        pcg32 r = pcg32_derive(seed, 300 + (uint64_t)s);
        fill_batch(&b, a->dims.vocab, 1, &r);
        cuda_step_result res[2];
        if (cuda_model_train_step(g[0], &b, 1.0, hp, &res[0], &err) != 0 ||
            cuda_model_train_step(g[1], &b, 1.0, hp, &res[1], &err) != 0) {
            fprintf(stderr, "%s: step %d: %s\n", name, s, err.msg);
            CHECK(0);
            goto out;
        }
        int eq = same_double(res[0].loss, res[1].loss) && same_double(res[0].grad_norm, res[1].grad_norm) &&
                 res[0].stepped == res[1].stepped && same_double(res[0].lr, res[1].lr);
        CHECK_MSG(eq, "%s: step %d (T %d): uncaptured loss %.17g norm %.17g stepped %d, graph loss %.17g norm %.17g "
                  "stepped %d", name, s, b.T, res[0].loss, res[0].grad_norm, res[0].stepped, res[1].loss,
                  res[1].grad_norm, res[1].stepped);
        same &= eq;
        steps_done = s + 1;
        if (!res[0].stepped) {
            stopped_at = s;
            break;
        }
    }
    int want_captures = diverge ? 1 : (T2 > 0 ? 3 : 1);
    CHECK_MSG(cuda_model_graph_captures(g[1]) == want_captures, "%s: %d captures, expected %d", name,
              cuda_model_graph_captures(g[1]), want_captures);
    CHECK_MSG(cuda_model_graph_captures(g[0]) == 0, "%s: the uncaptured model captured", name);
    if (diverge)
        CHECK_MSG(stopped_at == 1, "%s: at lr %g training should stop at step 1, stopped at %d", name, lr, stopped_at);
    else
        CHECK_MSG(stopped_at < 0, "%s: training stopped at step %d", name, stopped_at);
    CHECK_MSG(cuda_model_step_count(g[0]) == cuda_model_step_count(g[1]), "%s: AdamW steps %ld and %ld", name,
              cuda_model_step_count(g[0]), cuda_model_step_count(g[1]));
    // Final weights and moments, bit for bit.
    model *h[2] = {cuda_model_host(g[0]), cuda_model_host(g[1])};
    for (int k = 0; k < 2; k++)
        if (cuda_model_download_weights(g[k], h[k], &err) != 0 || adamw_init(&st[k], h[k], &err) != 0 ||
            cuda_model_download_optimizer(g[k], &st[k], &err) != 0) {
            fprintf(stderr, "%s: %s\n", name, err.msg);
            CHECK(0);
            goto out;
        }
    int nt = model_n_tensors(h[0]), bad = 0;
    for (int i = 0; i < nt; i++) {
        const param_tensor *t0 = model_tensor(h[0], i), *t1 = model_tensor(h[1], i);
        if (memcmp(t0->data, t1->data, t0->numel * sizeof(real)) != 0) {
            bad++;
            fprintf(stderr, "%s: weights of %s differ\n", name, t0->name);
        }
    }
    CHECK_MSG(bad == 0, "%s: %d of %d weight tensors differ between the graph and the uncaptured steps", name, bad, nt);
    CHECK_MSG(memcmp(st[0].m, st[1].m, st[0].n * sizeof(real)) == 0 &&
                  memcmp(st[0].v, st[1].v, st[0].n * sizeof(real)) == 0 && st[0].t == st[1].t,
              "%s: AdamW moments differ between the graph and the uncaptured steps", name);
    printf("%-28s graph: %d steps%s bit-identical (losses, norms, %d weight tensors, moments), %d capture(s)%s\n", name,
           steps_done, same ? "" : " NOT", nt, cuda_model_graph_captures(g[1]),
           diverge ? ", diverged at step 1 alike" : "");
out:
    for (int k = 0; k < 2; k++) {
        adamw_free(&st[k]);
        cuda_model_free(g[k]);
    }
    token_batch_free(&b);
}

static int load_yaml(const char *path, int width, int vocab, arch *a) {
    genome g;
    genome_dims dims = {0, 0};
    if (genome_load_file(path, &g, &dims, &err) != 0) return -1;
    dims.width = width;
    dims.vocab = vocab;
    return genome_resolve(&g, dims, a, &err);
}

static int load_yaml_text(const char *text, const char *name, int width, int vocab, arch *a) {
    genome g;
    genome_dims dims = {0, 0};
    if (genome_load_text(text, strlen(text), name, &g, &dims, &err) != 0) return -1;
    dims.width = width;
    dims.vocab = vocab;
    return genome_resolve(&g, dims, a, &err);
}

static int has_class(const arch *a, liv_class c) {
    for (int i = 0; i < a->depth; i++)
        if (a->liv[i].cls == c) return 1;
    return 0;
}

// Differential attention (head dim 64 at D128: two heads) alternating with SwiGLU.
static const char sadiff_swiglu_yaml[] =
    "gene_table_version: 1\n"
    "livs: [{class: SA-diff}, {class: GMemless}, {class: SA-diff}, {class: GMemless},\n"
    "       {class: SA-diff}, {class: GMemless}, {class: SA-diff}, {class: GMemless}]\n"
    "operators:\n"
    "  SA-diff: {sparsity: 2}\n"
    "  GMemless: {nonlinearity: 1}\n"
    "featurizers:\n"
    "  GMemless:\n"
    "    - {expansion: 2}\n";

// Head dim 128 (two heads at D256), short convs on q, k, v, and the second SA-diff
// (post-norm) reading the first one's rotated keys and values.
static const char sadiff_reuse_yaml[] =
    "gene_table_version: 1\n"
    "livs:\n"
    "  - {class: SA-diff}\n"
    "  - {class: GMemless}\n"
    "  - {class: SA-diff, feature_group_sharing: {group: 1, strategy: reuse}, norm: post}\n"
    "  - {class: GMemless}\n"
    "operators:\n"
    "  SA-diff: {featurization: 2, sparsity: 3}\n";

// Head dim 32 (sparsity 1: four heads at D128): SA-1, SA-2 on one kv head, SA-3 with its
// window, each followed by SwiGLU.
static const char hd32_yaml[] =
    "gene_table_version: 1\n"
    "livs: [{class: SA-1}, {class: GMemless}, {class: SA-2}, {class: GMemless}, {class: SA-3}, {class: GMemless}]\n"
    "operators:\n"
    "  SA-1: {sparsity: 1}\n"
    "  SA-2: {sparsity: 1}\n"
    "  SA-3: {sparsity: 1}\n";

// SA-diff at head dim 32 (sparsity 1): its maps score 16-wide half-heads.
static const char sadiff_hd32_yaml[] =
    "gene_table_version: 1\n"
    "livs: [{class: SA-diff}, {class: GMemless}]\n"
    "operators:\n"
    "  SA-diff: {sparsity: 1}\n";

// Every random genome of the whole gene table runs on the CUDA backend: its shapes pass
// cuda_model_check_arch (host code: no GPU needed).
static void check_whole_space(void) {
    genome_space sp = genome_space_default();
    sp.classes = GENOME_ALL_CLASSES;
    sp.depth_min = 1;
    sp.depth_max = 16;
    static const int widths[] = {128, 256, 384, 512, 768, 1024};
    pcg32 rng = pcg32_derive(2026, 12);
    int checked = 0, refused = 0, hd32_diff = 0;
    arch a;
    for (int w = 0; w < 6; w++) {
        sp.dims = (genome_dims){widths[w], 256};
        for (int d = 0; d < 500; d++) {
            genome g;
            genome_random(&sp, &rng, &g);
            if (genome_resolve(&g, sp.dims, &a, &err) != 0) {
                CHECK_MSG(0, "a random genome does not resolve: %s", err.msg);
                continue;
            }
            checked++;
            for (int i = 0; i < a.depth; i++) hd32_diff += a.liv[i].cls == LIV_SADIFF && a.liv[i].head_dim == 32;
            if (cuda_model_check_arch(&a, &err) != 0) {
                if (refused++ < 3) printf("refused: %s\n", err.msg);
            }
        }
    }
    printf("whole gene table: %d random genomes at widths 128-1024, %d refused by the CUDA backend "
           "(%d SA-diff LIVs at head dim 32 among them)\n",
           checked, refused, hd32_diff);
    CHECK(checked == 3000 && refused == 0 && hd32_diff > 0);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);  // progress shows even if the run is cut short
    // The CPU reference trains tiny matrices: more threads only contend (16 OpenMP threads
    // made this test minutes long on a 16-core GPU machine). ctest sets OMP_NUM_THREADS=2;
    // run directly, the test takes the same 2 threads unless the environment says
    // otherwise. OpenBLAS runs one thread inside each OpenMP thread either way.
    quality_set_threads(getenv("OMP_NUM_THREADS") ? 0 : 2);
    check_whole_space();
    int count = 0;
    star_cuda_device_count(&count, &err);
    if (count == 0) {
        printf("SKIP: no CUDA device (the whole-space shape check above ran: %s)\n", test_failures ? "FAILED" : "passed");
        return test_failures ? 1 : 77;
    }
    arch a;
    // A head dim the CUDA backend does not run is refused, naming the class and the dim.
    if (load_yaml("configs/baselines/transformer.yaml", 128, 256, &a) == 0) {
        cuda_model *gm = NULL;
        model_options mo = {.max_batch = 1, .max_seq = 16, .seed = 1};
        a.liv[0].head_dim = 96;
        CHECK(cuda_model_create(&a, mo, 0, &gm, &err) != 0 && gm == NULL);
        CHECK_STR_CONTAINS(err.msg, "LIV 0 (SA-1): head dim 96");
        CHECK_STR_CONTAINS(err.msg, "not on the CUDA backend");
    } else {
        CHECK_MSG(0, "transformer.yaml: %s", err.msg);
    }
    if (load_yaml_text(sadiff_hd32_yaml, "sa-diff hd32", 128, 256, &a) == 0) {
        CHECK_MSG(a.liv[0].cls == LIV_SADIFF && a.liv[0].head_dim == 32 && a.liv[0].n_heads == 4,
                  "class %d head dim %d heads %d", (int)a.liv[0].cls, a.liv[0].head_dim, a.liv[0].n_heads);
        check_arch("sa-diff hd32 D128 T128", &a, 2, 128, 17);
    } else {
        CHECK_MSG(0, "sa-diff hd32: %s", err.msg);
    }
    if (load_yaml("configs/baselines/transformer.yaml", 128, 256, &a) == 0)
        check_arch("transformer++ D128 T128", &a, 2, 128, 11);
    else
        CHECK_MSG(0, "transformer.yaml: %s", err.msg);
    if (load_yaml("configs/baselines/transformer.yaml", 64, 256, &a) == 0)
        check_arch("transformer++ D64 T64", &a, 2, 64, 12);
    else
        CHECK_MSG(0, "transformer.yaml: %s", err.msg);
    if (load_yaml("configs/baselines/striped.yaml", 128, 256, &a) == 0)
        check_arch("striped D128 T128", &a, 2, 128, 13);
    else
        CHECK_MSG(0, "striped.yaml: %s", err.msg);
    if (load_yaml_text(hd32_yaml, "hd32", 128, 256, &a) == 0) {
        CHECK_MSG(a.liv[0].head_dim == 32 && a.liv[2].head_dim == 32 && a.liv[2].n_kv_heads == 1 &&
                      a.liv[4].head_dim == 32,
                  "hd32: head dims %d %d %d, SA-2 kv heads %d", a.liv[0].head_dim, a.liv[2].head_dim,
                  a.liv[4].head_dim, a.liv[2].n_kv_heads);
        check_arch("attention hd32 D128 T128", &a, 2, 128, 16);
    } else {
        CHECK_MSG(0, "hd32: %s", err.msg);
    }
    if (load_yaml_text(sadiff_swiglu_yaml, "sa-diff+swiglu", 128, 256, &a) == 0) {
        CHECK(a.liv[0].cls == LIV_SADIFF && a.liv[0].head_dim == 64 && a.liv[0].n_heads == 2);
        check_arch("sa-diff+swiglu D128 T128", &a, 2, 128, 14);
    } else {
        CHECK_MSG(0, "sa-diff+swiglu: %s", err.msg);
    }
    if (load_yaml_text(sadiff_reuse_yaml, "sa-diff reuse", 256, 256, &a) == 0) {
        CHECK(a.liv[2].cls == LIV_SADIFF && a.liv[2].head_dim == 128 && a.liv[2].n_heads == 2 &&
              a.liv[2].kv_from == 0 && a.liv[2].norm == NORM_POST && a.liv[0].feat[0].conv_len > 0);
        check_arch("sa-diff hd128 reuse D256", &a, 2, 64, 15);
    } else {
        CHECK_MSG(0, "sa-diff reuse: %s", err.msg);
    }

    // Random genomes of the wired classes (what the CUDA backend accepts at width 128). The
    // six drawn without SA-diff are those checked before SA-diff was wired; one more holds it.
    genome_space sp = genome_space_default();
    sp.classes = GENOME_ALL_CLASSES & ~GENOME_CLASS_BIT(LIV_SADIFF);
    sp.depth_min = 2;
    sp.depth_max = 6;
    sp.dims = (genome_dims){128, 256};
    pcg32 rng = pcg32_derive(2026, 5);
    int tested = 0, drawn = 0;
    while (tested < 6 && drawn < 400) {
        genome g;
        genome_random(&sp, &rng, &g);
        drawn++;
        if (genome_resolve(&g, sp.dims, &a, &err) != 0 || cuda_model_check_arch(&a, &err) != 0) continue;
        char gs[512], name[64];
        genome_to_string(&g, gs, sizeof gs);
        snprintf(name, sizeof name, "random %d", tested);
        printf("%s: %s\n", name, gs);
        check_arch(name, &a, 2, 64, 100 + (uint64_t)tested);
        tested++;
    }
    CHECK_MSG(tested == 6, "only %d random genomes of %d drawn run on the CUDA backend", tested, drawn);
    sp.classes = GENOME_ALL_CLASSES;
    rng = pcg32_derive(2026, 6);
    int found_diff = 0;
    for (int d = 0; d < 400 && !found_diff; d++) {
        genome g;
        genome_random(&sp, &rng, &g);
        if (genome_resolve(&g, sp.dims, &a, &err) != 0 || !has_class(&a, LIV_SADIFF) ||
            cuda_model_check_arch(&a, &err) != 0)
            continue;
        char gs[512];
        genome_to_string(&g, gs, sizeof gs);
        printf("random sa-diff: %s\n", gs);
        check_arch("random sa-diff", &a, 2, 64, 110);
        found_diff = 1;
    }
    CHECK_MSG(found_diff, "no random genome with SA-diff that the CUDA backend runs in 400 draws");

    // The captured step against the uncaptured one.
    if (load_yaml("configs/baselines/transformer.yaml", 64, 256, &a) == 0) {
        check_graph("transformer++ D64 T64", &a, 2, 64, 32, 3e-3, 21);
        check_graph("transformer++ diverging", &a, 2, 64, 0, 1e39, 22);
    } else {
        CHECK_MSG(0, "transformer.yaml: %s", err.msg);
    }
    if (load_yaml("configs/baselines/striped.yaml", 128, 256, &a) == 0)
        check_graph("striped D128 T64", &a, 2, 64, 0, 3e-3, 23);  // GConv-2: the planned shape only
    else
        CHECK_MSG(0, "striped.yaml: %s", err.msg);
    genome_space rs = genome_space_default();
    rs.classes = GENOME_CLASS_BIT(LIV_REC2) | GENOME_CLASS_BIT(LIV_GMEMLESS);
    rs.depth_min = 2;
    rs.depth_max = 4;
    rs.dims = (genome_dims){128, 256};
    pcg32 rr = pcg32_derive(2026, 9);
    int found = 0;
    for (int d = 0; d < 200 && !found; d++) {
        genome g;
        genome_random(&rs, &rr, &g);
        if (genome_resolve(&g, rs.dims, &a, &err) != 0 || cuda_model_check_arch(&a, &err) != 0) continue;
        int has_rec2 = 0;
        for (int i = 0; i < a.depth; i++) has_rec2 |= a.liv[i].cls == LIV_REC2;
        if (!has_rec2) continue;
        char gs[512];
        genome_to_string(&g, gs, sizeof gs);
        printf("rec-2 genome: %s\n", gs);
        check_graph("rec-2 genome", &a, 2, 64, 32, 3e-3, 24);
        found = 1;
    }
    CHECK_MSG(found, "no Rec-2 genome that the CUDA backend runs in 200 draws");
    if (load_yaml_text(sadiff_swiglu_yaml, "sa-diff+swiglu", 128, 256, &a) == 0)
        check_graph("sa-diff+swiglu D128 T64", &a, 2, 64, 32, 3e-3, 25);
    else
        CHECK_MSG(0, "sa-diff+swiglu: %s", err.msg);
    TEST_END();
}
