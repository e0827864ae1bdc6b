/*
 * test_warranty.c - the free maintenance period and its downtime extension
 * (S8, S9, S10), with known answers, plus a seeded property test.
 *
 * Most cases use one contract: accepted 2025-03-02 in Asia/Shanghai
 * (+08:00) for 12 months, so the last free day is 2026-03-01 and the base
 * period runs from 2025-03-01T16:00Z to 2026-03-01T16:00Z.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "warranty.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define LINES_MAX    64

enum {
	SQ = SLA_CAUSE_SOFTWARE_QUALITY,
	VS = SLA_CAUSE_VENDOR_SERVICE,
	FM = SLA_CAUSE_FORCE_MAJEURE,
};

static struct sla_date D(int y, int m, int d) {
	struct sla_date r = {y, m, d};
	return r;
}

static void
assert_date(struct sla_date got, struct sla_date want)
{
	if (sla_date_cmp(got, want) != 0)
		fail_msg("got %04d-%02d-%02d, want %04d-%02d-%02d", got.year, got.month, got.day,
		         want.year, want.month, want.day);
}

static sla_time utc(int y, int mo, int d, int h, int mi, int s)
{
	int64_t days;
	assert_int_equal(sla_date_to_days(D(y, mo, d), &days), 0);
	return days * SLA_DAY + h * SLA_HOUR + mi * SLA_MINUTE + s;
}

static struct sla_warranty_terms contract(enum sla_warranty_rounding rounding)
{
	struct sla_warranty_terms t;
	sla_warranty_terms_init(&t, D(2025, 3, 2), 12);
	t.rounding = rounding;
	return t;
}

/* Base period of contract(): */
#define PERIOD_START utc(2025, 3, 1, 16, 0, 0)
#define BASE_END     utc(2026, 3, 1, 16, 0, 0)
#define MID          utc(2025, 6, 1, 0, 0, 0) /* well inside */

static struct sla_downtime OUT(int64_t fault, sla_time start, sla_duration len, int cause) {
	struct sla_downtime d = {fault, start, start + len, (enum sla_cause)cause};
	return d;
}

static void
compute_ok(const struct sla_warranty_terms *t, const struct sla_downtime *d, size_t n, sla_time now,
           struct sla_warranty_line *lines, struct sla_warranty_result *r)
{
	enum sla_warranty_error err = sla_warranty_compute(t, d, n, now, lines, LINES_MAX, r);
	if (err != SLA_WARRANTY_OK)
		fail_msg("compute failed: %s", sla_warranty_error_name(err));
	assert_ptr_equal(r->lines, lines);
	assert_int_equal(r->counted + r->not_counted, r->line_count);
}

static void base_period_from_acceptance(void **state)
{
	(void)state;
	static const struct {
		struct sla_date acceptance;
		int months;
		struct sla_date last_day;
		int end_y, end_m, end_d; /* UTC date of the exclusive end, 16:00Z */
	} cases[] = {
	    {{2025, 3, 2}, 12, {2026, 3, 1}, 2026, 3, 1},
	    /* S8: four years from 29 February: the anniversary exists */
	    {{2024, 2, 29}, 48, {2028, 2, 28}, 2028, 2, 28},
	    /* one year from 29 February: clamped to 28 Feb, last day the 27th */
	    {{2024, 2, 29}, 12, {2025, 2, 27}, 2025, 2, 27},
	    {{2025, 1, 31}, 1, {2025, 2, 27}, 2025, 2, 27},
	    {{2024, 1, 31}, 1, {2024, 2, 28}, 2024, 2, 28},
	    {{2025, 1, 1}, 12, {2025, 12, 31}, 2025, 12, 31},
	    {{2025, 1, 1}, SLA_WARRANTY_MONTHS_MAX, {2124, 12, 31}, 2124, 12, 31},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct sla_warranty_terms t;
		struct sla_warranty_result r;
		struct sla_warranty_line lines[LINES_MAX];
		sla_warranty_terms_init(&t, cases[i].acceptance, cases[i].months);
		compute_ok(&t, NULL, 0, 0, lines, &r);
		assert_date(r.acceptance, cases[i].acceptance);
		assert_date(r.base_last_day, cases[i].last_day);
		assert_date(r.last_day, cases[i].last_day);
		sla_time end = utc(cases[i].end_y, cases[i].end_m, cases[i].end_d, 16, 0, 0);
		assert_int_equal(r.base_end, end);
		assert_int_equal(r.end, end);
		assert_int_equal(r.extension, 0);
		assert_int_equal(r.extension_days, 0);
		assert_int_equal(r.line_count, 0);
		struct sla_date first;
		assert_int_equal(sla_date_add_days(cases[i].acceptance, -1, &first), 0);
		assert_int_equal(r.start,
		                 utc(first.year, first.month, first.day, 16, 0, 0)); /* +08:00 */
	}
}

/* S9: a 30-hour software outage: 2 days (ceil), 1 (floor), 30 h (exact). */
static void thirty_hour_outage_by_rounding(void **state)
{
	(void)state;
	static const struct {
		enum sla_warranty_rounding rounding;
		int64_t days;
		sla_duration granted;
		struct sla_date last_day;
		int64_t extension_days;
	} cases[] = {
	    {SLA_WARRANTY_ROUND_CEIL, 2, 2 * SLA_DAY, {2026, 3, 3}, 2},
	    {SLA_WARRANTY_ROUND_FLOOR, 1, SLA_DAY, {2026, 3, 2}, 1},
	    /* exact: ends 2026-03-03 06:00 local, so that day is the last */
	    {SLA_WARRANTY_ROUND_EXACT, 0, 30 * SLA_HOUR, {2026, 3, 3}, 2},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct sla_warranty_terms t = contract(cases[i].rounding);
		struct sla_downtime d[] = {OUT(42, MID, 30 * SLA_HOUR, SQ)};
		struct sla_warranty_result r;
		struct sla_warranty_line lines[LINES_MAX];
		compute_ok(&t, d, 1, 0, lines, &r);
		assert_int_equal(r.line_count, 1);
		assert_int_equal(r.counted, 1);
		const struct sla_warranty_line *l = &lines[0];
		assert_int_equal(l->verdict, SLA_WARRANTY_COUNTED);
		assert_int_equal(l->fault_count, 1);
		assert_int_equal(l->fault_ids[0], 42);
		assert_int_equal(l->cause, SLA_CAUSE_SOFTWARE_QUALITY);
		assert_int_equal(l->downtime, 30 * SLA_HOUR);
		assert_int_equal(l->hours, 30);
		assert_int_equal(l->days, cases[i].days);
		assert_int_equal(l->granted, cases[i].granted);
		assert_int_equal(l->rounding, cases[i].rounding);
		assert_int_equal(l->flags, 0);
		assert_non_null(l->why);
		assert_int_equal(r.end, BASE_END + cases[i].granted);
		assert_int_equal(l->end_after, r.end);
		assert_date(l->last_day_after, cases[i].last_day);
		assert_date(r.last_day, cases[i].last_day);
		assert_int_equal(r.extension, cases[i].granted);
		assert_int_equal(r.extension_days, cases[i].extension_days);
	}
}

