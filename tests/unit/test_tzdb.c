/*
 * test_tzdb.c - the daemon's time-zone converter (daemon/tzdb.c) with known
 * answers from the IANA database: Asia/Shanghai (no DST since 1991),
 * America/New_York and Europe/Berlin (DST), Australia/Sydney (southern
 * DST), and libsla's calendar built on it.  tzdb.c depends on libsla and
 * libc only, so it is compiled into this test directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../daemon/tzdb.c"

/* Seconds since the epoch of a UTC civil time. */
static sla_time utc(int y, int mo, int d, int h, int mi, int s)
{
	int64_t days = 0;
	struct sla_date date = {y, mo, d};
	assert_int_equal(sla_date_to_days(date, &days), 0);
	return days * SLA_DAY + h * 3600 + mi * 60 + s;
}

static int32_t offset_at(const char *zone, sla_time t)
{
	const struct tzdb_zone *z = tzdb_zone_get(zone);
	assert_non_null(z);
	struct sla_tz tz = tzdb_sla_tz(z);
	int32_t off = 0;
	assert_int_equal(sla_tz_offset(&tz, t, &off), 0);
	return off;
}

static void offsets(void **state)
{
	(void)state;
	static const struct {
		const char *zone;
		int y, mo, d, h, mi, s;
		int32_t offset;
	} cases[] = {
	    {"Asia/Shanghai", 2027, 3, 10, 1, 0, 0, 8 * 3600},
	    {"Asia/Shanghai", 2027, 7, 1, 0, 0, 0, 8 * 3600},
	    {"Asia/Shanghai", 1990, 7, 1, 0, 0, 0, 9 * 3600}, /* DST 1986-1991 */
	    /* New York 2027: DST from 14 Mar 07:00Z to 7 Nov 06:00Z. */
	    {"America/New_York", 2027, 3, 14, 6, 59, 59, -5 * 3600},
	    {"America/New_York", 2027, 3, 14, 7, 0, 0, -4 * 3600},
	    {"America/New_York", 2027, 11, 7, 5, 59, 59, -4 * 3600},
	    {"America/New_York", 2027, 11, 7, 6, 0, 0, -5 * 3600},
	    /* Beyond the file's listed transitions: the POSIX rule. */
	    {"America/New_York", 2100, 7, 1, 0, 0, 0, -4 * 3600},
	    {"Europe/Berlin", 2028, 3, 26, 0, 59, 59, 3600},
	    {"Europe/Berlin", 2028, 3, 26, 1, 0, 0, 7200},
	    /* Southern hemisphere: summer time over New Year. */
	    {"Australia/Sydney", 2027, 1, 1, 0, 0, 0, 11 * 3600},
	    {"Australia/Sydney", 2027, 7, 1, 0, 0, 0, 10 * 3600},
	    {"UTC", 2027, 7, 1, 0, 0, 0, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(offset_at(cases[i].zone, utc(cases[i].y, cases[i].mo, cases[i].d,
		                                              cases[i].h, cases[i].mi, cases[i].s)),
		                 cases[i].offset);
	/* The TZ of the process is left as it was. */
	assert_null(getenv("TZ"));
	tzdb_clear();
}

/* libsla's calendar over the converter: day starts and local dates. */
static void calendar_on_top(void **state)
{
	(void)state;
	struct sla_tz ny = tzdb_sla_tz(tzdb_zone_get("America/New_York"));
	struct sla_tz sh = tzdb_sla_tz(tzdb_zone_get("Asia/Shanghai"));
	sla_time t;
	struct sla_date d;
	/* 14 Mar 2027 (DST starts at 02:00 local) begins at 05:00Z; the
	 * next day at 04:00Z. */
	assert_int_equal(sla_tz_day_start(&ny, (struct sla_date){2027, 3, 14}, &t), 0);
	assert_int_equal(t, utc(2027, 3, 14, 5, 0, 0));
	assert_int_equal(sla_tz_day_start(&ny, (struct sla_date){2027, 3, 15}, &t), 0);
	assert_int_equal(t, utc(2027, 3, 15, 4, 0, 0));
	assert_int_equal(sla_tz_day_start(&sh, (struct sla_date){2027, 3, 1}, &t), 0);
	assert_int_equal(t, utc(2027, 2, 28, 16, 0, 0));
	assert_int_equal(sla_tz_local_date(&sh, utc(2027, 3, 10, 17, 0, 0), &d), 0);
	assert_int_equal(d.day, 11);
	assert_int_equal(sla_tz_local_date(&ny, utc(2027, 3, 10, 3, 0, 0), &d), 0);
	assert_int_equal(d.day, 9);
	tzdb_clear();
}

static void names(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",      "Mars/Olympus", "../etc/passwd", "/usr/share/zoneinfo/UTC", "Asia",
	    "Asia/", "Asia//Tokyo",  "right/UTC",     "Asia/Shang hai",          "-Foo",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(tzdb_zone_get(bad[i]));
	const struct tzdb_zone *a = tzdb_zone_get("Europe/Berlin");
	assert_non_null(a);
	assert_ptr_equal(a, tzdb_zone_get("Europe/Berlin")); /* cached */
	assert_string_equal(tzdb_zone_name(a), "Europe/Berlin");
	assert_non_null(tzdb_zone_get("Etc/GMT-8"));
	tzdb_clear();
	tzdb_clear(); /* twice is harmless */
}

/* Without a tz database the default zone and UTC still answer. */
static void without_database(void **state)
{
	(void)state;
	setenv("TZDIR", "/nonexistent", 1);
	assert_int_equal(offset_at("Asia/Shanghai", utc(2027, 1, 1, 0, 0, 0)), 8 * 3600);
	assert_int_equal(offset_at("Etc/UTC", utc(2027, 1, 1, 0, 0, 0)), 0);
	assert_null(tzdb_zone_get("Europe/Berlin"));
	unsetenv("TZDIR");
	tzdb_clear();
}

/* Instants outside the calendar's years answer the nearest year's offset. */
static void extremes(void **state)
{
	(void)state;
	assert_int_equal(offset_at("Asia/Tokyo", SLA_CALENDAR_TIME_MAX + 10), 9 * 3600);
	(void)offset_at("Asia/Tokyo", SLA_CALENDAR_TIME_MIN - 10);
	assert_int_equal(utc_year(SLA_CALENDAR_TIME_MIN - 1), SLA_DATE_YEAR_MIN);
	assert_int_equal(year_start(SLA_DATE_YEAR_MAX + 1), SLA_CALENDAR_TIME_MAX + 1);
	assert_int_equal(floor_div(-1, 86400), -1);
	tzdb_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(offsets),  cmocka_unit_test(calendar_on_top),
	    cmocka_unit_test(names),    cmocka_unit_test(without_database),
	    cmocka_unit_test(extremes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
