// star: an architecture search with evaluation.backend: cuda (eval/arch_search.c, each
// candidate through train_new_cuda). A seeded SA-diff genome at head dim 32 (16-wide
// half-heads) and a seeded Transformer train on the device (status ok, a finite validation
// loss), as does every candidate the search draws (SA-1, SA-diff, SwiGLU at width 64:
// head dims 32 and 64): no failure at all. Then the same search with the device's
// memory taken (every large cudaMalloc fails) completes with every candidate infeasible
// and an out-of-memory reason, and once the memory is back a model trains again (the
// failed allocations left no error behind). Exit 77 without a CUDA device.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file.h"
#include "config/config.h"
#include "dist/dist.h"
#include "eval/arch_search.h"
#include "eval/model_cuda.h"
#include "eval/quality.h"
#include "genome/arch.h"
#include "genome/genome_string.h"
#include "kernels/kernels.h"
#include "search/algorithm.h"
#include "search/run.h"
#include "tests/test_util.h"

#define SA_DIFF_SEED "41111-91111;o4=11111"  // SA-diff, sparsity 1: head dim 32
#define TRANSFORMER_SEED "11111-91111"
#define MAX_HELD 4096

static char tmp[256];
static star_error err;

static void write_file(const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

static int load_config(const char *run, star_config *cfg) {
    char text[2048];
    snprintf(text, sizeof text,
             "run: {dir: %s/%s, seed: 3}\n"
             "space:\n"
             "  classes: [SA-1, SA-diff, GMemless]\n"
             "  depth: {min: 2, max: 4}\n"
             "  width: 64\n"
             "  vocab: 256\n"
             "objectives:\n"
             "  - {name: quality}\n"
             "  - {name: params}\n"
             "algorithm:\n"
             "  name: nsga2\n"
             "  population: 4\n"
             "  generations: 1\n"
             "  seed_with: [%s/sa_diff.yaml, %s/transformer.yaml]\n"
             "evaluation:\n"
             "  backend: cuda\n"
             "  threads: 2\n"
             "  data: {mad: [in_context_recall]}\n"
             "  budget: {steps: 6, batch: 2, seq_len: 64}\n",
             tmp, run, tmp, tmp);
    return config_load_string(text, strlen(text), "search_cuda.yaml", NULL, 0, cfg, &err);
}

// What star search does with a config, as one process.
static int run_search_dir(const star_config *cfg) {
    arch_search *as = NULL;
    char *resolved = NULL;
    dist_comm *group = NULL;
    int rc = -1;
    if (config_write_resolved(cfg, &resolved) != 0) {
        STAR_FAIL(&err, "the config cannot be written back");
        return -1;
    }
    run_spec spec = {.dir = cfg->run.dir,
                     .resolved_config = resolved,
                     .alg = algorithm_by_name(config_algorithm_name(cfg->algorithm.kind)),
                     .quiet = 1};
    if (dist_make_groups(dist_world(), 1, &group, &spec.group_index, &spec.n_groups, &err) != 0) goto out;
    spec.world = dist_world();
    spec.group = group;
    spec.ranks_per_group = 1;
    spec.params.pop_size = cfg->algorithm.population;
    spec.params.generations = cfg->algorithm.generations;
    spec.params.crossover_rate = cfg->algorithm.crossover_rate;
    spec.params.mutation_rate = 1.0;
    spec.params.seed = cfg->run.seed;
    for (int k = 0; k < SEARCH_MAX_OBJ; k++) spec.hv_ref[k] = NAN;
    if (arch_search_create(cfg, &as, &err) != 0) goto out;
    arch_search_fill_spec(as, &spec);
    arch_search_set_group(as, group);
    search_result res;
    if (run_search(&spec, 0, &res, &err) != 0) goto out;
    search_result_free(&res);
    rc = 0;
out:
    arch_search_free(as);
    dist_comm_free(group);
    free(resolved);
    return rc;
}

// The archive of run, counted: lines, ok lines, the SA-diff seed's lines and its ok lines
// with a loss, the Transformer seed's ok lines with a loss, and failures for any reason
// other than failure_has.
typedef struct archive_counts {
    int lines, ok, sa_diff_lines, sa_diff_ok, transformer_ok, other_failures;
} archive_counts;

static archive_counts read_archive(const char *run, const char *failure_has) {
    archive_counts c = {0};
    char path[512], *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s/archive.jsonl", tmp, run);
    if (file_read_all(path, &text, &len, &err) != 0) {
        CHECK_MSG(0, "%s", err.msg);
        return c;
    }
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        c.lines++;
        int ok = strstr(line, "\"status\":\"ok\"") != NULL;
        c.ok += ok;
        int with_loss = ok && strstr(line, "\"val_loss\":") && !strstr(line, "\"val_loss\":null");
        if (strstr(line, "\"x\":\"" SA_DIFF_SEED "\"")) {
            c.sa_diff_lines++;
            c.sa_diff_ok += with_loss;
        } else if (strstr(line, "\"x\":\"" TRANSFORMER_SEED "\"")) {
            c.transformer_ok += with_loss;
        }
        if (!ok && !strstr(line, failure_has)) {
            fprintf(stderr, "unexpected failure: %s\n", line);
            c.other_failures++;
        }
    }
    free(text);
    return c;
}