static sla_duration flaps_extension(sla_duration every, sla_duration window,
                                    enum sla_warranty_rounding rounding, size_t *lines_out,
                                    struct sla_warranty_line *first)
{
	struct sla_warranty_terms t = contract(rounding);
	t.merge_window = window;
	struct sla_downtime d[10];
	for (int i = 0; i < 10; i++)
		d[i] = OUT(7, MID + i * every, 5 * SLA_MINUTE, VS);
	struct sla_warranty_result r;
	struct sla_warranty_line lines[LINES_MAX];
	compute_ok(&t, d, 10, 0, lines, &r);
	*lines_out = r.line_count;
	*first = lines[0];
	return r.extension;
}

/* S9 flaps: ten 5-minute outages of one fault. */
static void flapping_fault(void **state)
{
	(void)state;
	static const struct {
		sla_duration every, window;
		enum sla_warranty_rounding rounding;
		sla_duration extension;
		size_t lines;
	} cases[] = {
	    /* within the 30-min window: one outage of 2 h 20 min -> 1 day, not 10 */
	    {15 * SLA_MINUTE, SLA_WARRANTY_MERGE_WINDOW_DEFAULT, SLA_WARRANTY_ROUND_CEIL, SLA_DAY,
	     1},
	    {15 * SLA_MINUTE, SLA_WARRANTY_MERGE_WINDOW_DEFAULT, SLA_WARRANTY_ROUND_EXACT,
	     140 * SLA_MINUTE, 1},
	    /* spread beyond the window: each started day counts */
	    {2 * SLA_HOUR, SLA_WARRANTY_MERGE_WINDOW_DEFAULT, SLA_WARRANTY_ROUND_CEIL, 10 * SLA_DAY,
	     10},
	    {2 * SLA_HOUR, SLA_WARRANTY_MERGE_WINDOW_DEFAULT, SLA_WARRANTY_ROUND_FLOOR, 0, 10},
	    {2 * SLA_HOUR, SLA_WARRANTY_MERGE_WINDOW_DEFAULT, SLA_WARRANTY_ROUND_EXACT,
	     50 * SLA_MINUTE, 10},
	    /* "less than the window": a gap equal to the window does not merge */
	    {35 * SLA_MINUTE, 30 * SLA_MINUTE, SLA_WARRANTY_ROUND_CEIL, 10 * SLA_DAY, 10},
	    {35 * SLA_MINUTE, 30 * SLA_MINUTE + 1, SLA_WARRANTY_ROUND_CEIL, SLA_DAY, 1},
	    /* window 0 merges only touching intervals */
	    {5 * SLA_MINUTE, 0, SLA_WARRANTY_ROUND_CEIL, SLA_DAY, 1},
	    {6 * SLA_MINUTE, 0, SLA_WARRANTY_ROUND_CEIL, 10 * SLA_DAY, 10},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		size_t n;
		struct sla_warranty_line first;
		sla_duration ext =
		    flaps_extension(cases[i].every, cases[i].window, cases[i].rounding, &n, &first);
		if (ext != cases[i].extension || n != cases[i].lines)
			fail_msg("case %zu: extension %lld lines %zu", i, (long long)ext, n);
		if (n == 1) {
			assert_int_equal(first.interval_count, 10);
			assert_int_equal(first.flags, SLA_WARRANTY_FLAG_FLAPS);
			assert_int_equal(first.fault_count, 1);
			assert_int_equal(first.downtime, 9 * cases[i].every + 5 * SLA_MINUTE);
		}
	}
}

/* S9: causes outside the vendor's control extend nothing. */
static void excluded_causes_extend_nothing(void **state)
{
	(void)state;
	static const struct {
		enum sla_cause cause;
		enum sla_warranty_verdict verdict;
	} cases[] = {
	    {SLA_CAUSE_FORCE_MAJEURE, SLA_WARRANTY_EXCLUDED_CAUSE},
	    {SLA_CAUSE_CUSTOMER, SLA_WARRANTY_EXCLUDED_CAUSE},
	    {SLA_CAUSE_THIRD_PARTY, SLA_WARRANTY_EXCLUDED_CAUSE},
	    {SLA_CAUSE_DELIBERATE_DAMAGE, SLA_WARRANTY_EXCLUDED_CAUSE},
	    {SLA_CAUSE_UNKNOWN, SLA_WARRANTY_UNKNOWN_CAUSE},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct sla_warranty_terms t = contract(SLA_WARRANTY_ROUND_CEIL);
		struct sla_downtime d[] = {OUT(9, MID, 3 * SLA_DAY, cases[i].cause)};
		struct sla_warranty_result r;
		struct sla_warranty_line lines[LINES_MAX];
		compute_ok(&t, d, 1, 0, lines, &r);
		assert_int_equal(r.end, BASE_END);
		assert_int_equal(r.extension_days, 0);
		assert_int_equal(r.line_count, 1);
		assert_int_equal(r.not_counted, 1);
		assert_int_equal(lines[0].verdict, cases[i].verdict);
		assert_int_equal(lines[0].cause, cases[i].cause);
		assert_int_equal(lines[0].days, 0);
		assert_int_equal(lines[0].granted, 0);
		assert_int_equal(lines[0].downtime, 3 * SLA_DAY);
		assert_int_equal(lines[0].hours, 72);
		assert_int_equal(lines[0].end_after, BASE_END);
		assert_date(lines[0].last_day_after, D(2026, 3, 1));
		assert_non_null(strstr(lines[0].why, cases[i].verdict == SLA_WARRANTY_UNKNOWN_CAUSE
		                                         ? "not yet recorded"
		                                         : "not the vendor's"));
	}
}

