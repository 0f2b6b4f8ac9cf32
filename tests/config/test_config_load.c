// Valid configs load with the values written and the documented defaults elsewhere.
#include "tests/config/config_test_util.h"

static const char *full_yaml =
    "run: {dir: runs/full, seed: 42}\n"
    "space:\n"
    "  classes: [GMemless, SA-1, Rec-2]\n"
    "  depth: {min: 3, max: 12}\n"
    "  width: 256\n"
    "  vocab: 50257\n"
    "  sharing: {featurizer: false, feature_group: true}\n"
    "objectives:\n"
    "  - {name: quality, max: 4.5}\n"
    "  - {name: params, max: 2.0e6}\n"
    "  - {name: cache_bytes, context: 2048, dtype: fp32}\n"
    "  - {name: flops, context: 512}\n"
    "algorithm:\n"
    "  name: ga\n"
    "  population: 24\n"
    "  generations: 7\n"
    "  crossover: {points: 3, rate: 0.75}\n"
    "  mutation: {rate: 0.2, operator: 0.05, delete: 0.3}\n"
    "  tournament: 3\n"
    "  seed_with: [configs/baselines/transformer.yaml, /abs/hybrid.yaml]\n"
    "evaluation:\n"
    "  backend: cuda\n"
    "  threads: 4\n"
    "  data: {text: data/tiny.txt}\n"
    "  budget: {steps: 400, batch: 8, seq_len: 256, lr: 1.0e-3, warmup: 40, weight_decay: 0.05, clip: 0.5}\n"
    "  fidelity: {rungs: [100, 200, 400], keep: 0.25}\n"
    "  memory_limit_mb: 2048\n"
    "  time_limit_s: 600\n";

static void test_full(void) {
    star_config c;
    star_error err = {0};
    int rc = config_load(tmp_write("full.yaml", full_yaml), NULL, 0, &c, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc) return;
    CHECK(!strcmp(c.run.dir, "runs/full"));
    CHECK(c.run.seed == 42);
    CHECK(c.space.n_classes == 3);
    CHECK(c.space.classes[0] == LIV_SA1 && c.space.classes[1] == LIV_REC2 && c.space.classes[2] == LIV_GMEMLESS);
    CHECK(c.space.depth_min == 3 && c.space.depth_max == 12);
    CHECK(c.space.width == 256 && c.space.vocab == 50257);
    CHECK(c.space.share_featurizer == 0 && c.space.share_feature_group == 1);
    CHECK(c.n_objectives == 4);
    CHECK(c.objectives[0].kind == CONFIG_OBJ_QUALITY && c.objectives[0].has_max && c.objectives[0].max == 4.5);
    CHECK(c.objectives[1].kind == CONFIG_OBJ_PARAMS && c.objectives[1].has_max && c.objectives[1].max == 2.0e6);
    CHECK(c.objectives[2].kind == CONFIG_OBJ_CACHE_BYTES && !c.objectives[2].has_max);
    CHECK(c.objectives[2].context == 2048 && c.objectives[2].dtype == CONFIG_DTYPE_FP32);
    CHECK(c.objectives[3].kind == CONFIG_OBJ_FLOPS && c.objectives[3].context == 512);
    const config_algorithm *a = &c.algorithm;
    CHECK(a->kind == CONFIG_ALGO_GA && a->population == 24 && a->generations == 7);
    CHECK(a->crossover_points == 3 && a->crossover_rate == 0.75);
    CHECK(a->mutation.rate == 0.2 && a->mutation.op == 0.05 && a->mutation.del == 0.3);
    CHECK(a->mutation.backbone == 0.2 && a->mutation.featurizer == 0.2 && a->mutation.norm == 0.2);
    CHECK(a->mutation.insert == 0.2);
    CHECK(a->tournament == 3 && a->n_seed_with == 2);
    CHECK(!strcmp(a->seed_with[0], "configs/baselines/transformer.yaml") && !strcmp(a->seed_with[1], "/abs/hybrid.yaml"));
    const config_evaluation *e = &c.evaluation;
    CHECK(e->backend == CONFIG_BACKEND_CUDA && e->threads == 4);
    CHECK(e->data.kind == CONFIG_DATA_TEXT && !strcmp(e->data.path, "data/tiny.txt") && e->data.n_mad == 0);
    CHECK(e->budget.steps == 400 && e->budget.batch == 8 && e->budget.seq_len == 256);
    CHECK(e->budget.lr == 1.0e-3 && e->budget.warmup == 40 && e->budget.weight_decay == 0.05 && e->budget.clip == 0.5);
    CHECK(e->fidelity.n_rungs == 3 && e->fidelity.rungs[0] == 100 && e->fidelity.rungs[2] == 400);
    CHECK(e->fidelity.keep == 0.25);
    CHECK(e->memory_limit_mb == 2048 && e->time_limit_s == 600);
    CHECK(!c.problem.enabled);
}

