// star: the watchdog of dist.h. A thread waits on a condition variable until the
// deadline; disarming wakes it. On expiry the message goes out with write(2) (no stdio
// locks taken from this thread) and the job stops.
#include "dist/dist.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int armed;      // 1 while a deadline is set
static long generation;  // bumped by every arm and disarm
static struct timespec deadline;
static char what_msg[512];
static pthread_t thread;
static int thread_started;

static void *watch(void *arg) {
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;) {
        while (!armed) pthread_cond_wait(&changed, &lock);
        long gen = generation;
        int rc = 0;
        while (armed && generation == gen && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&changed, &lock, &deadline);
        if (armed && generation == gen && rc == ETIMEDOUT) {
            char line[700];
            int n = snprintf(line, sizeof line,
                             "star: error: %s did not finish in time; stopping the job (every finished evaluation "
                             "is in the archive: continue with star search --resume)\n",
                             what_msg);
            if (n > 0) {
                ssize_t w = write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
                (void)w;
            }
            dist_abort(3);
        }
    }
    return NULL;
}

void dist_watchdog_arm(double seconds, const char *what) {
    if (seconds <= 0) return;
    pthread_mutex_lock(&lock);
    if (!thread_started) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        thread_started = pthread_create(&thread, &attr, watch, NULL) == 0;
        pthread_attr_destroy(&attr);
    }
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += (time_t)seconds;
    deadline.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    snprintf(what_msg, sizeof what_msg, "%s", what);
    armed = 1;
    generation++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

void dist_watchdog_disarm(void) {
    pthread_mutex_lock(&lock);
    armed = 0;
    generation++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}