/* Begins inside, ends after the end in force: counted whole. */
static void outage_running_past_the_end_counts_whole(void **state)
{
	(void)state;
	struct sla_warranty_terms t = contract(SLA_WARRANTY_ROUND_CEIL);
	/* 2026-03-01 20:00 local (inside), 72 h */
	struct sla_downtime d[] = {OUT(5, utc(2026, 3, 1, 12, 0, 0), 72 * SLA_HOUR, SQ)};
	struct sla_warranty_result r;
	struct sla_warranty_line lines[LINES_MAX];
	compute_ok(&t, d, 1, 0, lines, &r);
	assert_int_equal(lines[0].verdict, SLA_WARRANTY_COUNTED);
	assert_int_equal(lines[0].flags, SLA_WARRANTY_FLAG_PAST_END);
	assert_int_equal(lines[0].days, 3);
	assert_date(r.last_day, D(2026, 3, 4));
	assert_int_equal(r.end, utc(2026, 3, 4, 16, 0, 0));
}

/* Extensions earned earlier count: a later outage after the base end but
 * inside the extension counts, one after the extended end does not. */
static void extension_earned_earlier_counts(void **state)
{
	(void)state;
	struct sla_warranty_terms t = contract(SLA_WARRANTY_ROUND_CEIL);
	struct sla_downtime d[] = {
	    OUT(3, utc(2026, 3, 5, 0, 0, 0), SLA_HOUR, SQ), /* after the extended end */
	    OUT(2, utc(2026, 3, 2, 0, 0, 0), SLA_HOUR, VS), /* after base end, inside ext. */
	    OUT(1, MID, 30 * SLA_HOUR, SQ),                 /* +2 days */
	};
	struct sla_warranty_result r;
	struct sla_warranty_line lines[LINES_MAX];
	compute_ok(&t, d, ARRAY_LEN(d), 0, lines, &r);
	assert_int_equal(r.line_count, 3);
	assert_int_equal(r.counted, 2);
	assert_int_equal(r.not_counted, 1);
	assert_int_equal(lines[0].fault_ids[0], 1);
	assert_int_equal(lines[0].days, 2);
	assert_date(lines[0].last_day_after, D(2026, 3, 3));
	assert_int_equal(lines[1].fault_ids[0], 2);
	assert_int_equal(lines[1].verdict, SLA_WARRANTY_COUNTED);
	assert_int_equal(lines[1].days, 1);
	assert_date(lines[1].last_day_after, D(2026, 3, 4));
	assert_int_equal(lines[2].fault_ids[0], 3);
	assert_int_equal(lines[2].verdict, SLA_WARRANTY_AFTER_PERIOD);
	assert_int_equal(lines[2].days, 0);
	assert_int_equal(lines[2].granted, 0);
	assert_int_equal(lines[2].downtime, SLA_HOUR);
	assert_int_equal(lines[2].end_after, utc(2026, 3, 4, 16, 0, 0));
	assert_date(r.last_day, D(2026, 3, 4));
	assert_int_equal(r.extension_days, 3);

	/* without the first outage the second one is already too late */
	compute_ok(&t, d, 2, 0, lines, &r);
	assert_int_equal(r.counted, 0);
	assert_int_equal(lines[0].verdict, SLA_WARRANTY_AFTER_PERIOD);
	assert_int_equal(lines[1].verdict, SLA_WARRANTY_AFTER_PERIOD);
	assert_int_equal(r.end, BASE_END);
}

/* Overlapping outages of two faults count once; touching ones merge. */
static void overlapping_faults_counted_once(void **state)
{
	(void)state;
	static const struct {
		enum sla_warranty_rounding rounding;
		sla_duration start2, len2;
		sla_duration extension, downtime;
	} cases[] = {
	    /* [0, 30 h] and [6 h, 36 h]: one outage of 36 h, not 30 h + 30 h */
	    {SLA_WARRANTY_ROUND_CEIL, 6 * SLA_HOUR, 30 * SLA_HOUR, 2 * SLA_DAY, 36 * SLA_HOUR},
	    {SLA_WARRANTY_ROUND_FLOOR, 6 * SLA_HOUR, 30 * SLA_HOUR, SLA_DAY, 36 * SLA_HOUR},
	    {SLA_WARRANTY_ROUND_EXACT, 6 * SLA_HOUR, 30 * SLA_HOUR, 36 * SLA_HOUR, 36 * SLA_HOUR},
	    /* contained */
	    {SLA_WARRANTY_ROUND_CEIL, SLA_HOUR, SLA_HOUR, 2 * SLA_DAY, 30 * SLA_HOUR},
	    /* touching: [0, 30 h] + [30 h, 42 h] = 42 h -> 2 days, not 2 + 1 */
	    {SLA_WARRANTY_ROUND_CEIL, 30 * SLA_HOUR, 12 * SLA_HOUR, 2 * SLA_DAY, 42 * SLA_HOUR},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct sla_warranty_terms t = contract(cases[i].rounding);
		struct sla_downtime d[] = {
		    OUT(11, MID, 30 * SLA_HOUR, SQ),
		    OUT(12, MID + cases[i].start2, cases[i].len2, VS),
		};
		struct sla_warranty_result r;
		struct sla_warranty_line lines[LINES_MAX];
		compute_ok(&t, d, 2, 0, lines, &r);
		assert_int_equal(r.line_count, 1);
		assert_int_equal(r.extension, cases[i].extension);
		assert_int_equal(lines[0].downtime, cases[i].downtime);
		assert_int_equal(lines[0].fault_count, 2);
		assert_int_equal(lines[0].fault_ids[0], 11);
		assert_int_equal(lines[0].fault_ids[1], 12);
		assert_int_equal(lines[0].interval_count, 2);
		assert_int_equal(lines[0].flags, SLA_WARRANTY_FLAG_OVERLAP);
		assert_int_equal(lines[0].cause, SLA_CAUSE_SOFTWARE_QUALITY);
	}
}

