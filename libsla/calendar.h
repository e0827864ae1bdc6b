/*
 * calendar.h - civil dates and time zones without I/O.
 *
 * Warranty periods, report months and "within 2 days" are calendar dates in
 * the customer's time zone (DESIGN.md "Time"); outage lengths are measured
 * between instants.  This module converts between the two.
 *
 * Dates are proleptic Gregorian, years SLA_DATE_YEAR_MIN..SLA_DATE_YEAR_MAX
 * (four digits, so "YYYY-MM-DD" always fits).  A day number is the count of
 * days since 1970-01-01 (negative before), after Howard Hinnant's
 * days_from_civil / civil_from_days.
 *
 * Time zones: libsla reads no tz database.  The caller supplies a converter
 * (struct sla_tz) that says which UTC offset is in force at an instant; the
 * daemon backs it with the system tz database, libsla ships sla_tz_fixed()
 * for zones without DST (Asia/Shanghai: +08:00, no DST since 1991).
 *
 * Every function is pure; structs are passed and returned by value.
 */
#ifndef SLA_CALENDAR_H
#define SLA_CALENDAR_H

#include "sla_types.h"

#define SLA_DATE_YEAR_MIN 1
#define SLA_DATE_YEAR_MAX 9999
/* "YYYY-MM-DD" plus the terminating NUL. */
#define SLA_DATE_STRLEN 11

/* The instants whose UTC date lies inside the supported years:
 * 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z. */
#define SLA_CALENDAR_TIME_MIN ((sla_time)-62135596800LL)
#define SLA_CALENDAR_TIME_MAX ((sla_time)253402300799LL)

/* A UTC offset beyond +-18 h is refused (ISO 8601 / RFC 9557 limit; real
 * zones stay within -12..+14 h, local mean times within a few minutes more). */
#define SLA_TZ_OFFSET_MAX ((int32_t)(18 * 3600))

/* Asia/Shanghai, the default customer zone (DESIGN.md). */
#define SLA_TZ_SHANGHAI_OFFSET ((int32_t)(8 * 3600))

/* True for a leap year of the proleptic Gregorian calendar. */
bool sla_date_is_leap(int year);
/* Days in the month (28..31), or 0 if month is not 1..12. */
int sla_date_days_in_month(int year, int month);
/* True if d is a real date with a year inside the supported range. */
bool sla_date_valid(struct sla_date d);

/* Order of two dates: <0, 0, >0 as a is before, equal to, after b.
 * Compares the fields; it does not check validity. */
int sla_date_cmp(struct sla_date a, struct sla_date b);

/* d -> days since 1970-01-01.  -1 if d is invalid. */
SLA_MUSTCHECK int sla_date_to_days(struct sla_date d, int64_t *out);
/* days since 1970-01-01 -> date.  -1 if the date is outside the years. */
SLA_MUSTCHECK int sla_date_from_days(int64_t days, struct sla_date *out);
/* d + n days (n may be negative).  -1 if d is invalid or the result leaves
 * the supported years. */
SLA_MUSTCHECK int sla_date_add_days(struct sla_date d, int64_t n, struct sla_date *out);
/* d + n calendar months (n may be negative), the day clamped to the end of
 * the target month: 31 Jan + 1 = 28 (or 29) Feb; 29 Feb 2024 + 12 =
 * 28 Feb 2025; 29 Feb 2024 + 48 = 29 Feb 2028 (S8).  -1 if d is invalid or
 * the result leaves the supported years. */
SLA_MUSTCHECK int sla_date_add_months(struct sla_date d, int n, struct sla_date *out);
/* *out = b - a in days.  -1 if either date is invalid. */
SLA_MUSTCHECK int sla_date_diff_days(struct sla_date a, struct sla_date b, int64_t *out);

/* Write "YYYY-MM-DD" and a NUL into buf (len >= SLA_DATE_STRLEN).
 * -1 if d is invalid or buf too small (buf then holds "" if len > 0). */
SLA_MUSTCHECK int sla_date_format(struct sla_date d, char *buf, size_t len);
/* Parse exactly "YYYY-MM-DD" (four-digit year, two-digit month and day,
 * nothing before or after).  -1 on any other text or an invalid date. */
SLA_MUSTCHECK int sla_date_parse(const char *s, struct sla_date *out);

/*
 * A time zone as the caller's converter.  utc_offset(ctx, t) returns the
 * offset of local time from UTC, in seconds east (+28800 for +08:00), in
 * force at instant t.  It must be pure (same t, same answer) and read no
 * clock; ctx is borrowed and passed back untouched.
 *
 * utc_offset == NULL means a fixed zone: the offset is fixed_offset.  That
 * is what sla_tz_fixed() builds, so a fixed zone is a plain value that needs
 * no storage behind it.
 */
struct sla_tz {
	int32_t (*utc_offset)(const void *ctx, sla_time t);
	const void *ctx;
	int32_t fixed_offset; /* used only when utc_offset is NULL */
};

/* A zone with one offset for all time, e.g. sla_tz_fixed(SLA_TZ_SHANGHAI_OFFSET). */
struct sla_tz sla_tz_fixed(int32_t offset_seconds);

/* The offset in force at t.  -1 if tz is NULL or the offset is beyond
 * +-SLA_TZ_OFFSET_MAX. */
SLA_MUSTCHECK int sla_tz_offset(const struct sla_tz *tz, sla_time t, int32_t *out);

/* The local date on which instant t falls in zone tz.  -1 if tz is NULL or
 * broken, or t is outside SLA_CALENDAR_TIME_MIN..MAX, or the local date is
 * outside the supported years. */
SLA_MUSTCHECK int sla_tz_local_date(const struct sla_tz *tz, sla_time t, struct sla_date *out);

/*
 * The instant at which local date d begins in zone tz: the first instant
 * whose local date is d.
 *  - Normally that is local midnight.
 *  - If the clocks go back across midnight (00:00 happens twice), it is the
 *    first 00:00.
 *  - If the clocks spring forward across midnight (00:00 never happens;
 *    America/Sao_Paulo did this until 2019), it is the transition instant,
 *    i.e. the day starts at the first local time after the gap (01:00).
 * Assumes at most one offset change within a day of d's midnight, which
 * holds for every real zone.  -1 if tz is NULL or broken (returns an offset
 * beyond +-18 h, or changes offset such that no instant has local date d),
 * or d is invalid.
 */
SLA_MUSTCHECK int sla_tz_day_start(const struct sla_tz *tz, struct sla_date d, sla_time *out);

#endif /* SLA_CALENDAR_H */