static void test_defaults(void) {
    star_config c, d;
    star_error err = {0};
    int rc = config_load(tmp_write("minimal.yaml", "run:\n  dir: runs/min\n"), NULL, 0, &c, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    config_defaults(&d);
    snprintf(d.run.dir, sizeof d.run.dir, "runs/min");
    CHECK(memcmp(&c, &d, sizeof c) == 0);
    // The documented values, spelled out.
    CHECK(c.run.seed == 1);
    CHECK(c.space.n_classes == LIV_CLASS_COUNT && c.space.classes[0] == LIV_SA1 && c.space.classes[8] == LIV_GMEMLESS);
    CHECK(c.space.depth_min == 4 && c.space.depth_max == 8 && c.space.width == 128 && c.space.vocab == 256);
    CHECK(c.space.share_featurizer && c.space.share_feature_group);
    CHECK(c.n_objectives == 3 && c.objectives[2].kind == CONFIG_OBJ_CACHE_BYTES && c.objectives[2].context == 4096);
    CHECK(c.objectives[2].dtype == CONFIG_DTYPE_BF16 && !c.objectives[1].has_max);
    CHECK(c.algorithm.kind == CONFIG_ALGO_NSGA2 && c.algorithm.population == 16 && c.algorithm.generations == 10);
    CHECK(c.algorithm.crossover_points == 2 && c.algorithm.crossover_rate == 0.9 && c.algorithm.tournament == 2);
    CHECK(c.algorithm.mutation.rate == 0.1 && c.algorithm.mutation.del == 0.1 && c.algorithm.n_seed_with == 0);
    CHECK(c.evaluation.backend == CONFIG_BACKEND_CPU && c.evaluation.threads == 0);
    CHECK(c.evaluation.data.kind == CONFIG_DATA_MAD && c.evaluation.data.n_mad == 2);
    CHECK(c.evaluation.data.mad[0] == CONFIG_MAD_IN_CONTEXT_RECALL && c.evaluation.data.mad[1] == CONFIG_MAD_SELECTIVE_COPYING);
    CHECK(c.evaluation.budget.steps == 300 && c.evaluation.budget.batch == 32 && c.evaluation.budget.seq_len == 128);
    CHECK(c.evaluation.budget.lr == 3.0e-3 && c.evaluation.budget.warmup == 30 && c.evaluation.budget.clip == 1.0);
    CHECK(c.evaluation.fidelity.n_rungs == 0 && c.evaluation.memory_limit_mb == 0 && c.evaluation.time_limit_s == 0);

    // Null values take the default; warmup defaults to a tenth of the steps.
    rc = config_load(tmp_write("nulls.yaml",
                               "run: {dir: runs/n, seed: ~}\nspace: {width: null, depth: {min: 2}}\n"
                               "evaluation:\n  budget: {steps: 50}\n  fidelity:\n"),
                     NULL, 0, &c, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK(c.run.seed == 1 && c.space.width == 128 && c.space.depth_min == 2 && c.space.depth_max == 8);
    CHECK(c.evaluation.budget.steps == 50 && c.evaluation.budget.warmup == 5 && c.evaluation.fidelity.n_rungs == 0);

    // A quoted "" is a string, not null: an empty run.dir is refused.
    star_error e2 = {0};
    CHECK(config_load(tmp_write("emptydir.yaml", "run: {dir: \"\"}\n"), NULL, 0, &c, &e2) == -1);
    CHECK_STR_CONTAINS(e2.msg, "run.dir: expected a non-empty string");
}

static void test_problems(void) {
    star_config c;
    star_error err = {0};
    int rc = config_load(tmp_write("dtlz.yaml", "run: {dir: runs/d}\nproblem: {name: dtlz2}\n"), NULL, 0, &c, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK(c.problem.enabled && c.problem.kind == CONFIG_PROBLEM_DTLZ2 && c.problem.n_obj == 3 && c.problem.n_var == 12);
    rc = config_load(tmp_write("dtlz4.yaml", "run: {dir: runs/d}\nproblem: {name: dtlz2, n_obj: 4, n_var: 20}\n"),
                     NULL, 0, &c, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK(c.problem.n_obj == 4 && c.problem.n_var == 20);
    rc = config_load(tmp_write("zdt3.yaml", "run: {dir: /tmp/abs/zdt3}\nproblem: {name: zdt3, n_var: 10}\n"), NULL, 0,
                     &c, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK(c.problem.kind == CONFIG_PROBLEM_ZDT3 && c.problem.n_obj == 2 && c.problem.n_var == 10);
    CHECK(!strcmp(c.run.dir, "/tmp/abs/zdt3"));
}

// The example configs shipped in configs/ (the tests run from the source directory).
static void test_examples(void) {
    star_config c;
    star_error err = {0};
    int rc = config_load("configs/quickstart.yaml", NULL, 0, &c, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK(c.space.width == 64 && c.space.depth_min == 2 && c.space.depth_max == 8);
    CHECK(c.algorithm.population == 8 && c.algorithm.generations == 3);
    CHECK(c.n_objectives == 3 && c.objectives[1].has_max && c.objectives[1].max == 1e6);
    CHECK(c.objectives[2].kind == CONFIG_OBJ_CACHE_BYTES && c.objectives[2].context == 1024);
    CHECK(c.evaluation.data.kind == CONFIG_DATA_MAD && c.evaluation.data.n_mad == 2);
    CHECK(c.evaluation.budget.steps == 120 && c.evaluation.budget.batch == 16 && c.evaluation.budget.seq_len == 64);
    CHECK(c.algorithm.n_seed_with == 1 && !strcmp(c.algorithm.seed_with[0], "configs/baselines/transformer.yaml"));
    rc = config_load("configs/zdt1.yaml", NULL, 0, &c, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK(c.problem.enabled && c.problem.kind == CONFIG_PROBLEM_ZDT1 && c.problem.n_var == 30);
    CHECK(c.algorithm.kind == CONFIG_ALGO_NSGA2 && c.algorithm.population == 100 && c.algorithm.generations == 250);
}

static void test_safe_paths(void) {
    CHECK(config_path_is_safe("runs/a"));
    CHECK(config_path_is_safe("/abs/runs/a"));
    CHECK(config_path_is_safe("runs/..a/b.."));
    CHECK(!config_path_is_safe(""));
    CHECK(!config_path_is_safe(".."));
    CHECK(!config_path_is_safe("runs/../x"));
    CHECK(!config_path_is_safe("runs//.."));
    CHECK(!config_path_is_safe("/../etc"));
}

static void test_names(void) {
    for (int cls = 1; cls <= LIV_CLASS_COUNT; cls++) CHECK(config_class_from_name(config_class_name((liv_class)cls)) == cls);
    CHECK(config_class_from_name("SA-4") == -1);
    CHECK(config_class_name((liv_class)0) == NULL && config_class_name((liv_class)10) == NULL);
    CHECK(!strcmp(config_mad_task_name(CONFIG_MAD_MEMORIZATION), "memorization"));
}

int main(void) {
    tmp_init();
    test_full();
    test_defaults();
    test_problems();
    test_examples();
    test_safe_paths();
    test_names();
    tmp_cleanup();
    TEST_END();
}
