// star: a model rebuilt from a checkpoint directory (eval/checkpoint.h): the genome,
// width and vocabulary come from the checkpoint's metadata, the weights from its
// safetensors. Used by `star eval --ckpt` and `star generate`.
#ifndef STAR_CLI_CKPT_MODEL_H
#define STAR_CLI_CKPT_MODEL_H

#include "common/error.h"
#include "eval/checkpoint.h"
#include "eval/model.h"

// Builds the model for batches of up to max_batch x max_seq and loads its weights.
// info (may be NULL) receives the metadata. Fails naming the directory.
int ckpt_model_load(const char *dir, int max_batch, int max_seq, model **out, checkpoint_info *info,
                    star_error *err);

#endif
