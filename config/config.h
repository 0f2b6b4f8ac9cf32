// star: the search config, read from YAML (docs/config.md is the schema: every key, its
// type, default and range). Loading fills every field: keys the file leaves out get
// their defaults, so nothing downstream needs to know which keys were written.
//
// `--set a.b=VALUE` overrides are applied to the parsed YAML document before validation,
// so an override is checked exactly as the same key in the file would be; VALUE is parsed
// as YAML (`--set space.classes=[SA-1,GMemless]`).
//
// Errors name the source, line, column and key path:
//   "configs/x.yaml:12:5: algorithm.population: expected an integer in [2, 100000], got 1"
//   "--set space.widht:1:1: space.widht: unknown key (expected one of: ...)"
#ifndef STAR_CONFIG_CONFIG_H
#define STAR_CONFIG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "genome/genome.h"

#define CONFIG_PATH_MAX 512
#define CONFIG_MAX_OBJECTIVES 4
#define CONFIG_MAX_SEEDS 32
#define CONFIG_MAX_RUNGS 8
#define CONFIG_MAX_SETS 64

typedef enum config_objective_kind {
    CONFIG_OBJ_QUALITY,      // validation loss after the training budget (minimized)
    CONFIG_OBJ_PARAMS,       // parameter count, tied weights counted once
    CONFIG_OBJ_CACHE_BYTES,  // inference cache bytes per sequence at `context` tokens
    CONFIG_OBJ_FLOPS,        // forward FLOPs per token at `context` tokens
    CONFIG_OBJ_COUNT
} config_objective_kind;

typedef enum config_dtype { CONFIG_DTYPE_BF16, CONFIG_DTYPE_FP32, CONFIG_DTYPE_COUNT } config_dtype;
typedef enum config_algorithm_kind { CONFIG_ALGO_NSGA2, CONFIG_ALGO_GA, CONFIG_ALGO_RANDOM, CONFIG_ALGO_COUNT } config_algorithm_kind;
typedef enum config_backend { CONFIG_BACKEND_CPU, CONFIG_BACKEND_CUDA, CONFIG_BACKEND_COUNT } config_backend;
// run.keep_weights: which trained candidates keep their weights in RUN/weights/.
typedef enum config_keep_weights { CONFIG_KEEP_NONE, CONFIG_KEEP_ALL, CONFIG_KEEP_COUNT } config_keep_weights;
typedef enum config_data_kind { CONFIG_DATA_MAD, CONFIG_DATA_TEXT, CONFIG_DATA_BIN, CONFIG_DATA_COUNT } config_data_kind;

typedef enum config_mad_task {
    CONFIG_MAD_IN_CONTEXT_RECALL,
    CONFIG_MAD_FUZZY_IN_CONTEXT_RECALL,
    CONFIG_MAD_NOISY_IN_CONTEXT_RECALL,
    CONFIG_MAD_SELECTIVE_COPYING,
    CONFIG_MAD_COMPRESSION,
    CONFIG_MAD_MEMORIZATION,
    CONFIG_MAD_COUNT
} config_mad_task;

typedef enum config_problem_kind { CONFIG_PROBLEM_ZDT1, CONFIG_PROBLEM_ZDT2, CONFIG_PROBLEM_ZDT3, CONFIG_PROBLEM_DTLZ2, CONFIG_PROBLEM_COUNT } config_problem_kind;

typedef struct config_run {
    char dir[CONFIG_PATH_MAX];  // run directory; relative (to the working dir) or absolute, no ".."
    uint64_t seed;              // every random stream derives from it
    config_keep_weights keep_weights;  // all: each trained candidate's weights in DIR/weights/
} config_run;

typedef struct config_space {
    int n_classes;
    liv_class classes[LIV_CLASS_COUNT];  // ascending by class digit, no repeats
    int depth_min, depth_max;            // LIVs per genome, 1 <= min <= max <= GENOME_MAX_DEPTH
    int width;                           // model width, a multiple of 32
    int vocab;                           // vocabulary size
    int share_featurizer;                // allow featurizer sharing (tied weights)
    int share_feature_group;             // allow feature-group sharing (shared K/V, smaller cache)
} config_space;

typedef struct config_objective {
    config_objective_kind kind;  // every objective is minimized
    int has_max;                 // 1: hard constraint value <= max (constrained domination)
    double max;
    long context;                // cache_bytes and flops: context length in tokens
    config_dtype dtype;          // cache_bytes: element type of the cache
} config_objective;

