// safetensors: a round trip (F32, BF16, a scalar, an empty tensor, metadata with
// characters JSON must escape), the byte layout of the published format, a header as
// the reference library writes it (compact JSON), bf16/f16 conversions, and every
// malformed file failing with its name.
//   test_safetensors              the ctest entry
//   test_safetensors --write P    writes the round-trip file to P (check_safetensors.py)
//   test_safetensors --dump P     prints "name dtype [shape] values..." per tensor
#include <stdint.h>
#include <stdlib.h>

#include "eval/safetensors.h"
#include "tests/eval/data_test_util.h"
#include "tests/test_util.h"

static float w_data[6] = {1.5f, -2.25f, 3.0e-3f, 1.0e6f, -0.0f, 7.0f};
static float e_data[4] = {1.0f, 1.00390625f, 1.01171875f, -3.14159f};  // 1, 1+2^-8, 1+3*2^-8: bf16 ties
static float s_data[1] = {42.0f};

static int write_sample(const char *path, star_error *err) {
    st_writer *w = st_writer_create();
    int64_t ws[2] = {2, 3}, es[1] = {4}, zs[2] = {0, 5};
    int rc = st_writer_add(w, "layer.0.w", ST_F32, 2, ws, w_data, err);
    if (rc == 0) rc = st_writer_add(w, "embed", ST_BF16, 1, es, e_data, err);
    if (rc == 0) rc = st_writer_add(w, "scale", ST_F32, 0, NULL, s_data, err);
    if (rc == 0) rc = st_writer_add(w, "empty", ST_F32, 2, zs, NULL, err);
    if (rc == 0) rc = st_writer_add_metadata(w, "format", "pt", err);
    if (rc == 0) rc = st_writer_add_metadata(w, "genome", "21211-31112 \"q\" \\ \xc3\xa9", err);
    if (rc == 0) rc = st_writer_write(w, path, err);
    st_writer_free(w);
    return rc;
}

static int dump(const char *path) {
    star_error err;
    st_file *f;
    if (st_file_open(path, &f, &err) != 0) {
        star_error_print(&err);
        return 1;
    }
    for (int i = 0; i < st_file_count(f); i++) {
        const st_tensor_info *t = st_file_tensor(f, i);
        printf("%s %s [", t->name, st_dtype_name(t->dtype));
        for (int d = 0; d < t->ndim; d++) printf("%s%lld", d ? "," : "", (long long)t->shape[d]);
        printf("]");
        float *v = malloc(sizeof(float) * (t->numel ? t->numel : 1));
        if (st_file_read_f32(f, t->name, v, t->numel, &err) == 0)
            for (uint64_t k = 0; k < t->numel; k++) printf(" %.9g", v[k]);
        else
            printf(" unreadable");
        printf("\n");
        free(v);
    }
    for (int i = 0; i < st_file_metadata_count(f); i++)
        printf("__metadata__ %s=%s\n", st_file_metadata_key(f, i), st_file_metadata(f, st_file_metadata_key(f, i)));
    st_file_close(f);
    return 0;
}

// A file from a header text (padded to 8) and `data` bytes; hlen_override != 0 lies
// about the header length.
static void write_raw(const char *name, const char *header, size_t data_bytes, uint64_t hlen_override) {
    size_t h = strlen(header), hp = (h + 7) / 8 * 8;
    unsigned char *buf = calloc(1, 8 + hp + data_bytes);
    uint64_t len = hlen_override ? hlen_override : hp;
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(len >> (8 * i));
    memcpy(buf + 8, header, h);
    memset(buf + 8 + h, ' ', hp - h);
    scratch_write(name, buf, 8 + hp + data_bytes);
    free(buf);
}

static void expect_bad(const char *name, const char *header, size_t data_bytes, uint64_t hlen, const char *what) {
    char p[512];
    scratch_path(p, sizeof p, name);
    write_raw(name, header, data_bytes, hlen);
    st_file *f = NULL;
    star_error err;
    memset(&err, 0, sizeof err);
    CHECK_MSG(st_file_open(p, &f, &err) != 0, "%s should be rejected", name);
    CHECK(f == NULL);
    CHECK_STR_CONTAINS(err.msg, p);
    CHECK_STR_CONTAINS(err.msg, what);
}

