// star: nccl_group.h over NCCL and the CUDA runtime.
#include "dist/nccl_group.h"

#ifdef STAR_WITH_NCCL
#include <cuda_runtime_api.h>
#include <nccl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/timer.h"

struct nccl_group {
    ncclComm_t comm;
    cudaStream_t stream;          // where the sums run
    cudaEvent_t queued, done;     // "the caller's work so far", "every sum so far"
    int rank, size, pending, broken;
    double timeout_s;
};

// One communicator over the world, made by the first group (ranks split from it).
static ncclComm_t world_comm;
static int world_device = -1;

int nccl_built(void) { return 1; }

static void pause_briefly(void) {
    struct timespec ts = {0, 100000};  // 0.1 ms
    nanosleep(&ts, NULL);
}

static int cuda_fail(cudaError_t e, const char *call, star_error *err) {
    return STAR_FAIL(err, "%s: %s", call, cudaGetErrorString(e));
}
#define CUDA_OK(call, err)                                              \
    do {                                                                \
        cudaError_t e_ = (call);                                        \
        if (e_ != cudaSuccess) return cuda_fail(e_, #call, err);        \
    } while (0)

static int nccl_fail(ncclComm_t comm, ncclResult_t r, const char *what, star_error *err) {
    const char *last = comm ? ncclGetLastError(comm) : NULL;
    return STAR_FAIL(err, "NCCL: %s: %s%s%s", what, ncclGetErrorString(r), last && *last ? ": " : "", last ? last : "");
}

// Waits until the communicator's last call has finished on the host side (non-blocking
// communicators return ncclInProgress). On an error or after the deadline it fails; the
// caller then aborts the communicator.
static int settle(ncclComm_t comm, ncclResult_t started, double deadline, const char *what, star_error *err) {
    if (started != ncclSuccess && started != ncclInProgress) return nccl_fail(comm, started, what, err);
    for (;;) {
        ncclResult_t st = ncclSuccess, r = ncclCommGetAsyncError(comm, &st);
        if (r != ncclSuccess) st = r;
        if (st == ncclSuccess) return 0;
        if (st != ncclInProgress) return nccl_fail(comm, st, what, err);
        if (star_now_s() > deadline)
            return STAR_FAIL(err, "NCCL: %s did not finish in time (a rank of the group died or hangs); the "
                                  "communicator was aborted", what);
        pause_briefly();
    }
}

static ncclConfig_t nonblocking_config(void) {
    ncclConfig_t c = NCCL_CONFIG_INITIALIZER;
    c.blocking = 0;
    return c;
}

static int world_create(int device, double deadline, star_error *err) {
    if (world_comm) {
        if (device != world_device)
            return STAR_FAIL(err, "NCCL: this process joined NCCL on CUDA device %d and now asks for device %d",
                             world_device, device);
        return 0;
    }
    const dist_comm *w = dist_world();
    ncclUniqueId id;
    memset(&id, 0, sizeof id);
    ncclResult_t r = ncclSuccess;
    if (dist_rank(w) == 0) r = ncclGetUniqueId(&id);
    // Every rank learns rank 0's outcome before anyone waits on a broadcast of nothing.
    if (dist_agree(w, r == ncclSuccess ? 0 : nccl_fail(NULL, r, "ncclGetUniqueId", err), err) != 0) return -1;
    if (dist_bcast(w, &id, sizeof id, 0, err) != 0) return -1;
    ncclConfig_t c = nonblocking_config();
    ncclComm_t comm = NULL;
    r = ncclCommInitRankConfig(&comm, dist_size(w), id, dist_rank(w), &c);
    if (!comm) return nccl_fail(NULL, r, "ncclCommInitRankConfig", err);
    if (settle(comm, r, deadline, "ncclCommInitRankConfig (the world communicator)", err) != 0) {
        ncclCommAbort(comm);
        return -1;
    }
    world_comm = comm;
    world_device = device;
    return 0;
}

int nccl_group_create(int color, int key, int device, double timeout_s, nccl_group **out, star_error *err) {
    *out = NULL;
    if (timeout_s <= 0) timeout_s = 300;
    double deadline = star_now_s() + timeout_s;
    CUDA_OK(cudaSetDevice(device), err);
    // Every rank must reach the split, or the others wait: agree on the world first.
    if (dist_agree(dist_world(), world_create(device, deadline, err), err) != 0) return -1;
    nccl_group *g = calloc(1, sizeof *g);
    if (!g) return STAR_FAIL(err, "out of memory");
    g->timeout_s = timeout_s;
    ncclConfig_t c = nonblocking_config();
    ncclResult_t r = ncclCommSplit(world_comm, color, key, &g->comm, &c);
    if (settle(world_comm, r, deadline, "ncclCommSplit", err) != 0) {
        // The world communicator is in an unknown state: no later group may use it.
        ncclCommAbort(world_comm);
        world_comm = NULL;
        g->broken = 1;
        goto fail;
    }
    if (!g->comm) {
        STAR_FAIL(err, "NCCL: ncclCommSplit gave no communicator for color %d", color);
        goto fail;
    }
    if (settle(g->comm, ncclSuccess, deadline, "ncclCommSplit (the group communicator)", err) != 0 ||
        settle(g->comm, ncclCommCount(g->comm, &g->size), deadline, "ncclCommCount", err) != 0 ||
        settle(g->comm, ncclCommUserRank(g->comm, &g->rank), deadline, "ncclCommUserRank", err) != 0) {
        g->broken = 1;
        goto fail;
    }
    cudaError_t e = cudaStreamCreateWithFlags(&g->stream, cudaStreamNonBlocking);
    if (e == cudaSuccess) e = cudaEventCreateWithFlags(&g->queued, cudaEventDisableTiming);
    if (e == cudaSuccess) e = cudaEventCreateWithFlags(&g->done, cudaEventDisableTiming);
    if (e != cudaSuccess) {
        cuda_fail(e, "cudaStreamCreate/cudaEventCreate", err);
        goto fail;
    }
    *out = g;
    return 0;
fail:
    nccl_group_free(g);
    return -1;
}

// After a failure: nothing more is sent on the group, and its communicator is aborted.
static int group_break(nccl_group *g) {
    g->broken = 1;
    if (g->comm) ncclCommAbort(g->comm);
    g->comm = NULL;
    return -1;
}

void nccl_group_free(nccl_group *g) {
    if (!g) return;
    if (g->comm) {
        if (g->broken) {
            group_break(g);
        } else {
            // A clean destroy waits for the group's work; an abort does not.
            ncclResult_t r = ncclCommFinalize(g->comm);
            star_error ignore;
            if (settle(g->comm, r, star_now_s() + g->timeout_s, "ncclCommFinalize", &ignore) == 0)
                ncclCommDestroy(g->comm);
            else
                ncclCommAbort(g->comm);
        }
    }
    if (g->done) cudaEventDestroy(g->done);
    if (g->queued) cudaEventDestroy(g->queued);
    if (g->stream) cudaStreamDestroy(g->stream);
    free(g);
}

int nccl_group_size(const nccl_group *g) { return g->size; }
int nccl_group_rank(const nccl_group *g) { return g->rank; }

int nccl_group_allreduce(nccl_group *g, float *buf, size_t n, float scale, struct CUstream_st *after,
                         star_error *err) {
    if (g->broken) return STAR_FAIL(err, "NCCL: the group's communicator was aborted after an earlier failure");
    if (n == 0) return 0;
    CUDA_OK(cudaEventRecord(g->queued, after), err);
    CUDA_OK(cudaStreamWaitEvent(g->stream, g->queued, 0), err);
    double deadline = star_now_s() + g->timeout_s;
    // Each rank's own factor: the sum is sum_r scale_r * buf_r.
    ncclRedOp_t op;
    ncclResult_t r = ncclRedOpCreatePreMulSum(&op, &scale, ncclFloat32, ncclScalarHostImmediate, g->comm);
    if (settle(g->comm, r, deadline, "ncclRedOpCreatePreMulSum", err) != 0) return group_break(g);
    r = ncclAllReduce(buf, buf, n, ncclFloat32, op, g->comm, g->stream);
    if (settle(g->comm, r, deadline, "ncclAllReduce", err) != 0) return group_break(g);
    r = ncclRedOpDestroy(op, g->comm);  // allowed once the last call using it has returned
    if (settle(g->comm, r, deadline, "ncclRedOpDestroy", err) != 0) return group_break(g);
    g->pending = 1;
    return 0;
}

int nccl_group_join(nccl_group *g, struct CUstream_st *s, star_error *err) {
    if (g->broken) return STAR_FAIL(err, "NCCL: the group's communicator was aborted after an earlier failure");
    if (!g->pending) return 0;
    CUDA_OK(cudaEventRecord(g->done, g->stream), err);
    CUDA_OK(cudaStreamWaitEvent(s, g->done, 0), err);
    g->pending = 0;
    // The host waits here, not inside a blocking CUDA call, so a dead peer cannot hang it.
    double deadline = star_now_s() + g->timeout_s;
    for (;;) {
        cudaError_t e = cudaEventQuery(g->done);
        if (e == cudaSuccess) return 0;
        if (e != cudaErrorNotReady) {
            cuda_fail(e, "the gradient sum over NCCL", err);
            return group_break(g);
        }
        ncclResult_t st = ncclSuccess, r = ncclCommGetAsyncError(g->comm, &st);
        if (r != ncclSuccess) st = r;
        if (st != ncclSuccess && st != ncclInProgress) {
            nccl_fail(g->comm, st, "the gradient sum", err);
            return group_break(g);
        }
        if (star_now_s() > deadline) {
            STAR_FAIL(err, "NCCL: the gradient sum did not finish in %.0f s (a rank of the group died or hangs); "
                           "the communicator was aborted", g->timeout_s);
            return group_break(g);
        }
        pause_briefly();
    }
}

#else  // no NCCL in this build

int nccl_built(void) { return 0; }

int nccl_group_create(int color, int key, int device, double timeout_s, nccl_group **out, star_error *err) {
    (void)color, (void)key, (void)device, (void)timeout_s;
    *out = NULL;
    return STAR_FAIL(err, "data-parallel training on GPUs needs NCCL, and this build has none (it needs the CUDA "
                          "toolkit's NCCL at configure time)");
}
void nccl_group_free(nccl_group *g) { (void)g; }
int nccl_group_size(const nccl_group *g) { (void)g; return 1; }
int nccl_group_rank(const nccl_group *g) { (void)g; return 0; }
int nccl_group_allreduce(nccl_group *g, float *buf, size_t n, float scale, struct CUstream_st *after,
                         star_error *err) {
    (void)g, (void)buf, (void)n, (void)scale, (void)after;
    return STAR_FAIL(err, "this build has no NCCL");
}
int nccl_group_join(nccl_group *g, struct CUstream_st *s, star_error *err) {
    (void)g, (void)s;
    return STAR_FAIL(err, "this build has no NCCL");
}

#endif