/* Fault ids in a merged line: distinct, listed up to the array, then
 * flagged as truncated. */
static void merged_line_lists_faults(void **state)
{
	(void)state;
	struct sla_warranty_terms t = contract(SLA_WARRANTY_ROUND_CEIL);
	struct sla_downtime d[2 + SLA_WARRANTY_LINE_FAULTS + 2];
	size_t n = 0;
	/* fault 1 down for a day; fault 2 flaps twice inside it, 3 h apart
	 * (beyond the window: two outages, one fault) */
	d[n++] = OUT(1, MID, SLA_DAY, SQ);
	d[n++] = OUT(2, MID + SLA_HOUR, SLA_HOUR, SQ);
	d[n++] = OUT(2, MID + 5 * SLA_HOUR, SLA_HOUR, SQ);
	struct sla_warranty_result r;
	struct sla_warranty_line lines[LINES_MAX];
	compute_ok(&t, d, n, 0, lines, &r);
	assert_int_equal(r.line_count, 1);
	assert_int_equal(lines[0].fault_count, 2);
	assert_int_equal(lines[0].interval_count, 3);
	assert_false(lines[0].faults_truncated);
	assert_int_equal(lines[0].days, 1);

	/* more faults than the line lists */
	n = 0;
	for (int i = 0; i < SLA_WARRANTY_LINE_FAULTS + 3; i++)
		d[n++] = OUT(100 + i, MID + i * SLA_MINUTE, SLA_HOUR, VS);
	compute_ok(&t, d, n, 0, lines, &r);
	assert_int_equal(r.line_count, 1);
	assert_int_equal(lines[0].fault_count, SLA_WARRANTY_LINE_FAULTS);
	assert_true(lines[0].faults_truncated);
	assert_int_equal(lines[0].interval_count, SLA_WARRANTY_LINE_FAULTS + 3);
	for (int i = 0; i < SLA_WARRANTY_LINE_FAULTS; i++)
		assert_int_equal(lines[0].fault_ids[i], 100 + i);

	/* a ninth fault joining in front pushes the last listed one out */
	d[n++] = OUT(99, MID - SLA_HOUR, SLA_HOUR, SQ); /* touches the group */
	compute_ok(&t, d, n, 0, lines, &r);
	assert_int_equal(r.line_count, 1);
	assert_int_equal(lines[0].fault_ids[0], 99);
	assert_true(lines[0].faults_truncated);
}

/* Equal starts: duplicate reports merge, the ledger order is fixed
 * (counted before not counted, then by end, fault, cause). */
static void ties_and_duplicates(void **state)
{
	(void)state;
	struct sla_warranty_terms t = contract(SLA_WARRANTY_ROUND_CEIL);
	struct sla_downtime d[] = {
	    OUT(4, MID, 2 * SLA_HOUR, SLA_CAUSE_CUSTOMER),
	    OUT(3, MID, 2 * SLA_HOUR, SLA_CAUSE_THIRD_PARTY),
	    OUT(3, MID, 2 * SLA_HOUR, SLA_CAUSE_CUSTOMER),
	    OUT(3, MID, SLA_HOUR, SLA_CAUSE_CUSTOMER),
	    OUT(8, MID, SLA_HOUR, SQ),
	    OUT(8, MID, SLA_HOUR, SQ), /* the same report twice */
	    OUT(8, MID, SLA_HOUR, VS),
	};
	struct sla_warranty_result r;
	struct sla_warranty_line lines[LINES_MAX];
	compute_ok(&t, d, ARRAY_LEN(d), 0, lines, &r);
	assert_int_equal(r.line_count, 5);
	assert_int_equal(lines[0].verdict, SLA_WARRANTY_COUNTED);
	assert_int_equal(lines[0].interval_count, 3);
	assert_int_equal(lines[0].flags, SLA_WARRANTY_FLAG_FLAPS);
	assert_int_equal(lines[0].cause, SLA_CAUSE_SOFTWARE_QUALITY);
	assert_int_equal(lines[0].days, 1);
	static const struct {
		sla_duration len;
		int64_t fault;
		enum sla_cause cause;
	} order[] = {
	    {SLA_HOUR, 3, SLA_CAUSE_CUSTOMER},
	    {2 * SLA_HOUR, 3, SLA_CAUSE_CUSTOMER},
	    {2 * SLA_HOUR, 3, SLA_CAUSE_THIRD_PARTY},
	    {2 * SLA_HOUR, 4, SLA_CAUSE_CUSTOMER},
	};
	for (size_t i = 0; i < ARRAY_LEN(order); i++) {
		const struct sla_warranty_line *l = &lines[i + 1];
		assert_int_equal(l->verdict, SLA_WARRANTY_EXCLUDED_CAUSE);
		assert_int_equal(l->downtime, order[i].len);
		assert_int_equal(l->fault_ids[0], order[i].fault);
		assert_int_equal(l->cause, order[i].cause);
	}
}

/* An outage still going on is measured up to now. */
static void ongoing_outage_measured_to_now(void **state)
{
	(void)state;
	struct sla_warranty_terms t = contract(SLA_WARRANTY_ROUND_CEIL);
	struct sla_downtime d[] = {{77, MID, SLA_TIME_NEVER, SLA_CAUSE_SOFTWARE_QUALITY}};
	struct sla_warranty_result r;
	struct sla_warranty_line lines[LINES_MAX];
	compute_ok(&t, d, 1, MID + 50 * SLA_HOUR, lines, &r);
	assert_int_equal(lines[0].flags, SLA_WARRANTY_FLAG_ONGOING);
	assert_int_equal(lines[0].end, MID + 50 * SLA_HOUR);
	assert_int_equal(lines[0].downtime, 50 * SLA_HOUR);
	assert_int_equal(lines[0].days, 3);
	assert_int_equal(r.extension_days, 3);
	/* an hour later nothing changed but now */
	compute_ok(&t, d, 1, MID + 51 * SLA_HOUR, lines, &r);
	assert_int_equal(r.extension_days, 3);
	compute_ok(&t, d, 1, MID + 73 * SLA_HOUR, lines, &r);
	assert_int_equal(r.extension_days, 4);
	/* a start after now (clock skew) measures zero, not an error */
	compute_ok(&t, d, 1, MID - SLA_HOUR, lines, &r);
	assert_int_equal(lines[0].verdict, SLA_WARRANTY_COUNTED);
	assert_int_equal(lines[0].downtime, 0);
	assert_int_equal(r.extension, 0);
	/* an ongoing excluded outage is reported with its length so far */
	d[0].cause = SLA_CAUSE_CUSTOMER;
	compute_ok(&t, d, 1, MID + SLA_HOUR, lines, &r);
	assert_int_equal(lines[0].verdict, SLA_WARRANTY_EXCLUDED_CAUSE);
	assert_int_equal(lines[0].downtime, SLA_HOUR);
	assert_int_equal(lines[0].flags, SLA_WARRANTY_FLAG_ONGOING);
}

