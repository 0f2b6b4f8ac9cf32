// `--set a.b=VALUE` overrides: scalars, lists, nested and new keys, list indices, and
// errors that name the override and the key.
#include "tests/config/config_test_util.h"

static const char *base_yaml =
    "run: {dir: runs/base, seed: 5}\n"
    "space:\n"
    "  classes: [SA-1, SA-2, Rec-1]\n"
    "  width: 64\n"
    "objectives:\n"
    "  - {name: quality}\n"
    "  - {name: params, max: 1.0e6}\n"
    "algorithm:\n"
    "  population: 8\n"
    "  mutation: {rate: 0.2}\n";

static int load_with(const char **sets, int n, star_config *c, star_error *err) {
    return config_load(tmp_write("base.yaml", base_yaml), sets, n, c, err);
}

static void test_scalars(void) {
    star_config c;
    star_error err = {0};
    const char *sets[] = {"algorithm.population=32", "run.seed=77", "space.sharing.featurizer=false",
                          "run.dir=runs/over ride"};
    int rc = load_with(sets, 4, &c, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK(c.algorithm.population == 32 && c.run.seed == 77);
    CHECK(c.space.share_featurizer == 0 && c.space.share_feature_group == 1);
    CHECK(!strcmp(c.run.dir, "runs/over ride"));
    CHECK(c.space.width == 64 && c.algorithm.mutation.rate == 0.2);  // untouched keys keep the file's values

    // Later overrides win over earlier ones.
    const char *twice[] = {"space.width=96", "space.width=128"};
    rc = load_with(twice, 2, &c, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK(c.space.width == 128);

    // What star search --backend cuda adds.
    const char *backend[] = {"evaluation.backend=cuda"};
    rc = load_with(backend, 1, &c, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK(c.evaluation.backend == CONFIG_BACKEND_CUDA);
}

static void test_lists_and_maps(void) {
    star_config c;
    star_error err = {0};
    const char *sets[] = {"space.classes=[GMemless,SA-1]", "evaluation.data={mad: [compression, memorization]}",
                          "algorithm.seed_with=[a.yaml, b.yaml]"};
    int rc = load_with(sets, 3, &c, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK(c.space.n_classes == 2 && c.space.classes[0] == LIV_SA1 && c.space.classes[1] == LIV_GMEMLESS);
    CHECK(c.evaluation.data.n_mad == 2 && c.evaluation.data.mad[0] == CONFIG_MAD_COMPRESSION);
    CHECK(c.evaluation.data.mad[1] == CONFIG_MAD_MEMORIZATION);
    CHECK(c.algorithm.n_seed_with == 2 && !strcmp(c.algorithm.seed_with[1], "b.yaml"));

    // Missing intermediate maps are created; an index reaches into a list.
    const char *nested[] = {"evaluation.budget.steps=20", "evaluation.fidelity.rungs=[10, 20]",
                            "objectives.1.max=5e5", "space.depth.max=3", "space.depth.min=2"};
    rc = load_with(nested, 5, &c, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK(c.evaluation.budget.steps == 20 && c.evaluation.budget.warmup == 2);
    CHECK(c.evaluation.fidelity.n_rungs == 2 && c.evaluation.fidelity.rungs[1] == 20);
    CHECK(c.objectives[1].kind == CONFIG_OBJ_PARAMS && c.objectives[1].max == 5e5);
    CHECK(c.space.depth_min == 2 && c.space.depth_max == 3);

    // An empty or null value resets a key to its default.
    const char *reset[] = {"algorithm.mutation=", "space.width=null"};
    rc = load_with(reset, 2, &c, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK(c.algorithm.mutation.rate == 0.1 && c.space.width == 128);

    // A null section in the file is replaced by a new mapping on the way down.
    rc = config_load(tmp_write("nullsec.yaml", "run: {dir: runs/x}\nevaluation:\n"),
                     (const char *[]){"evaluation.budget.batch=4"}, 1, &c, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK(c.evaluation.budget.batch == 4);

    // An empty file plus overrides is a whole config.
    rc = config_load(tmp_write("empty.yaml", ""), (const char *[]){"run.dir=runs/e", "space.vocab=512"}, 2, &c, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK(!strcmp(c.run.dir, "runs/e") && c.space.vocab == 512);
}

static void test_errors(void) {
    // An unknown key: named with the override and the key path.
    EXPECT_FAIL_SETS("e1.yaml", base_yaml, ((const char *[]){"space.widht=64"}), 1, "--set space.widht:1:1: space.widht: ",
                     "unknown key");
    EXPECT_FAIL_SETS("e2.yaml", base_yaml, ((const char *[]){"evaluation.budget.stepz=5"}), 1,
                     "--set evaluation.budget.stepz:1:1: evaluation.budget.stepz: ", "unknown key");
    EXPECT_FAIL_SETS("e3.yaml", base_yaml, ((const char *[]){"algo.population=5"}), 1, "--set algo.population:1:1: algo: ",
                     "unknown key");
    // A bad value gets the same checks as in the file, located inside the value.
    EXPECT_FAIL_SETS("e4.yaml", base_yaml, ((const char *[]){"space.width=100"}), 1, "--set space.width:1:1: space.width: ",
                     "multiple of 32");
    EXPECT_FAIL_SETS("e5.yaml", base_yaml, ((const char *[]){"space.classes=[SA-1, Rec-9]"}), 1,
                     "--set space.classes:1:8: space.classes[1]: ", "unknown name 'Rec-9'");
    EXPECT_FAIL_SETS("e6.yaml", base_yaml, ((const char *[]){"space.depth={min: 2, maxx: 3}"}), 1,
                     "--set space.depth:1:10: space.depth.maxx: ", "unknown key");
    EXPECT_FAIL_SETS("e7.yaml", base_yaml, ((const char *[]){"algorithm.population=[1, 2]"}), 1,
                     "--set algorithm.population:1:1: algorithm.population: ", "expected an integer");
    EXPECT_FAIL_SETS("e9.yaml", base_yaml, ((const char *[]){"evaluation.backend=gpu"}), 1,
                     "--set evaluation.backend:1:1: evaluation.backend: ", "unknown name 'gpu' (expected one of: cpu, cuda)");
    // YAML syntax in the value.
    EXPECT_FAIL_SETS("e8.yaml", base_yaml, ((const char *[]){"space.classes=[SA-1,"}), 1,
                     "--set space.classes:", "YAML syntax error");
    // Malformed overrides.
    EXPECT_FAIL_SETS("e9.yaml", base_yaml, ((const char *[]){"space.width"}), 1, "--set 'space.width': expected KEY=VALUE",
                     NULL);
    EXPECT_FAIL_SETS("e10.yaml", base_yaml, ((const char *[]){"space..width=64"}), 1, "--set space..width: ",
                     "names joined by '.'");
    EXPECT_FAIL_SETS("e11.yaml", base_yaml, ((const char *[]){"=64"}), 1, "--set '=64': expected KEY=VALUE", NULL);
    // Through a value that is not a mapping, or past the end of a list.
    EXPECT_FAIL_SETS("e12.yaml", base_yaml, ((const char *[]){"run.seed.x=1"}), 1, "--set run.seed.x: ",
                     "run.seed is a single value");
    EXPECT_FAIL_SETS("e13.yaml", base_yaml, ((const char *[]){"objectives.2.max=1"}), 1, "--set objectives.2.max: ",
                     "'2' is not an index of the list objectives (it has 2 items)");
    // The file's own errors still name the file, with overrides present.
    EXPECT_FAIL_SETS("e14.yaml", "run: {dir: runs/a}\nspace: {width: 100}\n", ((const char *[]){"run.seed=3"}), 1,
                     ":2:16: space.width: ", "multiple of 32");
    // The override's key added to a mapping of the file is reported against the override.
    EXPECT_FAIL_SETS("e15.yaml", "run: {dir: runs/a}\nspace: {width: 64}\n", ((const char *[]){"run.seed=3", "space.vocab=1"}),
                     2, "--set space.vocab:1:1: space.vocab: ", "[2, 1000000]");
    // ".." in run.dir is refused from an override too.
    EXPECT_FAIL_SETS("e16.yaml", base_yaml, ((const char *[]){"run.dir=../elsewhere"}), 1, "--set run.dir:1:1: run.dir: ",
                     "'..'");
}

int main(void) {
    tmp_init();
    test_scalars();
    test_lists_and_maps();
    test_errors();
    tmp_cleanup();
    TEST_END();
}
