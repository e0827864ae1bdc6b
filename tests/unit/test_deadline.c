/*
 * test_deadline.c - the SLA clocks replayed from a ticket's history
 * (DESIGN "Time"; S4, S5, S6): known answers for the cases, every
 * refusal by name, and property tests over random histories.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "deadline.h"

#define M  SLA_MINUTE
#define H  SLA_HOUR
#define D  SLA_DAY
#define T0 ((sla_time)1767225600) /* 2026-01-01T00:00:00Z */

#define EV(k, off)     ((struct sla_event){SLA_EV_##k, T0 + (off), SLA_LEVEL_NONE})
#define EVL(k, off, l) ((struct sla_event){SLA_EV_##k, T0 + (off), (enum sla_level)(l)})
#define N(a)           (sizeof(a) / sizeof((a)[0]))

static struct sla_policy default_policy(void)
{
	struct sla_policy p;
	sla_policy_default(&p);
	return p;
}

static struct sla_deadline_eval eval_ok(const struct sla_policy *p, enum sla_ticket_type type,
                                        const struct sla_event *ev, size_t n, sla_time now)
{
	struct sla_deadline_eval out;
	enum sla_deadline_err err = sla_deadline_evaluate(p, type, ev, n, now, &out);
	if (err != SLA_DL_OK)
		fail_msg("evaluate: %s: %s", sla_deadline_err_name(err), out.err_text);
	assert_int_equal(out.err, SLA_DL_OK);
	assert_string_equal(out.err_text, "");
	return out;
}

static void assert_step(const struct sla_step *s, int index, enum sla_step_kind kind,
                        enum sla_tier tier, sla_time due)
{
	assert_int_equal(s->index, index);
	assert_int_equal(s->kind, kind);
	assert_int_equal(s->tier, tier);
	assert_int_equal(s->due_at, due);
}

/* ---- known answers ---------------------------------------------------- */

static void level1_response_and_warnings(void **state)
{
	(void)state;
	struct sla_policy p = default_policy();
	struct sla_event ev[] = {EVL(REPORTED, 0, 1)};
	struct sla_deadline_eval e = eval_ok(&p, SLA_TYPE_FAULT, ev, N(ev), T0 + 10 * M);
	assert_int_equal(e.cycle, 1);
	assert_int_equal(e.level, SLA_LEVEL_1);
	assert_int_equal(e.now, T0 + 10 * M);

	const struct sla_clock_eval *r = &e.clocks[SLA_CLOCK_RESPONSE];
	assert_int_equal(r->state, SLA_CS_RUNNING);
	assert_false(r->breached);
	assert_int_equal(r->cycle, 1);
	assert_int_equal(r->window, 30 * M);
	assert_int_equal(r->start_at, T0);
	assert_int_equal(r->armed_at, T0);
	assert_int_equal(r->due_at, T0 + 30 * M);
	assert_int_equal(r->stopped_at, SLA_TIME_NEVER);
	assert_int_equal(r->running, 10 * M);
	assert_int_equal(r->paused, 0);
	assert_int_equal(r->consumed_permille, 333);
	assert_int_equal(r->n_steps, 7);
	/* Warnings at 15, 22.5 and 27 min; breach at 30; ladder +15m/+1h/+4h. */
	assert_step(&r->steps[0], 0, SLA_STEP_WARNING, SLA_TIER_ENGINEER, T0 + 15 * M);
	assert_step(&r->steps[1], 1, SLA_STEP_WARNING, SLA_TIER_ENGINEER, T0 + 22 * M + 30);
	assert_step(&r->steps[2], 2, SLA_STEP_WARNING, SLA_TIER_ENGINEER, T0 + 27 * M);
	assert_step(&r->steps[3], 3, SLA_STEP_BREACH, SLA_TIER_ENGINEER, T0 + 30 * M);
	assert_step(&r->steps[4], 4, SLA_STEP_ESCALATION, SLA_TIER_TEAM_LEAD, T0 + 45 * M);
	assert_step(&r->steps[5], 5, SLA_STEP_ESCALATION, SLA_TIER_REGIONAL_MANAGER, T0 + 90 * M);
	assert_step(&r->steps[6], 6, SLA_STEP_ESCALATION, SLA_TIER_DIRECTOR, T0 + 270 * M);
	assert_int_equal(r->steps[1].permille, 750);
	assert_int_equal(r->steps[1].threshold, 22 * M + 30);
	assert_int_equal(r->steps[3].permille, 1000);
	assert_int_equal(r->steps[5].after_breach, 1 * H);
	for (size_t i = 0; i < r->n_steps; i++)
		assert_false(r->steps[i].moot);
	assert_step(&r->next, 0, SLA_STEP_WARNING, SLA_TIER_ENGINEER, T0 + 15 * M);

	assert_int_equal(e.clocks[SLA_CLOCK_ONSITE].state, SLA_CS_NOT_NEEDED);
	assert_int_equal(e.clocks[SLA_CLOCK_ONSITE].due_at, SLA_TIME_NEVER);
	assert_int_equal(e.clocks[SLA_CLOCK_ONSITE].n_steps, 0);
	assert_int_equal(e.clocks[SLA_CLOCK_RESTORE].state, SLA_CS_RUNNING);
	assert_int_equal(e.clocks[SLA_CLOCK_RESTORE].due_at, T0 + 8 * H);
	assert_int_equal(e.clocks[SLA_CLOCK_RESTORE].next.due_at, T0 + 4 * H);
	assert_int_equal(e.next_due, T0 + 15 * M);

	struct sla_step s;
	assert_true(sla_deadline_next_step(&e, SLA_CLOCK_RESPONSE, -1, &s));
	assert_step(&s, 0, SLA_STEP_WARNING, SLA_TIER_ENGINEER, T0 + 15 * M);
	assert_true(sla_deadline_next_step(&e, SLA_CLOCK_RESPONSE, 2, &s));
	assert_step(&s, 3, SLA_STEP_BREACH, SLA_TIER_ENGINEER, T0 + 30 * M);
	assert_false(sla_deadline_next_step(&e, SLA_CLOCK_RESPONSE, 6, &s));
	assert_int_equal(s.index, -1);
	assert_int_equal(s.due_at, SLA_TIME_NEVER);
	assert_false(sla_deadline_next_step(&e, SLA_CLOCK_ONSITE, -1, &s));
}

/* A window that is not a multiple of 1000 s: a warning is due at the first
 * second at which floor(consumed) reaches its fraction. */
static void warning_thresholds_round_up(void **state)
{
	(void)state;
	struct sla_policy p = default_policy();
	struct sla_policy_override ov;
	sla_policy_override_init(&ov);
	ov.window[SLA_TYPE_FAULT][0][SLA_CLOCK_RESPONSE] = 1001;
	char err[160];
	assert_int_equal(sla_policy_apply_override(&p, &ov, &p, err, sizeof(err)), 0);
	struct sla_event ev[] = {EVL(REPORTED, 0, 1)};
	struct sla_deadline_eval e = eval_ok(&p, SLA_TYPE_FAULT, ev, N(ev), T0);
	const struct sla_clock_eval *r = &e.clocks[SLA_CLOCK_RESPONSE];
	assert_int_equal(r->steps[0].due_at, T0 + 501); /* 500.5 s */
	assert_int_equal(r->steps[1].due_at, T0 + 751); /* 750.75 s */
	assert_int_equal(r->steps[2].due_at, T0 + 901); /* 900.9 s */
	/* At 500 s consumed is 499 per mille, at 501 s 500. */
	e = eval_ok(&p, SLA_TYPE_FAULT, ev, N(ev), T0 + 500);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].consumed_permille, 499);
	e = eval_ok(&p, SLA_TYPE_FAULT, ev, N(ev), T0 + 501);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].consumed_permille, 500);
}

