// star: the weights a search keeps (run.keep_weights: all), one directory per trained
// candidate and fidelity in the run directory:
//   RUN/weights/<hash>-f<steps>/                 text or bin data: a checkpoint
//                                                (eval/checkpoint.h) without optimizer
//   RUN/weights/<hash>-f<steps>/<task>/          MAD data: one checkpoint per task
// <hash> is the candidate's 16-hex-digit hash (archive.jsonl), <steps> the training
// steps of that evaluation (the rung, or the budget's steps). A directory is filled under
// RUN/weights/.<hash>-f<steps>.tmp and renamed into place once every task is saved, so a
// directory with the final name is always whole; a candidate that failed keeps none.
#ifndef STAR_EVAL_RUN_WEIGHTS_H
#define STAR_EVAL_RUN_WEIGHTS_H

#include <stdint.h>

#include "common/error.h"

// Prepares the temporary directory of candidate hash at steps (removing one a killed
// process left); final_dir and tmp_dir (each 4096 bytes) receive the two paths.
int run_weights_begin(const char *run_dir, uint64_t hash, int steps, char *final_dir, char *tmp_dir, star_error *err);
// Renames tmp_dir to final_dir (replacing a final_dir of an earlier, identical training).
int run_weights_commit(const char *tmp_dir, const char *final_dir, star_error *err);
// Removes tmp_dir and what it holds (a failed candidate). Never fails: errors are ignored.
void run_weights_discard(const char *tmp_dir);

// The checkpoint directory of the candidate with this hash (16 hex digits) at the highest
// fidelity kept. task: the MAD task (NULL: the only one). Fails with a clear message when
// the run kept none for it, or when it has several tasks and task is NULL (naming them).
int run_weights_find(const char *run_dir, const char *hash, const char *task, char *out, size_t cap, star_error *err);

#endif
