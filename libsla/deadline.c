/*
 * deadline.c - replay a ticket's history into its SLA clocks (DESIGN "Time";
 * S4, S5, S6).  The rules are in deadline.h.
 *
 * Two passes, no allocation:
 *   1. check every event and summarise the last cycle (its start, the level,
 *      when it was acknowledged, dispatched, reached, restored, ended);
 *   2. per clock, walk the pause toggles of the last cycle once, counting
 *      running and paused seconds and stamping each step's due instant at
 *      the moment the running time reaches its threshold.
 */
#include "deadline.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define NONE ((sla_time)-1) /* "did not happen" inside pass 1; instants are >= 0 */

struct cycle_summary {
	size_t first; /* index of the event that started the last cycle */
	int cycle;
	sla_time start;
	enum sla_level level;
	sla_time level_changed_at; /* last level change in the cycle, or NONE */
	bool paused;
	bool closed; /* CLOSED or CANCELLED */
	bool cancelled;
	sla_time ack_at, dispatch_at, arrive_at, restore_at, end_at; /* or NONE */
	sla_time last_at;
};

static const char *const state_names[SLA_CS_COUNT] = {
    "inactive", "not_needed", "running", "overdue", "paused", "met", "breached", "stopped",
};
static const char *const step_names[SLA_STEP_KIND_COUNT] = {"warning", "breach", "escalation"};
static const char *const err_names[SLA_DL_ERR_COUNT] = {
    "ok",     "arg",          "policy",         "kind",     "time_range",
    "order",  "first",        "reported_twice", "level",    "cancelled",
    "closed", "not_finished", "restored",       "repeated", "not_dispatched",
    "paused", "not_paused",
};
/* What each refusal means, for err_text. */
static const char *const err_reasons[SLA_DL_ERR_COUNT] = {
    "",
    "bad argument",
    "invalid policy",
    "unknown event kind",
    "instant outside 1970..9999",
    "earlier than the previous event",
    "the first event must be REPORTED",
    "the ticket was already reported",
    "missing or invalid level",
    "the ticket is cancelled",
    "the ticket is closed; only REOPENED may follow",
    "only a restored or closed ticket can be reopened",
    "the cycle is already restored",
    "already happened in this cycle",
    "no dispatch in this cycle",
    "already paused",
    "not paused",
};

const char *sla_clock_state_name(enum sla_clock_state state)
{
	if ((int)state < 0 || state >= SLA_CS_COUNT)
		return "invalid";
	return state_names[state];
}

const char *sla_step_kind_name(enum sla_step_kind kind)
{
	if ((int)kind < 0 || kind >= SLA_STEP_KIND_COUNT)
		return "invalid";
	return step_names[kind];
}

const char *sla_deadline_err_name(enum sla_deadline_err err)
{
	if ((int)err < 0 || err >= SLA_DL_ERR_COUNT)
		return "invalid";
	return err_names[err];
}

static enum sla_deadline_err refuse(struct sla_deadline_eval *out, enum sla_deadline_err err,
                                    size_t index, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Reset *out to the documented error shape and record why. */
static enum sla_deadline_err refuse(struct sla_deadline_eval *out, enum sla_deadline_err err,
                                    size_t index, const char *fmt, ...)
{
	memset(out, 0, sizeof(*out));
	out->next_due = SLA_TIME_NEVER;
	out->err = err;
	out->err_event = index;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->err_text, sizeof(out->err_text), fmt, ap);
	va_end(ap);
	return err;
}

static enum sla_deadline_err refuse_event(struct sla_deadline_eval *out, enum sla_deadline_err err,
                                          size_t i, const struct sla_event *e)
{
	return refuse(out, err, i, "event %zu (%s at %lld): %s", i, sla_event_kind_name(e->kind),
	              (long long)e->at, err_reasons[err]);
}

static bool time_ok(sla_time t)
{
	return t >= 0 && t <= SLA_DEADLINE_TIME_MAX;
}

static void new_cycle(struct cycle_summary *cs, size_t first, sla_time start)
{
	cs->first = first;
	cs->start = start;
	cs->level_changed_at = NONE;
	cs->paused = false; /* a new cycle starts unpaused */
	cs->closed = false;
	cs->ack_at = cs->dispatch_at = cs->arrive_at = cs->restore_at = cs->end_at = NONE;
}

