/*
 * scheduler.c - see scheduler.h.
 */
#include "scheduler.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "failpoint.h"
#include "log.h"
#include "migrate.h"
#include "push.h"
#include "store.h"
#include "util.h"

struct sched {
	struct event_base *base;
	struct store *store;
	struct push *push;
	const struct slad_config *cfg;
	struct event *timer;
	sla_time armed_for; /* wall instant the timer is set for; 0: none */
	sla_time swept_at;  /* last catch-up of every local subscriber */
	bool in_flight;     /* a slad_fire_due() + slad_fire_tasks() is running */
	bool again;         /* poked while in flight: look again after */
};

static void sched_fire(struct sched *s);

static void arm(struct sched *s, sla_time due)
{
	sla_time now = util_now();
	/* Due instants are whole seconds; aim at the start of that second
	 * from the current millisecond, so a step fires within milliseconds
	 * of its time rather than up to a second late. */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	int64_t ms = due * 1000 - now_ms;
	if (ms < 0)
		ms = 0;
	/* The cap: a wall-clock jump or a missed wake-up is caught within it. */
	if (ms > s->cfg->sched_cap_ms)
		ms = s->cfg->sched_cap_ms;
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
	evtimer_del(s->timer);
	evtimer_add(s->timer, &tv);
	s->armed_for = now + (sla_time)(ms / 1000);
}

/* One function's result: log it as `event` (sched_fired for the clocks,
 * which tests and operators count), tell the local sessions of the
 * principals that got pushes; return how many rows it claimed and lower
 * *next to its next due instant. */
static int64_t take_result(struct sched *s, const char *event, json_object *r, sla_time *next)
{
	int64_t n_fired = util_jint(r, "fired", 0);
	int64_t claimed = util_jint(r, "claimed", 0);
	if (n_fired > 0)
		log_info("event=%s steps=%" PRId64 " rows=%" PRId64, event, n_fired, claimed);
	json_object *who = NULL;
	if (json_object_object_get_ex(r, "principals", &who) && who != NULL) {
		size_t n = json_object_array_length(who);
		int64_t ids[256];
		for (size_t i = 0; i < n; i += 256) {
			size_t k = 0;
			for (; k < 256 && i + k < n; k++)
				ids[k] =
				    json_object_get_int64(json_object_array_get_idx(who, i + k));
			push_catch_up(s->push, ids, k);
		}
	}
	sla_time due = util_jint(r, "next_due", 0);
	if (due > 0 && (*next == 0 || due < *next))
		*next = due;
	return claimed;
}

static void fired(void *arg, enum store_status status, PGresult *res)
{
	struct sched *s = arg;
	s->in_flight = false;
	/* Column 0: SLA clocks (slad_fire_due); column 1: follow-up tasks
	 * (slad_fire_tasks); one transaction. */
	json_object *clocks = NULL, *tasks = NULL;
	if (status == STORE_DONE && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    PQnfields(res) == 2) {
		clocks = json_tokener_parse(PQgetvalue(res, 0, 0));
		tasks = json_tokener_parse(PQgetvalue(res, 0, 1));
	}
	if (clocks == NULL || tasks == NULL) {
		if (status == STORE_DONE) {
			char q[600];
			log_error("event=sched_fire_failed reason=%s",
			          log_quote(q, sizeof(q), PQresultErrorMessage(res)));
		}
		json_object_put(clocks);
		json_object_put(tasks);
		/* Nothing was claimed for good: try again after the back-off. */
		arm(s, util_now() + 1);
		return;
	}
	/* Committed, nobody told yet: the pushes wait in PostgreSQL. */
	failpoint("sched_after_commit");
	sla_time next = 0;
	int64_t claimed = take_result(s, "sched_fired", clocks, &next);
	int64_t claimed_tasks = take_result(s, "sched_tasks_fired", tasks, &next);
	json_object_put(clocks);
	json_object_put(tasks);
	/* A lost notification (another instance's pushes) costs at most one
	 * cap: once per cap every local subscriber is caught up. */
	sla_time now = util_now();
	if (now - s->swept_at >= s->cfg->sched_cap_ms / 1000 || now < s->swept_at) {
		s->swept_at = now;
		push_catch_up(s->push, NULL, 0);
	}
	if (claimed >= s->cfg->sched_batch || claimed_tasks >= s->cfg->sched_batch || s->again) {
		s->again = false;
		sched_fire(s); /* more is due right now */
		return;
	}
	arm(s, next > 0 ? next : util_now() + s->cfg->sched_cap_ms / 1000 + 1);
}

