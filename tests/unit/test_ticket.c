/*
 * test_ticket.c - S5, S15: every cell of the transition table (state x event,
 * paused and not), checked against an independent list of the allowed moves;
 * every refusal is a named error and leaves the projection as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ticket.h"

#define S(x) SLA_STATE_##x
#define E(x) SLA_EV_##x

/* The spec, written as a list: the only moves a ticket that is not paused
 * may make.  Everything else is refused. */
struct move {
	enum sla_ticket_state from;
	enum sla_event_kind ev;
	enum sla_ticket_state to;
};

static const struct move allowed[] = {
    /* S15 lifecycle; S5 remote first, then on site */
    {S(REPORTED), E(ACKNOWLEDGED), S(ACKNOWLEDGED)},
    {S(ACKNOWLEDGED), E(REMOTE_STARTED), S(REMOTE_SUPPORT)},
    {S(ACKNOWLEDGED), E(DISPATCHED), S(ONSITE_DISPATCHED)},
    {S(REMOTE_SUPPORT), E(DISPATCHED), S(ONSITE_DISPATCHED)},
    {S(ONSITE_DISPATCHED), E(ARRIVED), S(ONSITE)},
    /* restoration is a fact, accepted from every open state */
    {S(REPORTED), E(RESTORED), S(RESTORED)},
    {S(ACKNOWLEDGED), E(RESTORED), S(RESTORED)},
    {S(REMOTE_SUPPORT), E(RESTORED), S(RESTORED)},
    {S(ONSITE_DISPATCHED), E(RESTORED), S(RESTORED)},
    {S(ONSITE), E(RESTORED), S(RESTORED)},
    /* closing does not wait for feedback */
    {S(RESTORED), E(CLOSED), S(CLOSED)},
    /* reopening starts again at reported */
    {S(RESTORED), E(REOPENED), S(REPORTED)},
    {S(CLOSED), E(REOPENED), S(REPORTED)},
    /* cancel from open states */
    {S(REPORTED), E(CANCELLED), S(CANCELLED)},
    {S(ACKNOWLEDGED), E(CANCELLED), S(CANCELLED)},
    {S(REMOTE_SUPPORT), E(CANCELLED), S(CANCELLED)},
    {S(ONSITE_DISPATCHED), E(CANCELLED), S(CANCELLED)},
    {S(ONSITE), E(CANCELLED), S(CANCELLED)},
    /* assignment also while restored; notes everywhere */
    {S(RESTORED), E(ASSIGNED), S(RESTORED)},
    {S(RESTORED), E(NOTE), S(RESTORED)},
    {S(CLOSED), E(NOTE), S(CLOSED)},
    {S(CANCELLED), E(NOTE), S(CANCELLED)},
};

/* In open states these events keep the state. */
static const enum sla_event_kind open_stay[] = {E(PAUSED), E(RESUMED), E(RECLASSIFIED), E(ASSIGNED),
                                                E(NOTE)};

static bool is_open(enum sla_ticket_state s)
{
	return s == S(REPORTED) || s == S(ACKNOWLEDGED) || s == S(REMOTE_SUPPORT) ||
	       s == S(ONSITE_DISPATCHED) || s == S(ONSITE);
}

/* What the spec says for (state, event, paused). */
static enum sla_ticket_err expect(enum sla_ticket_state s, enum sla_event_kind e, bool paused,
                                  enum sla_ticket_state *to)
{
	*to = s;
	if (s == S(CANCELLED) && e != E(NOTE))
		return SLA_TICKET_ERR_TERMINAL;
	if (e == E(REPORTED))
		return SLA_TICKET_ERR_ALREADY_REPORTED;
	bool ok = false;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (allowed[i].from == s && allowed[i].ev == e) {
			ok = true;
			*to = allowed[i].to;
		}
	if (is_open(s))
		for (size_t i = 0; i < sizeof(open_stay) / sizeof(open_stay[0]); i++)
			if (open_stay[i] == e)
				ok = true;
	if (!ok) {
		*to = s;
		return SLA_TICKET_ERR_INVALID_TRANSITION;
	}
	if (!paused && e == E(RESUMED))
		return SLA_TICKET_ERR_NOT_PAUSED;
	if (paused && e == E(PAUSED))
		return SLA_TICKET_ERR_ALREADY_PAUSED;
	if (paused && (e == E(ACKNOWLEDGED) || e == E(REMOTE_STARTED) || e == E(DISPATCHED) ||
	               e == E(ARRIVED) || e == E(RESTORED)))
		return SLA_TICKET_ERR_PAUSED;
	return SLA_TICKET_OK;
}

