// star bench ARCH [--backend cpu|cuda] [--width D --vocab V --batch B --seq-len T --steps N]
//
// Times full training steps (forward, backward, gradient norm, AdamW) of an
// architecture on random tokens after a few warm-up steps, prints throughput and
// memory, and appends one JSON line to bench/results/<backend>.jsonl so that speed-ups
// and regressions stay on record (the line names the machine, the date and the threads).
// On CUDA it also reports the model FLOPs utilization: training FLOPs per second over the
// bf16 matrix-product rate measured on the same device (an 8192^3 cuBLASLt product).
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli/arch_args.h"
#include "cli/commands.h"
#include "common/file.h"
#include "common/json.h"
#include "common/pcg32.h"
#include "common/timer.h"
#include "dist/dist.h"
#include "dist/nccl_group.h"
#include "eval/model.h"
#include "eval/model_cuda.h"
#include "eval/optimizer.h"
#include "eval/quality.h"
#include "genome/genome_stats.h"
#ifdef STAR_WITH_CUDA
#include "kernels/kernels.h"
#endif

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };
#define BENCH_DEFAULT_STEPS 10
#define BENCH_DEFAULT_RESULTS "bench/results/cpu.jsonl"
#define BENCH_CUDA_RESULTS "bench/results/cuda.jsonl"
#define BENCH_PEAK_N 8192  // the matrix product that measures the device's bf16 peak

static void usage(FILE *f) {
    fprintf(f,
            "usage: star bench ARCH [--backend cpu|cuda] [--width D] [--vocab V] [--batch B] [--seq-len T]\n"
            "                       [--steps N] [--warmup-steps N] [--threads N] [--seed S]\n"
            "                       [--results FILE] [--json] [--nccl] [--graph|--no-graph]\n\n"
            "Times training steps (forward, backward, AdamW) of ARCH on random tokens after\n"
            "--warmup-steps untimed ones (default 2) and prints tokens per second, ms per step,\n"
            "the last step's loss (the same random batch every step: two builds with the same\n"
            "arithmetic print the same bits), parameters, the model's planned memory (weights,\n"
            "gradients, activations), the optimizer's moments and the process's peak RSS.\n"
            "Appends one JSON line to\n"
            "%s (cuda: " BENCH_CUDA_RESULTS "; relative to the current directory;\n"
            "--results FILE elsewhere). --json prints the same object. With --backend cuda it\n"
            "also prints the model FLOPs utilization against the bf16 matrix-product rate\n"
            "measured on the same device, the model's device arena and the device memory in use.\n"
            "Under an MPI launcher (mpirun -np N star bench ARCH --backend cuda) the N ranks train\n"
            "data parallel, one GPU each, the --batch rows split over them and the gradients summed\n"
            "through NCCL; tokens/s and MFU are the group's. --nccl takes that path with one rank.\n"
            "Training alone, the step runs captured as one CUDA graph (its first two steps of a shape\n"
            "are warm-up and capture, so keep --warmup-steps at 2 or more); --no-graph (or\n"
            "STAR_CUDA_GRAPH=0) times it uncaptured, --graph captured whatever the environment says;\n"
            "the JSON line records \"graph\": true or false, and \"attention_kernels\": the version of\n"
            "the attention kernels (2; STAR_ATTN_V1=1: 1; STAR_ATTN_ATOMIC_DQ=1: 3) and\n"
            "\"attention_wgmma\": the passes asked to run on wgmma (STAR_ATTN_WGMMA; 0 none), and\n"
            "\"attention_stages\": the buffers for the attention kernels' streamed tiles\n"
            "(STAR_ATTN_STAGES: 2 or 3; 0 unset, the defaults).\n\n"
            "  ARCH                 a genome string or a genome / architecture YAML file\n"
            "  --backend B          the engine to time: cpu (default) or cuda (the rank's device;\n"
            "                       needs a build with the CUDA backend)\n"
            "  --width D, --vocab V model dimensions (default: the file's, else 128 / 256)\n"
            "  --batch B            sequences per step (default 16)\n"
            "  --seq-len T          tokens per sequence (default 128)\n"
            "  --steps N            timed steps (default %d)\n"
            "  --threads N          CPU threads (default: all cores)\n",
            BENCH_DEFAULT_RESULTS, BENCH_DEFAULT_STEPS);
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "star: error: star bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(star bench --help for the options)\n");
    va_end(ap);
    return EXIT_USAGE;
}