/* S4: the 24-hour boundary; breach at now >= due. */
static void level4_24h_boundary(void **state)
{
	(void)state;
	struct sla_policy p = default_policy();
	struct sla_event ev[] = {EVL(REPORTED, 0, 4)};

	struct sla_deadline_eval e = eval_ok(&p, SLA_TYPE_FAULT, ev, N(ev), T0 + 24 * H - 1);
	const struct sla_clock_eval *r = &e.clocks[SLA_CLOCK_RESPONSE];
	assert_int_equal(r->state, SLA_CS_RUNNING);
	assert_false(r->breached);
	assert_int_equal(r->consumed_permille, 999);
	assert_int_equal(r->due_at, T0 + 24 * H);
	assert_step(&r->next, 3, SLA_STEP_BREACH, SLA_TIER_ENGINEER, T0 + 24 * H);
	assert_int_equal(e.next_due, T0 + 24 * H);

	e = eval_ok(&p, SLA_TYPE_FAULT, ev, N(ev), T0 + 24 * H);
	r = &e.clocks[SLA_CLOCK_RESPONSE];
	assert_int_equal(r->state, SLA_CS_OVERDUE);
	assert_true(r->breached);
	assert_int_equal(r->consumed_permille, 1000);
	assert_step(&r->next, 4, SLA_STEP_ESCALATION, SLA_TIER_TEAM_LEAD, T0 + 24 * H + 30 * M);

	/* Acknowledged one second before: met.  Exactly at due: late. */
	struct sla_event ok[] = {EVL(REPORTED, 0, 4), EV(ACKNOWLEDGED, 24 * H - 1)};
	e = eval_ok(&p, SLA_TYPE_FAULT, ok, N(ok), T0 + 30 * H);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].state, SLA_CS_MET);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].stopped_at, T0 + 24 * H - 1);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].running, 24 * H - 1);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].next.index, -1);
	struct sla_event late[] = {EVL(REPORTED, 0, 4), EV(ACKNOWLEDGED, 24 * H)};
	e = eval_ok(&p, SLA_TYPE_FAULT, late, N(late), T0 + 30 * H);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].state, SLA_CS_BREACHED);
	assert_true(e.clocks[SLA_CLOCK_RESPONSE].breached);
	/* The restore clock kept running: overdue at +30 h. */
	assert_int_equal(e.clocks[SLA_CLOCK_RESTORE].state, SLA_CS_OVERDUE);
}

/* DESIGN "Time": 3 -> 1 halfway through the 8 h response window. */
static void reclassify_3_to_1_halfway(void **state)
{
	(void)state;
	struct sla_policy p = default_policy();
	struct sla_event before[] = {EVL(REPORTED, 0, 3)};
	struct sla_deadline_eval e = eval_ok(&p, SLA_TYPE_FAULT, before, N(before), T0 + 4 * H);
	/* The scheduler fires the 50 % warning at exactly 4 h ... */
	struct sla_step s;
	assert_true(sla_deadline_next_step(&e, SLA_CLOCK_RESPONSE, -1, &s));
	assert_step(&s, 0, SLA_STEP_WARNING, SLA_TIER_ENGINEER, T0 + 4 * H);

	/* ... and then the ticket is reclassified to level 1 at 4 h. */
	struct sla_event ev[] = {EVL(REPORTED, 0, 3), EVL(RECLASSIFIED, 4 * H, 1)};
	e = eval_ok(&p, SLA_TYPE_FAULT, ev, N(ev), T0 + 4 * H);
	assert_int_equal(e.level, SLA_LEVEL_1);
	const struct sla_clock_eval *r = &e.clocks[SLA_CLOCK_RESPONSE];
	assert_int_equal(r->window, 30 * M);
	assert_int_equal(r->start_at, T0); /* the original report */
	assert_int_equal(r->armed_at, T0 + 4 * H);
	assert_int_equal(r->due_at, T0 + 30 * M);
	assert_int_equal(r->state, SLA_CS_OVERDUE);
	assert_true(r->breached);
	assert_int_equal(r->consumed_permille, 8000);
	/* The level-1 warnings were never due under a schedule in force. */
	assert_true(r->steps[0].moot && r->steps[1].moot && r->steps[2].moot);
	assert_false(r->steps[3].moot);
	/* Rescheduling after warning 0 fired, or from scratch: the breach,
	 * due in the past, i.e. immediately. */
	assert_true(sla_deadline_next_step(&e, SLA_CLOCK_RESPONSE, 0, &s));
	assert_step(&s, 3, SLA_STEP_BREACH, SLA_TIER_ENGINEER, T0 + 30 * M);
	assert_true(sla_deadline_next_step(&e, SLA_CLOCK_RESPONSE, -1, &s));
	assert_int_equal(s.index, 3);
	/* Then the ladder, each also already due but 4 h 30 m. */
	assert_true(sla_deadline_next_step(&e, SLA_CLOCK_RESPONSE, 3, &s));
	assert_step(&s, 4, SLA_STEP_ESCALATION, SLA_TIER_TEAM_LEAD, T0 + 45 * M);
	assert_true(sla_deadline_next_step(&e, SLA_CLOCK_RESPONSE, 5, &s));
	assert_step(&s, 6, SLA_STEP_ESCALATION, SLA_TIER_DIRECTOR, T0 + 4 * H + 30 * M);
	/* What lies ahead of now is the director. */
	assert_int_equal(r->next.index, 6);
	assert_true(sla_deadline_first_step_after(&e, SLA_CLOCK_RESPONSE, T0 + 4 * H, &s));
	assert_int_equal(s.index, 6);

	/* Restore: 8 h from the original report; its 50 % warning falls on
	 * the reclassification instant itself and still counts. */
	const struct sla_clock_eval *rs = &e.clocks[SLA_CLOCK_RESTORE];
	assert_int_equal(rs->due_at, T0 + 8 * H);
	assert_int_equal(rs->state, SLA_CS_RUNNING);
	assert_false(rs->steps[0].moot);
	assert_true(sla_deadline_next_step(&e, SLA_CLOCK_RESTORE, -1, &s));
	assert_step(&s, 0, SLA_STEP_WARNING, SLA_TIER_ENGINEER, T0 + 4 * H);

	/* Reclassifying to the level it already has re-arms nothing. */
	struct sla_event same[] = {EVL(REPORTED, 0, 3), EVL(RECLASSIFIED, 4 * H, 3)};
	e = eval_ok(&p, SLA_TYPE_FAULT, same, N(same), T0 + 4 * H);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].armed_at, T0);

	/* 1 -> 3 after the level-1 breach: the clock is back within its window. */
	struct sla_event down[] = {EVL(REPORTED, 0, 1), EVL(RECLASSIFIED, 1 * H, 3)};
	e = eval_ok(&p, SLA_TYPE_FAULT, down, N(down), T0 + 1 * H);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].state, SLA_CS_RUNNING);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].due_at, T0 + 8 * H);
}

/* S5: a pause shifts every due instant by exactly the paused span. */
static void pause_resume_shifts_everything(void **state)
{
	(void)state;
	struct sla_policy p = default_policy();
	struct sla_event plain[] = {EVL(REPORTED, 0, 2)};
	struct sla_event paused[] = {EVL(REPORTED, 0, 2), EV(PAUSED, 10 * M), EV(RESUMED, 70 * M)};
	sla_time now = T0 + 80 * M;
	struct sla_deadline_eval a = eval_ok(&p, SLA_TYPE_FAULT, plain, N(plain), now);
	struct sla_deadline_eval b = eval_ok(&p, SLA_TYPE_FAULT, paused, N(paused), now);
	for (int c = 0; c < SLA_CLOCK_COUNT; c++) {
		if (a.clocks[c].state == SLA_CS_NOT_NEEDED)
			continue;
		assert_int_equal(b.clocks[c].due_at, a.clocks[c].due_at + H);
		assert_int_equal(b.clocks[c].n_steps, a.clocks[c].n_steps);
		for (size_t i = 0; i < a.clocks[c].n_steps; i++)
			assert_int_equal(b.clocks[c].steps[i].due_at,
			                 a.clocks[c].steps[i].due_at + H);
		assert_int_equal(b.clocks[c].running, 20 * M);
		assert_int_equal(b.clocks[c].paused, 60 * M);
	}
	assert_int_equal(b.clocks[SLA_CLOCK_RESPONSE].due_at, T0 + 3 * H);
	assert_int_equal(b.clocks[SLA_CLOCK_RESPONSE].state, SLA_CS_RUNNING);

	/* While paused: no next step; due projected as if resumed now. */
	struct sla_event open[] = {EVL(REPORTED, 0, 2), EV(PAUSED, 10 * M)};
	struct sla_deadline_eval e = eval_ok(&p, SLA_TYPE_FAULT, open, N(open), T0 + 30 * M);
	assert_true(e.paused);
	const struct sla_clock_eval *r = &e.clocks[SLA_CLOCK_RESPONSE];
	assert_int_equal(r->state, SLA_CS_PAUSED);
	assert_false(r->breached);
	assert_int_equal(r->running, 10 * M);
	assert_int_equal(r->paused, 20 * M);
	assert_int_equal(r->due_at, T0 + 2 * H + 20 * M);
	assert_int_equal(r->next.index, -1);
	assert_int_equal(r->next.due_at, SLA_TIME_NEVER);
	assert_int_equal(e.next_due, SLA_TIME_NEVER);
	struct sla_step s;
	assert_false(sla_deadline_next_step(&e, SLA_CLOCK_RESPONSE, -1, &s));
	assert_false(sla_deadline_first_step_after(&e, SLA_CLOCK_RESPONSE, 0, &s));
	/* History is still readable. */
	assert_true(sla_deadline_step_at(&e, SLA_CLOCK_RESPONSE, 3, &s));
	assert_int_equal(s.kind, SLA_STEP_BREACH);

	/* Paused after the breach: PAUSED and breached; the ladder resumes
	 * shifted by the pause. */
	struct sla_event pb[] = {EVL(REPORTED, 0, 1), EV(PAUSED, 40 * M), EV(RESUMED, 100 * M)};
	e = eval_ok(&p, SLA_TYPE_FAULT, pb, 2, T0 + 50 * M);
	r = &e.clocks[SLA_CLOCK_RESPONSE];
	assert_int_equal(r->state, SLA_CS_PAUSED);
	assert_true(r->breached);
	assert_int_equal(r->consumed_permille, 1333);
	e = eval_ok(&p, SLA_TYPE_FAULT, pb, N(pb), T0 + 2 * H);
	r = &e.clocks[SLA_CLOCK_RESPONSE];
	assert_int_equal(r->state, SLA_CS_OVERDUE);
	assert_int_equal(r->due_at, T0 + 30 * M); /* before the pause: unchanged */
	assert_int_equal(r->steps[4].due_at, T0 + 105 * M);
	assert_int_equal(r->steps[5].due_at, T0 + 150 * M);
	assert_int_equal(r->steps[6].due_at, T0 + 330 * M);
	assert_int_equal(r->next.index, 5);
}

