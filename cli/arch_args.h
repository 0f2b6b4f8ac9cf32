// star: the options `train`, `eval` and `bench` share: which architecture (a genome
// string, a genome YAML file, or an exported architecture file), its dimensions, the
// data and the training budget.
#ifndef STAR_CLI_ARCH_ARGS_H
#define STAR_CLI_ARCH_ARGS_H

#include <stdint.h>

#include "common/error.h"
#include "eval/train.h"
#include "genome/arch.h"
#include "genome/genome.h"

typedef struct arch_args {
    const char *arch_arg;  // positional: genome string or file
    const char *data;      // --data FILE (byte-level text)
    const char *bin;       // --bin PATTERN (llm.c .bin shards)
    const char *mad;       // --mad TASK[,TASK...]
    const char *save;      // --save DIR (checkpoint at the end)
    const char *from;      // --from DIR (continue from a checkpoint)
    long tokens;           // --tokens N (training tokens; sets the steps)
    int steps, batch, seq_len, warmup, threads, log_every, json;
    int width, vocab;      // 0 = from the file, else defaults 128 / 256
    double lr, weight_decay, clip;
    uint64_t seed;
    genome g;
    genome_dims dims;
    arch a;
    char genome_string[4096];
} arch_args;

void arch_args_defaults(arch_args *a);
// Consumes option argv[*i] (and its value); returns 1 if it was one of these options,
// 0 if not, -1 on a bad value (message printed).
int arch_args_option(arch_args *a, int argc, char **argv, int *i);
// The integer value in [lo, hi] of option argv[*i] (a command's own option), consumed;
// -1 with a message when it is missing or bad.
int arch_args_long(int argc, char **argv, int *i, long lo, long hi, long *out);
// Loads the architecture: genome, dims, resolved arch. Fails naming the file/position.
int arch_args_load(arch_args *a, star_error *err);
// The trainer's parameters from the budget options, for sequences of T tokens
// (log_every as given; validation: every batch).
void arch_args_train_params(const arch_args *a, int T, train_params *tp);
// Help text of the shared options.
extern const char arch_args_help[];

#endif
