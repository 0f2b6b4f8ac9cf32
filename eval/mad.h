// star: the MAD synthetic tasks (Poli et al. 2024, "Mechanistic Design and Scaling of
// Hybrid Architectures"; reference code github.com/athms/mad-lab, mad/data/instances.py
// and configs/tasks/*.yml): in-context recall, fuzzy and noisy in-context recall,
// selective copying, compression and memorization, generated in-process.
//
// Every example is a pure function of (params, split, index): example i of a split
// draws from its own pcg32 stream, pcg32_derive(params.seed, tag(task, split, i)).
// The validation set is examples 0 .. num_valid_examples-1 of the validation split, the
// same in every run; the training set is examples 0 .. num_train_examples-1 of the
// training split (0 = unlimited: every draw a fresh example), sampled by the loader's
// stream. Defaults are MAD's published baselines; docs/data.md lists them and every
// place where star deviates (compression is adapted to causal models).
//
// Targets follow MAD: for the recall tasks a training example scores every next token
// (MAD trains them as plain language modelling) while a validation example scores only
// the recalled values; the other tasks score the same positions in both splits.
#ifndef STAR_EVAL_MAD_H
#define STAR_EVAL_MAD_H

#include <stdint.h>

#include "common/error.h"
#include "common/pcg32.h"
#include "eval/batch.h"

typedef enum mad_task {
    MAD_IN_CONTEXT_RECALL = 0,
    MAD_FUZZY_IN_CONTEXT_RECALL,
    MAD_NOISY_IN_CONTEXT_RECALL,
    MAD_SELECTIVE_COPYING,
    MAD_COMPRESSION,
    MAD_MEMORIZATION,
    MAD_TASK_COUNT
} mad_task;

typedef enum mad_split { MAD_TRAIN = 0, MAD_VALID = 1 } mad_split;

#define MAD_MAX_MOTIF 8

typedef struct mad_task_params {
    mad_task task;
    int vocab_size;          // every token of the task, special tokens included, is < vocab_size
    int seq_len;             // MAD's seq_len (compression: tokens to compress, incl. its marker)
    int noise_vocab_size;    // recall tasks: the last noise_vocab_size non-special tokens are noise
    double frac_noise;       // recall tasks: chance that a key-value slot holds noise instead
    int num_tokens_to_copy;  // selective copying
    int k_motif_size;        // fuzzy recall: keys are 1..k_motif_size tokens (validation: exactly k)
    int v_motif_size;        // fuzzy recall: values are 1..v_motif_size tokens
    int multi_query;         // recall tasks: every repeated key is a query (1) or only the last (0)
    long num_train_examples; // size of the training set; 0 = unlimited
    long num_valid_examples; // size of the validation set
    uint64_t seed;           // fixes both sets and the memorization facts (MAD: 12345)
} mad_task_params;

const char *mad_task_name(mad_task t);  // "in_context_recall", ...
// Accepts star's names and MAD's hyphenated ones ("in-context-recall"); an unknown name
// fails listing the known ones.
int mad_task_by_name(const char *name, mad_task *out, star_error *err);
// The names of all tasks, in enum order, NULL-terminated.
const char *const *mad_task_names(void);

// MAD's baseline setting of the task.
void mad_task_defaults(mad_task t, mad_task_params *p);
// Checks the parameters for the task (sizes that leave keys, values and content tokens,
// a sequence long enough for its structure); fails naming the parameter.
int mad_task_check(const mad_task_params *p, star_error *err);
// Smallest model vocabulary that covers the task's tokens.
int mad_task_vocab(const mad_task_params *p);
// Length T of the task's sequences (batches may be longer: the rest is unscored padding).
int mad_task_seq_len(const mad_task_params *p);

// Example `index` of a split: inputs[0..T) and targets[0..T) with T = mad_task_seq_len
// (targets TOKEN_UNSCORED where not scored). p must pass mad_task_check.
void mad_example(const mad_task_params *p, mad_split split, uint64_t index, int32_t *inputs, int32_t *targets);

// A training batch: B examples drawn by rng (uniformly from the training set, or fresh
// ones when it is unlimited). b->T must be >= the task's T; positions past it are
// padding (input 0, unscored).
int mad_train_batch(const mad_task_params *p, pcg32 *rng, token_batch *b, star_error *err);
// Validation examples first .. first+B-1; rows past num_valid_examples are padding.
int mad_valid_batch(const mad_task_params *p, long first, token_batch *b, star_error *err);

// A task bound to a training stream, for the trainer's data interface (eval/train.h).
typedef struct mad_data {
    mad_task_params params;
    pcg32 rng;
} mad_data;

int mad_data_init(mad_data *d, const mad_task_params *p, uint64_t seed, star_error *err);
struct data_source;
void mad_data_source(mad_data *d, struct data_source *out);

#endif
