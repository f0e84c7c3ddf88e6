/*
 * sp_worker.c - each simulated SP's worker thread ("sp-f0<id>"): it takes
 * accepted deals off the SP's bounded queue (the deals of the sp_deal
 * table waiting for their transfer or publication, oldest first; a
 * handler that accepts one kicks the worker) and runs their pipeline
 * (sp_deal.c), and every SP_TICK_MS it seals what is due, applies the
 * slash and never-seal faults, and opens or closes the SP's listener to
 * follow the offline fault (so an offline SP refuses connections, as a
 * machine that is down does).
 *
 * A deal's transfer runs on this thread, so while one CAR is being
 * pulled the SP's other deals wait: a real SP has a few transfer slots,
 * this one has one.  The transfer checks sp->stopping, so sp_stop never
 * waits for a slow client.
 */
#include "contrib/devnet/sp_i.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/error.h"

#define LOG_TOPIC "sp"
#include "core/log.h"

#include "core/banned.h"

/* Wait for a kick or one tick; false when stopping. */
static bool wait_tick(struct sp *sp)
{
	struct timespec until;
	bool run;

	efs_clock_deadline(&until, CLOCK_REALTIME, SP_TICK_MS);
	pthread_mutex_lock(&sp->lock);
	if (!sp->kicked && !sp->stopping)
		pthread_cond_timedwait(&sp->cond, &sp->lock, &until);
	sp->kicked = false;
	run = !sp->stopping;
	pthread_mutex_unlock(&sp->lock);
	return run;
}

static void follow_offline(struct sp *sp)
{
	struct devnet_fault f;
	int rc;

	devnet_fault_get(sp->d, sp->m, &f);
	if (f.offline == (sp->http == NULL))
		return;
	/* A port taken meanwhile is tried again each tick, said once. */
	if ((rc = sp_listen(sp, !f.offline)) < 0 && !sp->listen_failed)
		efs_log_warn("miner f0%llu: cannot listen again: %s",
			     (unsigned long long)sp->m->id, efs_error_msg());
	else if (rc == 0 && !f.offline)
		efs_log_info("miner f0%llu: back online on port %u",
			     (unsigned long long)sp->m->id,
			     (unsigned)sp->m->port);
	sp->listen_failed = rc < 0;
}

static void *worker_main(void *arg)
{
	struct sp *sp = arg;
	bool busy = true;

	/* Deals left half-done by a previous run are picked up at once:
	 * the queue is the sp_deal table. */
	while (busy || wait_tick(sp)) {
		if (sp_is_stopping(sp))
			break;
		follow_offline(sp);
		sp_deal_tick(sp);
		busy = sp_deal_next(sp);
	}
	return NULL;
}

int sp_worker_start(struct sp *sp)
{
	char name[16];
	int e;

	if ((e = pthread_create(&sp->worker, NULL, worker_main, sp)) != 0)
		return efs_error_set_errno(EFS_ERROR, e,
					   "sp: cannot start worker");
	snprintf(name, sizeof(name), "sp-f0%llu",
		 (unsigned long long)sp->m->id);
	pthread_setname_np(sp->worker, name);
	sp->worker_started = true;
	return 0;
}

void sp_worker_stop(struct sp *sp)
{
	if (!sp->worker_started)
		return;
	pthread_join(sp->worker, NULL);
	sp->worker_started = false;
}
