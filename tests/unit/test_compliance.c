/*
 * test_compliance.c - the compliance report's arithmetic (issue 6,
 * "Compliance reports"; compliance.h): months in a customer's zone, met and
 * breached clocks and their times from real deadline evaluations,
 * nearest-rank percentiles, units, and the crediting of warranty extension
 * days (S9) to the tickets that earned them.  Known answers throughout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "compliance.h"

#define M  SLA_MINUTE
#define H  SLA_HOUR
#define D  SLA_DAY
#define T0 ((sla_time)1803862800) /* 2027-03-01T01:00:00Z */

#define EV(k, off)     ((struct sla_event){SLA_EV_##k, T0 + (off), SLA_LEVEL_NONE})
#define EVL(k, off, l) ((struct sla_event){SLA_EV_##k, T0 + (off), (enum sla_level)(l)})
#define N(a)           (sizeof(a) / sizeof((a)[0]))

static const struct sla_month MARCH = {2027, 3};

/* ---- months ---- */

static void months_parse_and_format(void **state)
{
	(void)state;
	struct sla_month m = {0, 0};
	char buf[SLA_MONTH_STRLEN];
	assert_int_equal(sla_month_parse("2027-03", &m), 0);
	assert_int_equal(m.year, 2027);
	assert_int_equal(m.month, 3);
	assert_int_equal(sla_month_format(m, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2027-03");
	assert_int_equal(sla_month_parse("0001-01", &m), 0);
	assert_int_equal(sla_month_format(m, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0001-01");
	assert_int_equal(sla_month_parse("9999-12", &m), 0);
	assert_int_equal(sla_month_format(m, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "9999-12");

	static const char *const bad[] = {"2027-3",     "2027-13", "2027-00",  "0000-01",
	                                  "2027-03-01", "2027/03", "27-03",    "2027-0a",
	                                  "a027-03",    "",        " 2027-03", "2027-03 "};
	for (size_t i = 0; i < N(bad); i++) {
		m = (struct sla_month){1, 1};
		if (sla_month_parse(bad[i], &m) == 0)
			fail_msg("\"%s\" parsed", bad[i]);
		assert_int_equal(m.year, 1); /* untouched */
	}
	assert_int_equal(sla_month_parse(NULL, &m), -1);
	assert_int_equal(sla_month_parse("2027-03", NULL), -1);

	assert_int_equal(sla_month_format(MARCH, buf, SLA_MONTH_STRLEN - 1), -1);
	assert_string_equal(buf, "");
	assert_int_equal(sla_month_format(MARCH, NULL, 8), -1);
	assert_int_equal(sla_month_format(MARCH, buf, 0), -1);
	assert_int_equal(sla_month_format((struct sla_month){2027, 13}, buf, sizeof(buf)), -1);
	assert_int_equal(sla_month_format((struct sla_month){10000, 1}, buf, sizeof(buf)), -1);
}

static void months_order_and_next(void **state)
{
	(void)state;
	struct sla_month n;
	assert_true(sla_month_valid(MARCH));
	assert_false(sla_month_valid((struct sla_month){2027, 0}));
	assert_false(sla_month_valid((struct sla_month){0, 5}));
	assert_int_equal(sla_month_cmp(MARCH, MARCH), 0);
	assert_true(sla_month_cmp(MARCH, (struct sla_month){2027, 4}) < 0);
	assert_true(sla_month_cmp((struct sla_month){2027, 4}, MARCH) > 0);
	assert_true(sla_month_cmp((struct sla_month){2026, 12}, MARCH) < 0);
	assert_true(sla_month_cmp((struct sla_month){2028, 1}, MARCH) > 0);

	assert_int_equal(sla_month_next(MARCH, &n), 0);
	assert_int_equal(n.year, 2027);
	assert_int_equal(n.month, 4);
	assert_int_equal(sla_month_next((struct sla_month){2026, 12}, &n), 0);
	assert_int_equal(n.year, 2027);
	assert_int_equal(n.month, 1);
	assert_int_equal(sla_month_next((struct sla_month){9999, 12}, &n), -1);
	assert_int_equal(sla_month_next((struct sla_month){2027, 13}, &n), -1);
	assert_int_equal(sla_month_next(MARCH, NULL), -1);
}

static void months_in_a_zone(void **state)
{
	(void)state;
	struct sla_tz sh = sla_tz_fixed(SLA_TZ_SHANGHAI_OFFSET), utc = sla_tz_fixed(0);
	struct sla_tz ny_winter = sla_tz_fixed(-5 * 3600), broken = sla_tz_fixed(99 * 3600);
	struct sla_month m;
	/* 2027-03-31T17:00Z: still March in UTC, already April in Shanghai. */
	sla_time t = 1806512400;
	assert_int_equal(sla_month_of(&utc, t, &m), 0);
	assert_int_equal(sla_month_cmp(m, MARCH), 0);
	assert_int_equal(sla_month_of(&sh, t, &m), 0);
	assert_int_equal(sla_month_cmp(m, (struct sla_month){2027, 4}), 0);
	/* 2027-03-01T01:00Z is still February in New York. */
	assert_int_equal(sla_month_of(&ny_winter, T0, &m), 0);
	assert_int_equal(sla_month_cmp(m, (struct sla_month){2027, 2}), 0);
	assert_int_equal(sla_month_of(&broken, t, &m), -1);
	assert_int_equal(sla_month_of(NULL, t, &m), -1);
	assert_int_equal(sla_month_of(&sh, t, NULL), -1);

	sla_time start;
	assert_int_equal(sla_month_start(&sh, (struct sla_month){2027, 4}, &start), 0);
	assert_int_equal(start, 1806508800); /* 2027-03-31T16:00:00Z */
	assert_int_equal(sla_month_start(&utc, MARCH, &start), 0);
	assert_int_equal(start, T0 - H); /* 2027-03-01T00:00:00Z */
	assert_int_equal(sla_month_start(&sh, (struct sla_month){2027, 0}, &start), -1);
	assert_int_equal(sla_month_start(&broken, MARCH, &start), -1);
	assert_int_equal(sla_month_start(&sh, MARCH, NULL), -1);
}

/* ---- clocks ---- */

static struct sla_deadline_eval eval_ok(const struct sla_event *ev, size_t n, sla_time now)
{
	struct sla_policy p;
	sla_policy_default(&p);
	struct sla_deadline_eval out;
	if (sla_deadline_evaluate(&p, SLA_TYPE_FAULT, ev, n, now, &out) != SLA_DL_OK)
		fail_msg("evaluate: %s", out.err_text);
	return out;
}

static void assert_clock(const struct sla_compliance_clock *c, bool met, bool breached, bool timed,
                         sla_duration running)
{
	assert_int_equal(c->met, met);
	assert_int_equal(c->breached, breached);
	assert_int_equal(c->timed, timed);
	assert_int_equal(c->running, running);
}

/* The ticket: level 1 (response 30 min, on site 4 h, restore 8 h),
 * acknowledged after 12 min, on site after 200 min, restored after 30 h. */
static void thirty_hour_fault(void **state)
{
	(void)state;
	struct sla_event ev[] = {EVL(REPORTED, 0, 1), EV(ACKNOWLEDGED, 12 * M),
	                         EV(DISPATCHED, 30 * M), EV(ARRIVED, 200 * M),
	                         EV(RESTORED, 30 * H)};
	struct sla_deadline_eval e = eval_ok(ev, N(ev), T0 + 31 * H);
	struct sla_compliance_clock c[SLA_CLOCK_COUNT];
	assert_int_equal(sla_compliance_clocks(&e, ev, N(ev), c), 0);
	assert_clock(&c[SLA_CLOCK_RESPONSE], true, false, true, 12 * M);
	assert_clock(&c[SLA_CLOCK_ONSITE], true, false, true, 200 * M);
	assert_clock(&c[SLA_CLOCK_RESTORE], false, true, true, 30 * H);
}

/* Not needed, stopped by another event, still running, running late. */
static void clocks_that_give_no_time(void **state)
{
	(void)state;
	struct sla_compliance_clock c[SLA_CLOCK_COUNT];
	/* Restored after 20 min without an acknowledgement and without a
	 * visit: the response clock stopped early (neither), on site was
	 * never needed (neither, S5). */
	struct sla_event quick[] = {EVL(REPORTED, 0, 1), EV(RESTORED, 20 * M)};
	struct sla_deadline_eval e = eval_ok(quick, N(quick), T0 + H);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].state, SLA_CS_STOPPED);
	assert_int_equal(sla_compliance_clocks(&e, quick, N(quick), c), 0);
	assert_clock(&c[SLA_CLOCK_RESPONSE], false, false, false, 0);
	assert_clock(&c[SLA_CLOCK_ONSITE], false, false, false, 0);
	assert_clock(&c[SLA_CLOCK_RESTORE], true, false, true, 20 * M);

	/* Restored after 2 h, never acknowledged: the response clock was
	 * breached, but the restore is no time to respond. */
	struct sla_event late[] = {EVL(REPORTED, 0, 1), EV(RESTORED, 2 * H)};
	e = eval_ok(late, N(late), T0 + 3 * H);
	assert_int_equal(e.clocks[SLA_CLOCK_RESPONSE].state, SLA_CS_BREACHED);
	assert_int_equal(sla_compliance_clocks(&e, late, N(late), c), 0);
	assert_clock(&c[SLA_CLOCK_RESPONSE], false, true, false, 0);
	assert_clock(&c[SLA_CLOCK_RESTORE], true, false, true, 2 * H);

	/* Still open: response met; on site dispatched and running in time;
	 * restore running past its 8 h (breached, no time yet). */
	struct sla_event open[] = {EVL(REPORTED, 0, 1), EV(ACKNOWLEDGED, 10 * M),
	                           EV(DISPATCHED, 9 * H)};
	e = eval_ok(open, N(open), T0 + 9 * H);
	assert_int_equal(sla_compliance_clocks(&e, open, N(open), c), 0);
	assert_clock(&c[SLA_CLOCK_RESPONSE], true, false, true, 10 * M);
	assert_clock(&c[SLA_CLOCK_ONSITE], false, true, false, 0); /* 4 h from the report */
	assert_clock(&c[SLA_CLOCK_RESTORE], false, true, false, 0);

	struct sla_event fresh[] = {EVL(REPORTED, 0, 1)};
	e = eval_ok(fresh, N(fresh), T0 + M);
	assert_int_equal(sla_compliance_clocks(&e, fresh, N(fresh), c), 0);
	for (int k = 0; k < SLA_CLOCK_COUNT; k++)
		assert_clock(&c[k], false, false, false, 0);
}

/* S5: a pause is left out of the time. */
static void paused_span_left_out(void **state)
{
	(void)state;
	struct sla_event ev[] = {EVL(REPORTED, 0, 1), EV(PAUSED, 10 * M), EV(RESUMED, 70 * M),
	                         EV(ACKNOWLEDGED, 85 * M)};
	struct sla_deadline_eval e = eval_ok(ev, N(ev), T0 + 2 * H);
	struct sla_compliance_clock c[SLA_CLOCK_COUNT];
	assert_int_equal(sla_compliance_clocks(&e, ev, N(ev), c), 0);
	/* 85 min on the wall, 25 min running: met within 30. */
	assert_clock(&c[SLA_CLOCK_RESPONSE], true, false, true, 25 * M);
}

/* A reopened ticket is judged on its current cycle; the goals of the
 * first cycle are not the second's. */
static void reopened_current_cycle(void **state)
{
	(void)state;
	struct sla_event ev[] = {EVL(REPORTED, 0, 1), EV(ACKNOWLEDGED, 5 * M), EV(RESTORED, H),
	                         EV(REOPENED, H), EV(ACKNOWLEDGED, H + 40 * M)};
	struct sla_deadline_eval e = eval_ok(ev, N(ev), T0 + 2 * H);
	assert_int_equal(e.cycle, 2);
	struct sla_compliance_clock c[SLA_CLOCK_COUNT];
	assert_int_equal(sla_compliance_clocks(&e, ev, N(ev), c), 0);
	assert_clock(&c[SLA_CLOCK_RESPONSE], false, true, true, 40 * M);
	assert_clock(&c[SLA_CLOCK_RESTORE], false, false, false, 0);

	/* Restored in cycle 1 at the very instant of the reopen: that
	 * RESTORED is cycle 1's, cycle 2's restore still runs. */
	struct sla_event same[] = {EVL(REPORTED, 0, 1), EV(ACKNOWLEDGED, 5 * M), EV(RESTORED, H),
	                           EV(REOPENED, H)};
	e = eval_ok(same, N(same), T0 + H);
	assert_int_equal(sla_compliance_clocks(&e, same, N(same), c), 0);
	assert_clock(&c[SLA_CLOCK_RESTORE], false, false, false, 0);
	assert_clock(&c[SLA_CLOCK_RESPONSE], false, false, false, 0);
}

static void clocks_refused(void **state)
{
	(void)state;
	struct sla_event ev[] = {EVL(REPORTED, 0, 1)};
	struct sla_deadline_eval e = eval_ok(ev, N(ev), T0);
	struct sla_compliance_clock c[SLA_CLOCK_COUNT];
	assert_int_equal(sla_compliance_clocks(NULL, ev, 1, c), -1);
	assert_int_equal(sla_compliance_clocks(&e, NULL, 1, c), -1);
	assert_int_equal(sla_compliance_clocks(&e, ev, 1, NULL), -1);
	struct sla_deadline_eval bad = e;
	bad.err = SLA_DL_ERR_ORDER;
	assert_int_equal(sla_compliance_clocks(&bad, ev, 1, c), -1);
	assert_int_equal(sla_compliance_clocks(&e, NULL, 0, c), 0); /* no goals to find */
}

/* ---- percentiles and units ---- */

static void nearest_ranks(void **state)
{
	(void)state;
	static const struct {
		size_t n;
		int p;
		size_t rank;
	} cases[] = {
	    {0, 50, 0},    {1, 0, 0},   {1, 101, 0},  {1, 50, 1},
	    {1, 90, 1},    {2, 50, 1},  {2, 90, 2},   {3, 50, 2},
	    {4, 50, 2},    {10, 90, 9}, {11, 90, 10}, {100, 90, 90},
	    {101, 90, 91}, {5, 100, 5}, {5, 1, 1},    {SIZE_MAX, 100, SIZE_MAX},
	};
	for (size_t i = 0; i < N(cases); i++)
		if (sla_nearest_rank(cases[i].n, cases[i].p) != cases[i].rank)
			fail_msg("n=%zu p=%d: rank %zu, expected %zu", cases[i].n, cases[i].p,
			         sla_nearest_rank(cases[i].n, cases[i].p), cases[i].rank);
}

static void percentiles(void **state)
{
	(void)state;
	sla_duration out = -1;
	/* A met response (12 min) and a breached one (45 min): the median is
	 * the smaller, p90 the larger. */
	sla_duration two[] = {45 * M, 12 * M};
	assert_int_equal(sla_percentile_nearest_rank(two, N(two), 50, &out), 0);
	assert_int_equal(out, 12 * M);
	assert_int_equal(sla_percentile_nearest_rank(two, N(two), 90, &out), 0);
	assert_int_equal(out, 45 * M);
	sla_duration ten[] = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
	assert_int_equal(sla_percentile_nearest_rank(ten, N(ten), 50, &out), 0);
	assert_int_equal(out, 5);
	assert_int_equal(sla_percentile_nearest_rank(ten, N(ten), 90, &out), 0);
	assert_int_equal(out, 9);
	for (size_t i = 0; i < N(ten); i++)
		assert_int_equal(ten[i], (sla_duration)i + 1); /* sorted in place */
	sla_duration same[] = {7, 7, 7};
	assert_int_equal(sla_percentile_nearest_rank(same, N(same), 90, &out), 0);
	assert_int_equal(out, 7);
	out = -1;
	assert_int_equal(sla_percentile_nearest_rank(two, 0, 50, &out), -1);
	assert_int_equal(sla_percentile_nearest_rank(NULL, 2, 50, &out), -1);
	assert_int_equal(sla_percentile_nearest_rank(two, 2, 0, &out), -1);
	assert_int_equal(sla_percentile_nearest_rank(two, 2, 50, NULL), -1);
	assert_int_equal(out, -1);
}

static void units(void **state)
{
	(void)state;
	assert_int_equal(sla_compliance_minutes(0), 0);
	assert_int_equal(sla_compliance_minutes(59), 0);
	assert_int_equal(sla_compliance_minutes(30 * M - 1), 29);
	assert_int_equal(sla_compliance_minutes(30 * M), 30);
	assert_int_equal(sla_compliance_minutes(30 * H), 1800);
	assert_int_equal(sla_compliance_minutes(-5), 0);

	assert_int_equal(sla_compliance_tenth_hours(30 * H), 300);
	assert_int_equal(sla_compliance_tenth_hours(7 * H + 15 * M), 73);
	assert_int_equal(sla_compliance_tenth_hours(179), 0);
	assert_int_equal(sla_compliance_tenth_hours(180), 1);
	assert_int_equal(sla_compliance_tenth_hours(539), 1);
	assert_int_equal(sla_compliance_tenth_hours(540), 2);
	assert_int_equal(sla_compliance_tenth_hours(0), 0);
	assert_int_equal(sla_compliance_tenth_hours(-3600), 0);

	assert_int_equal(sla_compliance_outage_length(T0, T0 + 30 * H, T0 + 99 * H), 30 * H);
	assert_int_equal(sla_compliance_outage_length(T0, SLA_TIME_NEVER, T0 + 5 * H), 5 * H);
	assert_int_equal(sla_compliance_outage_length(T0, SLA_TIME_NEVER, T0 - H), 0);
	assert_int_equal(sla_compliance_outage_length(T0, T0 - 10, T0), 0);
}

/* ---- extension days (S9) ---- */

struct ledger {
	struct sla_warranty_line lines[8];
	struct sla_warranty_result r;
	int64_t credit[8];
};

static void credit(struct ledger *L, enum sla_warranty_rounding rounding,
                   const struct sla_downtime *dt, size_t n, sla_time now)
{
	struct sla_warranty_terms terms;
	sla_warranty_terms_init(&terms, (struct sla_date){2026, 6, 1}, 24);
	terms.rounding = rounding;
	assert_true(n <= N(L->lines));
	assert_int_equal(sla_warranty_compute(&terms, dt, n, now, L->lines, N(L->lines), &L->r),
	                 SLA_WARRANTY_OK);
	assert_int_equal(sla_compliance_credit_days(&L->r, dt, n, L->credit), 0);
	int64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += L->credit[i];
	assert_int_equal(sum, L->r.extension_days); /* credits add up to the ledger */
}

static void credit_thirty_hours(void **state)
{
	(void)state;
	struct ledger L;
	struct sla_downtime dt[] = {{640, T0, T0 + 30 * H, SLA_CAUSE_SOFTWARE_QUALITY}};
	credit(&L, SLA_WARRANTY_ROUND_CEIL, dt, N(dt), T0 + 40 * H);
	assert_int_equal(L.credit[0], 2); /* each started 24 h */
	credit(&L, SLA_WARRANTY_ROUND_FLOOR, dt, N(dt), T0 + 40 * H);
	assert_int_equal(L.credit[0], 1);
	/* EXACT moves the end from a midnight by 30 h: the period's last
	 * second falls two calendar days later. */
	credit(&L, SLA_WARRANTY_ROUND_EXACT, dt, N(dt), T0 + 40 * H);
	assert_int_equal(L.credit[0], 2);
}

static void credit_only_vendor_causes(void **state)
{
	(void)state;
	struct ledger L;
	struct sla_downtime dt[] = {
	    {1, T0, T0 + 30 * H, SLA_CAUSE_CUSTOMER},
	    {2, T0 + 5 * D, T0 + 5 * D + H, SLA_CAUSE_UNKNOWN},
	    {3, T0 + 9 * D, T0 + 9 * D + 2 * H, SLA_CAUSE_VENDOR_SERVICE},
	    {4, T0 + 20 * D, SLA_TIME_NEVER, SLA_CAUSE_SOFTWARE_QUALITY}, /* ongoing */
	};
	credit(&L, SLA_WARRANTY_ROUND_CEIL, dt, N(dt), T0 + 21 * D + H);
	assert_int_equal(L.credit[0], 0);
	assert_int_equal(L.credit[1], 0);
	assert_int_equal(L.credit[2], 1);
	assert_int_equal(L.credit[3], 2); /* 25 h so far */
}

/* Overlapping outages of two tickets are one line, credited to the one
 * that began first; the flaps of one fault are one line too. */
static void credit_merged_lines(void **state)
{
	(void)state;
	struct ledger L;
	struct sla_downtime dt[] = {
	    {10, T0, T0 + 10 * H, SLA_CAUSE_VENDOR_SERVICE},
	    {20, T0 + 2 * H, T0 + 50 * H, SLA_CAUSE_SOFTWARE_QUALITY},
	    {30, T0 + 10 * D, T0 + 10 * D + H, SLA_CAUSE_SOFTWARE_QUALITY},
	    {30, T0 + 10 * D + 80 * M, T0 + 10 * D + 2 * H, SLA_CAUSE_SOFTWARE_QUALITY},
	};
	credit(&L, SLA_WARRANTY_ROUND_CEIL, dt, N(dt), T0 + 30 * D);
	assert_int_equal(L.credit[0], 3); /* T0 .. T0+50h: 50 h */
	assert_int_equal(L.credit[1], 0);
	assert_int_equal(L.credit[2], 1); /* flaps 20 min apart: one outage of 2 h */
	assert_int_equal(L.credit[3], 0);

	/* Two inputs starting together: the lower index gets the line. */
	struct sla_downtime tie[] = {
	    {7, T0, T0 + H, SLA_CAUSE_SOFTWARE_QUALITY},
	    {8, T0, T0 + 26 * H, SLA_CAUSE_SOFTWARE_QUALITY},
	};
	credit(&L, SLA_WARRANTY_ROUND_CEIL, tie, N(tie), T0 + 30 * D);
	assert_int_equal(L.credit[0], 2);
	assert_int_equal(L.credit[1], 0);
}

/* Before the period, after it: nothing to credit. */
static void credit_outside_the_period(void **state)
{
	(void)state;
	struct ledger L;
	struct sla_downtime dt[] = {
	    {1, 1780272000 - 3 * D, 1780272000 - 2 * D, SLA_CAUSE_SOFTWARE_QUALITY}, /* 2026-06 */
	    {2, T0 + 800 * D, T0 + 801 * D, SLA_CAUSE_SOFTWARE_QUALITY},
	};
	credit(&L, SLA_WARRANTY_ROUND_CEIL, dt, N(dt), T0 + 900 * D);
	assert_int_equal(L.r.extension_days, 0);
	assert_int_equal(L.credit[0], 0);
	assert_int_equal(L.credit[1], 0);
}

static void credit_refused(void **state)
{
	(void)state;
	struct ledger L;
	struct sla_downtime dt[] = {{1, T0, T0 + H, SLA_CAUSE_SOFTWARE_QUALITY}};
	credit(&L, SLA_WARRANTY_ROUND_CEIL, dt, N(dt), T0 + D);
	int64_t c[1];
	assert_int_equal(sla_compliance_credit_days(NULL, dt, 1, c), -1);
	assert_int_equal(sla_compliance_credit_days(&L.r, NULL, 1, c), -1);
	assert_int_equal(sla_compliance_credit_days(&L.r, dt, 1, NULL), -1);
	/* Inputs out of order of start. */
	struct sla_downtime two[] = {{1, T0 + H, T0 + 2 * H, SLA_CAUSE_SOFTWARE_QUALITY},
	                             {2, T0, T0 + H, SLA_CAUSE_SOFTWARE_QUALITY}};
	int64_t c2[2];
	assert_int_equal(sla_compliance_credit_days(&L.r, two, 2, c2), -1);
	/* Another input than the ledger was computed from: no line matches. */
	struct sla_downtime other[] = {{2, T0, T0 + H, SLA_CAUSE_SOFTWARE_QUALITY}};
	assert_int_equal(sla_compliance_credit_days(&L.r, other, 1, c), -1);
	struct sla_warranty_result broken = L.r;
	broken.lines = NULL;
	assert_int_equal(sla_compliance_credit_days(&broken, dt, 1, c), -1);
	broken = L.r;
	broken.base_last_day = (struct sla_date){0, 0, 0};
	assert_int_equal(sla_compliance_credit_days(&broken, dt, 1, c), -1);
	/* A vendor line but only a customer-caused input left. */
	struct sla_downtime theirs[] = {{1, T0, T0 + H, SLA_CAUSE_CUSTOMER}};
	assert_int_equal(sla_compliance_credit_days(&L.r, theirs, 1, c), -1);
	/* No inputs, no lines: nothing to credit. */
	struct sla_warranty_result none = L.r;
	none.line_count = 0;
	assert_int_equal(sla_compliance_credit_days(&none, NULL, 0, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(months_parse_and_format),
	    cmocka_unit_test(months_order_and_next),
	    cmocka_unit_test(months_in_a_zone),
	    cmocka_unit_test(thirty_hour_fault),
	    cmocka_unit_test(clocks_that_give_no_time),
	    cmocka_unit_test(paused_span_left_out),
	    cmocka_unit_test(reopened_current_cycle),
	    cmocka_unit_test(clocks_refused),
	    cmocka_unit_test(nearest_ranks),
	    cmocka_unit_test(percentiles),
	    cmocka_unit_test(units),
	    cmocka_unit_test(credit_thirty_hours),
	    cmocka_unit_test(credit_only_vendor_causes),
	    cmocka_unit_test(credit_merged_lines),
	    cmocka_unit_test(credit_outside_the_period),
	    cmocka_unit_test(credit_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