static void sched_fire(struct sched *s)
{
	if (s->in_flight) {
		s->again = true;
		return;
	}
	char now[24], lim[16], late[16];
	snprintf(now, sizeof(now), "%" PRId64, util_now());
	snprintf(lim, sizeof(lim), "%d", s->cfg->sched_batch);
	snprintf(late, sizeof(late), "%d", s->cfg->sched_late_s);
	const char *params[3] = {now, lim, late};
	log_debug("event=sched_fire now=%s", now);
	failpoint("sched_before_fire"); /* due, not yet claimed */
	if (store_submit(s->store,
	                 "SELECT slad_fire_due($1::bigint, $2::int, $3::int),"
	                 " slad_fire_tasks($1::bigint, $2::int, $3::int)",
	                 3, params, fired, s) != 0) {
		arm(s, util_now() + 1); /* database away: look again soon */
		return;
	}
	s->in_flight = true;
	s->armed_for = 0;
}

static void timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	sched_fire(arg);
}

/* LISTEN: other instances announce new pushes; after a reconnect (channel
 * NULL) anything may have been missed. */
static void notified(void *arg, const char *channel, const char *payload)
{
	struct sched *s = arg;
	if (channel == NULL) {
		push_catch_up(s->push, NULL, 0);
		sched_poke(s, util_now());
		return;
	}
	if (strcmp(channel, "slad_push") != 0 || payload == NULL)
		return;
	int64_t ids[256];
	size_t n = 0;
	for (const char *p = payload; *p != '\0' && n < 256;) {
		char *end;
		long long v = strtoll(p, &end, 10);
		if (end == p)
			break;
		ids[n++] = v;
		p = *end == ',' ? end + 1 : end;
	}
	push_catch_up(s->push, ids, n);
}

struct sched *sched_new(struct event_base *base, struct store *st, struct push *push,
                        const struct slad_config *cfg)
{
	struct sched *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->base = base;
	s->store = st;
	s->push = push;
	s->cfg = cfg;
	s->timer = evtimer_new(base, timer_cb, s);
	static const char *const channels[] = {"slad_push", NULL};
	if (s->timer == NULL || store_listen(st, channels, notified, s) != 0) {
		sched_free(s);
		return NULL;
	}
	/* First look right away: whatever came due while slad was down fires
	 * now, once, in order, marked late. */
	arm(s, util_now());
	return s;
}

void sched_free(struct sched *s)
{
	if (s == NULL)
		return;
	if (s->timer)
		event_free(s->timer);
	free(s);
}

static void settings_put(void *arg, enum store_status status, PGresult *res)
{
	(void)arg;
	if (status != STORE_DONE || PQresultStatus(res) != PGRES_TUPLES_OK) {
		char q[600];
		log_error(
		    "event=settings_put_failed reason=%s",
		    log_quote(q, sizeof(q),
		              status == STORE_DONE ? PQresultErrorMessage(res) : "unavailable"));
	}
}

void sched_reload(struct sched *s, const struct slad_config *cfg)
{
	s->cfg = cfg;
	/* The task settings live in the database too (slad_settings): new
	 * tasks follow the reloaded values. */
	struct migrate_settings ms;
	migrate_settings_params(cfg, &ms);
	if (store_submit(s->store, MIGRATE_SETTINGS_SQL, 2, ms.params, settings_put, NULL) != 0)
		log_error("event=settings_put_failed reason=unavailable");
}

void sched_poke(struct sched *s, sla_time due)
{
	if (s->in_flight) {
		if (due <= util_now())
			s->again = true;
		return;
	}
	if (s->armed_for == 0 || due < s->armed_for || s->armed_for <= util_now())
		arm(s, due);
}
