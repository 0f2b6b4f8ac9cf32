#include "eval/optimizer.h"

#include <math.h>
#include <stdlib.h>

#include "operators/adamw.h"

int adamw_init(adamw_state *s, model *m, star_error *err) {
    s->n = model_param_count(m);
    s->m = calloc(s->n ? s->n : 1, sizeof(real));
    s->v = calloc(s->n ? s->n : 1, sizeof(real));
    s->t = 0;
    if (!s->m || !s->v) {
        adamw_free(s);
        return STAR_FAIL(err, "out of memory for the optimizer state (%zu parameters)", s->n);
    }
    return 0;
}

void adamw_free(adamw_state *s) {
    free(s->m);
    free(s->v);
    s->m = s->v = NULL;
}

double adamw_grad_norm(model *m) {
    double sum = 0;
    int nt = model_n_tensors(m);
    for (int i = 0; i < nt; i++) {
        const param_tensor *t = model_tensor(m, i);
        sum += grad_sum_squares(t->grad, (long)t->numel);
    }
    return sqrt(sum);
}

void adamw_step(adamw_state *s, model *m, double lr, double beta1, double beta2, double eps, double weight_decay,
                double grad_scale) {
    s->t++;
    adamw_hparams hp = {.lr = lr, .beta1 = beta1, .beta2 = beta2, .eps = eps, .weight_decay = weight_decay};
    size_t off = 0;
    int nt = model_n_tensors(m);
    for (int i = 0; i < nt; i++) {
        param_tensor *t = model_tensor(m, i);
        adamw_update(t->data, t->grad, s->m + off, s->v + off, (long)t->numel, s->t, hp, t->decay, grad_scale);
        off += t->numel;
    }
}
