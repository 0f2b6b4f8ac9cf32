// dist/ without a launcher (a world of one rank, in any build): groups, agreement on
// errors, and the watchdog that stops a hung job (run in a child process: it exits).
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/timer.h"
#include "dist/dist.h"
#include "tests/test_util.h"

static void test_world_of_one(void) {
    star_error err;
    CHECK(dist_init(&err) == 0);
    const dist_comm *w = dist_world();
    CHECK(dist_rank(w) == 0 && dist_size(w) == 1);
    dist_comm *g = NULL;
    int index = -1, n = -1;
    CHECK(dist_make_groups(w, 4, &g, &index, &n, &err) == 0);  // a world smaller than a group: one group
    CHECK(g && dist_size(g) == 1 && dist_rank(g) == 0 && index == 0 && n == 1);
    dist_comm_free(g);
    CHECK(dist_make_groups(w, 0, &g, &index, &n, &err) == -1);
    CHECK(dist_group_leader(6, 2, 2) == 4);
    CHECK(dist_agree(w, 0, &err) == 0);
    STAR_FAIL(&err, "a failure");
    CHECK(dist_agree(w, -1, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "a failure");
    float f[3] = {1, 2, 3};
    CHECK(dist_allreduce_sum_float(w, f, 3, &err) == 0 && f[0] == 1 && f[2] == 3);
    char *blob = NULL;
    size_t len = 0;
    CHECK(dist_bcast_blob(w, &blob, &len, 0, &err) == 0 && blob == NULL);
}

// Runs fn in a child; returns its exit status (-1 if it had to be killed after 10 s).
static int in_child(void (*fn)(void), double *seconds) {
    double t0 = star_now_s();
    pid_t pid = fork();
    if (pid == 0) {
        fn();
        _exit(0);
    }
    int status = 0;
    for (int i = 0; i < 1000; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            *seconds = star_now_s() - t0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
        }
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

static void hang(void) {
    dist_watchdog_arm(0.2, "a test candidate");
    sleep(5);  // never returns in time: the watchdog ends the process
}

static void finish_in_time(void) {
    dist_watchdog_arm(0.3, "a quick candidate");
    usleep(50000);
    dist_watchdog_disarm();
    dist_watchdog_arm(0.3, "a second quick candidate");  // re-armed after a disarm
    usleep(50000);
    dist_watchdog_disarm();
    usleep(600000);  // past both deadlines: nothing may fire now
}

static void test_watchdog(void) {
    double s = 0;
    int rc = in_child(hang, &s);
    CHECK_MSG(rc == 3, "a hung child exits 3, got %d", rc);
    CHECK_MSG(s < 3.0, "the watchdog fired after %.2f s (armed for 0.2 s)", s);
    rc = in_child(finish_in_time, &s);
    CHECK_MSG(rc == 0, "a child that disarms in time exits 0, got %d", rc);
}

int main(void) {
    test_world_of_one();
    test_watchdog();
    dist_finalize();
    TEST_END();
}