static void pause_while_paused_is_refused(void **state)
{
	(void)state;
	struct sla_policy p = default_policy();
	struct sla_event ev[] = {EVL(REPORTED, 0, 2), EV(PAUSED, 10 * M), EV(PAUSED, 20 * M)};
	struct sla_deadline_eval e;
	memset(&e, 0x7f, sizeof(e));
	assert_int_equal(sla_deadline_evaluate(&p, SLA_TYPE_FAULT, ev, N(ev), T0 + H, &e),
	                 SLA_DL_ERR_PAUSED);
	assert_int_equal(e.err, SLA_DL_ERR_PAUSED);
	assert_int_equal(e.err_event, 2);
	assert_string_equal(e.err_text, "event 2 (paused at 1767226800): already paused");
	assert_int_equal(e.next_due, SLA_TIME_NEVER);
	assert_int_equal(e.cycle, 0);
	struct sla_step s;
	assert_false(sla_deadline_next_step(&e, SLA_CLOCK_RESPONSE, -1, &s));
	assert_false(sla_deadline_step_at(&e, SLA_CLOCK_RESPONSE, 0, &s));
	assert_int_equal(sla_deadline_earliest(&e, NULL), SLA_TIME_NEVER);
}

/* A reopen starts cycle 2: response and restore run again from the reopen;
 * on site waits for a new dispatch. */
static void reopen_starts_cycle_2(void **state)
{
	(void)state;
	struct sla_policy p = default_policy();
	struct sla_event ev[] = {
	    EVL(REPORTED, 0, 2),  EV(ACKNOWLEDGED, 10 * M), EV(DISPATCHED, 1 * H),
	    EV(ARRIVED, 5 * H),   EV(RESTORED, 6 * H),      EV(CLOSED, 7 * H),
	    EV(REOPENED, 30 * H),
	};
	struct sla_deadline_eval e = eval_ok(&p, SLA_TYPE_FAULT, ev, N(ev), T0 + 30 * H + 5 * M);
	assert_int_equal(e.cycle, 2);
	assert_int_equal(e.cycle_start, T0 + 30 * H);
	assert_false(e.closed);
	const struct sla_clock_eval *r = &e.clocks[SLA_CLOCK_RESPONSE];
	assert_int_equal(r->cycle, 2);
	assert_int_equal(r->state, SLA_CS_RUNNING);
	assert_int_equal(r->start_at, T0 + 30 * H);
	assert_int_equal(r->due_at, T0 + 32 * H);
	assert_int_equal(r->running, 5 * M);
	assert_step(&r->next, 0, SLA_STEP_WARNING, SLA_TIER_ENGINEER, T0 + 31 * H);
	assert_int_equal(e.clocks[SLA_CLOCK_RESTORE].due_at, T0 + 54 * H);
	assert_int_equal(e.clocks[SLA_CLOCK_RESTORE].cycle, 2);
	assert_int_equal(e.clocks[SLA_CLOCK_ONSITE].state, SLA_CS_NOT_NEEDED);
	assert_int_equal(e.clocks[SLA_CLOCK_ONSITE].cycle, 2);

	/* The first cycle, evaluated before the reopen: all met. */
	e = eval_ok(&p, SLA_TYPE_FAULT, ev, N(ev) - 1, T0 + 8 * H);
	assert_int_equal(e.cycle, 1);
	assert_true(e.closed);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].state, SLA_CS_MET);
	assert_int_equal(e.clocks[SLA_CLOCK_ONSITE].state, SLA_CS_MET); /* 5 h of 8 h */
	assert_int_equal(e.clocks[SLA_CLOCK_RESTORE].state, SLA_CS_MET);
	assert_int_equal(e.next_due, SLA_TIME_NEVER);

	/* Reopened from RESTORED (before closing) while paused: the new
	 * cycle starts unpaused. */
	struct sla_event r2[] = {EVL(REPORTED, 0, 2), EV(ACKNOWLEDGED, 1 * M), EV(RESTORED, 1 * H),
	                         EV(PAUSED, 2 * H), EV(REOPENED, 3 * H)};
	e = eval_ok(&p, SLA_TYPE_FAULT, r2, N(r2), T0 + 3 * H);
	assert_int_equal(e.cycle, 2);
	assert_false(e.paused);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].state, SLA_CS_RUNNING);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].due_at, T0 + 5 * H);
}

/* S5 and the contract setting: on site from the report or the dispatch. */
static void onsite_from_report_or_dispatch(void **state)
{
	(void)state;
	struct sla_policy p = default_policy();
	struct sla_event ev[] = {EVL(REPORTED, 0, 1), EV(ACKNOWLEDGED, 5 * M),
	                         EV(REMOTE_STARTED, 10 * M), EV(DISPATCHED, 1 * H)};

	struct sla_deadline_eval e = eval_ok(&p, SLA_TYPE_FAULT, ev, N(ev), T0 + 90 * M);
	const struct sla_clock_eval *o = &e.clocks[SLA_CLOCK_ONSITE];
	assert_int_equal(o->state, SLA_CS_RUNNING);
	assert_int_equal(o->start_at, T0);
	assert_int_equal(o->armed_at, T0 + 1 * H);
	assert_int_equal(o->due_at, T0 + 4 * H);
	assert_int_equal(o->running, 90 * M);
	assert_step(&o->next, 0, SLA_STEP_WARNING, SLA_TIER_ENGINEER, T0 + 2 * H);

	p.onsite_from_dispatch = true;
	e = eval_ok(&p, SLA_TYPE_FAULT, ev, N(ev), T0 + 90 * M);
	o = &e.clocks[SLA_CLOCK_ONSITE];
	assert_int_equal(o->state, SLA_CS_RUNNING);
	assert_int_equal(o->start_at, T0 + 1 * H);
	assert_int_equal(o->due_at, T0 + 5 * H);
	assert_int_equal(o->running, 30 * M);
	assert_step(&o->next, 0, SLA_STEP_WARNING, SLA_TIER_ENGINEER, T0 + 3 * H);

	/* Arrival stops it: met. */
	struct sla_event arr[] = {EVL(REPORTED, 0, 1), EV(DISPATCHED, 1 * H), EV(ARRIVED, 3 * H)};
	e = eval_ok(&p, SLA_TYPE_FAULT, arr, N(arr), T0 + 3 * H);
	assert_int_equal(e.clocks[SLA_CLOCK_ONSITE].state, SLA_CS_MET);
	assert_int_equal(e.clocks[SLA_CLOCK_ONSITE].stopped_at, T0 + 3 * H);
	assert_int_equal(e.clocks[SLA_CLOCK_ONSITE].consumed_permille, 500);

	/* From the report, dispatched at 3 h: the 2 h warning was never due
	 * (moot); the 3 h one falls on the dispatch and fires. */
	p.onsite_from_dispatch = false;
	struct sla_event late[] = {EVL(REPORTED, 0, 1), EV(DISPATCHED, 3 * H)};
	e = eval_ok(&p, SLA_TYPE_FAULT, late, N(late), T0 + 3 * H);
	o = &e.clocks[SLA_CLOCK_ONSITE];
	assert_true(o->steps[0].moot);
	assert_false(o->steps[1].moot);
	struct sla_step s;
	assert_true(sla_deadline_next_step(&e, SLA_CLOCK_ONSITE, -1, &s));
	assert_step(&s, 1, SLA_STEP_WARNING, SLA_TIER_ENGINEER, T0 + 3 * H);

	/* Dispatched while paused, from dispatch: it starts paused. */
	p.onsite_from_dispatch = true;
	struct sla_event pd[] = {EVL(REPORTED, 0, 1), EV(PAUSED, 1 * H), EV(DISPATCHED, 2 * H),
	                         EV(RESUMED, 3 * H)};
	e = eval_ok(&p, SLA_TYPE_FAULT, pd, N(pd) - 1, T0 + 150 * M);
	assert_int_equal(e.clocks[SLA_CLOCK_ONSITE].state, SLA_CS_PAUSED);
	assert_int_equal(e.clocks[SLA_CLOCK_ONSITE].running, 0);
	assert_int_equal(e.clocks[SLA_CLOCK_ONSITE].paused, 30 * M);
	e = eval_ok(&p, SLA_TYPE_FAULT, pd, N(pd), T0 + 4 * H);
	assert_int_equal(e.clocks[SLA_CLOCK_ONSITE].due_at, T0 + 7 * H);
	assert_int_equal(e.clocks[SLA_CLOCK_ONSITE].paused, 1 * H);
}