/* A history that reaches each state (then PAUSED for the paused variant). */
static const enum sla_event_kind paths[SLA_STATE_COUNT][6] = {
    [S(REPORTED)] = {E(REPORTED)},
    [S(ACKNOWLEDGED)] = {E(REPORTED), E(ACKNOWLEDGED)},
    [S(REMOTE_SUPPORT)] = {E(REPORTED), E(ACKNOWLEDGED), E(REMOTE_STARTED)},
    [S(ONSITE_DISPATCHED)] = {E(REPORTED), E(ACKNOWLEDGED), E(REMOTE_STARTED), E(DISPATCHED)},
    [S(ONSITE)] = {E(REPORTED), E(ACKNOWLEDGED), E(REMOTE_STARTED), E(DISPATCHED), E(ARRIVED)},
    [S(RESTORED)] = {E(REPORTED), E(ACKNOWLEDGED), E(RESTORED)},
    [S(CLOSED)] = {E(REPORTED), E(ACKNOWLEDGED), E(RESTORED), E(CLOSED)},
    [S(CANCELLED)] = {E(REPORTED), E(CANCELLED)},
};

static struct sla_ticket reach(enum sla_ticket_state s, bool paused)
{
	struct sla_event evs[8];
	size_t n = 0;

	for (size_t i = 0; i < 6 && (i == 0 || paths[s][i] != E(REPORTED)); i++) {
		evs[n] = (struct sla_event){.kind = paths[s][i], .at = 1000 + (sla_time)n * 60};
		if (evs[n].kind == E(REPORTED))
			evs[n].level = SLA_LEVEL_3;
		n++;
	}
	if (paused)
		evs[n++] = (struct sla_event){.kind = E(PAUSED), .at = 5000};
	struct sla_ticket t;
	size_t failed = 99;
	assert_int_equal(sla_ticket_replay(evs, n, &t, &failed), SLA_TICKET_OK);
	assert_int_equal(failed, n);
	assert_int_equal(t.state, s);
	assert_int_equal(t.paused, paused);
	assert_int_equal(t.events, n);
	return t;
}

static void assert_same(const struct sla_ticket *a, const struct sla_ticket *b)
{
	assert_int_equal(a->created, b->created);
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->level, b->level);
	assert_int_equal(a->paused, b->paused);
	assert_int_equal(a->cycle, b->cycle);
	assert_int_equal(a->reported_at, b->reported_at);
	assert_int_equal(a->cycle_start_at, b->cycle_start_at);
	assert_int_equal(a->events, b->events);
}

static void every_cell(void **state)
{
	(void)state;
	int cells = 0, refusals = 0;

	for (int s = 0; s < SLA_STATE_COUNT; s++) {
		for (int p = 0; p < 2; p++) {
			bool paused = p == 1;
			if (paused && !is_open((enum sla_ticket_state)s))
				continue; /* unreachable: pause is refused there */
			for (int e = 0; e < SLA_EV_COUNT; e++) {
				struct sla_ticket t = reach((enum sla_ticket_state)s, paused);
				const struct sla_ticket before = t;
				struct sla_event ev = {.kind = (enum sla_event_kind)e, .at = 9000};
				if (e == E(REPORTED))
					ev.level = SLA_LEVEL_2;
				if (e == E(RECLASSIFIED))
					ev.level = SLA_LEVEL_1; /* differs from 3 */
				enum sla_ticket_state to;
				enum sla_ticket_err want = expect(
				    (enum sla_ticket_state)s, (enum sla_event_kind)e, paused, &to);
				enum sla_ticket_err got = sla_ticket_apply(&t, &ev);
				print_message("%s%s x %s -> %s\n",
				              sla_ticket_state_name((enum sla_ticket_state)s),
				              paused ? " (paused)" : "",
				              sla_event_kind_name((enum sla_event_kind)e),
				              sla_ticket_err_name(got));
				assert_string_equal(sla_ticket_err_name(got),
				                    sla_ticket_err_name(want));
				cells++;
				if (want != SLA_TICKET_OK) {
					refusals++;
					assert_same(&t, &before);
					continue;
				}
				assert_int_equal(t.state, to);
				assert_int_equal(t.events, before.events + 1);
				/* the flag and counters follow the event */
				bool want_paused = paused;
				if (e == E(PAUSED))
					want_paused = true;
				if (e == E(RESUMED) || e == E(CANCELLED) || e == E(REOPENED))
					want_paused = false;
				assert_int_equal(t.paused, want_paused);
				assert_int_equal(t.cycle,
				                 before.cycle + (e == E(REOPENED) ? 1 : 0));
				assert_int_equal(t.cycle_start_at,
				                 e == E(REOPENED) ? 9000 : before.cycle_start_at);
				assert_int_equal(t.level,
				                 e == E(RECLASSIFIED) ? SLA_LEVEL_1 : before.level);
				assert_int_equal(t.reported_at, before.reported_at);
			}
		}
	}
	/* 8 states + 5 paused open states, 14 events each */
	assert_int_equal(cells, (SLA_STATE_COUNT + 5) * SLA_EV_COUNT);
	assert_true(refusals > 0);
}