/* Pass 1: check one event against the cycle so far and record it. */
static enum sla_deadline_err replay_one(struct cycle_summary *cs, enum sla_ticket_type type,
                                        const struct sla_event *e, size_t i)
{
	if (e->kind == SLA_EV_REPORTED) {
		if (i > 0)
			return SLA_DL_ERR_REPORTED_TWICE;
		/* S1: a fault is always classified; other types may not be. */
		bool ok = sla_level_valid(e->level) ||
		          (e->level == SLA_LEVEL_NONE && type != SLA_TYPE_FAULT);
		if (!ok)
			return SLA_DL_ERR_LEVEL;
		cs->cycle = 1;
		cs->level = e->level;
		new_cycle(cs, i, e->at);
		return SLA_DL_OK;
	}
	if (i == 0)
		return SLA_DL_ERR_FIRST;
	if (e->kind == SLA_EV_NOTE || e->kind == SLA_EV_ASSIGNED)
		return SLA_DL_OK; /* no effect on clocks or state */
	if (cs->cancelled)
		return SLA_DL_ERR_CANCELLED;
	if (cs->closed && e->kind != SLA_EV_REOPENED)
		return SLA_DL_ERR_CLOSED;

	bool restored = cs->restore_at != NONE;
	switch (e->kind) {
	case SLA_EV_REOPENED:
		if (!cs->closed && !restored)
			return SLA_DL_ERR_NOT_FINISHED;
		cs->cycle++;
		new_cycle(cs, i, e->at);
		return SLA_DL_OK;
	case SLA_EV_ACKNOWLEDGED:
		if (restored)
			return SLA_DL_ERR_RESTORED;
		if (cs->ack_at != NONE)
			return SLA_DL_ERR_REPEATED;
		cs->ack_at = e->at;
		return SLA_DL_OK;
	case SLA_EV_REMOTE_STARTED:
		return restored ? SLA_DL_ERR_RESTORED : SLA_DL_OK;
	case SLA_EV_DISPATCHED:
		if (restored)
			return SLA_DL_ERR_RESTORED;
		if (cs->dispatch_at != NONE)
			return SLA_DL_ERR_REPEATED;
		cs->dispatch_at = e->at;
		return SLA_DL_OK;
	case SLA_EV_ARRIVED:
		if (restored)
			return SLA_DL_ERR_RESTORED;
		if (cs->dispatch_at == NONE)
			return SLA_DL_ERR_NOT_DISPATCHED;
		if (cs->arrive_at != NONE)
			return SLA_DL_ERR_REPEATED;
		cs->arrive_at = e->at;
		return SLA_DL_OK;
	case SLA_EV_RESTORED:
		if (restored)
			return SLA_DL_ERR_RESTORED;
		cs->restore_at = e->at;
		return SLA_DL_OK;
	case SLA_EV_CLOSED:
	case SLA_EV_CANCELLED:
		cs->closed = true;
		cs->cancelled = e->kind == SLA_EV_CANCELLED;
		cs->paused = false; /* the end of the cycle ends its pause */
		cs->end_at = e->at;
		return SLA_DL_OK;
	case SLA_EV_PAUSED:
		if (cs->paused)
			return SLA_DL_ERR_PAUSED;
		cs->paused = true;
		return SLA_DL_OK;
	case SLA_EV_RESUMED:
		if (!cs->paused)
			return SLA_DL_ERR_NOT_PAUSED;
		cs->paused = false;
		return SLA_DL_OK;
	case SLA_EV_RECLASSIFIED:
		if (!sla_level_valid(e->level))
			return SLA_DL_ERR_LEVEL;
		/* A reclassification to the same level changes no schedule. */
		if (e->level != cs->level) {
			cs->level = e->level;
			cs->level_changed_at = e->at;
		}
		return SLA_DL_OK;
	default:
		/* REPORTED, NOTE and ASSIGNED are handled above; unknown kinds
		 * were refused before the call. */
		return SLA_DL_ERR_KIND;
	}
}

