// star: the element-wise activations on the device, the same formulas in fp32 as
// operators/activation.c (act_kind from genome/arch.h), for any kernel that applies one.
#ifndef STAR_KERNELS_ACTIVATION_CUH
#define STAR_KERNELS_ACTIVATION_CUH

#include "kernels/common.cuh"

#define GELU_C_F 0.7978845608028654f  // sqrt(2 / pi)

// Never exponentiates a large positive number, so it stays finite for any x.
__device__ __forceinline__ float act_sigmoid(float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

__device__ __forceinline__ float act_value_dev(act_kind k, float x) {
    switch (k) {
    case ACT_IDENTITY: return x;
    case ACT_SIGMOID: return act_sigmoid(x);
    case ACT_SILU: return x * act_sigmoid(x);
    case ACT_GELU: return 0.5f * x * (1.0f + tanhf(GELU_C_F * (x + 0.044715f * x * x * x)));
    case ACT_ELU1: return x > 0.0f ? x + 1.0f : expf(x);
    }
    return x;
}

__device__ __forceinline__ float act_derivative_dev(act_kind k, float x) {
    switch (k) {
    case ACT_IDENTITY: return 1.0f;
    case ACT_SIGMOID: {
        float s = act_sigmoid(x);
        return s * (1.0f - s);
    }
    case ACT_SILU: {
        float s = act_sigmoid(x);
        return s * (1.0f + x * (1.0f - s));
    }
    case ACT_GELU: {
        float th = tanhf(GELU_C_F * (x + 0.044715f * x * x * x));
        float du = GELU_C_F * (1.0f + 3.0f * 0.044715f * x * x);
        return 0.5f * (1.0f + th) + 0.5f * x * (1.0f - th * th) * du;
    }
    case ACT_ELU1: return x > 0.0f ? 1.0f : expf(x);
    }
    return 1.0f;
}

#endif