// Takes the device's free memory in shrinking chunks until even 1 MiB fails.
static int hold_memory(void **held, size_t *total) {
    int n = 0;
    *total = 0;
    for (size_t chunk = (size_t)1 << 30; chunk >= ((size_t)1 << 20); chunk /= 2) {
        star_error ignore;
        while (n < MAX_HELD && star_cuda_malloc(&held[n], chunk, &ignore) == 0) {
            *total += chunk;
            n++;
        }
        star_cuda_clear_error();
    }
    return n;
}

int main(void) {
    int count = 0;
    if (star_cuda_device_count(&count, &err) != 0 || count == 0) {
        printf("SKIP: no CUDA device\n");
        return 77;
    }
    if (dist_init(&err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmp, sizeof tmp, "%s/star_search_cuda_XXXXXX", base);
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 2;
    }
    write_file("sa_diff.yaml", "gene_table_version: 1\nstring: " SA_DIFF_SEED "\n");
    write_file("transformer.yaml", "gene_table_version: 1\nstring: " TRANSFORMER_SEED "\n");
    star_config cfg;

    // Both seeds and every drawn candidate train.
    CHECK_MSG(cuda_backend_check(&err) == 0, "%s", err.msg);
    if (load_config("run", &cfg) == 0) {
        CHECK_MSG(run_search_dir(&cfg) == 0, "%s", err.msg);
        archive_counts c = read_archive("run", "(no other failure)");
        printf("search: %d evaluations, %d ok, SA-diff hd32 seed ok %d of %d, Transformer ok %d\n", c.lines, c.ok,
               c.sa_diff_ok, c.sa_diff_lines, c.transformer_ok);
        CHECK(c.lines >= 4 && c.ok == c.lines);
        CHECK(c.sa_diff_lines >= 1 && c.sa_diff_ok == c.sa_diff_lines);
        CHECK(c.transformer_ok >= 1);
        CHECK(c.other_failures == 0);
    } else {
        CHECK_MSG(0, "%s", err.msg);
    }

    // With the device's memory taken, every candidate fails to allocate and is recorded.
    static void *held[MAX_HELD];
    size_t held_bytes = 0;
    if (load_config("run_full", &cfg) == 0) {
        int n_held = hold_memory(held, &held_bytes);
        printf("holding %.1f GiB of device memory in %d blocks\n", held_bytes / 1073741824.0, n_held);
        int rc = run_search_dir(&cfg);
        for (int i = 0; i < n_held; i++) star_cuda_free(held[i], &err);
        CHECK_MSG(rc == 0, "%s", err.msg);
        archive_counts c = read_archive("run_full", "out of memory");
        printf("search without device memory: %d evaluations, %d ok\n", c.lines, c.ok);
        CHECK(c.lines >= 4 && c.ok == 0 && c.sa_diff_lines >= 1);
        CHECK(c.other_failures == 0);
    } else {
        CHECK_MSG(0, "%s", err.msg);
    }

    // The memory is back: a model trains on the device again.
    genome g;
    arch a;
    quality_result q;
    if (load_config("run_after", &cfg) == 0 && genome_parse(TRANSFORMER_SEED, &g, &err) == 0 &&
        genome_resolve(&g, (genome_dims){cfg.space.width, cfg.space.vocab}, &a, &err) == 0 &&
        quality_evaluate(&cfg, &a, 7, 0, &q, &err) == 0) {
        CHECK_MSG(q.ok && isfinite(q.quality), "after the memory came back: %s", q.reason);
    } else {
        CHECK_MSG(0, "%s", err.msg);
    }

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    dist_finalize();
    TEST_END();
}