typedef struct bench_result {
    double tokens_per_s, ms_per_step;
    double loss;  // the last timed step's training loss: equal bits, equal arithmetic (bench/ab.sh)
    size_t params, memory_bytes, optimizer_bytes;
    long peak_rss_bytes;
    int threads;
    arch_stats stats;
    // CUDA only.
    char device[256];
    double peak_tflops, mfu;
    size_t arena_bytes, device_used_bytes;
    int ranks, nccl;  // data parallel over ranks GPUs (through NCCL)
    int graph;        // the step ran as a captured CUDA graph
    int attention;    // the attention kernels' version (kernels/kernels.h)
    int attention_wgmma;  // the passes asked to run on wgmma (kernels/kernels.h)
    int attention_stages; // buffers for the attention kernels' streamed tiles (kernels/kernels.h)
} bench_result;

// The CPU's model name from /proc/cpuinfo ("unknown" where there is none).
static void cpu_model(char *out, size_t cap) {
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10)) continue;
        char *v = strchr(line, ':');
        if (!v) continue;
        v++;
        while (*v == ' ' || *v == '\t') v++;
        v[strcspn(v, "\n")] = '\0';
        if (*v) snprintf(out, cap, "%s", v);
        break;
    }
    fclose(f);
}

// One training step as train_run takes it: forward, backward, clipping, AdamW.
static int train_step(model *m, adamw_state *opt, const token_batch *b, double *loss, star_error *err) {
    if (model_forward(m, b, loss, err) != 0) return -1;
    model_zero_grad(m);
    if (model_backward(m, err) != 0) return -1;
    double gnorm = adamw_grad_norm(m);
    adamw_step(opt, m, 1e-3, 0.9, 0.95, 1e-8, 0.1, gnorm > 1.0 ? 1.0 / gnorm : 1.0);
    return 0;
}

static int run_bench(const arch_args *a, int warmup_steps, bench_result *r, star_error *err) {
    memset(r, 0, sizeof *r);
    token_batch b;
    if (token_batch_alloc(&b, a->batch, a->seq_len, err) != 0) return -1;
    pcg32 rng = pcg32_derive(a->seed, 0x62656e6368ull);  // "bench"
    size_t n = (size_t)a->batch * a->seq_len;
    for (size_t i = 0; i < n; i++) {
        b.inputs[i] = (int32_t)pcg32_bounded(&rng, (uint32_t)a->dims.vocab);
        b.targets[i] = (int32_t)pcg32_bounded(&rng, (uint32_t)a->dims.vocab);
    }
    model_options mo = {.max_batch = a->batch, .max_seq = a->seq_len, .seed = a->seed};
    model *m = NULL;
    adamw_state opt;
    int opt_ready = 0, rc = -1;
    if (model_create(&a->a, mo, &m, err) != 0) goto out;
    if (adamw_init(&opt, m, err) != 0) goto out;
    opt_ready = 1;
    for (int s = 0; s < warmup_steps; s++)
        if (train_step(m, &opt, &b, &r->loss, err) != 0) goto out;
    double t0 = star_now_s();
    for (int s = 0; s < a->steps; s++)
        if (train_step(m, &opt, &b, &r->loss, err) != 0) goto out;
    double dt = star_now_s() - t0;
    r->ms_per_step = 1e3 * dt / a->steps;
    r->tokens_per_s = dt > 0 ? (double)n * a->steps / dt : 0;
    r->params = model_param_count(m);
    r->memory_bytes = model_planned_bytes(m);
    r->optimizer_bytes = opt.n * 2 * sizeof(real);
    arch_stats_compute(&a->a, a->seq_len, (int)sizeof(real), &r->stats);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) r->peak_rss_bytes = ru.ru_maxrss * 1024L;  // Linux: kilobytes
