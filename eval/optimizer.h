// star: AdamW over every tensor of a model (decoupled weight decay on the tensors
// marked decay: matrices; norms, biases and scalars are not decayed), with the
// global gradient norm for clipping.
#ifndef STAR_EVAL_OPTIMIZER_H
#define STAR_EVAL_OPTIMIZER_H

#include "common/error.h"
#include "eval/model.h"

typedef struct adamw_state {
    real *m, *v;    // first and second moments, one slot per parameter
    size_t n;
    long t;         // steps taken
} adamw_state;

int adamw_init(adamw_state *s, model *m, star_error *err);
void adamw_free(adamw_state *s);
// sqrt of the sum of squared gradients over all tensors (double accumulation).
double adamw_grad_norm(model *m);
// One step with gradients multiplied by grad_scale (clipping).
void adamw_step(adamw_state *s, model *m, double lr, double beta1, double beta2, double eps, double weight_decay,
                double grad_scale);

#endif
