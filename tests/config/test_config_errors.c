// Every kind of bad config fails with "FILE:LINE:COL: key.path: message".
#include "tests/config/config_test_util.h"

static void test_unknown_keys(void) {
    EXPECT_FAIL("unknown.yaml", "run: {dir: runs/a}\nspace:\n  width: 64\n  widht: 64\n", ":4:3: space.widht: ",
                "unknown key (expected one of: classes, depth, width, vocab, sharing)");
    EXPECT_FAIL("unknown_top.yaml", "run: {dir: runs/a}\nalgoritm: {name: ga}\n", ":2:1: algoritm: ", "unknown key");
    EXPECT_FAIL("unknown_nested.yaml", "run: {dir: runs/a}\nevaluation:\n  budget: {steps: 10, lrate: 1}\n",
                ":3:23: evaluation.budget.lrate: ", "unknown key");
    EXPECT_FAIL("dup.yaml", "run: {dir: runs/a}\nspace:\n  width: 64\n  width: 96\n", ":4:3: space.width: ",
                "duplicate key");
    // context belongs to cache_bytes and flops only.
    EXPECT_FAIL("objkey.yaml", "run: {dir: runs/a}\nobjectives:\n  - {name: params, context: 10}\n",
                ":3:20: objectives[0].context: ", "unknown key");
    EXPECT_FAIL("n_obj.yaml", "run: {dir: runs/a}\nproblem: {name: zdt1, n_obj: 3}\n", ":2:23: problem.n_obj: ",
                "unknown key");
}

static void test_wrong_types(void) {
    EXPECT_FAIL("type_int.yaml", "run: {dir: runs/a}\nalgorithm:\n  population: many\n", ":3:15: algorithm.population: ",
                "expected an integer, got 'many'");
    EXPECT_FAIL("type_frac.yaml", "run: {dir: runs/a}\nalgorithm:\n  generations: 2.5\n",
                ":3:16: algorithm.generations: ", "expected an integer");
    EXPECT_FAIL("type_bool.yaml", "run: {dir: runs/a}\nspace:\n  sharing: {featurizer: maybe}\n",
                ":3:25: space.sharing.featurizer: ", "expected true or false");
    EXPECT_FAIL("type_map.yaml", "run: {dir: runs/a}\nspace: [1, 2]\n", ":2:8: space: ", "expected a mapping");
    EXPECT_FAIL("type_list.yaml", "run: {dir: runs/a}\nspace:\n  classes: SA-1\n", ":3:12: space.classes: ",
                "expected a list");
    EXPECT_FAIL("type_str.yaml", "run: {dir: [a, b]}\n", ":1:12: run.dir: ", "expected a string");
    EXPECT_FAIL("type_num.yaml", "run: {dir: runs/a}\nevaluation:\n  budget: {lr: fast}\n", ":3:16: evaluation.budget.lr: ",
                "expected a number");
    EXPECT_FAIL("type_obj.yaml", "run: {dir: runs/a}\nobjectives: [quality]\n", ":2:14: objectives[0]: ",
                "expected a mapping");
    EXPECT_FAIL("type_root.yaml", "just a string\n", ":1:1: (root): ", "expected a mapping");
}

