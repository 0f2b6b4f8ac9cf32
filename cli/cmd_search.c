// star search CONFIG [--set key=value]... [--backend cpu|cuda] | star search --resume DIR
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/front_print.h"
#include "common/file.h"
#include "config/config.h"
#include "dist/dist.h"
#include "eval/arch_search.h"
#include "search/real_vector.h"
#include "search/run.h"
#include "search/test_problems.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: star search CONFIG.yaml [--set key.path=value]... [--backend cpu|cuda] [--quiet]\n"
            "       star search --resume RUN_DIR [--quiet]\n\n"
            "Runs the search a config describes (docs/config.md) into its run.dir: the resolved\n"
            "config, archive.jsonl (every evaluation), generations/ (population and front of each\n"
            "generation), checkpoint.json, log.txt and weights/ (each trained candidate's weights,\n"
            "run.keep_weights: all, the default). --resume continues a run from its directory;\n"
            "everything already measured is read back, nothing is measured twice. Ends by printing\n"
            "the front. --backend cuda trains every candidate on the first CUDA device (the\n"
            "same as --set evaluation.backend=cuda; a build with the CUDA backend).\n\n"
            "Under an MPI launcher (mpirun -np N star search ...) the ranks share the work:\n"
            "docs/distributed.md.\n");
}

static void write_real_vector(void *ctx, const void *x, json_writer *w) {
    const int *n_var = ctx;
    const double *v = x;
    jw_arr_begin(w);
    for (int i = 0; i < *n_var; i++) jw_double(w, v[i]);
    jw_arr_end(w);
}

static int run_test_problem(const star_config *cfg, run_spec *spec, int resume, star_error *err) {
    test_problem tp;
    if (test_problem_init(&tp, config_problem_name(cfg->problem.kind), cfg->problem.n_obj, err) != 0) return -1;
    real_vector_space space;
    if (real_vector_space_init(&space, cfg->problem.n_var, err) != 0) return -1;
    representation rep = real_vector_representation(&space);
    problem prob = test_problem_problem(&tp);
    static const char *const names[SEARCH_MAX_OBJ] = {"f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8"};
    int n_var = cfg->problem.n_var;
    spec->rep = &rep;
    spec->prob = &prob;
    spec->obj_names = names;
    spec->n_obj = prob.n_obj;
    for (int k = 0; k < prob.n_obj; k++) spec->hv_ref[k] = 1.1;
    spec->write_x = write_real_vector;
    spec->ctx = &n_var;
    search_result res;
    if (run_search(spec, resume, &res, err) != 0) return -1;
    if (dist_rank(dist_world()) == 0)
        front_print_population(stdout, res.pop, res.n, spec->obj_names, spec->n_obj, NULL, NULL);
    search_result_free(&res);
    return 0;
}

static int run_architectures(const star_config *cfg, run_spec *spec, int resume, star_error *err) {
    arch_search *as = NULL;
    int rc = arch_search_create(cfg, &as, err);
    if (spec->world && dist_agree(spec->world, rc, err) != 0) {
        arch_search_free(as);
        return -1;
    }
    arch_search_fill_spec(as, spec);
    arch_search_set_group(as, spec->group);
    rc = arch_search_setup_cuda(as, spec->group_index, err);
    if (dist_agree(dist_world(), rc, err) != 0) {
        arch_search_free(as);
        return -1;
    }
    search_result res;
    rc = run_search(spec, resume, &res, err);
    if (rc == 0) {
        if (dist_rank(dist_world()) == 0)
            front_print_population(stdout, res.pop, res.n, spec->obj_names, spec->n_obj, spec->write_x, spec->ctx);
        search_result_free(&res);
    }
    arch_search_free(as);
    return rc;
}

