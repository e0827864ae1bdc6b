/*
 * calendar.c - civil-date arithmetic and caller-supplied time zones.
 *
 * The day-number conversions are Howard Hinnant's days_from_civil and
 * civil_from_days ("chrono-Compatible Low-Level Date Algorithms"): exact for
 * the whole proleptic Gregorian calendar, no tables, no loops.
 */
#include "calendar.h"

#include <stdio.h>
#include <string.h>

/* Day numbers of 0001-01-01 and 9999-12-31. */
#define DAYS_MIN ((int64_t)-719162)
#define DAYS_MAX ((int64_t)2932896)

/* Floor division for a positive divisor (C's / truncates toward zero). */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b) != 0 && a < 0)
		q--;
	return q;
}

bool sla_date_is_leap(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int sla_date_days_in_month(int year, int month)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (month < 1 || month > 12)
		return 0;
	if (month == 2 && sla_date_is_leap(year))
		return 29;
	return days[month - 1];
}

bool sla_date_valid(struct sla_date d)
{
	if (d.year < SLA_DATE_YEAR_MIN || d.year > SLA_DATE_YEAR_MAX)
		return false;
	return d.day >= 1 && d.day <= sla_date_days_in_month(d.year, d.month);
}

int sla_date_cmp(struct sla_date a, struct sla_date b)
{
	if (a.year != b.year)
		return a.year < b.year ? -1 : 1;
	if (a.month != b.month)
		return a.month < b.month ? -1 : 1;
	if (a.day != b.day)
		return a.day < b.day ? -1 : 1;
	return 0;
}

int sla_date_to_days(struct sla_date d, int64_t *out)
{
	if (!sla_date_valid(d))
		return -1;
	/* Years start on 1 March so the leap day is the last day of a year. */
	int64_t y = d.year - (d.month <= 2);
	int64_t m = d.month;
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;                                       /* [0, 399] */
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d.day - 1; /* [0, 365] */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;               /* [0, 146096] */
	*out = era * 146097 + doe - 719468;
	return 0;
}

int sla_date_from_days(int64_t days, struct sla_date *out)
{
	if (days < DAYS_MIN || days > DAYS_MAX)
		return -1;
	int64_t z = days + 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;                                      /* [0, 146096] */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
	int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
	int64_t day = doy - (153 * mp + 2) / 5 + 1;
	int64_t month = mp < 10 ? mp + 3 : mp - 9;
	int64_t year = yoe + era * 400 + (month <= 2);
	out->year = (int)year;
	out->month = (int)month;
	out->day = (int)day;
	return 0;
}

int sla_date_add_days(struct sla_date d, int64_t n, struct sla_date *out)
{
	int64_t days;
	if (sla_date_to_days(d, &days) < 0)
		return -1;
	/* Bound n first so days + n cannot overflow. */
	if (n < DAYS_MIN - DAYS_MAX || n > DAYS_MAX - DAYS_MIN)
		return -1;
	return sla_date_from_days(days + n, out);
}

int sla_date_add_months(struct sla_date d, int n, struct sla_date *out)
{
	if (!sla_date_valid(d))
		return -1;
	int64_t total = (int64_t)d.year * 12 + (d.month - 1) + n;
	int64_t year = floor_div(total, 12);
	if (year < SLA_DATE_YEAR_MIN || year > SLA_DATE_YEAR_MAX)
		return -1;
	struct sla_date r = {.year = (int)year, .month = (int)(total - year * 12) + 1};
	/* S8: a period of months ends on the same day number, or on the last
	 * day of a shorter month (31 Jan + 1 month = end of February). */
	int last = sla_date_days_in_month(r.year, r.month);
	r.day = d.day < last ? d.day : last;
	*out = r;
	return 0;
}

int sla_date_diff_days(struct sla_date a, struct sla_date b, int64_t *out)
{
	int64_t da, db;
	if (sla_date_to_days(a, &da) < 0 || sla_date_to_days(b, &db) < 0)
		return -1;
	*out = db - da;
	return 0;
}

int sla_date_format(struct sla_date d, char *buf, size_t len)
{
	if (buf == NULL || len == 0)
		return -1;
	buf[0] = '\0';
	if (len < SLA_DATE_STRLEN || !sla_date_valid(d))
		return -1;
	snprintf(buf, len, "%04d-%02d-%02d", d.year, d.month, d.day);
	return 0;
}