typedef struct config_mutation {
    double rate;        // per-gene probability; the default of the four levels below
    double backbone;    // per-gene probability on backbone genes
    double op;          // YAML "operator": per-gene probability on operator genes
    double featurizer;  // per-gene probability on featurizer genes
    double norm;        // per-gene probability on the norm/residual genes
    double insert;      // per-offspring probability of inserting one LIV
    double del;         // YAML "delete": per-offspring probability of deleting one LIV
} config_mutation;

typedef struct config_algorithm {
    config_algorithm_kind kind;
    int population;
    int generations;
    int crossover_points;   // k of k-point crossover on LIV boundaries
    double crossover_rate;  // probability that a pair of parents is recombined
    config_mutation mutation;
    int tournament;         // tournament size
    int n_seed_with;
    char seed_with[CONFIG_MAX_SEEDS][CONFIG_PATH_MAX];  // genome files for the first generation
} config_algorithm;

typedef struct config_data {
    config_data_kind kind;
    int n_mad;
    config_mad_task mad[CONFIG_MAD_COUNT];  // CONFIG_DATA_MAD: tasks in the order given
    char path[CONFIG_PATH_MAX];             // CONFIG_DATA_TEXT: a file; CONFIG_DATA_BIN: a shard pattern
} config_data;

typedef struct config_budget {
    int steps, batch, seq_len;
    double lr;
    int warmup;  // linear warmup steps, <= steps
    double weight_decay;
    double clip;  // gradient-norm clip, 0 = none
} config_budget;

typedef struct config_fidelity {
    int n_rungs;                    // 0: single fidelity (every candidate trains budget.steps)
    int rungs[CONFIG_MAX_RUNGS];    // strictly increasing step counts, the last == budget.steps
    double keep;                    // fraction promoted from one rung to the next
} config_fidelity;

typedef struct config_evaluation {
    config_backend backend;
    int threads;  // 0 = all cores
    config_data data;
    config_budget budget;
    config_fidelity fidelity;
    long memory_limit_mb;  // per candidate, 0 = none
    long time_limit_s;     // per candidate, 0 = none
    int ranks_per_candidate;  // MPI ranks that train one candidate together (data parallel)
    long hang_timeout_s;      // an evaluation not done by then is hung: the job stops; 0 = from time_limit_s
} config_evaluation;

// A built-in test problem searched instead of architectures (space, objectives and
// evaluation are then not used and must not be written).
typedef struct config_problem {
    int enabled;
    config_problem_kind kind;
    int n_var;
    int n_obj;  // 2 for ZDT; dtlz2: from the config
} config_problem;

typedef struct star_config {
    config_run run;
    config_space space;
    int n_objectives;
    config_objective objectives[CONFIG_MAX_OBJECTIVES];
    config_algorithm algorithm;
    config_evaluation evaluation;
    config_problem problem;
} star_config;

// Every field at its default (run.dir empty: it has no default). The struct is zeroed
// first, so two configs with the same values compare equal with memcmp.
void config_defaults(star_config *c);

// Loads and validates a config file, applying `sets` ("a.b=VALUE") in order.
int config_load(const char *path, const char **sets, int n_sets, star_config *c, star_error *err);
// The same from text in memory; `name` stands for the file in messages.
int config_load_string(const char *text, size_t len, const char *name, const char **sets, int n_sets,
                       star_config *c, star_error *err);

// The resolved config as YAML text (every key with its value, defaults filled in); it
// loads back to an identical struct. The caller frees *out_text. Returns 0, or -1 when a
// field holds a value no config can (the struct was not made by config_load).
int config_write_resolved(const star_config *c, char **out_text);

// 1 if path is non-empty and has no ".." component (safe for the run to create files under).
int config_path_is_safe(const char *path);

// Names as written in YAML; NULL for values out of range. Lookup by name returns -1 when unknown.
const char *config_class_name(liv_class c);
const char *config_objective_name(config_objective_kind k);
const char *config_dtype_name(config_dtype d);
const char *config_algorithm_name(config_algorithm_kind k);
const char *config_backend_name(config_backend b);
const char *config_keep_weights_name(config_keep_weights k);
const char *config_data_kind_name(config_data_kind k);
const char *config_mad_task_name(config_mad_task t);
const char *config_problem_name(config_problem_kind k);
int config_class_from_name(const char *name);

#endif
