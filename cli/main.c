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

// OpenMP threads that spin while waiting take the cores a training needs whenever the
// machine runs anything else (measured: 8x slower steps on 2 busy cores). libgomp reads
// OMP_WAIT_POLICY once, before main, so when the user has not chosen a policy the
// process starts itself again with the passive one.
static void prefer_passive_openmp(char **argv) {
    if (getenv("OMP_WAIT_POLICY")) return;
    if (setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
    execv("/proc/self/exe", argv);
    // execv returned: run on with the default policy.
}

int main(int argc, char **argv) {
    prefer_passive_openmp(argv);
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
