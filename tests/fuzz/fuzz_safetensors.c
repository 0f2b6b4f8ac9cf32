// Fuzz harness: the safetensors reader (st_file_open, every tensor read as float) and
// the checkpoint metadata reader. The input is the .safetensors file.
#include <stdlib.h>
#include <string.h>

#include "eval/safetensors.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    if (fd < 0) return 0;
    st_file *f;
    star_error err;
    if (st_file_open(path, &f, &err) == 0) {
        for (int i = 0; i < st_file_count(f); i++) {
            const st_tensor_info *t = st_file_tensor(f, i);
            FUZZ_ASSERT(t && t->end >= t->begin && t->end - t->begin <= size, "tensor %d out of the file", i);
            FUZZ_ASSERT(st_file_find(f, t->name) == t, "tensor '%s' not found by name", t->name);
            if (t->numel > (1u << 20)) continue;
            float *out = malloc((size_t)(t->numel ? t->numel : 1) * sizeof *out);
            (void)st_file_read_f32(f, t->name, out, (size_t)t->numel, &err);
            free(out);
        }
        for (int i = 0; i < st_file_metadata_count(f); i++) {
            const char *k = st_file_metadata_key(f, i);
            FUZZ_ASSERT(k && st_file_metadata(f, k), "metadata %d unreadable", i);
        }
        st_file_close(f);
    } else {
        FUZZ_ASSERT(err.msg[0] != '\0', "a failed open left no message");
    }
    close(fd);
    return 0;
}
