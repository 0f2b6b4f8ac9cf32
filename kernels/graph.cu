// star: CUDA graphs of work queued on one stream (stream capture), for the captured
// training step of eval/model_cuda.c: the step's few hundred launches become one.
// Thread-local capture mode: a call from this thread that is not allowed while capturing
// (a synchronous copy, cudaMalloc, the legacy default stream) fails the capture with an
// error instead of running; other threads are not affected.
#include <stdlib.h>

#include "kernels/common.cuh"

struct star_cuda_graph {
    cudaGraphExec_t exec;
};

int star_cuda_capture_begin(star_stream s, star_error *err) {
    if (!s) return STAR_FAIL(err, "CUDA graph: the legacy default stream cannot be captured");
    cudaCheck(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), err);
    return 0;
}

int star_cuda_capture_end(star_stream s, int ok, star_cuda_graph **out, star_error *err) {
    *out = NULL;
    cudaGraph_t graph = NULL;
    cudaError_t e = cudaStreamEndCapture(s, &graph);
    if (!ok) {
        // err already names the call that failed; a capture that call invalidated ends with
        // an error of its own, which is not sticky: clear it so the next launch check does
        // not report it.
        if (graph) (void)cudaGraphDestroy(graph);
        (void)cudaGetLastError();
        return -1;
    }
    if (e != cudaSuccess) {
        if (graph) (void)cudaGraphDestroy(graph);
        (void)cudaGetLastError();
        return STAR_FAIL(err, "CUDA graph: the capture failed: %s (%s) at %s:%d in cudaStreamEndCapture",
                         cudaGetErrorName(e), cudaGetErrorString(e), __FILE__, __LINE__);
    }
    star_cuda_graph *gr = (star_cuda_graph *)calloc(1, sizeof *gr);
    if (!gr) {
        (void)cudaGraphDestroy(graph);
        return STAR_FAIL(err, "CUDA graph: out of host memory");
    }
    e = cudaGraphInstantiate(&gr->exec, graph, 0);
    cudaError_t e2 = cudaGraphDestroy(graph);  // the executable graph does not need it
    if (e != cudaSuccess) {
        free(gr);
        cudaCheck(e, err);
    }
    if (e2 != cudaSuccess) {
        star_cuda_graph_destroy(gr);
        cudaCheck(e2, err);
    }
    *out = gr;
    return 0;
}

int star_cuda_graph_launch(star_cuda_graph *gr, star_stream s, star_error *err) {
    if (!gr) return STAR_FAIL(err, "CUDA graph: nothing captured to launch");
    cudaCheck(cudaGraphLaunch(gr->exec, s), err);
    return 0;
}

void star_cuda_graph_destroy(star_cuda_graph *gr) {
    if (!gr) return;
    (void)cudaGraphExecDestroy(gr->exec);
    free(gr);
}