/* S5: most faults never need a visit. */
static void restore_without_dispatch(void **state)
{
	(void)state;
	struct sla_policy p = default_policy();
	struct sla_event ev[] = {EVL(REPORTED, 0, 2), EV(ACKNOWLEDGED, 20 * M),
	                         EV(REMOTE_STARTED, 30 * M), EV(RESTORED, 5 * H)};
	struct sla_deadline_eval e = eval_ok(&p, SLA_TYPE_FAULT, ev, N(ev), T0 + 6 * H);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].state, SLA_CS_MET);
	assert_int_equal(e.clocks[SLA_CLOCK_ONSITE].state, SLA_CS_NOT_NEEDED);
	assert_int_equal(e.clocks[SLA_CLOCK_RESTORE].state, SLA_CS_MET);
	assert_int_equal(e.clocks[SLA_CLOCK_RESTORE].stopped_at, T0 + 5 * H);
	assert_int_equal(e.clocks[SLA_CLOCK_RESTORE].consumed_permille, 208);
	/* Projected "had it run on" for history. */
	assert_int_equal(e.clocks[SLA_CLOCK_RESTORE].due_at, T0 + 24 * H);
	assert_int_equal(e.next_due, SLA_TIME_NEVER);

	/* Restored (say, by the monitor) before anyone acknowledged: the
	 * response clock stops without its goal; a dispatched visit too. */
	struct sla_event auto_r[] = {EVL(REPORTED, 0, 2), EV(DISPATCHED, 10 * M),
	                             EV(RESTORED, 1 * H)};
	e = eval_ok(&p, SLA_TYPE_FAULT, auto_r, N(auto_r), T0 + 6 * H);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].state, SLA_CS_STOPPED);
	assert_int_equal(e.clocks[SLA_CLOCK_ONSITE].state, SLA_CS_STOPPED);
	assert_int_equal(e.clocks[SLA_CLOCK_RESTORE].state, SLA_CS_MET);
	/* ... and after its due instant: breached. */
	struct sla_event late[] = {EVL(REPORTED, 0, 2), EV(RESTORED, 3 * H)};
	e = eval_ok(&p, SLA_TYPE_FAULT, late, N(late), T0 + 6 * H);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].state, SLA_CS_BREACHED);
}

/* S6: complaints start their ladder at the regional manager. */
static void complaint_ladder_starts_at_regional_manager(void **state)
{
	(void)state;
	struct sla_policy p = default_policy();
	struct sla_event ev[] = {EVL(REPORTED, 0, 0)};
	struct sla_deadline_eval e = eval_ok(&p, SLA_TYPE_COMPLAINT, ev, N(ev), T0);
	assert_int_equal(e.level, SLA_LEVEL_NONE);
	const struct sla_clock_eval *r = &e.clocks[SLA_CLOCK_RESPONSE];
	assert_int_equal(r->window, 2 * H);
	assert_int_equal(r->n_steps, 5);
	assert_step(&r->steps[0], 0, SLA_STEP_WARNING, SLA_TIER_REGIONAL_MANAGER, T0 + 1 * H);
	assert_step(&r->steps[3], 3, SLA_STEP_BREACH, SLA_TIER_REGIONAL_MANAGER, T0 + 2 * H);
	assert_step(&r->steps[4], 4, SLA_STEP_ESCALATION, SLA_TIER_DIRECTOR, T0 + 10 * H);
	assert_int_equal(e.clocks[SLA_CLOCK_ONSITE].state, SLA_CS_INACTIVE);
	assert_int_equal(e.clocks[SLA_CLOCK_ONSITE].cycle, 0);
	assert_int_equal(e.clocks[SLA_CLOCK_ONSITE].window, 0);
	assert_int_equal(e.clocks[SLA_CLOCK_RESTORE].due_at, T0 + 3 * D);

	/* A classified complaint reads its level's row and ladder. */
	struct sla_event l1[] = {EVL(REPORTED, 0, 1)};
	e = eval_ok(&p, SLA_TYPE_COMPLAINT, l1, N(l1), T0);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].steps[4].due_at, T0 + 2 * H + 4 * H);

	/* Inspections run only the done clock. */
	e = eval_ok(&p, SLA_TYPE_INSPECTION, ev, N(ev), T0);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].state, SLA_CS_INACTIVE);
	assert_int_equal(e.clocks[SLA_CLOCK_RESTORE].state, SLA_CS_RUNNING);
	assert_int_equal(e.clocks[SLA_CLOCK_RESTORE].due_at, T0 + 14 * D);
	struct sla_step s;
	assert_false(sla_deadline_next_step(&e, SLA_CLOCK_RESPONSE, -1, &s));
	assert_false(sla_deadline_step_at(&e, SLA_CLOCK_RESPONSE, 0, &s));
}

/* Issue 5: warnings, breach, then the ladder climbs at its delays until
 * ACKNOWLEDGED stops the response clock.  Drive it like the scheduler. */
static void ladder_climbs_until_acknowledged(void **state)
{
	(void)state;
	struct sla_policy p = default_policy();
	struct sla_event ev[] = {EVL(REPORTED, 0, 2), EV(ACKNOWLEDGED, 5 * H)};
	static const struct {
		int index;
		enum sla_step_kind kind;
		enum sla_tier tier;
		sla_time due;
	} want[] = {
	    {0, SLA_STEP_WARNING, SLA_TIER_ENGINEER, T0 + 1 * H},
	    {1, SLA_STEP_WARNING, SLA_TIER_ENGINEER, T0 + 90 * M},
	    {2, SLA_STEP_WARNING, SLA_TIER_ENGINEER, T0 + 108 * M},
	    {3, SLA_STEP_BREACH, SLA_TIER_ENGINEER, T0 + 2 * H},
	    {4, SLA_STEP_ESCALATION, SLA_TIER_TEAM_LEAD, T0 + 150 * M},
	    {5, SLA_STEP_ESCALATION, SLA_TIER_REGIONAL_MANAGER, T0 + 4 * H},
	};
	size_t fired = 0;
	int last = -1;
	sla_time now = T0;
	for (;;) {
		/* Only the events that happened by now are known. */
		size_t n = now >= ev[1].at ? 2 : 1;
		struct sla_deadline_eval e = eval_ok(&p, SLA_TYPE_FAULT, ev, n, now);
		struct sla_step s;
		if (!sla_deadline_next_step(&e, SLA_CLOCK_RESPONSE, last, &s))
			break;
		if (s.due_at > ev[1].at && n == 1) {
			now = ev[1].at; /* the acknowledgement comes first */
			continue;
		}
		assert_true(fired < N(want));
		assert_step(&s, want[fired].index, want[fired].kind, want[fired].tier,
		            want[fired].due);
		now = s.due_at;
		last = s.index;
		fired++;
	}
	assert_int_equal(fired, N(want));
	struct sla_deadline_eval e = eval_ok(&p, SLA_TYPE_FAULT, ev, N(ev), T0 + 9 * H);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].state, SLA_CS_BREACHED);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].stopped_at, T0 + 5 * H);
	/* The director step (+8 h after the breach) never came due. */
	struct sla_step s;
	assert_true(sla_deadline_step_at(&e, SLA_CLOCK_RESPONSE, 6, &s));
	assert_step(&s, 6, SLA_STEP_ESCALATION, SLA_TIER_DIRECTOR, T0 + 10 * H);
	assert_false(sla_deadline_next_step(&e, SLA_CLOCK_RESPONSE, 5, &s));
	assert_false(sla_deadline_step_at(&e, SLA_CLOCK_RESPONSE, 7, &s));
	assert_false(sla_deadline_step_at(&e, SLA_CLOCK_RESPONSE, -1, &s));
	assert_false(sla_deadline_step_at(&e, SLA_CLOCK_COUNT, 0, &s));
}