/* The header's table is well formed: allowed cells name a state, refused
 * cells name an error and no state. */
static void table_shape(void **state)
{
	(void)state;
	for (int s = 0; s < SLA_STATE_COUNT; s++)
		for (int e = 0; e < SLA_EV_COUNT; e++) {
			const struct sla_ticket_tx *tx = &sla_ticket_transitions[s][e];
			if (tx->err == SLA_TICKET_OK)
				assert_true(tx->next < SLA_STATE_COUNT);
			else
				assert_int_equal(tx->next, SLA_STATE_COUNT);
		}
	for (int e = 0; e < SLA_EV_COUNT; e++)
		assert_true(sla_ticket_pause_rule[0][e] == SLA_TICKET_OK || e == SLA_EV_RESUMED);
}

static void creation(void **state)
{
	(void)state;
	struct sla_ticket t = {0};
	const struct sla_ticket empty = {0};

	/* Only REPORTED creates; every other event on nothing is NOT_REPORTED. */
	for (int e = 0; e < SLA_EV_COUNT; e++) {
		if (e == E(REPORTED))
			continue;
		struct sla_event ev = {
		    .kind = (enum sla_event_kind)e, .at = 1, .level = SLA_LEVEL_1};
		assert_int_equal(sla_ticket_apply(&t, &ev), SLA_TICKET_ERR_NOT_REPORTED);
		assert_same(&t, &empty);
	}
	/* The initial level must be 1..4. */
	struct sla_event rep = {.kind = E(REPORTED), .at = 100, .level = SLA_LEVEL_NONE};
	assert_int_equal(sla_ticket_apply(&t, &rep), SLA_TICKET_ERR_BAD_LEVEL);
	rep.level = (enum sla_level)5;
	assert_int_equal(sla_ticket_apply(&t, &rep), SLA_TICKET_ERR_BAD_LEVEL);
	assert_same(&t, &empty);
	rep.level = SLA_LEVEL_2;
	assert_int_equal(sla_ticket_apply(&t, &rep), SLA_TICKET_OK);
	assert_true(t.created);
	assert_int_equal(t.state, S(REPORTED));
	assert_int_equal(t.level, SLA_LEVEL_2);
	assert_int_equal(t.cycle, 1);
	assert_int_equal(t.reported_at, 100);
	assert_int_equal(t.cycle_start_at, 100);
	assert_int_equal(t.events, 1);
	assert_false(t.paused);
}

static void reclassify_errors(void **state)
{
	(void)state;
	struct sla_ticket t = reach(S(REMOTE_SUPPORT), false);
	const struct sla_ticket before = t;
	struct sla_event ev = {.kind = E(RECLASSIFIED), .at = 2000, .level = SLA_LEVEL_3};

	assert_int_equal(sla_ticket_apply(&t, &ev), SLA_TICKET_ERR_SAME_LEVEL);
	ev.level = SLA_LEVEL_NONE;
	assert_int_equal(sla_ticket_apply(&t, &ev), SLA_TICKET_ERR_BAD_LEVEL);
	ev.level = (enum sla_level)9;
	assert_int_equal(sla_ticket_apply(&t, &ev), SLA_TICKET_ERR_BAD_LEVEL);
	assert_same(&t, &before);
	/* S1: a 3 found to be a 1 halfway through; and back down to 4. */
	ev.level = SLA_LEVEL_1;
	assert_int_equal(sla_ticket_apply(&t, &ev), SLA_TICKET_OK);
	assert_int_equal(t.level, SLA_LEVEL_1);
	ev.level = SLA_LEVEL_4;
	assert_int_equal(sla_ticket_apply(&t, &ev), SLA_TICKET_OK);
	assert_int_equal(t.level, SLA_LEVEL_4);
	assert_int_equal(t.state, S(REMOTE_SUPPORT));
}

