// star: wall-clock time for measurements (monotonic, seconds as a double).
#ifndef STAR_COMMON_TIMER_H
#define STAR_COMMON_TIMER_H

double star_now_s(void);

#endif