static void close_and_cancel_stop_everything(void **state)
{
	(void)state;
	struct sla_policy p = default_policy();
	struct sla_event ev[] = {EVL(REPORTED, 0, 1), EV(DISPATCHED, 10 * M), EV(PAUSED, 20 * M),
	                         EV(CLOSED, 1 * H)};
	struct sla_deadline_eval e = eval_ok(&p, SLA_TYPE_FAULT, ev, N(ev), T0 + 10 * H);
	assert_true(e.closed);
	assert_false(e.paused);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].state, SLA_CS_STOPPED);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].running, 20 * M);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].paused, 40 * M);
	assert_int_equal(e.clocks[SLA_CLOCK_ONSITE].state, SLA_CS_STOPPED);
	assert_int_equal(e.clocks[SLA_CLOCK_RESTORE].state, SLA_CS_STOPPED);
	assert_int_equal(e.clocks[SLA_CLOCK_RESTORE].stopped_at, T0 + 1 * H);
	assert_int_equal(e.next_due, SLA_TIME_NEVER);

	struct sla_event cn[] = {EVL(REPORTED, 0, 1), EV(CANCELLED, 2 * H), EV(NOTE, 3 * H),
	                         EV(ASSIGNED, 3 * H)};
	e = eval_ok(&p, SLA_TYPE_FAULT, cn, N(cn), T0 + 10 * H);
	assert_true(e.closed);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].state, SLA_CS_BREACHED);
	assert_int_equal(e.clocks[SLA_CLOCK_RESTORE].state, SLA_CS_STOPPED);
}

/* A wall clock stepped back: now before the last event counts as the
 * last event's instant. */
static void now_before_last_event_is_clamped(void **state)
{
	(void)state;
	struct sla_policy p = default_policy();
	struct sla_event ev[] = {EVL(REPORTED, 0, 1), EV(ACKNOWLEDGED, 10 * M)};
	struct sla_deadline_eval e = eval_ok(&p, SLA_TYPE_FAULT, ev, N(ev), T0 - H);
	assert_int_equal(e.now, T0 + 10 * M);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].state, SLA_CS_MET);
	assert_int_equal(e.clocks[SLA_CLOCK_RESTORE].running, 10 * M);
}

static void earliest_and_first_step_after(void **state)
{
	(void)state;
	struct sla_policy p = default_policy();
	struct sla_event ev[] = {EVL(REPORTED, 0, 1), EV(DISPATCHED, 0)};
	struct sla_deadline_eval e = eval_ok(&p, SLA_TYPE_FAULT, ev, N(ev), T0 + 20 * M);
	/* Time-based: response 22.5 min warning. */
	assert_int_equal(sla_deadline_earliest(&e, NULL), T0 + 22 * M + 30);
	/* Index-based: the scheduler has fired response 0..5, onsite nothing,
	 * restore 0. */
	int after[SLA_CLOCK_COUNT] = {5, -1, 0};
	assert_int_equal(sla_deadline_earliest(&e, after), T0 + 2 * H);
	int done[SLA_CLOCK_COUNT] = {6, 6, 6};
	assert_int_equal(sla_deadline_earliest(&e, done), SLA_TIME_NEVER);
	assert_int_equal(sla_deadline_earliest(NULL, done), SLA_TIME_NEVER);

	struct sla_step s;
	assert_true(sla_deadline_first_step_after(&e, SLA_CLOCK_RESTORE, T0 + 4 * H, &s));
	assert_step(&s, 1, SLA_STEP_WARNING, SLA_TIER_ENGINEER, T0 + 6 * H);
	assert_false(sla_deadline_first_step_after(&e, SLA_CLOCK_RESTORE, T0 + 100 * H, &s));
	assert_false(sla_deadline_first_step_after(NULL, SLA_CLOCK_RESTORE, 0, &s));
	assert_false(sla_deadline_next_step(&e, (enum sla_clock) - 1, -1, &s));
}

/* ---- refusals --------------------------------------------------------- */

static void refusals_are_named(void **state)
{
	(void)state;
	struct sla_policy p = default_policy();
	const struct {
		struct sla_event ev[4];
		size_t n;
		enum sla_ticket_type type;
		enum sla_deadline_err want;
		size_t at;
	} cases[] = {
	    {{EV(ACKNOWLEDGED, 0)}, 1, SLA_TYPE_FAULT, SLA_DL_ERR_FIRST, 0},
	    {{EVL(REPORTED, 0, 0)}, 1, SLA_TYPE_FAULT, SLA_DL_ERR_LEVEL, 0},
	    {{EVL(REPORTED, 0, 5)}, 1, SLA_TYPE_CONSULTING, SLA_DL_ERR_LEVEL, 0},
	    {{EVL(REPORTED, 0, 1), EVL(RECLASSIFIED, 1, 0)},
	     2,
	     SLA_TYPE_FAULT,
	     SLA_DL_ERR_LEVEL,
	     1},
	    {{EVL(REPORTED, 0, 1), EVL(REPORTED, 1, 1)},
	     2,
	     SLA_TYPE_FAULT,
	     SLA_DL_ERR_REPORTED_TWICE,
	     1},
	    {{EVL(REPORTED, 10, 1), EV(ACKNOWLEDGED, 9)}, 2, SLA_TYPE_FAULT, SLA_DL_ERR_ORDER, 1},
	    {{EVL(REPORTED, 0, 1), {SLA_EV_NOTE, -1, SLA_LEVEL_NONE}},
	     2,
	     SLA_TYPE_FAULT,
	     SLA_DL_ERR_TIME_RANGE,
	     1},
	    {{{SLA_EV_REPORTED, SLA_DEADLINE_TIME_MAX + 1, SLA_LEVEL_1}},
	     1,
	     SLA_TYPE_FAULT,
	     SLA_DL_ERR_TIME_RANGE,
	     0},
	    {{EVL(REPORTED, 0, 1), {SLA_EV_COUNT, T0, SLA_LEVEL_NONE}},
	     2,
	     SLA_TYPE_FAULT,
	     SLA_DL_ERR_KIND,
	     1},
	    {{EVL(REPORTED, 0, 1), {(enum sla_event_kind) - 3, T0, SLA_LEVEL_NONE}},
	     2,
	     SLA_TYPE_FAULT,
	     SLA_DL_ERR_KIND,
	     1},
	    {{EVL(REPORTED, 0, 1), EV(CANCELLED, 1), EV(REOPENED, 2)},
	     3,
	     SLA_TYPE_FAULT,
	     SLA_DL_ERR_CANCELLED,
	     2},
	    {{EVL(REPORTED, 0, 1), EV(CLOSED, 1), EV(ACKNOWLEDGED, 2)},
	     3,
	     SLA_TYPE_FAULT,
	     SLA_DL_ERR_CLOSED,
	     2},
	    {{EVL(REPORTED, 0, 1), EV(CLOSED, 1), EV(CANCELLED, 2)},
	     3,
	     SLA_TYPE_FAULT,
	     SLA_DL_ERR_CLOSED,
	     2},
	    {{EVL(REPORTED, 0, 1), EV(ACKNOWLEDGED, 1), EV(REOPENED, 2)},
	     3,
	     SLA_TYPE_FAULT,
	     SLA_DL_ERR_NOT_FINISHED,
	     2},
	    {{EVL(REPORTED, 0, 1), EV(RESTORED, 1), EV(ACKNOWLEDGED, 2)},
	     3,
	     SLA_TYPE_FAULT,
	     SLA_DL_ERR_RESTORED,
	     2},
	    {{EVL(REPORTED, 0, 1), EV(RESTORED, 1), EV(REMOTE_STARTED, 2)},
	     3,
	     SLA_TYPE_FAULT,
	     SLA_DL_ERR_RESTORED,
	     2},
	    {{EVL(REPORTED, 0, 1), EV(RESTORED, 1), EV(DISPATCHED, 2)},
	     3,
	     SLA_TYPE_FAULT,
	     SLA_DL_ERR_RESTORED,
	     2},
	    {{EVL(REPORTED, 0, 1), EV(DISPATCHED, 1), EV(RESTORED, 2), EV(ARRIVED, 3)},
	     4,
	     SLA_TYPE_FAULT,
	     SLA_DL_ERR_RESTORED,
	     3},
	    {{EVL(REPORTED, 0, 1), EV(RESTORED, 1), EV(RESTORED, 2)},
	     3,
	     SLA_TYPE_FAULT,
	     SLA_DL_ERR_RESTORED,
	     2},
	    {{EVL(REPORTED, 0, 1), EV(ACKNOWLEDGED, 1), EV(ACKNOWLEDGED, 2)},
	     3,
	     SLA_TYPE_FAULT,
	     SLA_DL_ERR_REPEATED,
	     2},
	    {{EVL(REPORTED, 0, 1), EV(DISPATCHED, 1), EV(DISPATCHED, 2)},
	     3,
	     SLA_TYPE_FAULT,
	     SLA_DL_ERR_REPEATED,
	     2},
	    {{EVL(REPORTED, 0, 1), EV(DISPATCHED, 1), EV(ARRIVED, 2), EV(ARRIVED, 3)},
	     4,
	     SLA_TYPE_FAULT,
	     SLA_DL_ERR_REPEATED,
	     3},
	    {{EVL(REPORTED, 0, 1), EV(ARRIVED, 1)},
	     2,
	     SLA_TYPE_FAULT,
	     SLA_DL_ERR_NOT_DISPATCHED,
	     1},
	    {{EVL(REPORTED, 0, 1), EV(RESUMED, 1)}, 2, SLA_TYPE_FAULT, SLA_DL_ERR_NOT_PAUSED, 1},
	    {{EVL(REPORTED, 0, 1), EV(PAUSED, 1), EV(RESUMED, 2), EV(RESUMED, 3)},
	     4,
	     SLA_TYPE_FAULT,
	     SLA_DL_ERR_NOT_PAUSED,
	     3},
	};
	for (size_t i = 0; i < N(cases); i++) {
		struct sla_deadline_eval e;
		enum sla_deadline_err err =
		    sla_deadline_evaluate(&p, cases[i].type, cases[i].ev, cases[i].n, T0 + D, &e);
		if (err != cases[i].want)
			fail_msg("case %zu: got %s, want %s (%s)", i, sla_deadline_err_name(err),
			         sla_deadline_err_name(cases[i].want), e.err_text);
		assert_int_equal(e.err_event, cases[i].at);
		assert_int_equal(e.next_due, SLA_TIME_NEVER);
		assert_true(strlen(e.err_text) > 0);
	}
}