static void bad_arguments(void **state)
{
	(void)state;
	struct sla_ticket t = reach(S(ACKNOWLEDGED), false);
	const struct sla_ticket before = t;
	struct sla_event ev = {.kind = E(NOTE), .at = 1};

	assert_int_equal(sla_ticket_apply(NULL, &ev), SLA_TICKET_ERR_BAD_ARGUMENT);
	assert_int_equal(sla_ticket_apply(&t, NULL), SLA_TICKET_ERR_BAD_ARGUMENT);
	ev.kind = SLA_EV_COUNT;
	assert_int_equal(sla_ticket_apply(&t, &ev), SLA_TICKET_ERR_BAD_ARGUMENT);
	ev.kind = (enum sla_event_kind) - 1;
	assert_int_equal(sla_ticket_apply(&t, &ev), SLA_TICKET_ERR_BAD_ARGUMENT);
	assert_same(&t, &before);
	/* A corrupt projection is refused, not indexed with. */
	t.state = SLA_STATE_COUNT;
	ev.kind = E(NOTE);
	assert_int_equal(sla_ticket_apply(&t, &ev), SLA_TICKET_ERR_BAD_ARGUMENT);
	t.state = (enum sla_ticket_state) - 3;
	assert_int_equal(sla_ticket_apply(&t, &ev), SLA_TICKET_ERR_BAD_ARGUMENT);
}

struct story {
	const char *what;
	struct sla_event evs[12];
	size_t n;
	enum sla_ticket_err want;
	size_t want_failed_at; /* n when OK */
	enum sla_ticket_state want_state;
	unsigned want_cycle;
	bool want_paused;
};

#define EV(k)                                                                                      \
	{                                                                                          \
		E(k), 0, SLA_LEVEL_NONE                                                            \
	}
#define EVL(k, l)                                                                                  \
	{                                                                                          \
		E(k), 0, SLA_LEVEL_##l                                                             \
	}

static const struct story stories[] = {
    {"S5 full path: remote, then on site",
     {EVL(REPORTED, 2), EV(ACKNOWLEDGED), EV(REMOTE_STARTED), EV(DISPATCHED), EV(ARRIVED),
      EV(RESTORED), EV(CLOSED)},
     7,
     SLA_TICKET_OK,
     7,
     S(CLOSED),
     1,
     false},
    {"fixed on the first call",
     {EVL(REPORTED, 3), EV(ACKNOWLEDGED), EV(RESTORED), EV(CLOSED)},
     4,
     SLA_TICKET_OK,
     4,
     S(CLOSED),
     1,
     false},
    {"monitoring resolves before anyone acknowledges",
     {EVL(REPORTED, 1), EV(RESTORED)},
     2,
     SLA_TICKET_OK,
     2,
     S(RESTORED),
     1,
     false},
    {"restored while the engineer drives",
     {EVL(REPORTED, 1), EV(ACKNOWLEDGED), EV(DISPATCHED), EV(RESTORED)},
     4,
     SLA_TICKET_OK,
     4,
     S(RESTORED),
     1,
     false},
    {"reopened twice: cycles 2 and 3, must be taken again",
     {EVL(REPORTED, 2), EV(ACKNOWLEDGED), EV(RESTORED), EV(CLOSED), EV(REOPENED), EV(ACKNOWLEDGED),
      EV(RESTORED), EV(REOPENED)},
     8,
     SLA_TICKET_OK,
     8,
     S(REPORTED),
     3,
     false},
    {"pause, resume, pause, cancel",
     {EVL(REPORTED, 3), EV(ACKNOWLEDGED), EV(PAUSED), EV(NOTE), EV(RESUMED), EV(PAUSED),
      EV(CANCELLED), EV(NOTE)},
     8,
     SLA_TICKET_OK,
     8,
     S(CANCELLED),
     1,
     false},
    {"paused ticket cannot progress without a resume",
     {EVL(REPORTED, 3), EV(ACKNOWLEDGED), EV(REMOTE_STARTED), EV(PAUSED), EV(DISPATCHED)},
     5,
     SLA_TICKET_ERR_PAUSED,
     4,
     S(REMOTE_SUPPORT),
     1,
     true},
    {"history must start with REPORTED",
     {EV(ACKNOWLEDGED)},
     1,
     SLA_TICKET_ERR_NOT_REPORTED,
     0,
     S(REPORTED),
     0,
     false},
    {"two reports",
     {EVL(REPORTED, 3), EVL(REPORTED, 3)},
     2,
     SLA_TICKET_ERR_ALREADY_REPORTED,
     1,
     S(REPORTED),
     1,
     false},
    {"close without restore",
     {EVL(REPORTED, 3), EV(ACKNOWLEDGED), EV(CLOSED)},
     3,
     SLA_TICKET_ERR_INVALID_TRANSITION,
     2,
     S(ACKNOWLEDGED),
     1,
     false},
    {"cancelled is terminal",
     {EVL(REPORTED, 3), EV(CANCELLED), EV(REOPENED)},
     3,
     SLA_TICKET_ERR_TERMINAL,
     2,
     S(CANCELLED),
     1,
     false},
    {"empty history", {EV(NOTE)}, 0, SLA_TICKET_OK, 0, S(REPORTED), 0, false},
};

