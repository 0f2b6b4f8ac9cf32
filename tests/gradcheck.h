// star tests: finite-difference gradient checks. Built with STAR_REAL_DOUBLE so the
// operators run in double; central differences with eps ~1e-5 then agree with the
// analytic gradient to ~1e-7 relative, and a tolerance of 1e-5 catches real bugs.
#ifndef STAR_TESTS_GRADCHECK_H
#define STAR_TESTS_GRADCHECK_H

#include <math.h>
#include <stdio.h>

#include "common/pcg32.h"
#include "operators/real.h"

// The loss: runs the forward pass and returns sum(out * weights) (weights fixed and
// random, chosen by the test), so its gradient wrt out is the weights.
typedef double (*gc_loss_fn)(void *ctx);

// Compares grad[i] with (L(x+eps) - L(x-eps)) / 2eps for up to max_checks indices
// spread over x (all when n <= max_checks). Returns the number of mismatches and
// prints the first few. Error measure: |a-n| / max(1, |a|+|n|) ... scaled by `scale`.
static int gradcheck(const char *name, real *x, const real *grad, long n, gc_loss_fn loss, void *ctx, double eps,
                     double tol, long max_checks) {
    int bad = 0;
    double worst = 0;
    long step = (n <= max_checks || max_checks <= 0) ? 1 : n / max_checks;
    for (long i = 0; i < n; i += step) {
        real keep = x[i];
        x[i] = keep + (real)eps;
        double lp = loss(ctx);
        x[i] = keep - (real)eps;
        double lm = loss(ctx);
        x[i] = keep;
        double num = (lp - lm) / (2 * eps);
        double ana = (double)grad[i];
        double err = fabs(num - ana) / fmax(1e-3, fabs(num) + fabs(ana));
        if (err > worst) worst = err;
        if (err > tol || isnan(ana)) {
            if (bad < 5) fprintf(stderr, "gradcheck %s[%ld]: analytic %.10g numeric %.10g (rel %.3g)\n", name, i, ana, num, err);
            bad++;
        }
    }
    printf("gradcheck %-28s n=%-7ld worst rel err %.3g %s\n", name, n, worst, bad ? "FAIL" : "ok");
    return bad;
}

static void fill_normal(real *x, long n, double scale, pcg32 *rng) {
    for (long i = 0; i < n; i++) x[i] = (real)(scale * pcg32_normal(rng));
}

static double dot_weights(const real *out, const real *w, long n) {
    double s = 0;
    for (long i = 0; i < n; i++) s += (double)out[i] * (double)w[i];
    return s;
}

#endif