static void test_out_of_range(void) {
    EXPECT_FAIL("range_pop.yaml", "run: {dir: runs/a}\nalgorithm: {population: 1}\n", ":2:25: algorithm.population: ",
                "expected an integer in [2, 100000], got 1");
    EXPECT_FAIL("range_width.yaml", "run: {dir: runs/a}\nspace: {width: 100}\n", ":2:16: space.width: ",
                "multiple of 32");
    EXPECT_FAIL("range_width2.yaml", "run: {dir: runs/a}\nspace: {width: 16384}\n", ":2:16: space.width: ",
                "[32, 8192]");
    EXPECT_FAIL("range_depth.yaml", "run: {dir: runs/a}\nspace:\n  depth: {min: 5, max: 65}\n",
                ":3:24: space.depth.max: ", "[1, 64]");
    EXPECT_FAIL("range_minmax.yaml", "run: {dir: runs/a}\nspace:\n  depth: {min: 9}\n", ":3:16: space.depth.min: ",
                "min (9) must be <= max (8)");
    EXPECT_FAIL("range_rate.yaml", "run: {dir: runs/a}\nalgorithm:\n  mutation: {rate: 0.1, norm: 1.5}\n",
                ":3:31: algorithm.mutation.norm: ", "[0, 1]");
    EXPECT_FAIL("range_lr.yaml", "run: {dir: runs/a}\nevaluation: {budget: {lr: 0}}\n", ":2:27: evaluation.budget.lr: ",
                "must be > 0");
    EXPECT_FAIL("range_warmup.yaml", "run: {dir: runs/a}\nevaluation: {budget: {steps: 10, warmup: 11}}\n",
                ":2:42: evaluation.budget.warmup: ", "must be <= evaluation.budget.steps (10), got 11");
    EXPECT_FAIL("range_objs.yaml",
                "run: {dir: runs/a}\nobjectives: [{name: quality}, {name: params}, {name: flops}, {name: cache_bytes},"
                " {name: quality}]\n",
                ":2:13: objectives: ", "expected 1 to 4 objectives, got 5");
    EXPECT_FAIL("range_noobj.yaml", "run: {dir: runs/a}\nobjectives: []\n", ":2:13: objectives: ", "got 0");
    EXPECT_FAIL("dup_obj.yaml", "run: {dir: runs/a}\nobjectives:\n  - {name: params}\n  - {name: params, max: 5}\n",
                ":4:12: objectives[1]: ", "listed twice");
    EXPECT_FAIL("bad_obj.yaml", "run: {dir: runs/a}\nobjectives:\n  - {name: latency}\n", ":3:12: objectives[0].name: ",
                "unknown name 'latency' (expected one of: quality, params, cache_bytes, flops)");
    EXPECT_FAIL("bad_dtype.yaml", "run: {dir: runs/a}\nobjectives:\n  - {name: cache_bytes, dtype: fp8}\n",
                ":3:32: objectives[0].dtype: ", "unknown name 'fp8'");
    EXPECT_FAIL("bad_algo.yaml", "run: {dir: runs/a}\nalgorithm: {name: nsga3}\n", ":2:19: algorithm.name: ",
                "expected one of: nsga2, ga, random");
    EXPECT_FAIL("bad_backend.yaml", "run: {dir: runs/a}\nevaluation:\n  backend: tpu\n", ":3:12: evaluation.backend: ",
                "unknown name 'tpu' (expected one of: cpu, cuda)");
    EXPECT_FAIL("case_backend.yaml", "run: {dir: runs/a}\nevaluation: {backend: CUDA}\n", ":2:23: evaluation.backend: ",
                "unknown name 'CUDA'");
    EXPECT_FAIL("type_backend.yaml", "run: {dir: runs/a}\nevaluation:\n  backend: [cuda]\n", ":3:12: evaluation.backend: ",
                "expected a string");
    EXPECT_FAIL("bad_rung.yaml", "run: {dir: runs/a}\nevaluation:\n  fidelity: {rungs: [100, 50, 300]}\n",
                ":3:27: evaluation.fidelity.rungs[1]: ", "must increase");
    EXPECT_FAIL("last_rung.yaml", "run: {dir: runs/a}\nevaluation:\n  fidelity: {rungs: [100, 200]}\n",
                ":3:27: evaluation.fidelity.rungs: ", "must equal evaluation.budget.steps (300)");
    EXPECT_FAIL("big_rung.yaml", "run: {dir: runs/a}\nevaluation:\n  fidelity: {rungs: [100, 400]}\n",
                ":3:27: evaluation.fidelity.rungs[1]: ", "up to evaluation.budget.steps (300)");
    EXPECT_FAIL("bad_seed.yaml", "run: {dir: runs/a, seed: -1}\n", ":1:26: run.seed: ", "expected an integer in [0,");
    EXPECT_FAIL("zdt_nvar.yaml", "run: {dir: runs/a}\nproblem: {name: zdt2, n_var: 1}\n", ":2:30: problem.n_var: ",
                "[2, 1000]");
}