/* Period boundaries are local dates: last day 2026-03-01 in Shanghai ends
 * at 2026-03-01T16:00:00Z. */
static void local_date_boundary_shanghai(void **state)
{
	(void)state;
	static const struct {
		int h, mi, s;
		enum sla_warranty_verdict verdict;
		struct sla_date last_day;
	} cases[] = {
	    {15, 59, 59, SLA_WARRANTY_COUNTED, {2026, 3, 2}},
	    {16, 0, 0, SLA_WARRANTY_AFTER_PERIOD, {2026, 3, 1}},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct sla_warranty_terms t = contract(SLA_WARRANTY_ROUND_CEIL);
		sla_time at = utc(2026, 3, 1, cases[i].h, cases[i].mi, cases[i].s);
		struct sla_downtime d[] = {OUT(1, at, SLA_HOUR, SQ)};
		struct sla_warranty_result r;
		struct sla_warranty_line lines[LINES_MAX];
		compute_ok(&t, d, 1, 0, lines, &r);
		assert_int_equal(r.base_end, utc(2026, 3, 1, 16, 0, 0));
		assert_int_equal(lines[0].verdict, cases[i].verdict);
		assert_date(r.last_day, cases[i].last_day);
		assert_true(sla_warranty_is_free_on(&r, at) == (cases[i].h == 15));
	}
}

/* Outages before the acceptance date count only from the period start. */
static void outage_before_acceptance(void **state)
{
	(void)state;
	const struct {
		sla_time start, end;
		enum sla_warranty_verdict verdict;
		unsigned flags;
		sla_duration downtime;
		int64_t days;
	} cases[] = {
	    /* 2025-02-28 00:00Z .. 2025-03-02 16:00Z: 24 h inside -> 1 day */
	    {utc(2025, 2, 28, 0, 0, 0), utc(2025, 3, 2, 16, 0, 0), SLA_WARRANTY_COUNTED,
	     SLA_WARRANTY_FLAG_CLIPPED, SLA_DAY, 1},
	    {utc(2025, 2, 28, 0, 0, 0), utc(2025, 3, 2, 16, 0, 1), SLA_WARRANTY_COUNTED,
	     SLA_WARRANTY_FLAG_CLIPPED, SLA_DAY + 1, 2},
	    /* ends exactly as the period starts: nothing inside */
	    {utc(2025, 2, 28, 0, 0, 0), utc(2025, 3, 1, 16, 0, 0), SLA_WARRANTY_BEFORE_PERIOD, 0,
	     40 * SLA_HOUR, 0},
	    {utc(2025, 1, 1, 0, 0, 0), utc(2025, 1, 2, 0, 0, 0), SLA_WARRANTY_BEFORE_PERIOD, 0,
	     SLA_DAY, 0},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct sla_warranty_terms t = contract(SLA_WARRANTY_ROUND_CEIL);
		struct sla_downtime d[] = {
		    {1, cases[i].start, cases[i].end, SLA_CAUSE_SOFTWARE_QUALITY}};
		struct sla_warranty_result r;
		struct sla_warranty_line lines[LINES_MAX];
		compute_ok(&t, d, 1, 0, lines, &r);
		assert_int_equal(lines[0].verdict, cases[i].verdict);
		assert_int_equal(lines[0].flags, cases[i].flags);
		assert_int_equal(lines[0].downtime, cases[i].downtime);
		assert_int_equal(lines[0].days, cases[i].days);
		assert_int_equal(lines[0].outage_start, cases[i].start);
		if (cases[i].flags & SLA_WARRANTY_FLAG_CLIPPED)
			assert_int_equal(lines[0].start, PERIOD_START);
		assert_int_equal(r.extension_days, cases[i].days);
	}
}

/* A test-only zone with DST: +01:00, +02:00 from 2026-03-29 00:00 local
 * (clocks jump to 01:00) to 2026-10-25 01:00 local. */
struct dst_rule {
	sla_time on, off;
};

static int32_t dst_offset(const void *ctx, sla_time t)
{
	const struct dst_rule *r = ctx;
	return t >= r->on && t < r->off ? 7200 : 3600;
}

/* Whole days move the end across a DST change by calendar days, so it stays
 * at local midnight; exact mode moves it by the seconds. */
static void extension_across_dst(void **state)
{
	(void)state;
	struct dst_rule rule = {utc(2026, 3, 28, 23, 0, 0), utc(2026, 10, 24, 23, 0, 0)};
	struct sla_warranty_terms t;
	sla_warranty_terms_init(&t, D(2026, 2, 27), 1); /* last day 2026-03-26 */
	t.tz.utc_offset = dst_offset;
	t.tz.ctx = &rule;
	struct sla_downtime d[] = {OUT(1, utc(2026, 3, 10, 0, 0, 0), 49 * SLA_HOUR, SQ)};
	struct sla_warranty_result r;
	struct sla_warranty_line lines[LINES_MAX];
	compute_ok(&t, d, 1, 0, lines, &r);
	assert_int_equal(r.start, utc(2026, 2, 26, 23, 0, 0));
	assert_int_equal(r.base_end, utc(2026, 3, 26, 23, 0, 0));
	assert_int_equal(lines[0].days, 3);
	assert_date(r.last_day, D(2026, 3, 29));
	assert_int_equal(r.end, utc(2026, 3, 29, 22, 0, 0));        /* 2026-03-30 00:00 +02:00 */
	assert_int_equal(lines[0].granted, 3 * SLA_DAY - SLA_HOUR); /* a 23-hour day */
	assert_int_equal(r.extension_days, 3);

	t.rounding = SLA_WARRANTY_ROUND_EXACT;
	compute_ok(&t, d, 1, 0, lines, &r);
	assert_int_equal(r.end, utc(2026, 3, 26, 23, 0, 0) + 49 * SLA_HOUR);
	assert_date(r.last_day, D(2026, 3, 29)); /* ends 2026-03-29 02:00 local */
	assert_int_equal(r.extension, 49 * SLA_HOUR);
}

