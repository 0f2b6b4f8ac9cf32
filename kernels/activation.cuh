// star: the element-wise activations on the device, the same formulas in fp32 as
// operators/activation.c (act_kind from genome/arch.h), for any kernel that applies one.
#ifndef STAR_KERNELS_ACTIVATION_CUH
#define STAR_KERNELS_ACTIVATION_CUH

#include "kernels/common.cuh"

#define GELU_C_F 0.7978845608028654f  // sqrt(2 / pi)

// The exponential through the special-function unit (__expf: a few ulp, far inside bf16's
// rounding) and one reciprocal: the gated product's kernels are memory-bound only when
// their arithmetic stays this short. 1 / (1 + inf) is 0, so a large negative x gives 0,
// not NaN.
__device__ __forceinline__ float act_sigmoid(float x) { return __frcp_rn(1.0f + __expf(-x)); }

__device__ __forceinline__ float act_value_dev(act_kind k, float x) {
    switch (k) {
    case ACT_IDENTITY: return x;
    case ACT_SIGMOID: return act_sigmoid(x);
    case ACT_SILU: return x * act_sigmoid(x);
    case ACT_GELU: return 0.5f * x * (1.0f + tanhf(GELU_C_F * (x + 0.044715f * x * x * x)));
    case ACT_ELU1: return x > 0.0f ? x + 1.0f : __expf(x);
    }
    return x;
}

// The value and the derivative together, each special function evaluated once.
__device__ __forceinline__ void act_value_derivative_dev(act_kind k, float x, float *value, float *derivative) {
    switch (k) {
    case ACT_IDENTITY: *value = x, *derivative = 1.0f; return;
    case ACT_SIGMOID: {
        float s = act_sigmoid(x);
        *value = s, *derivative = s * (1.0f - s);
        return;
    }
    case ACT_SILU: {
        float s = act_sigmoid(x);
        *value = x * s, *derivative = s * (1.0f + x * (1.0f - s));
        return;
    }
    case ACT_GELU: {
        float th = tanhf(GELU_C_F * (x + 0.044715f * x * x * x));
        float du = GELU_C_F * (1.0f + 3.0f * 0.044715f * x * x);
        *value = 0.5f * x * (1.0f + th), *derivative = 0.5f * (1.0f + th) + 0.5f * x * (1.0f - th * th) * du;
        return;
    }
    case ACT_ELU1: {
        float e = __expf(x);
        *value = x > 0.0f ? x + 1.0f : e, *derivative = x > 0.0f ? 1.0f : e;
        return;
    }
    }
    *value = x, *derivative = 1.0f;
}

#endif