static void test_names_and_lists(void) {
    EXPECT_FAIL("bad_class.yaml", "run: {dir: runs/a}\nspace:\n  classes: [SA-1, SA-4]\n", ":3:19: space.classes[1]: ",
                "unknown name 'SA-4' (expected one of: SA-1, SA-2, SA-3, SA-diff, Rec-1, Rec-2, GConv-1, GConv-2, GMemless)");
    EXPECT_FAIL("dup_class.yaml", "run: {dir: runs/a}\nspace:\n  classes:\n    - Rec-1\n    - Rec-1\n",
                ":5:7: space.classes[1]: ", "listed twice");
    EXPECT_FAIL("no_class.yaml", "run: {dir: runs/a}\nspace: {classes: []}\n", ":2:18: space.classes: ",
                "at least one class");
    EXPECT_FAIL("bad_mad.yaml", "run: {dir: runs/a}\nevaluation:\n  data: {mad: [in_context_recall, copying]}\n",
                ":3:35: evaluation.data.mad[1]: ", "unknown name 'copying'");
    EXPECT_FAIL("two_data.yaml", "run: {dir: runs/a}\nevaluation:\n  data: {text: a.txt, bin: 'b_*.bin'}\n",
                ":3:9: evaluation.data: ", "exactly one of mad, text, bin");
    EXPECT_FAIL("no_data.yaml", "run: {dir: runs/a}\nevaluation:\n  data: {}\n", ":3:9: evaluation.data: ",
                "exactly one of");
    EXPECT_FAIL("bad_problem.yaml", "run: {dir: runs/a}\nproblem: {name: zdt4}\n", ":2:17: problem.name: ",
                "expected one of: zdt1, zdt2, zdt3, dtlz2");
}

static void test_required_and_paths(void) {
    EXPECT_FAIL("no_run.yaml", "space: {width: 64}\n", ":1:1: run.dir: ", "required key is missing");
    EXPECT_FAIL("no_dir.yaml", "run:\n  seed: 3\n", ":2:3: run.dir: ", "required key is missing");
    EXPECT_FAIL("empty.yaml", "", ": run.dir: ", "the config is empty");
    EXPECT_FAIL("dotdot.yaml", "run: {dir: runs/../../etc}\n", ":1:12: run.dir: ", "'..'");
    EXPECT_FAIL("no_rungs.yaml", "run: {dir: runs/a}\nevaluation:\n  fidelity: {keep: 0.5}\n",
                ":3:13: evaluation.fidelity.rungs: ", "required key is missing");
    EXPECT_FAIL("problem_space.yaml", "run: {dir: runs/a}\nspace: {width: 64}\nproblem: {name: zdt1}\n",
                ":2:8: space: ", "not used with a built-in problem");
    EXPECT_FAIL("problem_seed.yaml",
                "run: {dir: runs/a}\nalgorithm: {seed_with: [g.yaml]}\nproblem: {name: zdt1}\n",
                ":2:24: algorithm.seed_with: ", "cannot seed a built-in problem");

    star_config c;
    star_error err = {0};
    CHECK(config_load("/nonexistent/star/config.yaml", NULL, 0, &c, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "/nonexistent/star/config.yaml: cannot open");
}

static void test_syntax(void) {
    // An unclosed flow mapping: libyaml stops where the next key starts.
    EXPECT_FAIL("syntax1.yaml", "run: {dir: runs/a\nspace: {width: 64}\n", ":2:6: YAML syntax error: ", NULL);
    // Bad indentation.
    EXPECT_FAIL("syntax2.yaml", "run:\n  dir: runs/a\n seed: 2\n", ":3:2: YAML syntax error: ", NULL);
    // A tab where indentation is expected.
    EXPECT_FAIL("syntax3.yaml", "run:\n\tdir: runs/a\n", ":2:1: YAML syntax error: ", NULL);
}

// A failed load leaves the caller's struct as it was.
static void test_untouched(void) {
    star_config c, before;
    config_defaults(&c);
    snprintf(c.run.dir, sizeof c.run.dir, "keep/me");
    before = c;
    star_error err = {0};
    CHECK(config_load(tmp_write("late_error.yaml", "run: {dir: runs/new}\nspace: {width: 100}\n"), NULL, 0, &c, &err) == -1);
    CHECK(memcmp(&c, &before, sizeof c) == 0);
}

int main(void) {
    tmp_init();
    test_unknown_keys();
    test_wrong_types();
    test_out_of_range();
    test_names_and_lists();
    test_required_and_paths();
    test_syntax();
    test_untouched();
    tmp_cleanup();
    TEST_END();
}