/* S10 and the days-left helper. */
static void free_on_and_days_left(void **state)
{
	(void)state;
	struct sla_warranty_terms t = contract(SLA_WARRANTY_ROUND_CEIL);
	struct sla_warranty_result r;
	struct sla_warranty_line lines[LINES_MAX];
	compute_ok(&t, NULL, 0, 0, lines, &r);
	assert_false(sla_warranty_is_free_on(&r, PERIOD_START - 1));
	assert_true(sla_warranty_is_free_on(&r, PERIOD_START));
	assert_true(sla_warranty_is_free_on(&r, BASE_END - 1));
	assert_false(sla_warranty_is_free_on(&r, BASE_END));
	assert_false(sla_warranty_is_free_on(NULL, BASE_END - 1));

	const struct sla_tz sh = sla_tz_fixed(SLA_TZ_SHANGHAI_OFFSET);
	const struct sla_tz far_east = sla_tz_fixed(14 * 3600);
	static const struct {
		int zone;        /* 0 Shanghai, 1 +14:00 */
		sla_duration at; /* relative to PERIOD_START */
		int64_t left;
	} cases[] = {
	    {0, -100 * SLA_DAY, 365},
	    {0, 0, 365},
	    {0, SLA_DAY - 1, 365},
	    {0, SLA_DAY, 364},
	    {0, 365 * SLA_DAY - 1, 1},
	    {0, 365 * SLA_DAY, 0},
	    {0, 400 * SLA_DAY, 0},
	    /* another zone may already be past the last day: never negative */
	    {1, 365 * SLA_DAY - 1, 0},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		int64_t left = -1;
		assert_int_equal(sla_warranty_days_left(&r, cases[i].zone ? &far_east : &sh,
		                                        PERIOD_START + cases[i].at, &left),
		                 0);
		assert_int_equal(left, cases[i].left);
	}
	int64_t left;
	const struct sla_tz broken = sla_tz_fixed(99 * 3600);
	assert_int_equal(sla_warranty_days_left(NULL, &sh, 0, &left), -1);
	assert_int_equal(sla_warranty_days_left(&r, NULL, 0, &left), -1);
	assert_int_equal(sla_warranty_days_left(&r, &sh, 0, NULL), -1);
	assert_int_equal(sla_warranty_days_left(&r, &broken, PERIOD_START, &left), -1);
	/* a result whose last day is corrupt */
	struct sla_warranty_result bad = r;
	bad.last_day = D(2026, 2, 30);
	assert_int_equal(sla_warranty_days_left(&bad, &sh, PERIOD_START, &left), -1);
}

/* A zone that is sane at instant 0 only: the terms pass the first check,
 * the period start fails. */
static int32_t sane_at_zero_only(const void *ctx, sla_time t)
{
	(void)ctx;
	return t == 0 ? 0 : 999999;
}

static void invalid_input_is_named(void **state)
{
	(void)state;
	struct sla_warranty_line lines[LINES_MAX];
	struct sla_warranty_result r;
	struct sla_downtime ok1[] = {OUT(1, MID, SLA_HOUR, SQ)};
	static const struct {
		const char *what;
		int field; /* which change to apply */
		enum sla_warranty_error err;
		size_t index;
	} cases[] = {
	    {"bad date", 0, SLA_WARRANTY_E_DATE, 0},
	    {"months 0", 1, SLA_WARRANTY_E_MONTHS, 0},
	    {"months -1", 2, SLA_WARRANTY_E_MONTHS, 0},
	    {"months 1201", 3, SLA_WARRANTY_E_MONTHS, 0},
	    {"rounding", 4, SLA_WARRANTY_E_ROUNDING, 0},
	    {"window", 5, SLA_WARRANTY_E_MERGE_WINDOW, 0},
	    {"tz offset", 6, SLA_WARRANTY_E_TZ, 0},
	    {"tz start", 7, SLA_WARRANTY_E_TZ, 0},
	    {"end before start", 8, SLA_WARRANTY_E_INTERVAL, 1},
	    {"cause high", 9, SLA_WARRANTY_E_CAUSE, 1},
	    {"cause negative", 10, SLA_WARRANTY_E_CAUSE, 1},
	    {"start range", 11, SLA_WARRANTY_E_INSTANT, 1},
	    {"end range", 12, SLA_WARRANTY_E_INSTANT, 1},
	    {"now range", 13, SLA_WARRANTY_E_INSTANT, 2},
	    {"period past 9999", 14, SLA_WARRANTY_E_RANGE, 0},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct sla_warranty_terms t = contract(SLA_WARRANTY_ROUND_CEIL);
		struct sla_downtime d[] = {OUT(1, MID, SLA_HOUR, SQ), OUT(2, MID, SLA_HOUR, SQ)};
		sla_time now = MID;
		switch (cases[i].field) {
		case 0:
			t.acceptance = D(2025, 2, 29);
			break;
		case 1:
			t.months = 0;
			break;
		case 2:
			t.months = -1;
			break;
		case 3:
			t.months = SLA_WARRANTY_MONTHS_MAX + 1;
			break;
		case 4:
			t.rounding = SLA_WARRANTY_ROUND_COUNT;
			break;
		case 5:
			t.merge_window = -1;
			break;
		case 6:
			t.tz = sla_tz_fixed(-19 * 3600);
			break;
		case 7:
			t.tz.utc_offset = sane_at_zero_only;
			break;
		case 8:
			d[1].end = d[1].start - 1;
			break;
		case 9:
			d[1].cause = SLA_CAUSE_COUNT;
			break;
		case 10:
			d[1].cause = (enum sla_cause) - 1;
			break;
		case 11:
			d[1].start = SLA_CALENDAR_TIME_MIN - 1;
			break;
		case 12:
			d[1].end = SLA_CALENDAR_TIME_MAX + 1;
			break;
		case 13:
			now = SLA_CALENDAR_TIME_MAX + 1;
			break;
		default:
			t.acceptance = D(9999, 6, 1);
			break;
		}
		r.error_index = 99;
		enum sla_warranty_error err = sla_warranty_compute(&t, d, 2, now, lines, 2, &r);
		if (err != cases[i].err)
			fail_msg("%s: got %s", cases[i].what, sla_warranty_error_name(err));
		if (cases[i].index != 0)
			assert_int_equal(r.error_index, cases[i].index);
	}

	struct sla_warranty_terms t = contract(SLA_WARRANTY_ROUND_CEIL);
	assert_int_equal(sla_warranty_compute(NULL, ok1, 1, 0, lines, 1, &r), SLA_WARRANTY_E_NULL);
	assert_int_equal(sla_warranty_compute(&t, ok1, 1, 0, lines, 1, NULL), SLA_WARRANTY_E_NULL);
	assert_int_equal(sla_warranty_compute(&t, NULL, 1, 0, lines, 1, &r), SLA_WARRANTY_E_NULL);
	assert_int_equal(sla_warranty_compute(&t, ok1, 1, 0, NULL, 1, &r), SLA_WARRANTY_E_NULL);
	assert_int_equal(sla_warranty_compute(&t, ok1, 1, 0, lines, 0, &r),
	                 SLA_WARRANTY_E_CAPACITY);
	assert_int_equal(sla_warranty_compute(&t, NULL, 0, 0, NULL, 0, &r), SLA_WARRANTY_OK);
	assert_int_equal(r.line_count, 0);
}

