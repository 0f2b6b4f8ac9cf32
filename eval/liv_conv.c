// star: the gated convolution and gated MLP token mixers, all of the form
// core = act(gate) * u with u from the value path:
//   GConv-1: u = short causal conv of the value (per channel, conv_len taps);
//   GConv-2: u = long causal conv of the value with an implicit filter as long as the
//            sequence, plus a skip (operators/long_conv.h), computed by FFT;
//   GMemless: u = the up projection itself (SwiGLU / GeGLU; no token mixing).
#include "eval/model_private.h"
#include "operators/glu.h"
#include "operators/long_conv.h"
#include "operators/short_conv.h"

// act[0] = u [B*T*inner] (GConv-1, GConv-2); act[1] = filter h [inner*T] (GConv-2);
// dact[0] = du, dact[1] = dh.
static int gconv_alloc(model *m, liv_layer *l, int B, int T, star_error *err) {
    size_t n = (size_t)B * T * l->s->inner;
    l->act[0] = model_alloc(m, n, err);
    l->dact[0] = model_alloc(m, n, err);
    l->dact_n[0] = n;
    if (!l->act[0] || !l->dact[0]) return -1;
    if (l->s->cls == LIV_GCONV2) {
        size_t nh = (size_t)l->s->inner * T;
        l->act[1] = model_alloc(m, nh, err);
        l->dact[1] = model_alloc(m, nh, err);
        l->dact_n[1] = nh;
        if (!l->act[1] || !l->dact[1]) return -1;
    }
    return 0;
}

static int gconv_forward(liv_layer *l, int B, int T, star_error *err) {
    const liv_spec *s = l->s;
    int C = s->inner;
    if (s->cls == LIV_GCONV1) {
        short_conv_forward(l->act[0], l->feat[1], l->conv.w, B, T, C, s->conv_len);
    } else {
        long_conv_filter_forward(l->act[1], l->fa.w, l->fb.w, l->falpha.w, C, T, s->filter_modes);
        if (long_conv_forward(l->act[0], l->feat[1], l->act[1], l->skip.w, B, T, C, LONG_CONV_FFT, err) != 0) return -1;
    }
    glu_forward(l->core, l->feat[0], l->act[0], (size_t)B * T * C, s->act);
    return 0;
}

static int gconv_backward(liv_layer *l, const real *dcore, real *dh, int B, int T, star_error *err) {
    const liv_spec *s = l->s;
    int C = s->inner;
    size_t n = (size_t)B * T * C;
    glu_backward(l->dfeat[0], l->dact[0], dcore, l->feat[0], l->act[0], n, s->act);
    if (s->cls == LIV_GCONV1) {
        short_conv_backward(l->dfeat[1], l->conv.g, l->dact[0], l->feat[1], l->conv.w, B, T, C, s->conv_len);
        return 0;
    }
    if (long_conv_backward(l->dfeat[1], l->dact[1], l->skip.g, l->dact[0], l->feat[1], l->act[1], l->skip.w, B, T, C,
                           LONG_CONV_FFT, err) != 0)
        return -1;
    long_conv_filter_backward(l->fa.g, l->fb.g, l->falpha.g, l->dact[1], l->fa.w, l->fb.w, l->falpha.w, C, T,
                              s->filter_modes);
    return 0;
}

const liv_mixer liv_mixer_gconv = {gconv_alloc, gconv_forward, gconv_backward};

static int mlp_alloc(model *m, liv_layer *l, int B, int T, star_error *err) { return 0; }

static int mlp_forward(liv_layer *l, int B, int T, star_error *err) {
    glu_forward(l->core, l->feat[0], l->feat[1], (size_t)B * T * l->s->inner, l->s->act);
    return 0;
}

static int mlp_backward(liv_layer *l, const real *dcore, real *dh, int B, int T, star_error *err) {
    glu_backward(l->dfeat[0], l->dfeat[1], dcore, l->feat[0], l->feat[1], (size_t)B * T * l->s->inner, l->s->act);
    return 0;
}

const liv_mixer liv_mixer_mlp = {mlp_alloc, mlp_forward, mlp_backward};
