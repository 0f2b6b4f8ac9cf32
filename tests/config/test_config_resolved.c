// The resolved config (every key with its value) loads back to an identical struct, and
// writing that again gives the same text.
#include "tests/config/config_test_util.h"

static void round_trip(const char *label, const star_config *c) {
    char *text = NULL;
    CHECK_MSG(config_write_resolved(c, &text) == 0, "%s: write failed", label);
    if (!text) return;
    star_config back;
    star_error err = {0};
    int rc = config_load_string(text, strlen(text), "resolved.yaml", NULL, 0, &back, &err);
    CHECK_MSG(rc == 0, "%s: %s\n%s", label, err.msg, text);
    CHECK_MSG(rc == 0 && memcmp(c, &back, sizeof back) == 0, "%s: the struct differs after a round trip:\n%s", label,
              text);
    char *again = NULL;
    CHECK(config_write_resolved(&back, &again) == 0 && again && !strcmp(text, again));
    // Through a file as well, as a resumed run reads it.
    rc = config_load(tmp_write("resolved.yaml", text), NULL, 0, &back, &err);
    CHECK_MSG(rc == 0 && memcmp(c, &back, sizeof back) == 0, "%s: from a file: %s", label, err.msg);
    free(text);
    free(again);
}

static void load_and_round_trip(const char *label, const char *yaml, const char **sets, int n_sets) {
    star_config c;
    star_error err = {0};
    int rc = config_load(tmp_write("input.yaml", yaml), sets, n_sets, &c, &err);
    CHECK_MSG(rc == 0, "%s: %s", label, err.msg);
    if (!rc) round_trip(label, &c);
}

static void test_round_trips(void) {
    load_and_round_trip("minimal", "run: {dir: runs/min}\n", NULL, 0);
    load_and_round_trip("full",
                        "run: {dir: runs/full, seed: 9000000000000000}\n"
                        "space: {classes: [Rec-2, SA-diff], depth: {min: 1, max: 64}, width: 8192, vocab: 1000000,\n"
                        "        sharing: {featurizer: no, feature_group: off}}\n"
                        "objectives:\n"
                        "  - {name: flops, context: 1, max: 1.5e9}\n"
                        "  - {name: cache_bytes, dtype: fp32, max: 0}\n"
                        "  - {name: quality, max: 3.25}\n"
                        "  - {name: params, max: 123456789}\n"
                        "algorithm: {name: random, population: 100000, generations: 1000000, crossover: {points: 64, rate: 0},\n"
                        "  mutation: {rate: 0.3, backbone: 0.01, operator: 0.02, featurizer: 0.03, norm: 0.04, insert: 1,\n"
                        "             delete: 0.123456789012345}, tournament: 64}\n"
                        "evaluation: {backend: cuda, threads: 4096, data: {bin: 'data/fineweb_*.bin'},\n"
                        "  budget: {steps: 1000, batch: 1, seq_len: 2, lr: 0.1, warmup: 0, weight_decay: 0, clip: 0},\n"
                        "  fidelity: {rungs: [10, 100, 1000], keep: 0.3333333333333333},\n"
                        "  memory_limit_mb: 1000000000, time_limit_s: 7}\n",
                        NULL, 0);
    load_and_round_trip("all mad tasks",
                        "run: {dir: runs/mad}\nevaluation: {data: {mad: [memorization, compression, "
                        "noisy_in_context_recall, fuzzy_in_context_recall, selective_copying, in_context_recall]}}\n",
                        NULL, 0);
    // Strings that must be quoted to read back as the same string.
    load_and_round_trip("quoting",
                        "run: {dir: \"runs/my run: #1 \\\"x\\\" \\\\ é\"}\n"
                        "algorithm: {seed_with: ['true', '123', '-dash.yaml', '.inf', 'null', '1_000', 'a,b', '[x]',\n"
                        "                        \"tab\\there\", plain/path.yaml]}\n"
                        "evaluation: {data: {text: '~'}}\n",
                        NULL, 0);
    load_and_round_trip("zdt1", "run: {dir: runs/z}\nalgorithm: {population: 100, generations: 250}\nproblem: {name: zdt1}\n",
                        NULL, 0);
    load_and_round_trip("dtlz2", "run: {dir: runs/d}\nproblem: {name: dtlz2, n_obj: 5}\n", NULL, 0);
    const char *sets[] = {"space.classes=[GMemless]", "objectives=[{name: params}]", "evaluation.budget.lr=0.0007"};
    load_and_round_trip("with overrides", "run: {dir: runs/o}\n", sets, 3);

    // The shipped examples.
    star_config c;
    star_error err = {0};
    if (config_load("configs/quickstart.yaml", NULL, 0, &c, &err) == 0)
        round_trip("quickstart", &c);
    else
        CHECK_MSG(0, "%s", err.msg);
    if (config_load("configs/zdt1.yaml", NULL, 0, &c, &err) == 0)
        round_trip("zdt1.yaml", &c);
    else
        CHECK_MSG(0, "%s", err.msg);
}

// The text itself: readable keys, shortest numbers, defaults spelled out.
static void test_text(void) {
    star_config c;
    star_error err = {0};
    int rc = config_load(tmp_write("text.yaml", "run: {dir: runs/t}\nevaluation: {budget: {lr: 3.0e-3}}\n"), NULL, 0, &c,
                         &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    char *text = NULL;
    CHECK(config_write_resolved(&c, &text) == 0 && text);
    if (!text) return;
    CHECK_STR_CONTAINS(text, "  dir: runs/t\n  seed: 1\n");
    CHECK_STR_CONTAINS(text, "  classes: [SA-1, SA-2, SA-3, SA-diff, Rec-1, Rec-2, GConv-1, GConv-2, GMemless]\n");
    CHECK_STR_CONTAINS(text, "  - {name: cache_bytes, context: 4096, dtype: bf16, max: null}\n");
    CHECK_STR_CONTAINS(text, "lr: 0.003,");
    CHECK_STR_CONTAINS(text, "  mutation: {rate: 0.1, backbone: 0.1, operator: 0.1, featurizer: 0.1, norm: 0.1, insert: 0.1, delete: 0.1}\n");
    CHECK_STR_CONTAINS(text, "  fidelity: null\n");
    CHECK(!strstr(text, "problem:"));
    free(text);

    // A problem config leaves out the sections it does not use.
    rc = config_load("configs/zdt1.yaml", NULL, 0, &c, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK(config_write_resolved(&c, &text) == 0 && text);
    if (!text) return;
    CHECK_STR_CONTAINS(text, "problem: {name: zdt1, n_var: 30}\n");
    CHECK(!strstr(text, "space:") && !strstr(text, "objectives:") && !strstr(text, "evaluation:"));
    free(text);

    // A struct with an enumeration out of range cannot be written.
    config_defaults(&c);
    snprintf(c.run.dir, sizeof c.run.dir, "runs/bad");
    c.objectives[0].kind = CONFIG_OBJ_COUNT;
    text = (char *)"unchanged";
    CHECK(config_write_resolved(&c, &text) == -1 && text == NULL);
}

int main(void) {
    tmp_init();
    test_round_trips();
    test_text();
    tmp_cleanup();
    TEST_END();
}
