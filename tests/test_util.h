// star tests: each test file is one executable (one ctest entry) that returns 0 when
// every CHECK held. CHECK records the failure with file:line and continues.
#ifndef STAR_TESTS_TEST_UTIL_H
#define STAR_TESTS_TEST_UTIL_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int test_failures = 0;
static int test_checks = 0;

#define CHECK(cond)                                                                \
    do {                                                                           \
        test_checks++;                                                             \
        if (!(cond)) {                                                             \
            test_failures++;                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                          \
    } while (0)

#define CHECK_MSG(cond, ...)                                                       \
    do {                                                                           \
        test_checks++;                                                             \
        if (!(cond)) {                                                             \
            test_failures++;                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                          \
            fprintf(stderr, "\n");                                                 \
        }                                                                          \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                          \
    do {                                                                                               \
        double a_ = (double)(a), b_ = (double)(b);                                                     \
        test_checks++;                                                                                 \
        if (!(fabs(a_ - b_) <= (tol)) || isnan(a_) || isnan(b_)) {                                     \
            test_failures++;                                                                           \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.9g vs %s = %.9g (tol %g)\n", __FILE__, __LINE__, \
                    #a, a_, #b, b_, (double)(tol));                                                   \
        }                                                                                              \
    } while (0)

#define CHECK_STR_CONTAINS(hay, needle)                                                               \
    do {                                                                                              \
        test_checks++;                                                                                \
        if (!strstr((hay), (needle))) {                                                               \
            test_failures++;                                                                          \
            fprintf(stderr, "%s:%d: expected \"%s\" to contain \"%s\"\n", __FILE__, __LINE__, (hay), (needle)); \
        }                                                                                             \
    } while (0)

// Ends main(): prints "N passed, N failed" and returns the exit status.
#define TEST_END()                                                                       \
    do {                                                                                 \
        printf("%d passed, %d failed\n", test_checks - test_failures, test_failures);    \
        return test_failures ? 1 : 0;                                                    \
    } while (0)

#endif