static void replay_stories(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(stories) / sizeof(stories[0]); i++) {
		const struct story *st = &stories[i];
		struct sla_event evs[12];
		for (size_t k = 0; k < st->n; k++) {
			evs[k] = st->evs[k];
			evs[k].at = 1000 + (sla_time)k * 600;
		}
		struct sla_ticket t;
		size_t failed = 77;
		print_message("story %zu: %s\n", i, st->what);
		assert_int_equal(sla_ticket_replay(evs, st->n, &t, &failed), st->want);
		assert_int_equal(failed, st->want_failed_at);
		assert_int_equal(t.created, st->want_cycle > 0);
		if (t.created)
			assert_int_equal(t.state, st->want_state);
		assert_int_equal(t.cycle, st->want_cycle);
		assert_int_equal(t.paused, st->want_paused);
		/* the projection holds the events before the failure */
		assert_int_equal(t.events, st->want_failed_at);
	}
}

static void replay_details(void **state)
{
	(void)state;
	const struct sla_event evs[] = {
	    {E(REPORTED), 100, SLA_LEVEL_3}, {E(ACKNOWLEDGED), 200, 0}, {E(RESTORED), 300, 0},
	    {E(REOPENED), 400, 0},           {E(ACKNOWLEDGED), 150, 0}, /* out of order: accepted */
	};
	struct sla_ticket t;

	assert_int_equal(sla_ticket_replay(evs, 5, &t, NULL), SLA_TICKET_OK);
	assert_int_equal(t.reported_at, 100);
	assert_int_equal(t.cycle_start_at, 400);
	assert_int_equal(t.cycle, 2);
	assert_int_equal(t.state, S(ACKNOWLEDGED));

	size_t failed = 5;
	assert_int_equal(sla_ticket_replay(NULL, 1, &t, &failed), SLA_TICKET_ERR_BAD_ARGUMENT);
	assert_int_equal(failed, 0);
	assert_int_equal(sla_ticket_replay(evs, 1, NULL, NULL), SLA_TICKET_ERR_BAD_ARGUMENT);
	assert_int_equal(sla_ticket_replay(NULL, 0, &t, &failed), SLA_TICKET_OK);
	assert_false(t.created);
}

static void names(void **state)
{
	(void)state;
	for (int i = 0; i < SLA_TICKET_ERR_COUNT; i++) {
		assert_string_not_equal(sla_ticket_err_name((enum sla_ticket_err)i), "invalid");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(sla_ticket_err_name((enum sla_ticket_err)i),
			                        sla_ticket_err_name((enum sla_ticket_err)j));
	}
	assert_string_equal(sla_ticket_err_name(SLA_TICKET_ERR_INVALID_TRANSITION),
	                    "invalid_transition");
	assert_string_equal(sla_ticket_err_name(SLA_TICKET_ERR_COUNT), "invalid");
	assert_string_equal(sla_ticket_err_name((enum sla_ticket_err) - 1), "invalid");
	for (int s = 0; s < SLA_STATE_COUNT; s++)
		assert_int_equal(sla_ticket_state_open((enum sla_ticket_state)s),
		                 is_open((enum sla_ticket_state)s));
	assert_false(sla_ticket_state_open(SLA_STATE_COUNT));
	assert_false(sla_ticket_state_open((enum sla_ticket_state) - 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_cell),     cmocka_unit_test(table_shape),
	    cmocka_unit_test(creation),       cmocka_unit_test(reclassify_errors),
	    cmocka_unit_test(bad_arguments),  cmocka_unit_test(replay_stories),
	    cmocka_unit_test(replay_details), cmocka_unit_test(names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