#ifdef _OPENMP
    r->threads = omp_get_max_threads();
#else
    r->threads = 1;
#endif
    rc = 0;
out:
    if (opt_ready) adamw_free(&opt);
    model_free(m);
    token_batch_free(&b);
    return rc;
}

// The same steps on CUDA: this rank's device; under an MPI launcher (or with --nccl) data
// parallel over the ranks through NCCL, each rank on its rows of the batch. Then the
// device's bf16 peak, measured by rank 0.
static int run_bench_cuda(const arch_args *a, int warmup_steps, int use_nccl, int use_graph, bench_result *r,
                          star_error *err) {
#ifdef STAR_WITH_CUDA
    memset(r, 0, sizeof *r);
    const dist_comm *world = dist_world();
    int n_ranks = dist_size(world), rank = dist_rank(world);
    if (a->batch % n_ranks) return STAR_FAIL(err, "--batch %d is not a multiple of the %d ranks", a->batch, n_ranks);
    int rows = a->batch / n_ranks;
    token_batch b;
    if (token_batch_alloc(&b, rows, a->seq_len, err) != 0) return -1;
    // The global batch's random tokens, as on the CPU; this rank keeps its rows.
    pcg32 rng = pcg32_derive(a->seed, 0x62656e6368ull);  // "bench"
    size_t n = (size_t)a->batch * a->seq_len, lo = (size_t)rank * rows * a->seq_len, hi = lo + (size_t)rows * a->seq_len;
    for (size_t i = 0; i < n; i++) {
        int32_t in = (int32_t)pcg32_bounded(&rng, (uint32_t)a->dims.vocab);
        int32_t tg = (int32_t)pcg32_bounded(&rng, (uint32_t)a->dims.vocab);
        if (i >= lo && i < hi) b.inputs[i - lo] = in, b.targets[i - lo] = tg;
    }
    model_options mo = {.max_batch = rows, .max_seq = a->seq_len, .seed = a->seed};
    cuda_model *g = NULL;
    star_cuda *ctx = NULL;
    nccl_group *nccl = NULL;
    int rc = -1, device = 0;
    train_params tp;
    train_params_default(&tp);
    tp.steps = warmup_steps + a->steps;
    tp.batch = a->batch;
    tp.seq_len = a->seq_len;
    tp.lr = 1e-3;
    tp.warmup_steps = 0;
    if (dist_agree(world, cuda_rank_device(&device, err), err) != 0) goto out;
    r->ranks = n_ranks;
    r->nccl = use_nccl || n_ranks > 1;
    if (r->nccl && dist_agree(world, nccl_group_create(0, rank, device, 0, &nccl, err), err) != 0) goto out;
    if (dist_agree(world, cuda_model_create(&a->a, mo, device, &g, err), err) != 0) goto out;
    // The step is captured only when training alone (cuda_train_step).
    if (use_graph >= 0) cuda_model_set_graph(g, use_graph);
    r->graph = cuda_model_graph(g) && !r->nccl;
    r->attention = attention_kernel_version_cuda(err);
    if (dist_agree(world, r->attention < 0 ? -1 : 0, err) != 0) goto out;
    r->attention_wgmma = attention_wgmma_cuda(err);
    if (dist_agree(world, r->attention_wgmma < 0 ? -1 : 0, err) != 0) goto out;
    r->attention_stages = attention_stages_cuda(err);
    if (dist_agree(world, r->attention_stages < 0 ? -1 : 0, err) != 0) goto out;
    double t0 = 0;
    for (int s = 0; s < tp.steps; s++) {
        if (s == warmup_steps) {
            if (cuda_model_sync(g, err) != 0 || dist_barrier(world, err) != 0) goto step_failed;
            if (star_cuda_profile_range(1, err) != 0) goto step_failed;  // the timed steps only
            t0 = star_now_s();
        }
        cuda_step_result sr;
        if (cuda_train_step(g, nccl, &b, world, s, &tp, &sr, err) != 0) goto step_failed;
        r->loss = sr.loss;
    }
    if (cuda_model_sync(g, err) != 0 || dist_barrier(world, err) != 0) goto step_failed;
    double dt = star_now_s() - t0;
    if (star_cuda_profile_range(0, err) != 0) goto step_failed;
    r->ms_per_step = 1e3 * dt / a->steps;
    r->tokens_per_s = dt > 0 ? (double)n * a->steps / dt : 0;
    r->params = model_param_count(cuda_model_host(g));
    r->arena_bytes = r->memory_bytes = cuda_model_arena_bytes(g);
    r->optimizer_bytes = r->params * 2 * sizeof(float);
    arch_stats_compute(&a->a, a->seq_len, 2, &r->stats);
    // No allocation happens inside a step: what is in use now is the peak of the steps.
    if (star_cuda_memory_used(&r->device_used_bytes, NULL, err) != 0) goto out;
    if (star_cuda_device_name(device, r->device, sizeof r->device, err) != 0) goto out;
    cuda_model_free(g);
    g = NULL;
    if (rank == 0 && (star_cuda_create(&ctx, device, err) != 0 ||
                      matmul_peak_tflops_cuda(ctx, BENCH_PEAK_N, 10, &r->peak_tflops, err) != 0))
        goto out;
    // MFU of the whole group: the FLOPs done over the peak of all its devices.
    r->mfu = r->peak_tflops > 0
                 ? 1e-12 * (double)r->stats.train_flops_per_token * r->tokens_per_s / (r->peak_tflops * n_ranks)
                 : 0;
    r->threads = 1;
    rc = 0;
out:
    cuda_model_free(g);
    nccl_group_free(nccl);
    star_error ignore;  // a failure here is reported by the call that failed first
    star_cuda_destroy(ctx, &ignore);
    token_batch_free(&b);
    return rc;
step_failed:
    // The other ranks may be waiting in a collective for this one: stop them all.
    if (n_ranks > 1) {
        star_error_prefix(err, "rank %d", rank);
        star_error_print(err);
        dist_abort(1);
    }
    goto out;
#else
    (void)a, (void)warmup_steps, (void)use_nccl, (void)use_graph, (void)r;
    return STAR_FAIL(err, "--backend cuda: this build has no CUDA backend (it needs a CUDA compiler at configure "
                          "time); use --backend cpu");
#endif
}

