/*
 * waits.c — see waits.h.
 */
#include "waits.h"

struct timespec waits_deadline_ms(long ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

void waits_cond_ms(pthread_cond_t *cv, pthread_mutex_t *mu, long ms)
{
	struct timespec ts = waits_deadline_ms(ms);
	(void)pthread_cond_timedwait(cv, mu, &ts);
}
