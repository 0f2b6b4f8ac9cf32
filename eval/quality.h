// star: the quality objective: train the model an architecture builds on the config's
// data for the configured budget (on evaluation.backend: the CPU engine, or the first
// CUDA device through train_new_cuda) and score it on held-out data. Quality is the
// validation loss in nats per scored token (for MAD: averaged over the tasks, each
// trained as its own model as MAD does); accuracy and, for bytes, bits per byte are
// reported beside it. A candidate that diverges, runs out of its memory limit (or of
// device memory) or of its time, or has a class the CUDA backend does not run, is not
// an error: the result says ok = 0 and why.
#ifndef STAR_EVAL_QUALITY_H
#define STAR_EVAL_QUALITY_H

#include <stdint.h>

#include "common/error.h"
#include "config/config.h"
#include "dist/dist.h"
#include "genome/arch.h"

#define QUALITY_MAX_TASKS 8
// Validation set scored at the end of each training: at most this many sequences.
#define QUALITY_VAL_SEQUENCES 256

typedef struct quality_result {
    int ok;
    char reason[256];
    double quality;        // mean validation loss (nats per token)
    double accuracy;       // mean accuracy over scored validation positions
    double bits_per_byte;  // byte data only
    double train_loss;
    double tokens_per_s;
    double wall_s;
    int n_tasks;
    char task[QUALITY_MAX_TASKS][48];
    double task_loss[QUALITY_MAX_TASKS], task_accuracy[QUALITY_MAX_TASKS];
} quality_result;

// steps: the training length (a fidelity rung, or the budget's steps when <= 0).
int quality_evaluate(const star_config *cfg, const arch *a, uint64_t seed, int steps, quality_result *out,
                     star_error *err);
// The same trained data parallel over the ranks of group (NULL = alone; eval/train.h):
// every rank of the group calls it with the same arguments and gets the same result.
int quality_evaluate_group(const star_config *cfg, const arch *a, uint64_t seed, int steps, const dist_comm *group,
                           quality_result *out, star_error *err);

// Where quality_evaluate_save keeps the trained weights (eval/checkpoint.h, without the
// optimizer): in dir itself for text or bin data, in dir/<task> per MAD task. Only rank 0
// of group writes (every rank of a group holds the same weights). Nothing is saved for a
// model that failed; the caller discards dir then.
typedef struct quality_save {
    const char *dir;
    const char *genome;  // the genome string written into the checkpoint's metadata
} quality_save;
// quality_evaluate_group that also saves each trained model (save NULL: none saved).
int quality_evaluate_save(const star_config *cfg, const arch *a, uint64_t seed, int steps, const dist_comm *group,
                          const quality_save *save, quality_result *out, star_error *err);

// Opens every data source the config names once, so a missing or too short file is
// reported before a search starts.
int quality_check_data(const star_config *cfg, star_error *err);

// With backend cuda: the CUDA device quality_* train on, and the NCCL communicator of
// the group's ranks for data-parallel training (NULL: each rank alone). Default: device
// 0, no NCCL.
struct nccl_group;
void quality_set_cuda(int device, struct nccl_group *nccl);

// Sets OpenMP and OpenBLAS threads from evaluation.threads (0 = all cores).
void quality_set_threads(int threads);

#endif