/* One clock's replay in the last cycle. */
struct walk {
	sla_time start, limit;   /* count running time in [start, limit) */
	const sla_duration *thr; /* thresholds, not decreasing */
	sla_time *due;           /* out: due instant of each threshold */
	size_t n_thr;
	size_t k; /* next threshold to stamp */
	sla_duration running;
	sla_duration paused;
};

/* Account the interval [a, b) in which the ticket was paused or not. */
static void walk_interval(struct walk *w, sla_time a, sla_time b, bool paused)
{
	if (a < w->start)
		a = w->start;
	if (b > w->limit)
		b = w->limit;
	if (b <= a)
		return;
	sla_duration len = b - a;
	if (paused) {
		w->paused += len;
		return;
	}
	/* The first instant the running time reaches each threshold. */
	while (w->k < w->n_thr && w->thr[w->k] <= w->running + len) {
		sla_duration need = w->thr[w->k] - w->running;
		w->due[w->k] = a + (need > 0 ? need : 0);
		w->k++;
	}
	w->running += len;
}

static void walk_cycle(struct walk *w, const struct sla_event *events, size_t first, size_t n)
{
	sla_time cursor = events[first].at;
	bool paused = false;
	for (size_t j = first + 1; j < n; j++) {
		const struct sla_event *e = &events[j];
		bool next = paused;
		if (e->kind == SLA_EV_PAUSED)
			next = true;
		else if (e->kind == SLA_EV_RESUMED || e->kind == SLA_EV_CLOSED ||
		         e->kind == SLA_EV_CANCELLED)
			next = false;
		if (next == paused)
			continue;
		walk_interval(w, cursor, e->at, paused);
		cursor = e->at;
		paused = next;
	}
	walk_interval(w, cursor, w->limit, paused);
	/* Beyond limit the clock is projected as running: while paused that
	 * is "if resumed now", once stopped "had it run on". */
	for (; w->k < w->n_thr; w->k++)
		w->due[w->k] = w->limit + (w->thr[w->k] - w->running);
}

static sla_time min_time(sla_time a, sla_time b)
{
	if (a == NONE)
		return b;
	if (b == NONE)
		return a;
	return a < b ? a : b;
}

static void clear_clock(struct sla_clock_eval *c)
{
	memset(c, 0, sizeof(*c));
	c->start_at = c->armed_at = c->due_at = c->stopped_at = SLA_TIME_NEVER;
	c->next.index = -1;
	c->next.due_at = SLA_TIME_NEVER;
}

static void eval_clock(const struct sla_policy *policy, const struct cycle_summary *cs,
                       const struct sla_event *events, size_t n, struct sla_deadline_eval *ev,
                       enum sla_clock clock)
{
	struct sla_clock_eval *c = &ev->clocks[clock];
	clear_clock(c);
	sla_duration window = sla_policy_window(policy, ev->type, cs->level, clock);
	if (window <= 0)
		return; /* INACTIVE: the type does not run this clock */
	c->cycle = cs->cycle;
	c->window = window;

	sla_time start = cs->start, activated = cs->start, stop, goal;
	switch (clock) {
	case SLA_CLOCK_RESPONSE:
		goal = cs->ack_at;
		stop = min_time(min_time(goal, cs->restore_at), cs->end_at);
		break;
	case SLA_CLOCK_ONSITE:
		if (cs->dispatch_at == NONE) {
			c->state = SLA_CS_NOT_NEEDED; /* S5: no visit agreed */
			return;
		}
		activated = cs->dispatch_at;
		if (policy->onsite_from_dispatch)
			start = cs->dispatch_at;
		goal = cs->arrive_at;
		stop = min_time(min_time(goal, cs->restore_at), cs->end_at);
		break;
	default: /* SLA_CLOCK_RESTORE */
		goal = cs->restore_at;
		stop = min_time(goal, cs->end_at);
		break;
	}

