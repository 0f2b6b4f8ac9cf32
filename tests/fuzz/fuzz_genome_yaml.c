// Fuzz harness: the genome YAML reader (genome_load_text).
// Property: a genome that loads writes YAML (genome_yaml_write) that loads back to the
// same genome and dims.
#include <stdlib.h>
#include <string.h>

#include "genome/genome_yaml.h"
#include "tests/fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    genome g, back;
    genome_dims dims, dims_back;
    star_error err;
    if (genome_load_text((const char *)data, size, "fuzz.yaml", &g, &dims, &err) == 0) {
        char *yaml = genome_yaml_write(&g, &dims);
        FUZZ_ASSERT(yaml, "a loaded genome does not write");
        int rc = genome_load_text(yaml, strlen(yaml), "written.yaml", &back, &dims_back, &err);
        FUZZ_ASSERT(rc == 0, "the written genome does not load back: %s\n%s", err.msg, yaml);
        FUZZ_ASSERT(genome_equal(&g, &back), "the written genome loads back different:\n%s", yaml);
        FUZZ_ASSERT(dims.width == dims_back.width && dims.vocab == dims_back.vocab, "dims differ after a write");
        free(yaml);
    } else {
        FUZZ_ASSERT(err.msg[0] != '\0', "a failed load left no message");
    }
    return 0;
}
