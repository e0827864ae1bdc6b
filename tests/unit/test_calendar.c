/*
 * test_calendar.c - civil dates and caller-supplied zones, with known
 * answers: day numbers, month-end clamping (S8), "YYYY-MM-DD", local dates
 * in Asia/Shanghai and the start of a day across DST changes.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "calendar.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

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

/* An instant from a UTC civil time. */
static sla_time utc(int y, int mo, int d, int h, int mi, int s)
{
	int64_t days;
	assert_int_equal(sla_date_to_days(D(y, mo, d), &days), 0);
	return days * SLA_DAY + h * SLA_HOUR + mi * SLA_MINUTE + s;
}

static void leap_years_and_month_lengths(void **state)
{
	(void)state;
	static const struct {
		int year, month, days;
	} cases[] = {
	    {2024, 2, 29},  {2025, 2, 28}, {2000, 2, 29}, {1900, 2, 28},
	    {2100, 2, 28},  {1600, 2, 29}, {2026, 1, 31}, {2026, 4, 30},
	    {2026, 12, 31}, {2026, 0, 0},  {2026, 13, 0},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		assert_int_equal(sla_date_days_in_month(cases[i].year, cases[i].month),
		                 cases[i].days);
	assert_true(sla_date_is_leap(2024));
	assert_false(sla_date_is_leap(2100));
	assert_true(sla_date_is_leap(2000));
	assert_false(sla_date_is_leap(2026));
}

static void date_validity(void **state)
{
	(void)state;
	static const struct {
		struct sla_date d;
		bool valid;
	} cases[] = {
	    {{2024, 2, 29}, true},  {{2025, 2, 29}, false}, {{2026, 4, 31}, false},
	    {{2026, 0, 1}, false},  {{2026, 13, 1}, false}, {{2026, 1, 0}, false},
	    {{1, 1, 1}, true},      {{0, 12, 31}, false},   {{9999, 12, 31}, true},
	    {{10000, 1, 1}, false}, {{-1, 1, 1}, false},    {{2026, 12, 32}, false},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		assert_int_equal(sla_date_valid(cases[i].d), cases[i].valid);
}

static void day_numbers_known_answers(void **state)
{
	(void)state;
	static const struct {
		struct sla_date d;
		int64_t days;
	} cases[] = {
	    {{1970, 1, 1}, 0},      {{1969, 12, 31}, -1},  {{2000, 3, 1}, 11017},
	    {{2024, 2, 29}, 19782}, {{2026, 3, 1}, 20513}, {{1600, 2, 29}, -135081},
	    {{2100, 3, 1}, 47541},  {{1, 1, 1}, -719162},  {{9999, 12, 31}, 2932896},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		int64_t days;
		struct sla_date back;
		assert_int_equal(sla_date_to_days(cases[i].d, &days), 0);
		assert_int_equal(days, cases[i].days);
		assert_int_equal(sla_date_from_days(cases[i].days, &back), 0);
		assert_date(back, cases[i].d);
	}
	int64_t days;
	struct sla_date d;
	assert_int_equal(sla_date_to_days(D(2025, 2, 29), &days), -1);
	assert_int_equal(sla_date_from_days(-719163, &d), -1);
	assert_int_equal(sla_date_from_days(2932897, &d), -1);
	assert_int_equal(sla_date_from_days(INT64_MIN, &d), -1);
}

/* Every day of the supported range: day numbers are consecutive dates. */
static void day_numbers_round_trip_every_day(void **state)
{
	(void)state;
	struct sla_date prev = {0, 12, 31};
	for (int64_t n = -719162; n <= 2932896; n++) {
		struct sla_date d;
		int64_t back;
		assert_int_equal(sla_date_from_days(n, &d), 0);
		assert_true(sla_date_valid(d));
		assert_int_equal(sla_date_to_days(d, &back), 0);
		if (back != n)
			fail_msg("day %lld round-trips to %lld", (long long)n, (long long)back);
		/* d is the successor of prev */
		if (d.day == 1) {
			assert_int_equal(prev.day, sla_date_days_in_month(prev.year, prev.month));
			if (d.month == 1)
				assert_true(prev.month == 12 && prev.year + 1 == d.year);
			else
				assert_true(prev.month + 1 == d.month && prev.year == d.year);
		} else {
			assert_true(prev.day + 1 == d.day && prev.month == d.month &&
			            prev.year == d.year);
		}
		prev = d;
	}
}

static void add_days_table(void **state)
{
	(void)state;
	static const struct {
		struct sla_date d;
		int64_t n;
		int rc;
		struct sla_date want;
	} cases[] = {
	    {{2026, 3, 1}, -1, 0, {2026, 2, 28}},     {{2024, 2, 28}, 1, 0, {2024, 2, 29}},
	    {{2024, 12, 31}, 1, 0, {2025, 1, 1}},     {{2024, 1, 1}, 366, 0, {2025, 1, 1}},
	    {{2026, 3, 1}, 0, 0, {2026, 3, 1}},       {{9999, 12, 31}, 1, -1, {0, 0, 0}},
	    {{1, 1, 1}, -1, -1, {0, 0, 0}},           {{2026, 2, 30}, 1, -1, {0, 0, 0}},
	    {{2026, 1, 1}, INT64_MAX, -1, {0, 0, 0}}, {{2026, 1, 1}, INT64_MIN, -1, {0, 0, 0}},
	    {{1, 1, 1}, 3652058, 0, {9999, 12, 31}},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct sla_date got = {0, 0, 0};
		assert_int_equal(sla_date_add_days(cases[i].d, cases[i].n, &got), cases[i].rc);
		if (cases[i].rc == 0)
			assert_date(got, cases[i].want);
	}
}

/* S8: months from a date, clamped to the end of a shorter month. */
static void add_months_clamps_month_end(void **state)
{
	(void)state;
	static const struct {
		struct sla_date d;
		int n;
		int rc;
		struct sla_date want;
	} cases[] = {
	    {{2025, 1, 31}, 1, 0, {2025, 2, 28}},    {{2024, 1, 31}, 1, 0, {2024, 2, 29}},
	    {{2024, 2, 29}, 48, 0, {2028, 2, 29}},   {{2024, 2, 29}, 12, 0, {2025, 2, 28}},
	    {{2024, 2, 29}, 1, 0, {2024, 3, 29}},    {{2025, 3, 31}, 1, 0, {2025, 4, 30}},
	    {{2025, 3, 31}, -1, 0, {2025, 2, 28}},   {{2025, 1, 15}, -1, 0, {2024, 12, 15}},
	    {{2025, 1, 15}, -13, 0, {2023, 12, 15}}, {{2025, 12, 15}, 1, 0, {2026, 1, 15}},
	    {{2025, 3, 2}, 12, 0, {2026, 3, 2}},     {{2025, 5, 5}, 0, 0, {2025, 5, 5}},
	    {{2026, 1, 1}, 1200, 0, {2126, 1, 1}},   {{9999, 12, 1}, 1, -1, {0, 0, 0}},
	    {{1, 1, 1}, -1, -1, {0, 0, 0}},          {{2025, 2, 29}, 1, -1, {0, 0, 0}},
	    {{2026, 1, 1}, INT_MAX, -1, {0, 0, 0}},  {{2026, 1, 1}, INT_MIN, -1, {0, 0, 0}},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct sla_date got = {0, 0, 0};
		assert_int_equal(sla_date_add_months(cases[i].d, cases[i].n, &got), cases[i].rc);
		if (cases[i].rc == 0)
			assert_date(got, cases[i].want);
	}
}

static void compare_and_difference(void **state)
{
	(void)state;
	assert_true(sla_date_cmp(D(2025, 1, 1), D(2026, 1, 1)) < 0);
	assert_true(sla_date_cmp(D(2026, 2, 1), D(2026, 1, 31)) > 0);
	assert_true(sla_date_cmp(D(2026, 1, 2), D(2026, 1, 3)) < 0);
	assert_true(sla_date_cmp(D(2026, 1, 3), D(2026, 1, 2)) > 0);
	assert_true(sla_date_cmp(D(2027, 1, 1), D(2026, 12, 31)) > 0);
	assert_true(sla_date_cmp(D(2026, 1, 31), D(2026, 2, 1)) < 0);
	assert_int_equal(sla_date_cmp(D(2026, 3, 1), D(2026, 3, 1)), 0);

	int64_t n;
	assert_int_equal(sla_date_diff_days(D(2024, 2, 29), D(2028, 2, 29), &n), 0);
	assert_int_equal(n, 1461);
	assert_int_equal(sla_date_diff_days(D(2026, 3, 2), D(2026, 3, 1), &n), 0);
	assert_int_equal(n, -1);
	assert_int_equal(sla_date_diff_days(D(2026, 2, 30), D(2026, 3, 1), &n), -1);
	assert_int_equal(sla_date_diff_days(D(2026, 3, 1), D(2026, 2, 30), &n), -1);
}

static void format_and_parse(void **state)
{
	(void)state;
	char buf[SLA_DATE_STRLEN];
	struct sla_date d;
	assert_int_equal(sla_date_format(D(2026, 3, 1), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2026-03-01");
	assert_int_equal(sla_date_format(D(1, 1, 1), buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0001-01-01");
	assert_int_equal(sla_date_parse(buf, &d), 0);
	assert_date(d, D(1, 1, 1));
	assert_int_equal(sla_date_format(D(2025, 2, 29), buf, sizeof(buf)), -1);
	assert_string_equal(buf, "");
	assert_int_equal(sla_date_format(D(2026, 3, 1), buf, sizeof(buf) - 1), -1);
	assert_string_equal(buf, "");
	assert_int_equal(sla_date_format(D(2026, 3, 1), buf, 0), -1);
	assert_int_equal(sla_date_format(D(2026, 3, 1), NULL, 11), -1);

	static const struct {
		const char *s;
		int rc;
		struct sla_date want;
	} cases[] = {
	    {"2026-03-01", 0, {2026, 3, 1}},
	    {"2024-02-29", 0, {2024, 2, 29}},
	    {"9999-12-31", 0, {9999, 12, 31}},
	    {"2025-02-29", -1, {0, 0, 0}},
	    {"0000-01-01", -1, {0, 0, 0}},
	    {"2026-3-01", -1, {0, 0, 0}},
	    {"2026-03-1", -1, {0, 0, 0}},
	    {"2026-03-01x", -1, {0, 0, 0}},
	    {" 2026-03-01", -1, {0, 0, 0}},
	    {"2026/03/01", -1, {0, 0, 0}},
	    {"2026-03/01", -1, {0, 0, 0}},
	    {"20a6-03-01", -1, {0, 0, 0}},
	    {"2026-0x-01", -1, {0, 0, 0}},
	    {"2026-13-01", -1, {0, 0, 0}},
	    {"", -1, {0, 0, 0}},
	    {"+026-03-01", -1, {0, 0, 0}},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct sla_date got = {0, 0, 0};
		assert_int_equal(sla_date_parse(cases[i].s, &got), cases[i].rc);
		if (cases[i].rc == 0) {
			assert_date(got, cases[i].want);
			assert_int_equal(sla_date_format(got, buf, sizeof(buf)), 0);
			assert_string_equal(buf, cases[i].s);
		}
	}
	assert_int_equal(sla_date_parse(NULL, &d), -1);
}

/* Asia/Shanghai is +08:00: a UTC afternoon is already the next local day. */
static void local_dates_in_fixed_zones(void **state)
{
	(void)state;
	struct sla_tz sh = sla_tz_fixed(SLA_TZ_SHANGHAI_OFFSET);
	struct sla_tz ny = sla_tz_fixed(-5 * 3600);
	struct sla_tz utc0 = sla_tz_fixed(0);
	static const struct {
		int zone; /* 0 Shanghai, 1 -05:00, 2 UTC */
		int y, mo, d, h, mi, s;
		struct sla_date want;
	} cases[] = {
	    {0, 2026, 3, 1, 15, 59, 59, {2026, 3, 1}},
	    {0, 2026, 3, 1, 16, 0, 0, {2026, 3, 2}},
	    {0, 2025, 12, 31, 16, 0, 0, {2026, 1, 1}},
	    {1, 2026, 3, 1, 4, 59, 59, {2026, 2, 28}},
	    {1, 2026, 3, 1, 5, 0, 0, {2026, 3, 1}},
	    {2, 1969, 12, 31, 23, 59, 59, {1969, 12, 31}},
	    {2, 1970, 1, 1, 0, 0, 0, {1970, 1, 1}},
	    {1, 1970, 1, 1, 0, 0, 0, {1969, 12, 31}},
	};
	const struct sla_tz *zones[] = {&sh, &ny, &utc0};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct sla_date got;
		sla_time t =
		    utc(cases[i].y, cases[i].mo, cases[i].d, cases[i].h, cases[i].mi, cases[i].s);
		assert_int_equal(sla_tz_local_date(zones[cases[i].zone], t, &got), 0);
		assert_date(got, cases[i].want);
	}

	sla_time t;
	assert_int_equal(sla_tz_day_start(&sh, D(2026, 3, 2), &t), 0);
	assert_int_equal(t, utc(2026, 3, 1, 16, 0, 0));
	assert_int_equal(t, 1772380800);
	assert_int_equal(sla_tz_day_start(&utc0, D(1970, 1, 1), &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(sla_tz_day_start(&ny, D(1970, 1, 1), &t), 0);
	assert_int_equal(t, 5 * 3600);

	int32_t off;
	assert_int_equal(sla_tz_offset(&sh, 0, &off), 0);
	assert_int_equal(off, 28800);
}

static void broken_zones_and_ranges_fail(void **state)
{
	(void)state;
	struct sla_tz sh = sla_tz_fixed(SLA_TZ_SHANGHAI_OFFSET);
	struct sla_tz too_far = sla_tz_fixed(SLA_TZ_OFFSET_MAX + 1);
	struct sla_tz too_far_w = sla_tz_fixed(-SLA_TZ_OFFSET_MAX - 1);
	struct sla_tz edge = sla_tz_fixed(SLA_TZ_OFFSET_MAX);
	struct sla_date d;
	sla_time t;
	int32_t off;
	assert_int_equal(sla_tz_offset(NULL, 0, &off), -1);
	assert_int_equal(sla_tz_offset(&too_far, 0, &off), -1);
	assert_int_equal(sla_tz_offset(&too_far_w, 0, &off), -1);
	assert_int_equal(sla_tz_offset(&edge, 0, &off), 0);
	assert_int_equal(sla_tz_local_date(NULL, 0, &d), -1);
	assert_int_equal(sla_tz_local_date(&too_far, 0, &d), -1);
	assert_int_equal(sla_tz_local_date(&sh, SLA_CALENDAR_TIME_MAX + 1, &d), -1);
	assert_int_equal(sla_tz_local_date(&sh, SLA_CALENDAR_TIME_MIN - 1, &d), -1);
	assert_int_equal(sla_tz_local_date(&sh, INT64_MAX, &d), -1);
	/* inside the instant range, but the local date is year 10000 */
	assert_int_equal(sla_tz_local_date(&sh, SLA_CALENDAR_TIME_MAX, &d), -1);
	assert_int_equal(sla_tz_local_date(&too_far_w, SLA_CALENDAR_TIME_MIN, &d), -1);
	struct sla_tz utc0 = sla_tz_fixed(0);
	assert_int_equal(sla_tz_local_date(&utc0, SLA_CALENDAR_TIME_MAX, &d), 0);
	assert_date(d, D(9999, 12, 31));
	assert_int_equal(sla_tz_local_date(&utc0, SLA_CALENDAR_TIME_MIN, &d), 0);
	assert_date(d, D(1, 1, 1));
	assert_int_equal(sla_tz_day_start(&sh, D(2026, 2, 30), &t), -1);
	assert_int_equal(sla_tz_day_start(NULL, D(2026, 3, 1), &t), -1);
	assert_int_equal(sla_tz_day_start(&too_far, D(2026, 3, 1), &t), -1);
}

/*
 * A test-only zone with one DST season: `std` outside [on, off), `dst`
 * inside.  Testland springs forward at local midnight (no 00:00 on
 * 2026-03-29) and falls back at 01:00 DST (00:00..00:59 twice on
 * 2026-10-25), like Sao Paulo used to.
 */
struct dst_rule {
	sla_time on, off;
	int32_t std, dst;
};

static int32_t dst_offset(const void *ctx, sla_time t)
{
	const struct dst_rule *r = ctx;
	return t >= r->on && t < r->off ? r->dst : r->std;
}

static void day_start_across_dst(void **state)
{
	(void)state;
	struct dst_rule testland = {
	    .on = utc(2026, 3, 28, 23, 0, 0),   /* local 00:00 std -> 01:00 DST */
	    .off = utc(2026, 10, 24, 23, 0, 0), /* local 01:00 DST -> 00:00 std */
	    .std = 3600,
	    .dst = 7200,
	};
	/* Europe-like: changes at 01:00 UTC, never near local midnight. */
	struct dst_rule eu = {
	    .on = utc(2026, 3, 29, 1, 0, 0),
	    .off = utc(2026, 10, 25, 1, 0, 0),
	    .std = 3600,
	    .dst = 7200,
	};
	struct sla_tz tl = {.utc_offset = dst_offset, .ctx = &testland};
	struct sla_tz tz_eu = {.utc_offset = dst_offset, .ctx = &eu};
	static const struct {
		int zone; /* 0 Testland, 1 EU-like */
		struct sla_date d;
		int y, mo, day, h; /* expected start, UTC */
	} cases[] = {
	    {0, {2026, 3, 28}, 2026, 3, 27, 23},   /* ordinary day, +01:00 */
	    {0, {2026, 3, 29}, 2026, 3, 28, 23},   /* gap: begins at 01:00 local */
	    {0, {2026, 3, 30}, 2026, 3, 29, 22},   /* +02:00 */
	    {0, {2026, 10, 25}, 2026, 10, 24, 22}, /* 00:00 twice: the first */
	    {0, {2026, 10, 26}, 2026, 10, 25, 23}, /* +01:00 again */
	    {1, {2026, 3, 29}, 2026, 3, 28, 23},   /* midnight before the change */
	    {1, {2026, 3, 30}, 2026, 3, 29, 22},   {1, {2026, 10, 25}, 2026, 10, 24, 22},
	    {1, {2026, 10, 26}, 2026, 10, 25, 23},
	};
	const struct sla_tz *zones[] = {&tl, &tz_eu};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		sla_time t;
		struct sla_date back;
		const struct sla_tz *z = zones[cases[i].zone];
		assert_int_equal(sla_tz_day_start(z, cases[i].d, &t), 0);
		assert_int_equal(t, utc(cases[i].y, cases[i].mo, cases[i].day, cases[i].h, 0, 0));
		/* the day's first second is on that day, the one before is not */
		assert_int_equal(sla_tz_local_date(z, t, &back), 0);
		assert_date(back, cases[i].d);
		assert_int_equal(sla_tz_local_date(z, t - 1, &back), 0);
		assert_true(sla_date_cmp(back, cases[i].d) < 0);
	}
	struct sla_date d;
	assert_int_equal(sla_tz_local_date(&tl, testland.on - 1, &d), 0);
	assert_date(d, D(2026, 3, 28));
	assert_int_equal(sla_tz_local_date(&tl, testland.off, &d), 0);
	assert_date(d, D(2026, 10, 25));
}

/* Converters that break the contract make day_start fail, not loop. */
struct odd_zone {
	sla_time midnight; /* local midnight of the day asked about */
	int kind;
};

static int32_t odd_offset(const void *ctx, sla_time t)
{
	const struct odd_zone *z = ctx;
	sla_time m = z->midnight;
	switch (z->kind) {
	case 0: /* looks like a +1 h spring-forward, but +2 h in between */
		return t <= m - SLA_DAY ? 0 : t >= m + SLA_DAY ? 3600 : 7200;
	case 1: /* a gap whose middle gives nonsense */
		return t <= m - 3600 ? 0 : t >= m ? 3600 : 999999;
	case 2: /* sane a day either side, nonsense near midnight */
		return t == m - SLA_DAY || t == m + SLA_DAY ? 0 : 999999;
	case 3: /* nonsense a day after */
		return t >= m + SLA_DAY ? 999999 : 0;
	default: /* a real gap, for contrast */
		return t < m - 1800 ? 0 : 3600;
	}
}

static void day_start_rejects_broken_converters(void **state)
{
	(void)state;
	static const struct {
		int kind, rc;
	} cases[] = {{0, -1}, {1, -1}, {2, -1}, {3, -1}, {4, 0}};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct odd_zone z = {.midnight = utc(2026, 5, 1, 0, 0, 0), .kind = cases[i].kind};
		struct sla_tz tz = {.utc_offset = odd_offset, .ctx = &z};
		sla_time t = 0;
		assert_int_equal(sla_tz_day_start(&tz, D(2026, 5, 1), &t), cases[i].rc);
		if (cases[i].rc == 0)
			assert_int_equal(t, z.midnight - 1800); /* local 00:30 */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(leap_years_and_month_lengths),
	    cmocka_unit_test(date_validity),
	    cmocka_unit_test(day_numbers_known_answers),
	    cmocka_unit_test(day_numbers_round_trip_every_day),
	    cmocka_unit_test(add_days_table),
	    cmocka_unit_test(add_months_clamps_month_end),
	    cmocka_unit_test(compare_and_difference),
	    cmocka_unit_test(format_and_parse),
	    cmocka_unit_test(local_dates_in_fixed_zones),
	    cmocka_unit_test(broken_zones_and_ranges_fail),
	    cmocka_unit_test(day_start_across_dst),
	    cmocka_unit_test(day_start_rejects_broken_converters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