static void refusals_of_arguments(void **state)
{
	(void)state;
	struct sla_policy p = default_policy();
	struct sla_event ev[] = {EVL(REPORTED, 0, 1)};
	struct sla_deadline_eval e;
	assert_int_equal(sla_deadline_evaluate(&p, SLA_TYPE_FAULT, ev, 1, T0, NULL),
	                 SLA_DL_ERR_ARG);
	assert_int_equal(sla_deadline_evaluate(NULL, SLA_TYPE_FAULT, ev, 1, T0, &e),
	                 SLA_DL_ERR_ARG);
	assert_int_equal(sla_deadline_evaluate(&p, SLA_TYPE_FAULT, NULL, 1, T0, &e),
	                 SLA_DL_ERR_ARG);
	assert_int_equal(sla_deadline_evaluate(&p, SLA_TYPE_FAULT, ev, 0, T0, &e), SLA_DL_ERR_ARG);
	assert_int_equal(sla_deadline_evaluate(&p, SLA_TYPE_COUNT, ev, 1, T0, &e), SLA_DL_ERR_ARG);
	assert_string_equal(e.err_text, "ticket type 6 is not a type");
	assert_int_equal(sla_deadline_evaluate(&p, SLA_TYPE_FAULT, ev, 1, -1, &e),
	                 SLA_DL_ERR_TIME_RANGE);
	assert_int_equal(
	    sla_deadline_evaluate(&p, SLA_TYPE_FAULT, ev, 1, SLA_DEADLINE_TIME_MAX + 1, &e),
	    SLA_DL_ERR_TIME_RANGE);

	/* An invalid policy is refused with validation's words. */
	p.types[SLA_TYPE_FAULT].window[1][SLA_CLOCK_RESTORE] = 30 * H;
	assert_int_equal(sla_deadline_evaluate(&p, SLA_TYPE_FAULT, ev, 1, T0, &e),
	                 SLA_DL_ERR_POLICY);
	assert_string_equal(e.err_text,
	                    "policy: fault.restore.level2: 30h exceeds the 24h commitment (S4)");

	/* At the far end of time nothing overflows. */
	p = default_policy();
	struct sla_event far[] = {{SLA_EV_REPORTED, SLA_DEADLINE_TIME_MAX, SLA_LEVEL_4}};
	e = eval_ok(&p, SLA_TYPE_TRAINING, far, 1, SLA_DEADLINE_TIME_MAX);
	assert_int_equal(e.clocks[SLA_CLOCK_RESTORE].due_at, SLA_DEADLINE_TIME_MAX + 30 * D);
}

static void names(void **state)
{
	(void)state;
	assert_string_equal(sla_clock_state_name(SLA_CS_OVERDUE), "overdue");
	assert_string_equal(sla_clock_state_name(SLA_CS_NOT_NEEDED), "not_needed");
	assert_string_equal(sla_clock_state_name(SLA_CS_COUNT), "invalid");
	assert_string_equal(sla_clock_state_name((enum sla_clock_state) - 1), "invalid");
	assert_string_equal(sla_step_kind_name(SLA_STEP_ESCALATION), "escalation");
	assert_string_equal(sla_step_kind_name(SLA_STEP_KIND_COUNT), "invalid");
	assert_string_equal(sla_step_kind_name((enum sla_step_kind) - 1), "invalid");
	assert_string_equal(sla_deadline_err_name(SLA_DL_OK), "ok");
	assert_string_equal(sla_deadline_err_name(SLA_DL_ERR_NOT_PAUSED), "not_paused");
	assert_string_equal(sla_deadline_err_name(SLA_DL_ERR_COUNT), "invalid");
	assert_string_equal(sla_deadline_err_name((enum sla_deadline_err) - 1), "invalid");
	/* Every value has a distinct name. */
	for (int i = 0; i < SLA_DL_ERR_COUNT; i++)
		for (int j = 0; j < i; j++)
			assert_string_not_equal(sla_deadline_err_name((enum sla_deadline_err)i),
			                        sla_deadline_err_name((enum sla_deadline_err)j));
	for (int i = 0; i < SLA_CS_COUNT; i++)
		for (int j = 0; j < i; j++)
			assert_string_not_equal(sla_clock_state_name((enum sla_clock_state)i),
			                        sla_clock_state_name((enum sla_clock_state)j));
}

/* ---- properties over random histories ---------------------------------- */

#define PROP_CASES 10000
#define MAX_EVENTS 40

/* xorshift64*: deterministic across platforms. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return rng_next(s) % n;
}

struct history {
	enum sla_ticket_type type;
	int policy; /* index into the test policies */
	size_t n;
	struct sla_event ev[MAX_EVENTS];
	/* After ev[i]: the cycle is open and not paused, so a pause fits. */
	bool can_pause[MAX_EVENTS];
	sla_time now;
};

