// star: the CPU engine's scalar type. Operators are written once against `real`:
// the product builds them with float; the gradient-check tests build the same sources
// with -DSTAR_REAL_DOUBLE so finite differences run in double precision.
#ifndef STAR_OPERATORS_REAL_H
#define STAR_OPERATORS_REAL_H

#include <math.h>

#ifdef STAR_REAL_DOUBLE
typedef double real;
#define R_EXP exp
#define R_LOG log
#define R_SQRT sqrt
#define R_TANH tanh
#define R_COS cos
#define R_SIN sin
#define R_FABS fabs
#define R_POW pow
#define R_LOG1P log1p
#define R_EXPM1 expm1
#else
typedef float real;
#define R_EXP expf
#define R_LOG logf
#define R_SQRT sqrtf
#define R_TANH tanhf
#define R_COS cosf
#define R_SIN sinf
#define R_FABS fabsf
#define R_POW powf
#define R_LOG1P log1pf
#define R_EXPM1 expm1f
#endif

#endif
