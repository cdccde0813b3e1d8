/*
 * waits.h — bounded waits on a condition variable, written once: the
 * worker's pause between claims, the reconciler's interval, auth's wait for
 * its first token load. pthread_cond_timedwait wants an absolute time on
 * CLOCK_REALTIME; this is where it is made.
 */
#ifndef WAITS_H
#define WAITS_H

#include <pthread.h>
#include <time.h>

/* CLOCK_REALTIME now plus ms milliseconds. */
struct timespec waits_deadline_ms(long ms);
/* With mu held: waits on cv until it is signalled or ms have passed
 * (spurious wake-ups included: callers check their own condition). */
void waits_cond_ms(pthread_cond_t *cv, pthread_mutex_t *mu, long ms);

#endif