static void format_json(const arch_args *a, const char *backend, const bench_result *r, json_writer *w) {
    char device[256], date[32];
    if (r->device[0])
        snprintf(device, sizeof device, "%s", r->device);
    else
        cpu_model(device, sizeof device);
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    jw_obj_begin(w);
    jw_kv_str(w, "arch", a->arch_arg);
    jw_kv_str(w, "genome", a->genome_string);
    jw_kv_str(w, "backend", backend);
    jw_kv_int(w, "width", a->dims.width);
    jw_kv_int(w, "vocab", a->dims.vocab);
    jw_kv_int(w, "batch", a->batch);
    jw_kv_int(w, "seq_len", a->seq_len);
    jw_kv_int(w, "steps", a->steps);
    jw_kv_double(w, "tokens_per_s", r->tokens_per_s);
    jw_kv_double(w, "loss", r->loss);
    jw_kv_double(w, "ms_per_step", r->ms_per_step);
    jw_kv_int(w, "params", (int64_t)r->params);
    jw_kv_int(w, "memory_bytes", (int64_t)r->memory_bytes);
    jw_kv_int(w, "optimizer_bytes", (int64_t)r->optimizer_bytes);
    jw_kv_int(w, "peak_rss_bytes", r->peak_rss_bytes);
    jw_kv_int(w, "train_flops_per_token", r->stats.train_flops_per_token);
    jw_kv_double(w, "gflops_per_s", 1e-9 * (double)r->stats.train_flops_per_token * r->tokens_per_s);
    jw_kv_int(w, "threads", r->threads);
    if (r->peak_tflops > 0) {
        jw_kv_int(w, "ranks", r->ranks);
        jw_kv_bool(w, "nccl", r->nccl);
        jw_kv_bool(w, "graph", r->graph);
        jw_kv_int(w, "attention_kernels", r->attention);
        jw_kv_int(w, "attention_wgmma", r->attention_wgmma);
        jw_kv_int(w, "attention_stages", r->attention_stages);
        jw_kv_double(w, "peak_bf16_tflops", r->peak_tflops);
        jw_kv_double(w, "mfu", r->mfu);
        jw_kv_int(w, "arena_bytes", (int64_t)r->arena_bytes);
        jw_kv_int(w, "device_memory_used_bytes", (int64_t)r->device_used_bytes);
    }
    jw_kv_str(w, "device", device);
    jw_kv_str(w, "date", date);
    jw_obj_end(w);
}