/* A random history that the engine's rules accept (deadline.h). */
static void gen_history(uint64_t *rng, struct history *h)
{
	memset(h, 0, sizeof(*h));
	h->type = (enum sla_ticket_type)rng_below(rng, SLA_TYPE_COUNT);
	h->policy = (int)rng_below(rng, 3);
	bool closed = false, cancelled = false, restored = false, acked = false;
	bool dispatched = false, arrived = false, paused = false;
	enum sla_level level = (enum sla_level)(1 + rng_below(rng, 4));
	if (h->type != SLA_TYPE_FAULT && rng_below(rng, 2))
		level = SLA_LEVEL_NONE;
	sla_time t = T0 + (sla_time)rng_below(rng, 1000);
	h->ev[h->n++] = (struct sla_event){SLA_EV_REPORTED, t, level};
	size_t want = 1 + rng_below(rng, MAX_EVENTS - 1);
	while (h->n < want && !cancelled) {
		switch (rng_below(rng, 4)) {
		case 0:
			break; /* same second */
		case 1:
			t += (sla_time)rng_below(rng, 120);
			break;
		default:
			t += (sla_time)rng_below(rng, 6 * H);
			break;
		}
		enum sla_event_kind k = (enum sla_event_kind)rng_below(rng, SLA_EV_COUNT);
		bool ok;
		switch (k) {
		case SLA_EV_ACKNOWLEDGED:
			ok = !closed && !restored && !acked;
			break;
		case SLA_EV_REMOTE_STARTED:
			ok = !closed && !restored;
			break;
		case SLA_EV_DISPATCHED:
			ok = !closed && !restored && !dispatched;
			break;
		case SLA_EV_ARRIVED:
			ok = !closed && !restored && dispatched && !arrived;
			break;
		case SLA_EV_RESTORED:
			ok = !closed && !restored;
			break;
		case SLA_EV_CLOSED:
			ok = !closed;
			break;
		case SLA_EV_CANCELLED:
			ok = !closed && rng_below(rng, 4) == 0;
			break;
		case SLA_EV_REOPENED:
			ok = closed || restored;
			break;
		case SLA_EV_PAUSED:
			ok = !closed && !paused;
			break;
		case SLA_EV_RESUMED:
			ok = !closed && paused;
			break;
		case SLA_EV_RECLASSIFIED:
			ok = !closed;
			break;
		case SLA_EV_NOTE:
		case SLA_EV_ASSIGNED:
			ok = true;
			break;
		default:
			ok = false;
			break;
		}
		if (!ok)
			continue;
		struct sla_event e = {k, t, SLA_LEVEL_NONE};
		switch (k) {
		case SLA_EV_ACKNOWLEDGED:
			acked = true;
			break;
		case SLA_EV_DISPATCHED:
			dispatched = true;
			break;
		case SLA_EV_ARRIVED:
			arrived = true;
			break;
		case SLA_EV_RESTORED:
			restored = true;
			break;
		case SLA_EV_CLOSED:
			closed = true;
			paused = false;
			break;
		case SLA_EV_CANCELLED:
			closed = cancelled = true;
			paused = false;
			break;
		case SLA_EV_REOPENED:
			closed = restored = acked = dispatched = arrived = paused = false;
			break;
		case SLA_EV_PAUSED:
			paused = true;
			break;
		case SLA_EV_RESUMED:
			paused = false;
			break;
		case SLA_EV_RECLASSIFIED:
			e.level = (enum sla_level)(1 + rng_below(rng, 4));
			break;
		default:
			break;
		}
		h->can_pause[h->n] = !closed && !paused;
		h->ev[h->n++] = e;
	}
	h->can_pause[0] = true;
	h->now = t + (sla_time)rng_below(rng, 2 * D);
}

static void test_policies(struct sla_policy p[3])
{
	sla_policy_default(&p[0]);
	sla_policy_default(&p[1]);
	p[1].onsite_from_dispatch = true;
	/* Odd windows, no warnings, one-step ladders. */
	struct sla_policy_override ov;
	sla_policy_override_init(&ov);
	static const sla_duration w[4][3] = {
	    {1001, 7 * 3600 + 7, 7 * 3600 + 13},
	    {1001, 8 * 3600, 9 * 3600},
	    {7777, 9 * 3600, 23 * 3600 + 59},
	    {7777, 86400, 86400},
	};
	for (int l = 0; l < 4; l++) {
		for (int c = 0; c < 3; c++)
			ov.window[SLA_TYPE_FAULT][l][c] = w[l][c];
		ov.has_ladder[l] = true;
		ov.ladder[l].n_steps = 1;
		ov.ladder[l].steps[0] = (struct sla_ladder_step){SLA_TIER_DIRECTOR, 0};
	}
	ov.has_warnings = true;
	ov.n_warnings = 0;
	char err[160];
	assert_int_equal(sla_policy_apply_override(&p[0], &ov, &p[2], err, sizeof(err)), 0);
}

/* Field-wise equality (padding bytes are not part of the result). */
static void assert_step_equal(const struct sla_step *a, const struct sla_step *b)
{
	assert_int_equal(a->index, b->index);
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->tier, b->tier);
	assert_int_equal(a->permille, b->permille);
	assert_int_equal(a->after_breach, b->after_breach);
	assert_int_equal(a->threshold, b->threshold);
	assert_int_equal(a->due_at, b->due_at);
	assert_int_equal(a->moot, b->moot);
}

static void assert_eval_equal(const struct sla_deadline_eval *a, const struct sla_deadline_eval *b)
{
	assert_int_equal(a->err, b->err);
	assert_int_equal(a->err_event, b->err_event);
	assert_string_equal(a->err_text, b->err_text);
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->now, b->now);
	assert_int_equal(a->level, b->level);
	assert_int_equal(a->cycle, b->cycle);
	assert_int_equal(a->cycle_start, b->cycle_start);
	assert_int_equal(a->paused, b->paused);
	assert_int_equal(a->closed, b->closed);
	assert_int_equal(a->next_due, b->next_due);
	for (int c = 0; c < SLA_CLOCK_COUNT; c++) {
		const struct sla_clock_eval *x = &a->clocks[c], *y = &b->clocks[c];
		assert_int_equal(x->state, y->state);
		assert_int_equal(x->breached, y->breached);
		assert_int_equal(x->cycle, y->cycle);
		assert_int_equal(x->window, y->window);
		assert_int_equal(x->start_at, y->start_at);
		assert_int_equal(x->armed_at, y->armed_at);
		assert_int_equal(x->due_at, y->due_at);
		assert_int_equal(x->stopped_at, y->stopped_at);
		assert_int_equal(x->running, y->running);
		assert_int_equal(x->paused, y->paused);
		assert_int_equal(x->consumed_permille, y->consumed_permille);
		assert_int_equal(x->n_steps, y->n_steps);
		for (size_t i = 0; i < x->n_steps; i++)
			assert_step_equal(&x->steps[i], &y->steps[i]);
		assert_step_equal(&x->next, &y->next);
	}
}

/* Invariants every evaluation satisfies. */
static void check_invariants(const struct sla_policy *p, const struct sla_deadline_eval *e)
{
	sla_time next_due = SLA_TIME_NEVER;
	for (int c = 0; c < SLA_CLOCK_COUNT; c++) {
		const struct sla_clock_eval *k = &e->clocks[c];
		if (k->state == SLA_CS_INACTIVE || k->state == SLA_CS_NOT_NEEDED) {
			assert_int_equal(k->n_steps, 0);
			assert_int_equal(k->due_at, SLA_TIME_NEVER);
			assert_int_equal(k->next.due_at, SLA_TIME_NEVER);
			continue;
		}
		struct sla_ladder ld;
		sla_policy_effective_ladder(p, e->type, e->level, &ld);
		assert_int_equal(k->n_steps, p->n_warnings + 1 + ld.n_steps);
		/* Due instants of a clock are never before its start. */
		assert_true(k->due_at >= k->start_at);
		assert_true(k->armed_at >= k->start_at);
		/* Steps: stable indexes, non-decreasing due instants. */
		for (size_t i = 0; i < k->n_steps; i++) {
			assert_int_equal(k->steps[i].index, (int)i);
			assert_true(k->steps[i].due_at > k->start_at);
			if (i > 0)
				assert_true(k->steps[i].due_at >= k->steps[i - 1].due_at);
			if (k->steps[i].moot)
				assert_int_equal(k->steps[i].kind, SLA_STEP_WARNING);
		}
		assert_int_equal(k->steps[p->n_warnings].kind, SLA_STEP_BREACH);
		assert_int_equal(k->steps[p->n_warnings].due_at, k->due_at);
		/* Running plus paused covers the clock's span exactly. */
		sla_time limit = k->stopped_at != SLA_TIME_NEVER ? k->stopped_at : e->now;
		assert_int_equal(k->running + k->paused, limit - k->start_at);
		assert_int_equal(k->breached, k->consumed_permille >= 1000);
		assert_int_equal(k->consumed_permille, k->running * 1000 / k->window);
		switch (k->state) {
		case SLA_CS_RUNNING:
			assert_true(e->now < k->due_at);
			break;
		case SLA_CS_OVERDUE:
			assert_true(e->now >= k->due_at);
			break;
		case SLA_CS_MET:
		case SLA_CS_STOPPED:
			assert_true(k->stopped_at < k->due_at);
			break;
		case SLA_CS_BREACHED:
			assert_true(k->stopped_at >= k->due_at);
			break;
		default:
			assert_int_equal(k->state, SLA_CS_PAUSED);
			assert_true(e->paused);
			break;
		}
		if (k->state == SLA_CS_RUNNING || k->state == SLA_CS_OVERDUE) {
			assert_true(k->running == limit - k->start_at - k->paused);
			if (k->next.index >= 0) {
				assert_true(k->next.due_at > e->now);
				assert_false(k->next.moot);
			}
			struct sla_step s;
			if (sla_deadline_next_step(e, (enum sla_clock)c, -1, &s) &&
			    k->next.index >= 0)
				assert_true(s.index <= k->next.index);
		} else {
			assert_int_equal(k->next.index, -1);
		}
		if (k->next.due_at < next_due)
			next_due = k->next.due_at;
	}
	assert_int_equal(e->next_due, next_due);
}

