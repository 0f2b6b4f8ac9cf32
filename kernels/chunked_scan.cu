// star: the switch between the tensor-core and the fp32 chunked scans (kernels.h:
// scan_tensor_cores_cuda). One definition for linear_attention.cu and ssd_scan.cu.
#include <stdlib.h>
#include <string.h>

#include "kernels/common.cuh"

static int scan_tc_mode = -1;  // -1: from STAR_SCAN_TC at each call

void scan_tensor_cores_set_cuda(int mode) { scan_tc_mode = mode == 0 || mode == 1 ? mode : -1; }

int scan_tensor_cores_cuda(star_error *err) {
    if (scan_tc_mode >= 0) return scan_tc_mode;
    const char *v = getenv("STAR_SCAN_TC");
    if (!v || !*v || strcmp(v, "1") == 0) return 1;
    if (strcmp(v, "0") == 0) return 0;
    return STAR_FAIL(err, "environment variable STAR_SCAN_TC=\"%s\": expected 0 (fp32 scans) or 1 (tensor cores)",
                     v);
}