// Appends the line to path, creating its directory.
static int append_result(const char *path, const char *line, star_error *err) {
    char dir[4096];
    if (strlen(path) >= sizeof dir) return STAR_FAIL(err, "--results: the path is too long");
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (dir_create(dir, err) != 0) return -1;
    }
    return file_append_line(path, line, err);
}

int cmd_bench(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return EXIT_OK;
    }
    arch_args a;
    arch_args_defaults(&a);
    a.steps = 0;  // 0: not given
    const char *backend = "cpu", *results = NULL;
    long warmup_steps = 2;
    int use_nccl = 0, use_graph = -1;  // -1: as STAR_CUDA_GRAPH says
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--nccl")) {
            use_nccl = 1;
            continue;
        }
        if (!strcmp(o, "--graph") || !strcmp(o, "--no-graph")) {
            use_graph = o[2] == 'g';
            continue;
        }
        if (!strcmp(o, "--backend") || !strcmp(o, "--results") || !strcmp(o, "--warmup-steps")) {
            if (i + 1 >= argc) return usage_error("%s needs a value", o);
            const char *v = argv[++i];
            if (o[2] == 'b') {
                backend = v;
            } else if (o[2] == 'r') {
                results = v;
            } else {
                char *end;
                errno = 0;
                warmup_steps = strtol(v, &end, 10);
                if (end == v || *end || errno || warmup_steps < 0 || warmup_steps > 1000000)
                    return usage_error("--warmup-steps: expected an integer in [0, 1000000], got '%s'", v);
            }
            continue;
        }
        int r = arch_args_option(&a, argc, argv, &i);
        if (r < 0) return EXIT_USAGE;
        if (r > 0) {
            if (a.data || a.bin || a.mad || a.save || a.from || a.tokens)
                return usage_error("%s is not a bench option (bench times random tokens)", o);
            continue;
        }
        if (o[0] == '-') return usage_error("unknown option '%s'", o);
        if (a.arch_arg) return usage_error("unexpected argument '%s' (one ARCH only)", o);
        a.arch_arg = o;
    }
    if (!a.arch_arg) return usage_error("no architecture given (a genome string or a file)");
    if (strcmp(backend, "cpu") && strcmp(backend, "cuda"))
        return usage_error("--backend: expected cpu or cuda, got '%s'", backend);
    int on_cuda = !strcmp(backend, "cuda");
    if (!results) results = on_cuda ? BENCH_CUDA_RESULTS : BENCH_DEFAULT_RESULTS;
    if (!*results) return usage_error("--results: expected a file path");
    // Usage errors first, whatever this build can do.
    if (use_nccl && !on_cuda) return usage_error("--nccl needs --backend cuda");
    if (use_graph >= 0 && !on_cuda) return usage_error("%s needs --backend cuda", use_graph ? "--graph" : "--no-graph");
    if (use_graph == 1 && use_nccl)
        return usage_error("--graph times training alone: data-parallel steps (--nccl) are not captured");
    star_error err;
    memset(&err, 0, sizeof err);
