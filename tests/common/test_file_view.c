// file_view_open: a regular file is mapped with its bytes as written; an empty file and
// a file whose size stat does not know (/proc) are read instead; a missing file and a
// directory fail naming the path.
#include <sys/stat.h>

#include "common/file.h"
#include "tests/eval/data_test_util.h"
#include "tests/test_util.h"

int main(void) {
    star_error err;
    scratch_open("file_view");
    char p[512];
    scratch_write("text.txt", "hello, world", 12);
    scratch_path(p, sizeof p, "text.txt");
    file_view v;
    CHECK(file_view_open(&v, p, &err) == 0);
    CHECK(v.map != NULL && v.owned == NULL && v.len == 12 && memcmp(v.data, "hello, world", 12) == 0);
    file_view_close(&v);
    CHECK(v.data == NULL && v.len == 0);
    file_view_close(&v);  // closing twice is harmless

    scratch_write("empty.txt", "", 0);
    scratch_path(p, sizeof p, "empty.txt");
    CHECK(file_view_open(&v, p, &err) == 0);
    CHECK(v.map == NULL && v.len == 0);
    file_view_close(&v);

    // /proc files are regular with size 0 but have content: read, not mapped.
    CHECK(file_view_open(&v, "/proc/self/status", &err) == 0);
    CHECK(v.map == NULL && v.len > 5 && memcmp(v.data, "Name:", 5) == 0);
    file_view_close(&v);

    scratch_path(p, sizeof p, "missing.txt");
    memset(&err, 0, sizeof err);
    CHECK(file_view_open(&v, p, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, p);
    CHECK_STR_CONTAINS(err.msg, "cannot open");
    memset(&err, 0, sizeof err);
    CHECK(file_view_open(&v, scratch_dir, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "directory");
    scratch_close();
    TEST_END();
}