/* The value of n decimal digits at s, or -1 if any is not a digit. */
static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int sla_date_parse(const char *s, struct sla_date *out)
{
	if (s == NULL || strlen(s) != SLA_DATE_STRLEN - 1 || s[4] != '-' || s[7] != '-')
		return -1;
	struct sla_date d = {digits(s, 4), digits(s + 5, 2), digits(s + 8, 2)};
	if (!sla_date_valid(d)) /* also catches a -1 from digits() */
		return -1;
	*out = d;
	return 0;
}

struct sla_tz sla_tz_fixed(int32_t offset_seconds)
{
	struct sla_tz tz = {.utc_offset = NULL, .ctx = NULL, .fixed_offset = offset_seconds};
	return tz;
}

int sla_tz_offset(const struct sla_tz *tz, sla_time t, int32_t *out)
{
	if (tz == NULL)
		return -1;
	int32_t off = tz->utc_offset != NULL ? tz->utc_offset(tz->ctx, t) : tz->fixed_offset;
	if (off < -SLA_TZ_OFFSET_MAX || off > SLA_TZ_OFFSET_MAX)
		return -1;
	*out = off;
	return 0;
}

int sla_tz_local_date(const struct sla_tz *tz, sla_time t, struct sla_date *out)
{
	int32_t off;
	if (t < SLA_CALENDAR_TIME_MIN || t > SLA_CALENDAR_TIME_MAX)
		return -1;
	if (sla_tz_offset(tz, t, &off) < 0)
		return -1;
	return sla_date_from_days(floor_div(t + off, SLA_DAY), out);
}

/* 1 if local time at t (seconds since 1970-01-01 local) reaches `local`,
 * 0 if not, -1 if the zone is broken. */
static int local_reaches(const struct sla_tz *tz, sla_time t, sla_time local)
{
	int32_t off;
	if (sla_tz_offset(tz, t, &off) < 0)
		return -1;
	return t + off >= local;
}

/* 1 if local time at t is exactly `local`, 0 if not, -1 if broken. */
static int local_is(const struct sla_tz *tz, sla_time t, sla_time local)
{
	int32_t off;
	if (sla_tz_offset(tz, t, &off) < 0)
		return -1;
	return t + off == local;
}

int sla_tz_day_start(const struct sla_tz *tz, struct sla_date d, sla_time *out)
{
	int64_t days;
	int32_t before, after;
	if (sla_date_to_days(d, &days) < 0)
		return -1;
	sla_time midnight = days * SLA_DAY; /* local midnight, counted like an instant */
	/* The offsets in force a day either side of midnight.  With at most one
	 * change in between, every instant near midnight has one of them. */
	if (sla_tz_offset(tz, midnight - SLA_DAY, &before) < 0 ||
	    sla_tz_offset(tz, midnight + SLA_DAY, &after) < 0)
		return -1;
	sla_time a = midnight - before, b = midnight - after;
	int ok_a = local_is(tz, a, midnight), ok_b = local_is(tz, b, midnight);
	if (ok_a < 0 || ok_b < 0)
		return -1;
	if (ok_a && ok_b) { /* clocks went back: 00:00 twice, take the first */
		*out = a < b ? a : b;
		return 0;
	}
	if (ok_a || ok_b) {
		*out = ok_a ? a : b;
		return 0;
	}
	/* Clocks sprang forward across midnight: the day begins at the change,
	 * the first instant whose local time is at or past midnight.  Local
	 * time is t + before until the change and t + after from it, so that
	 * instant lies in (min(a, b), max(a, b)]; bisect. */
	sla_time lo = a < b ? a : b, hi = a < b ? b : a;
	int r_lo = local_reaches(tz, lo, midnight), r_hi = local_reaches(tz, hi, midnight);
	if (r_lo != 0 || r_hi != 1)
		return -1; /* not a single gap: the converter is inconsistent */
	while (hi - lo > 1) {
		sla_time mid = lo + (hi - lo) / 2;
		int r = local_reaches(tz, mid, midnight);
		if (r < 0)
			return -1;
		if (r)
			hi = mid;
		else
			lo = mid;
	}
	*out = hi;
	return 0;
}