static void property_deterministic_and_order_free(void **state)
{
	(void)state;
	struct sla_policy pol[3];
	test_policies(pol);
	uint64_t rng = 0x5eed0001ULL;
	for (int i = 0; i < PROP_CASES; i++) {
		struct history h;
		gen_history(&rng, &h);
		const struct sla_policy *p = &pol[h.policy];
		sla_time now1 = h.now, now2 = h.now + (sla_time)rng_below(&rng, 3 * D);

		struct sla_deadline_eval a, b, c, d;
		memset(&a, 0x00, sizeof(a));
		memset(&b, 0xff, sizeof(b)); /* old contents must not matter */
		assert_int_equal(sla_deadline_evaluate(p, h.type, h.ev, h.n, now1, &a), SLA_DL_OK);
		check_invariants(p, &a);
		assert_int_equal(sla_deadline_evaluate(p, h.type, h.ev, h.n, now2, &c), SLA_DL_OK);
		check_invariants(p, &c);
		assert_int_equal(sla_deadline_evaluate(p, h.type, h.ev, h.n, now1, &b), SLA_DL_OK);
		assert_eval_equal(&a, &b);
		/* now2 evaluated after now1 and after now2 agree too. */
		memcpy(&d, &a, sizeof(d));
		assert_int_equal(sla_deadline_evaluate(p, h.type, h.ev, h.n, now2, &d), SLA_DL_OK);
		assert_eval_equal(&c, &d);
		/* No event between now1 and now2: a clock running at now1
		 * still runs at now2 with the same due instants. */
		for (int k = 0; k < SLA_CLOCK_COUNT; k++) {
			const struct sla_clock_eval *x = &b.clocks[k], *y = &c.clocks[k];
			if (x->state != SLA_CS_RUNNING && x->state != SLA_CS_OVERDUE)
				continue;
			assert_true(y->state == SLA_CS_RUNNING || y->state == SLA_CS_OVERDUE);
			for (size_t s = 0; s < x->n_steps; s++)
				assert_int_equal(x->steps[s].due_at, y->steps[s].due_at);
		}
		/* Every prefix is a valid history on its own. */
		size_t cut = 1 + (size_t)rng_below(&rng, h.n);
		assert_int_equal(sla_deadline_evaluate(p, h.type, h.ev, cut, h.ev[cut - 1].at, &a),
		                 SLA_DL_OK);
		check_invariants(p, &a);
	}
}

static void property_pause_never_earlier(void **state)
{
	(void)state;
	struct sla_policy pol[3];
	test_policies(pol);
	uint64_t rng = 0x5eed0002ULL;
	int inserted = 0;
	for (int i = 0; i < PROP_CASES; i++) {
		struct history h;
		gen_history(&rng, &h);
		const struct sla_policy *p = &pol[h.policy];
		/* Pick a gap after an event that leaves room for a pause. */
		size_t gap = (size_t)rng_below(&rng, h.n);
		if (!h.can_pause[gap])
			continue;
		sla_time lo = h.ev[gap].at;
		sla_time hi = gap + 1 < h.n ? h.ev[gap + 1].at : h.now;
		sla_time a = lo + (sla_time)rng_below(&rng, (uint64_t)(hi - lo) + 1);
		sla_time b = a + (sla_time)rng_below(&rng, (uint64_t)(hi - a) + 1);
		bool open = gap + 1 == h.n && rng_below(&rng, 3) == 0; /* leave it open */

		struct history g = h;
		size_t add = open ? 1 : 2;
		memmove(&g.ev[gap + 1 + add], &h.ev[gap + 1], (h.n - gap - 1) * sizeof(h.ev[0]));
		g.ev[gap + 1] = (struct sla_event){SLA_EV_PAUSED, a, SLA_LEVEL_NONE};
		if (!open)
			g.ev[gap + 2] = (struct sla_event){SLA_EV_RESUMED, b, SLA_LEVEL_NONE};
		g.n = h.n + add;

		struct sla_deadline_eval without, with;
		assert_int_equal(sla_deadline_evaluate(p, h.type, h.ev, h.n, h.now, &without),
		                 SLA_DL_OK);
		enum sla_deadline_err err =
		    sla_deadline_evaluate(p, g.type, g.ev, g.n, h.now, &with);
		if (err != SLA_DL_OK)
			fail_msg("case %d: %s", i, with.err_text);
		check_invariants(p, &with);
		inserted++;
		for (int c = 0; c < SLA_CLOCK_COUNT; c++) {
			const struct sla_clock_eval *x = &without.clocks[c], *y = &with.clocks[c];
			assert_int_equal(x->n_steps, y->n_steps);
			assert_true(y->due_at >= x->due_at);
			for (size_t s = 0; s < x->n_steps; s++)
				assert_true(y->steps[s].due_at >= x->steps[s].due_at);
		}
	}
	assert_true(inserted > PROP_CASES / 4);
}

/* Arbitrary garbage: a named refusal or a result, never a crash (the
 * sanitizer build makes "never" strict). */
static void property_garbage_never_crashes(void **state)
{
	(void)state;
	struct sla_policy p = default_policy();
	uint64_t rng = 0x5eed0003ULL;
	int refused = 0;
	for (int i = 0; i < PROP_CASES; i++) {
		struct sla_event ev[12];
		size_t n = 1 + (size_t)rng_below(&rng, 12);
		sla_time t = T0;
		for (size_t j = 0; j < n; j++) {
			t += (sla_time)rng_below(&rng, 4 * H) -
			     (rng_below(&rng, 20) == 0 ? 5 * H : 0);
			ev[j] = (struct sla_event){
			    (enum sla_event_kind)((int)rng_below(&rng, SLA_EV_COUNT + 2) - 1), t,
			    (enum sla_level)((int)rng_below(&rng, 7) - 1)};
		}
		if (rng_below(&rng, 2))
			ev[0].kind = SLA_EV_REPORTED;
		struct sla_deadline_eval e;
		enum sla_ticket_type type = (enum sla_ticket_type)rng_below(&rng, SLA_TYPE_COUNT);
		enum sla_deadline_err err = sla_deadline_evaluate(&p, type, ev, n, t, &e);
		assert_int_equal(err, e.err);
		if (err == SLA_DL_OK) {
			check_invariants(&p, &e);
		} else {
			refused++;
			assert_true(e.err_event < n);
			assert_int_equal(e.next_due, SLA_TIME_NEVER);
		}
	}
	assert_true(refused > 0 && refused < PROP_CASES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(level1_response_and_warnings),
	    cmocka_unit_test(warning_thresholds_round_up),
	    cmocka_unit_test(level4_24h_boundary),
	    cmocka_unit_test(reclassify_3_to_1_halfway),
	    cmocka_unit_test(pause_resume_shifts_everything),
	    cmocka_unit_test(pause_while_paused_is_refused),
	    cmocka_unit_test(reopen_starts_cycle_2),
	    cmocka_unit_test(onsite_from_report_or_dispatch),
	    cmocka_unit_test(restore_without_dispatch),
	    cmocka_unit_test(complaint_ladder_starts_at_regional_manager),
	    cmocka_unit_test(ladder_climbs_until_acknowledged),
	    cmocka_unit_test(close_and_cancel_stop_everything),
	    cmocka_unit_test(now_before_last_event_is_clamped),
	    cmocka_unit_test(earliest_and_first_step_after),
	    cmocka_unit_test(refusals_are_named),
	    cmocka_unit_test(refusals_of_arguments),
	    cmocka_unit_test(names),
	    cmocka_unit_test(property_deterministic_and_order_free),
	    cmocka_unit_test(property_pause_never_earlier),
	    cmocka_unit_test(property_garbage_never_crashes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