	/* The steps and their running-time thresholds. */
	struct sla_ladder ladder;
	sla_policy_effective_ladder(policy, ev->type, cs->level, &ladder);
	enum sla_tier tier0 = sla_policy_start_tier(policy, ev->type);
	sla_duration thr[SLA_DEADLINE_MAX_STEPS];
	sla_time due[SLA_DEADLINE_MAX_STEPS];
	size_t ns = 0;
	for (size_t i = 0; i < policy->n_warnings; i++, ns++) {
		struct sla_step *s = &c->steps[ns];
		s->kind = SLA_STEP_WARNING;
		s->tier = tier0;
		s->permille = policy->warning_permille[i];
		/* The first second at which floor(consumed) >= the fraction. */
		s->threshold = ((sla_duration)s->permille * window + 999) / 1000;
	}
	c->steps[ns] = (struct sla_step){
	    .kind = SLA_STEP_BREACH, .tier = tier0, .permille = 1000, .threshold = window};
	ns++;
	for (size_t k = 0; k < ladder.n_steps; k++, ns++)
		c->steps[ns] = (struct sla_step){.kind = SLA_STEP_ESCALATION,
		                                 .tier = ladder.steps[k].tier,
		                                 .permille = 1000,
		                                 .after_breach = ladder.steps[k].delay,
		                                 .threshold = window + ladder.steps[k].delay};
	c->n_steps = ns;
	for (size_t i = 0; i < ns; i++)
		thr[i] = c->steps[i].threshold;

	struct walk w = {
	    .start = start,
	    .limit = stop == NONE ? ev->now : stop,
	    .thr = thr,
	    .due = due,
	    .n_thr = ns,
	};
	walk_cycle(&w, events, cs->first, n);

	c->start_at = start;
	c->armed_at = cs->level_changed_at > activated ? cs->level_changed_at : activated;
	c->stopped_at = stop == NONE ? SLA_TIME_NEVER : stop;
	c->running = w.running;
	c->paused = w.paused;
	c->consumed_permille = w.running * 1000 / window;
	c->breached = w.running >= window;
	c->due_at = due[policy->n_warnings];
	for (size_t i = 0; i < ns; i++) {
		struct sla_step *s = &c->steps[i];
		s->index = (int)i;
		s->due_at = due[i];
		s->moot = s->kind == SLA_STEP_WARNING && s->due_at < c->armed_at;
	}

	if (stop != NONE)
		c->state = c->breached    ? SLA_CS_BREACHED
		           : stop == goal ? SLA_CS_MET
		                          : SLA_CS_STOPPED;
	else if (cs->paused)
		c->state = SLA_CS_PAUSED;
	else
		c->state = c->breached ? SLA_CS_OVERDUE : SLA_CS_RUNNING;

	if (c->state == SLA_CS_RUNNING || c->state == SLA_CS_OVERDUE)
		for (size_t i = 0; i < ns; i++)
			if (!c->steps[i].moot && c->steps[i].due_at > ev->now) {
				c->next = c->steps[i];
				break;
			}
}

enum sla_deadline_err sla_deadline_evaluate(const struct sla_policy *policy,
                                            enum sla_ticket_type type,
                                            const struct sla_event *events, size_t n_events,
                                            sla_time now, struct sla_deadline_eval *out)
{
	if (out == NULL)
		return SLA_DL_ERR_ARG;
	if (policy == NULL || events == NULL || n_events == 0)
		return refuse(out, SLA_DL_ERR_ARG, 0, "missing policy or events");
	if ((int)type < 0 || type >= SLA_TYPE_COUNT)
		return refuse(out, SLA_DL_ERR_ARG, 0, "ticket type %d is not a type", (int)type);
	if (!time_ok(now))
		return refuse(out, SLA_DL_ERR_TIME_RANGE, 0, "now (%lld) outside 1970..9999",
		              (long long)now);
	char perr[sizeof(out->err_text) - 8];
	if (sla_policy_validate(policy, perr, sizeof(perr)) != 0)
		return refuse(out, SLA_DL_ERR_POLICY, 0, "policy: %s", perr);

	struct cycle_summary cs;
	memset(&cs, 0, sizeof(cs));
	for (size_t i = 0; i < n_events; i++) {
		const struct sla_event *e = &events[i];
		enum sla_deadline_err err = SLA_DL_OK;
		if ((int)e->kind < 0 || e->kind >= SLA_EV_COUNT)
			return refuse(out, SLA_DL_ERR_KIND, i, "event %zu: unknown kind %d", i,
			              (int)e->kind);
		if (!time_ok(e->at))
			err = SLA_DL_ERR_TIME_RANGE;
		else if (i > 0 && e->at < events[i - 1].at)
			err = SLA_DL_ERR_ORDER;
		else
			err = replay_one(&cs, type, e, i);
		if (err != SLA_DL_OK)
			return refuse_event(out, err, i, e);
		cs.last_at = e->at;
	}

	memset(out, 0, sizeof(*out));
	out->type = type;
	/* A wall clock stepped back must not undo recorded events. */
	out->now = now > cs.last_at ? now : cs.last_at;
	out->level = cs.level;
	out->cycle = cs.cycle;
	out->cycle_start = cs.start;
	out->paused = cs.paused;
	out->closed = cs.closed;
	out->next_due = SLA_TIME_NEVER;
	for (int c = 0; c < SLA_CLOCK_COUNT; c++) {
		eval_clock(policy, &cs, events, n_events, out, (enum sla_clock)c);
		if (out->clocks[c].next.due_at < out->next_due)
			out->next_due = out->clocks[c].next.due_at;
	}
	return SLA_DL_OK;
}