/* The end cannot be carried past 9999-12-31. */
static void extension_past_year_9999_is_range_error(void **state)
{
	(void)state;
	static const struct {
		enum sla_warranty_rounding rounding;
		sla_duration len; /* from 9999-11-15T00:00Z */
	} cases[] = {
	    {SLA_WARRANTY_ROUND_CEIL, 40 * SLA_DAY},
	    {SLA_WARRANTY_ROUND_EXACT, 40 * SLA_DAY},
	    /* exact: the end fits as an instant but its local date is 10000-01-01 */
	    {SLA_WARRANTY_ROUND_EXACT, 0},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct sla_warranty_terms t;
		sla_warranty_terms_init(&t, D(9999, 11, 1), 1); /* last day 9999-11-30 */
		t.rounding = cases[i].rounding;
		sla_time start = utc(9999, 11, 15, 0, 0, 0);
		sla_time base_end = utc(9999, 11, 30, 16, 0, 0);
		sla_duration len = cases[i].len;
		if (len == 0)
			len = (SLA_CALENDAR_TIME_MAX - SLA_HOUR) - base_end;
		struct sla_downtime d[] = {OUT(1, start, len, SQ)};
		struct sla_warranty_line lines[LINES_MAX];
		struct sla_warranty_result r;
		assert_int_equal(sla_warranty_compute(&t, d, 1, 0, lines, 1, &r),
		                 SLA_WARRANTY_E_RANGE);
	}
}

static void names_and_defaults(void **state)
{
	(void)state;
	enum sla_warranty_rounding rd;
	for (int i = 0; i < SLA_WARRANTY_ROUND_COUNT; i++) {
		const char *name = sla_warranty_rounding_name((enum sla_warranty_rounding)i);
		assert_int_equal(sla_warranty_rounding_parse(name, &rd), 0);
		assert_int_equal(rd, i);
	}
	assert_string_equal(sla_warranty_rounding_name(SLA_WARRANTY_ROUND_CEIL), "ceil");
	assert_string_equal(sla_warranty_rounding_name(SLA_WARRANTY_ROUND_COUNT), "invalid");
	assert_int_equal(sla_warranty_rounding_parse("round", &rd), -1);
	assert_int_equal(sla_warranty_rounding_parse(NULL, &rd), -1);
	for (int i = 0; i < SLA_WARRANTY_VERDICT_COUNT; i++)
		assert_string_not_equal(sla_warranty_verdict_name((enum sla_warranty_verdict)i),
		                        "invalid");
	assert_string_equal(sla_warranty_verdict_name(SLA_WARRANTY_VERDICT_COUNT), "invalid");
	for (int i = 0; i < SLA_WARRANTY_E_COUNT; i++)
		assert_string_not_equal(sla_warranty_error_name((enum sla_warranty_error)i),
		                        "invalid");
	assert_string_equal(sla_warranty_error_name(SLA_WARRANTY_E_CAPACITY), "capacity");
	assert_string_equal(sla_warranty_error_name(SLA_WARRANTY_E_COUNT), "invalid");

	struct sla_warranty_terms t;
	sla_warranty_terms_init(&t, D(2026, 1, 1), 48);
	assert_int_equal(t.rounding, SLA_WARRANTY_ROUND_CEIL);
	assert_int_equal(t.merge_window, 1800);
	assert_null(t.tz.utc_offset);
	assert_int_equal(t.tz.fixed_offset, 8 * 3600);
	assert_int_equal(t.months, 48);
}

/* ---- property test ------------------------------------------------- */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int64_t rnd(uint64_t *s, int64_t lo, int64_t hi) /* [lo, hi] */
{
	return lo + (int64_t)(splitmix(s) % (uint64_t)(hi - lo + 1));
}

static void assert_same_line(const struct sla_warranty_line *a, const struct sla_warranty_line *b)
{
	assert_int_equal(a->verdict, b->verdict);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->cause, b->cause);
	assert_int_equal(a->fault_count, b->fault_count);
	for (size_t k = 0; k < a->fault_count; k++)
		assert_int_equal(a->fault_ids[k], b->fault_ids[k]);
	assert_int_equal(a->faults_truncated, b->faults_truncated);
	assert_int_equal(a->interval_count, b->interval_count);
	assert_int_equal(a->outage_start, b->outage_start);
	assert_int_equal(a->start, b->start);
	assert_int_equal(a->end, b->end);
	assert_int_equal(a->downtime, b->downtime);
	assert_int_equal(a->hours, b->hours);
	assert_int_equal(a->days, b->days);
	assert_int_equal(a->granted, b->granted);
	assert_int_equal(a->rounding, b->rounding);
	assert_int_equal(a->end_after, b->end_after);
	assert_date(a->last_day_after, b->last_day_after);
	assert_ptr_equal(a->why, b->why);
}