#ifndef STAR_WITH_CUDA
    if (on_cuda) {
        STAR_FAIL(&err, "--backend cuda: this build has no CUDA backend (it needs a CUDA compiler at configure time); "
                        "use --backend cpu");
        star_error_print(&err);
        return EXIT_FAIL;
    }
#endif
    if (!a.steps) a.steps = BENCH_DEFAULT_STEPS;
    quality_set_threads(a.threads);
    bench_result r;
    json_writer w;
    jw_init(&w);
    if (dist_init(&err) != 0) goto fail;
    const dist_comm *world = dist_world();
    if (dist_size(world) > 1 && !on_cuda) {
        STAR_FAIL(&err, "under an MPI launcher star bench times data-parallel training on GPUs: add --backend cuda");
        goto fail_all;
    }
    int rc = arch_args_load(&a, &err);
    if (dist_agree(world, rc, &err) != 0) goto fail_all;
    rc = on_cuda ? run_bench_cuda(&a, (int)warmup_steps, use_nccl, use_graph, &r, &err)
                 : run_bench(&a, (int)warmup_steps, &r, &err);
    if (dist_agree(world, rc, &err) != 0) goto fail_all;
    if (dist_rank(world) != 0) {  // rank 0 reports for the group
        jw_free(&w);
        dist_finalize();
        return EXIT_OK;
    }
    format_json(&a, backend, &r, &w);
    if (append_result(results, w.buf, &err) != 0) goto fail;
    if (a.json) {
        printf("%s\n", w.buf);
    } else {
        printf("%s  (%s, width %d, vocab %d, batch %d x %d tokens, %d threads)\n", a.genome_string, backend,
               a.dims.width, a.dims.vocab, a.batch, a.seq_len, r.threads);
        if (on_cuda && r.nccl)
            printf("  data parallel    %d rank(s), one GPU each, gradients summed through NCCL\n", r.ranks);
        if (on_cuda) printf("  CUDA graph       %s\n", r.graph ? "yes (the step captured once, replayed)" : "no");
        printf("  tokens/s         %.0f\n", r.tokens_per_s);
        printf("  ms/step          %.3f  (mean of %d steps after %ld warm-up)\n", r.ms_per_step, a.steps, warmup_steps);
        printf("  loss             %.9g  (the last step's, on the same random batch every step)\n", r.loss);
        printf("  params           %zu\n", r.params);
        printf("  planned memory   %zu bytes (weights, gradients, activations)\n", r.memory_bytes);
        printf("  optimizer        %zu bytes (AdamW moments)\n", r.optimizer_bytes);
        if (on_cuda) {
            printf("  device           %s\n", r.device);
            printf("  device arena     %zu bytes (weights, gradients, moments, activations, scratch)\n",
                   r.arena_bytes);
            printf("  device memory    %zu bytes in use after the steps (whole device)\n", r.device_used_bytes);
            printf("  bf16 peak        %.1f TFLOP/s (measured, %d^3 product)\n", r.peak_tflops, BENCH_PEAK_N);
            printf("  MFU              %.2f%%%s\n", 100.0 * r.mfu, r.ranks > 1 ? " (of all the group's GPUs)" : "");
        } else {
            printf("  peak RSS         %ld bytes\n", r.peak_rss_bytes);
        }
        printf("  GFLOP/s          %.2f  (%lld training FLOPs per token)\n",
               1e-9 * (double)r.stats.train_flops_per_token * r.tokens_per_s, (long long)r.stats.train_flops_per_token);
        printf("  appended to %s\n", results);
    }
    jw_free(&w);
    dist_finalize();
    return EXIT_OK;
fail:
    jw_free(&w);
    star_error_print(&err);
    dist_finalize();
    return EXIT_FAIL;
fail_all:  // agreed by every rank: rank 0 tells it
    jw_free(&w);
    if (dist_rank(dist_world()) == 0) star_error_print(&err);
    dist_finalize();
    return EXIT_FAIL;
}