int cmd_search(int argc, char **argv) {
    const char *config_path = NULL, *resume_dir = NULL;
    const char *sets[CONFIG_MAX_SETS];
    int n_sets = 0, quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--resume") && i + 1 < argc) {
            resume_dir = argv[++i];
        } else if (!strcmp(argv[i], "--set") && i + 1 < argc) {
            if (n_sets == CONFIG_MAX_SETS) {
                fprintf(stderr, "star search: error: at most %d --set overrides\n", CONFIG_MAX_SETS);
                return 2;
            }
            sets[n_sets++] = argv[++i];
        } else if (!strncmp(argv[i], "--set=", 6)) {
            if (n_sets < CONFIG_MAX_SETS) sets[n_sets++] = argv[i] + 6;
        } else if (!strcmp(argv[i], "--backend")) {
            // The config key's override, so the run's config.yaml records it.
            static char backend_set[64];
            if (i + 1 >= argc || (strcmp(argv[i + 1], "cpu") && strcmp(argv[i + 1], "cuda"))) {
                fprintf(stderr, "star search: error: --backend: expected cpu or cuda%s%s\n", i + 1 < argc ? ", got " : "",
                        i + 1 < argc ? argv[i + 1] : "");
                return 2;
            }
            if (n_sets == CONFIG_MAX_SETS) {
                fprintf(stderr, "star search: error: at most %d --set overrides (--backend is one)\n", CONFIG_MAX_SETS);
                return 2;
            }
            snprintf(backend_set, sizeof backend_set, "evaluation.backend=%s", argv[++i]);
            sets[n_sets++] = backend_set;
        } else if (!strcmp(argv[i], "--quiet")) {
            quiet = 1;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "star search: error: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (!config_path) {
            config_path = argv[i];
        } else {
            fprintf(stderr, "star search: error: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!!config_path == !!resume_dir) {
        usage(stderr);
        return 2;
    }
    if (resume_dir && n_sets) {
        fprintf(stderr, "star search: error: --set and --backend cannot change a run being resumed (its config.yaml "
                        "is fixed)\n");
        return 2;
    }
    star_error err;
    memset(&err, 0, sizeof err);
    if (dist_init(&err) != 0) {
        star_error_print(&err);
        return 1;
    }
    const dist_comm *world = dist_world();
    int n_ranks = dist_size(world);
    dist_comm *group = NULL;
    char *resolved = NULL;
    char resumed_config[4096];
    star_config cfg;
    int rc = 0;
    if (resume_dir) {
        rc = path_join(resumed_config, sizeof resumed_config, resume_dir, "config.yaml", &err);
        if (rc == 0 && dist_rank(world) == 0 && !file_exists(resumed_config))
            rc = STAR_FAIL(&err, "%s: not a run directory (no config.yaml)", resume_dir);
        config_path = resumed_config;
    }
    if (n_ranks == 1) {
        if (rc == 0) rc = config_load(config_path, sets, n_sets, &cfg, &err);
    } else {
        // Rank 0 reads the config and sends it: the other ranks need not see the file.
        char *text = NULL;
        size_t len = 0;
        if (rc == 0 && dist_rank(world) == 0) rc = file_read_all(config_path, &text, &len, &err);
        if (dist_agree(world, rc, &err) != 0) goto fail;
        if (dist_bcast_blob(world, &text, &len, 0, &err) != 0) goto abort;
        rc = config_load_string(text, len, config_path, sets, n_sets, &cfg, &err);
        free(text);
    }
    if (dist_agree(world, rc, &err) != 0) goto fail;
    if (resume_dir) snprintf(cfg.run.dir, sizeof cfg.run.dir, "%s", resume_dir);
    if (config_write_resolved(&cfg, &resolved) != 0) {
        STAR_FAIL(&err, "%s: the config cannot be written back", config_path);
        goto fail;
    }
    const algorithm *alg = algorithm_by_name(config_algorithm_name(cfg.algorithm.kind));
    run_spec spec = {.dir = cfg.run.dir, .resolved_config = resolved, .alg = alg, .quiet = quiet || dist_rank(world) != 0};
    int per_group = cfg.problem.enabled ? 1 : cfg.evaluation.ranks_per_candidate;
    if (dist_make_groups(world, per_group, &group, &spec.group_index, &spec.n_groups, &err) != 0) goto abort;
    spec.world = world;
    spec.group = group;
    spec.ranks_per_group = per_group;
    // A candidate that runs far past its time limit is hung: stop the job (the training
    // loop itself stops at the limit between steps; this catches a step that never ends).
    if (!cfg.problem.enabled && cfg.evaluation.hang_timeout_s > 0) {
        spec.watchdog_s = (double)cfg.evaluation.hang_timeout_s;
    } else if (!cfg.problem.enabled && cfg.evaluation.time_limit_s > 0) {
        int trainings = cfg.evaluation.data.kind == CONFIG_DATA_MAD ? cfg.evaluation.data.n_mad : 1;
        spec.watchdog_s = 2.0 * (double)cfg.evaluation.time_limit_s * trainings + 60.0;
    }
    spec.params.pop_size = cfg.algorithm.population;
    spec.params.generations = cfg.algorithm.generations;
    spec.params.crossover_rate = cfg.algorithm.crossover_rate;
    spec.params.mutation_rate = 1.0;  // per-gene rates live in the representation
    spec.params.seed = cfg.run.seed;
    for (int k = 0; k < SEARCH_MAX_OBJ; k++) spec.hv_ref[k] = NAN;
    rc = cfg.problem.enabled ? run_test_problem(&cfg, &spec, resume_dir != NULL, &err)
                             : run_architectures(&cfg, &spec, resume_dir != NULL, &err);
    if (rc != 0) goto fail;
    free(resolved);
    dist_comm_free(group);
    dist_finalize();
    return 0;
fail:
    // Failures are agreed (every rank holds the same message): rank 0 tells it.
    if (dist_rank(world) == 0) star_error_print(&err);
    free(resolved);
    dist_comm_free(group);
    dist_finalize();
    return 1;
abort:
    star_error_print(&err);
    dist_abort(1);
}
