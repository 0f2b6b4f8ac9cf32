// star: command-line front end. `star <command> [args]`; each command lives in its own
// cli/cmd_<name>.c and prints its own --help.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"

static const star_command commands[] = {
    {"search", "run an architecture search from a YAML config (or --resume a run)", cmd_search},
    {"genome", "random|check|decode|mutate|cross|stats|draw: explore the genome space", cmd_genome},
    {"front", "print the Pareto front of a run", cmd_front},
    {"train", "train one architecture", cmd_train},
    {"eval", "evaluate an architecture (--suite mad|text)", cmd_eval},
    {"generate", "sample bytes from a checkpoint", cmd_generate},
    {"bench", "tokens per second and memory of an architecture", cmd_bench},
    {"export", "export an architecture (YAML, JSON, PyTorch + safetensors) from a run or checkpoint", cmd_export},
    {"plot", "charts of a run: the front in each pair of objectives, hypervolume", cmd_plot},
    {"report", "one HTML page of a run: config, front, charts, architectures, accounting", cmd_report},
    {"logits", "write the CPU engine's logits on given tokens (safetensors)", cmd_logits},
};

static void usage(FILE *f) {
    fprintf(f, "usage: star <command> [options]   (star <command> --help for each)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

// How OpenMP's threads wait between parallel regions. libgomp's default spins up to
// 300,000 times first, which takes the cores a training needs whenever the machine runs
// anything else (measured: 8x slower steps on 2 busy cores, 20x with two trainings at
// once). Never spinning (passive) costs a futex wake-up per region instead, most of a
// small model's step: on 2 cores a width-64 training of the quickstart's shape took 5.0 s
// passive, 3.7 s spinning 1,000 times first, 6.0 / 6.6 s with two at once and 12.7 / 6.5
// s beside two busy loops. So a short spin: passive past GOMP_SPINCOUNT=1000. libgomp
// reads both variables once, before main, so when the user has not chosen a policy the
// process starts itself again with them (keeping a GOMP_SPINCOUNT the user set).
static void prefer_short_openmp_spin(char **argv) {
    if (getenv("OMP_WAIT_POLICY")) return;
    if (!getenv("GOMP_SPINCOUNT") && setenv("GOMP_SPINCOUNT", "1000", 1) != 0) return;
    if (setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
    execv("/proc/self/exe", argv);
    // execv returned: run on with libgomp's defaults.
}

int main(int argc, char **argv) {
    prefer_short_openmp_spin(argv);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "star: error: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