int main(int argc, char **argv) {
    star_error err;
    if (argc == 3 && !strcmp(argv[1], "--write")) {
        if (write_sample(argv[2], &err) != 0) {
            star_error_print(&err);
            return 1;
        }
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "--dump")) return dump(argv[2]);

    // Conversions.
    CHECK(st_f32_to_bf16(1.0f) == 0x3f80 && st_f32_to_bf16(-2.0f) == 0xc000);
    CHECK(st_f32_to_bf16(1.00390625f) == 0x3f80);  // tie rounds to even (down)
    CHECK(st_f32_to_bf16(1.01171875f) == 0x3f82);  // tie rounds to even (up)
    CHECK(isnan(st_bf16_to_f32(st_f32_to_bf16(NAN))) && isinf(st_bf16_to_f32(st_f32_to_bf16(INFINITY))));
    CHECK(st_f16_to_f32(0x3c00) == 1.0f && st_f16_to_f32(0xc000) == -2.0f);
    CHECK(st_f16_to_f32(0x0001) == ldexpf(1.0f, -24) && isinf(st_f16_to_f32(0x7c00)));

    scratch_open("st");
    char path[512];
    scratch_path(path, sizeof path, "model.safetensors");
    CHECK(write_sample(path, &err) == 0);

    // Layout: 8-byte length, header padded to a multiple of 8, then 24 + 8 + 4 + 0 data bytes.
    FILE *fp = fopen(path, "rb");
    unsigned char raw[4096];
    size_t got = fp ? fread(raw, 1, sizeof raw, fp) : 0;
    if (fp) fclose(fp);
    uint64_t hlen = 0;
    for (int i = 0; i < 8; i++) hlen |= (uint64_t)raw[i] << (8 * i);
    CHECK(hlen % 8 == 0 && got == 8 + hlen + 36 && raw[8] == '{');
    float first;
    memcpy(&first, raw + 8 + hlen, 4);
    CHECK(first == 1.5f);  // tensors in the order added, F32 little-endian

    st_file *f;
    CHECK(st_file_open(path, &f, &err) == 0);
    CHECK(st_file_count(f) == 4);
    const st_tensor_info *t = st_file_find(f, "layer.0.w");
    CHECK(t && t->dtype == ST_F32 && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3 && t->numel == 6);
    float v[6];
    CHECK(st_file_read_f32(f, "layer.0.w", v, 6, &err) == 0 && !memcmp(v, w_data, sizeof v));
    t = st_file_find(f, "embed");
    CHECK(t && t->dtype == ST_BF16 && t->end - t->begin == 8);
    CHECK(st_file_read_f32(f, "embed", v, 4, &err) == 0);
    for (int i = 0; i < 4; i++) CHECK(v[i] == st_bf16_to_f32(st_f32_to_bf16(e_data[i])));
    CHECK(v[0] == 1.0f && v[1] == 1.0f && v[2] == 1.015625f && fabsf(v[3] + 3.14159f) < 0.02f);
    t = st_file_find(f, "scale");
    CHECK(t && t->ndim == 0 && t->numel == 1);
    CHECK(st_file_read_f32(f, "scale", v, 1, &err) == 0 && v[0] == 42.0f);
    t = st_file_find(f, "empty");
    CHECK(t && t->numel == 0 && t->begin == t->end);
    CHECK(st_file_read_f32(f, "empty", v, 0, &err) == 0);
    CHECK(st_file_metadata_count(f) == 2 && !strcmp(st_file_metadata(f, "format"), "pt"));
    CHECK(!strcmp(st_file_metadata(f, "genome"), "21211-31112 \"q\" \\ \xc3\xa9"));
    CHECK(st_file_metadata(f, "absent") == NULL && st_file_find(f, "absent") == NULL);
    CHECK(st_file_read_f32(f, "layer.0.w", v, 5, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "6 elements");
    CHECK(st_file_read_f32(f, "nope", v, 1, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "nope");
    st_file_close(f);

    // Writer refusals.
    st_writer *w = st_writer_create();
    int64_t s1[1] = {1}, sneg[1] = {-1};
    CHECK(st_writer_add(w, "a", ST_F32, 1, s1, s_data, &err) == 0);
    CHECK(st_writer_add(w, "a", ST_F32, 1, s1, s_data, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "twice");
    CHECK(st_writer_add(w, "__metadata__", ST_F32, 1, s1, s_data, &err) != 0);
    CHECK(st_writer_add(w, "", ST_F32, 1, s1, s_data, &err) != 0);
    CHECK(st_writer_add(w, "b", ST_F32, 1, sneg, s_data, &err) != 0);
    CHECK(st_writer_add(w, "c", ST_I32, 1, s1, s_data, &err) != 0);
    CHECK(st_writer_add_metadata(w, "k", "1", &err) == 0 && st_writer_add_metadata(w, "k", "2", &err) != 0);
    st_writer_free(w);

    // The reference library's compact header (safetensors 0.8, numpy: a 2x2 F32 and a 3-element F16).
    const char *ref = "{\"__metadata__\":{\"format\":\"np\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\""
                      ":[0,16]},\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[16,22]}}";
    write_raw("ref.safetensors", ref, 22, 0);
    {
        // Fill the data: w = 0,1,2,3 (F32); h = 1, -2, 0.5 (F16: 0x3c00, 0xc000, 0x3800).
        char p[512];
        scratch_path(p, sizeof p, "ref.safetensors");
        FILE *rf = fopen(p, "r+b");
        size_t hp = (strlen(ref) + 7) / 8 * 8;
        float wv[4] = {0, 1, 2, 3};
        uint16_t hv[3] = {0x3c00, 0xc000, 0x3800};
        int okw = rf && fseek(rf, (long)(8 + hp), SEEK_SET) == 0 && fwrite(wv, 4, 4, rf) == 4 && fwrite(hv, 2, 3, rf) == 3;
        if (rf) fclose(rf);
        CHECK(okw);
        CHECK(st_file_open(p, &f, &err) == 0);
        if (f) {
            float hvals[3];
            CHECK(st_file_read_f32(f, "w", v, 4, &err) == 0 && v[3] == 3.0f);
            CHECK(st_file_read_f32(f, "h", hvals, 3, &err) == 0 && hvals[0] == 1 && hvals[1] == -2 && hvals[2] == 0.5f);
            CHECK(!strcmp(st_file_metadata(f, "format"), "np"));
            st_file_close(f);
        }
    }

    // Malformed files: each is refused naming the file.
    const char *ok1 = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    write_raw("good.safetensors", ok1, 8, 0);
    scratch_path(path, sizeof path, "good.safetensors");
    CHECK(st_file_open(path, &f, &err) == 0);
    st_file_close(f);
    scratch_write("short.safetensors", "\x10\0\0", 3);
    {
        char p[512];
        scratch_path(p, sizeof p, "short.safetensors");
        CHECK(st_file_open(p, &f, &err) != 0);
        CHECK_STR_CONTAINS(err.msg, p);
        CHECK_STR_CONTAINS(err.msg, "too short");
        scratch_path(p, sizeof p, "absent.safetensors");
        CHECK(st_file_open(p, &f, &err) != 0);
        CHECK_STR_CONTAINS(err.msg, p);
    }
    expect_bad("hlen.safetensors", ok1, 8, 4096, "exceeds");
    expect_bad("hlen0.safetensors", ok1, 8, (uint64_t)1 << 40, "outside");
    expect_bad("array.safetensors", "[1, 2]", 0, 0, "not a JSON object");
    expect_bad("syntax.safetensors", "{\"a\": {\"dtype\": ", 0, 0, "syntax");
    expect_bad("dtype.safetensors", "{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 0, "F33");
    expect_bad("size.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 12, 0,
               "need 16");
    expect_bad("bounds.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, 0, "past");
    expect_bad("gap.safetensors",
               "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}",
               20, 0, "gap");
    expect_bad("overlap.safetensors",
               "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
               12, 0, "overlaps");
    expect_bad("tail.safetensors", ok1, 12, 0, "cover 8");
    expect_bad("dup.safetensors",
               "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
               "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
               8, 0, "twice");
    expect_bad("missing.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 0, 0, "data_offsets");
    expect_bad("extra.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", 8, 0,
               "unknown key");
    expect_bad("order.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8, 0,
               "after end");
    expect_bad("meta.safetensors", "{\"__metadata__\":{\"a\":1}}", 0, 0, "JSON string");
    expect_bad("quoted.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8, 0,
               "integer");
    expect_bad("negative.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, 0,
               "a.shape");
    expect_bad("dims.safetensors",
               "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, 0, "dimensions");

    scratch_close();
    TEST_END();
}
