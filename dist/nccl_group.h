// star: sums of GPU buffers over a group of ranks through NCCL, for data-parallel training
// on CUDA devices (eval/train_cuda.c). Built with STAR_WITH_NCCL (CMake finds NCCL next to
// the CUDA toolkit); without it every call fails saying so.
//
// Bootstrap: the first group a process makes creates one NCCL communicator over the whole
// MPI world (rank 0 makes the ncclUniqueId and broadcasts it over MPI); every group is
// then split from it with ncclCommSplit, with the color and key of the MPI_Comm_split
// that made the group's MPI communicator. Both steps are collective over the world.
//
// Nothing waits for ever: the communicators are non-blocking (ncclConfig blocking = 0)
// and every wait polls ncclCommGetAsyncError and the device against the group's timeout;
// on an NCCL error or a timeout the communicator is aborted (ncclCommAbort) and the call
// fails with the reason, after which the group cannot be used.
#ifndef STAR_DIST_NCCL_GROUP_H
#define STAR_DIST_NCCL_GROUP_H

#include <stddef.h>

#include "common/error.h"
#include "dist/dist.h"

struct CUstream_st;  // cudaStream_t is struct CUstream_st *
typedef struct nccl_group nccl_group;

// 1 in a build with NCCL.
int nccl_built(void);

// Collective over every rank of the world: this rank joins the group of the ranks that
// pass the same color (ordered by key), on CUDA device `device`. timeout_s bounds every
// wait on the group (<= 0: 300 s).
int nccl_group_create(int color, int key, int device, double timeout_s, nccl_group **out, star_error *err);
void nccl_group_free(nccl_group *g);  // NULL is fine
int nccl_group_size(const nccl_group *g);
int nccl_group_rank(const nccl_group *g);

// Starts the in-place sum over the group of the n floats at buf (device memory), each
// rank's values multiplied by its own scale first. It runs on the group's stream once
// the work queued on `after` so far is done, overlapping what is queued on `after` later.
int nccl_group_allreduce(nccl_group *g, float *buf, size_t n, float scale, struct CUstream_st *after,
                         star_error *err);
// Makes stream s wait for every sum started, then waits on the host (at most the
// timeout) until they are done.
int nccl_group_join(nccl_group *g, struct CUstream_st *s, star_error *err);

#endif