static void assert_same_period(const struct sla_warranty_result *a,
                               const struct sla_warranty_result *b)
{
	assert_int_equal(a->start, b->start);
	assert_int_equal(a->base_end, b->base_end);
	assert_int_equal(a->end, b->end);
	assert_date(a->last_day, b->last_day);
	assert_int_equal(a->extension, b->extension);
	assert_int_equal(a->extension_days, b->extension_days);
	assert_int_equal(a->counted, b->counted);
}

static void property_random_outage_sets(void **state)
{
	(void)state;
	static const sla_duration windows[] = {0, 600, 1800, 7200};
	uint64_t seed = 20260301;
	for (int iter = 0; iter < 400; iter++) {
		struct sla_warranty_terms t =
		    contract((enum sla_warranty_rounding)rnd(&seed, 0, 2));
		t.merge_window = windows[rnd(&seed, 0, 3)];
		sla_time now = BASE_END + rnd(&seed, -30, 60) * SLA_DAY;
		struct sla_downtime d[LINES_MAX];
		size_t n = (size_t)rnd(&seed, 0, 24);
		/* half the sets on a coarse grid, so equal starts and ends occur */
		sla_duration grain = iter % 2 ? 1 : 6 * SLA_HOUR;
		for (size_t i = 0; i < n; i++) {
			d[i].fault_id = rnd(&seed, 1, 5);
			d[i].start = PERIOD_START + grain * rnd(&seed, -5 * SLA_DAY / grain,
			                                        380 * SLA_DAY / grain);
			d[i].end = rnd(&seed, 0, 9) == 0
			               ? SLA_TIME_NEVER
			               : d[i].start + grain * rnd(&seed, 0, 3 * SLA_DAY / grain);
			d[i].cause = (enum sla_cause)rnd(&seed, 0, SLA_CAUSE_COUNT - 1);
		}
		struct sla_warranty_line la[LINES_MAX], lb[LINES_MAX];
		struct sla_warranty_result ra, rb;
		compute_ok(&t, d, n, now, la, &ra);

		/* never negative; the ledger adds up */
		assert_true(ra.extension >= 0 && ra.extension_days >= 0);
		assert_true(ra.end >= ra.base_end);
		sla_duration granted = 0;
		int64_t days = 0;
		for (size_t i = 0; i < ra.line_count; i++) {
			assert_true(la[i].days >= 0 && la[i].granted >= 0 && la[i].downtime >= 0);
			if (i > 0)
				assert_true(la[i - 1].outage_start <= la[i].outage_start);
			granted += la[i].granted;
			days += la[i].days;
		}
		assert_int_equal(granted, ra.extension);
		if (t.rounding != SLA_WARRANTY_ROUND_EXACT)
			assert_int_equal(days, ra.extension_days);

		/* independent of input order */
		struct sla_downtime shuffled[LINES_MAX + 1];
		memcpy(shuffled, d, n * sizeof(*d));
		for (size_t i = n; i > 1; i--) {
			size_t j = (size_t)rnd(&seed, 0, (int64_t)i - 1);
			struct sla_downtime tmp = shuffled[i - 1];
			shuffled[i - 1] = shuffled[j];
			shuffled[j] = tmp;
		}
		compute_ok(&t, shuffled, n, now, lb, &rb);
		assert_same_period(&ra, &rb);
		assert_int_equal(ra.line_count, rb.line_count);
		for (size_t i = 0; i < ra.line_count; i++)
			assert_same_line(&la[i], &lb[i]);

		/* an excluded-cause outage anywhere changes nothing that counts */
		static const enum sla_cause excluded[] = {
		    SLA_CAUSE_UNKNOWN,       SLA_CAUSE_CUSTOMER,          SLA_CAUSE_THIRD_PARTY,
		    SLA_CAUSE_FORCE_MAJEURE, SLA_CAUSE_DELIBERATE_DAMAGE,
		};
		size_t pos = (size_t)rnd(&seed, 0, (int64_t)n);
		memmove(shuffled + pos + 1, shuffled + pos, (n - pos) * sizeof(*shuffled));
		shuffled[pos].fault_id = rnd(&seed, 1, 5);
		shuffled[pos].start = PERIOD_START + rnd(&seed, -5 * SLA_DAY, 380 * SLA_DAY);
		shuffled[pos].end = shuffled[pos].start + rnd(&seed, 0, 3 * SLA_DAY);
		shuffled[pos].cause = excluded[rnd(&seed, 0, 4)];
		compute_ok(&t, shuffled, n + 1, now, lb, &rb);
		assert_same_period(&ra, &rb);
		assert_int_equal(rb.line_count, ra.line_count + 1);
		size_t j = 0;
		for (size_t i = 0; i < ra.line_count; i++) {
			if (la[i].verdict != SLA_WARRANTY_COUNTED)
				continue;
			while (lb[j].verdict != SLA_WARRANTY_COUNTED)
				j++;
			assert_same_line(&la[i], &lb[j++]);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(base_period_from_acceptance),
	    cmocka_unit_test(thirty_hour_outage_by_rounding),
	    cmocka_unit_test(flapping_fault),
	    cmocka_unit_test(excluded_causes_extend_nothing),
	    cmocka_unit_test(outage_running_past_the_end_counts_whole),
	    cmocka_unit_test(extension_earned_earlier_counts),
	    cmocka_unit_test(overlapping_faults_counted_once),
	    cmocka_unit_test(merged_line_lists_faults),
	    cmocka_unit_test(ties_and_duplicates),
	    cmocka_unit_test(ongoing_outage_measured_to_now),
	    cmocka_unit_test(local_date_boundary_shanghai),
	    cmocka_unit_test(outage_before_acceptance),
	    cmocka_unit_test(extension_across_dst),
	    cmocka_unit_test(free_on_and_days_left),
	    cmocka_unit_test(invalid_input_is_named),
	    cmocka_unit_test(extension_past_year_9999_is_range_error),
	    cmocka_unit_test(names_and_defaults),
	    cmocka_unit_test(property_random_outage_sets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