static void no_step(struct sla_step *out)
{
	memset(out, 0, sizeof(*out));
	out->index = -1;
	out->due_at = SLA_TIME_NEVER;
}

/* The clock, if it is running (the only state in which steps fire). */
static const struct sla_clock_eval *running_clock(const struct sla_deadline_eval *ev,
                                                  enum sla_clock clock)
{
	if (ev == NULL || ev->err != SLA_DL_OK || (int)clock < 0 || clock >= SLA_CLOCK_COUNT)
		return NULL;
	const struct sla_clock_eval *c = &ev->clocks[clock];
	if (c->state != SLA_CS_RUNNING && c->state != SLA_CS_OVERDUE)
		return NULL;
	return c;
}

bool sla_deadline_next_step(const struct sla_deadline_eval *ev, enum sla_clock clock,
                            int after_index, struct sla_step *out)
{
	const struct sla_clock_eval *c = running_clock(ev, clock);
	if (c != NULL) {
		size_t from = after_index < 0 ? 0 : (size_t)after_index + 1;
		for (size_t i = from; i < c->n_steps; i++)
			if (!c->steps[i].moot) {
				*out = c->steps[i];
				return true;
			}
	}
	no_step(out);
	return false;
}

bool sla_deadline_first_step_after(const struct sla_deadline_eval *ev, enum sla_clock clock,
                                   sla_time t, struct sla_step *out)
{
	const struct sla_clock_eval *c = running_clock(ev, clock);
	if (c != NULL)
		for (size_t i = 0; i < c->n_steps; i++)
			if (!c->steps[i].moot && c->steps[i].due_at > t) {
				*out = c->steps[i];
				return true;
			}
	no_step(out);
	return false;
}

bool sla_deadline_step_at(const struct sla_deadline_eval *ev, enum sla_clock clock, int index,
                          struct sla_step *out)
{
	if (ev != NULL && ev->err == SLA_DL_OK && (int)clock >= 0 && clock < SLA_CLOCK_COUNT &&
	    index >= 0 && (size_t)index < ev->clocks[clock].n_steps) {
		*out = ev->clocks[clock].steps[index];
		return true;
	}
	no_step(out);
	return false;
}

sla_time sla_deadline_earliest(const struct sla_deadline_eval *ev,
                               const int after_index[SLA_CLOCK_COUNT])
{
	if (ev == NULL || ev->err != SLA_DL_OK)
		return SLA_TIME_NEVER;
	if (after_index == NULL)
		return ev->next_due;
	sla_time best = SLA_TIME_NEVER;
	for (int c = 0; c < SLA_CLOCK_COUNT; c++) {
		struct sla_step s;
		if (sla_deadline_next_step(ev, (enum sla_clock)c, after_index[c], &s) &&
		    s.due_at < best)
			best = s.due_at;
	}
	return best;
}
