/*
 * compliance.h - the arithmetic of the monthly SLA compliance report
 * (issue 6, "Compliance reports"; PROTOCOL.md COMPLIANCE): which clocks of a
 * ticket count as met or breached, which give a time to respond, arrive or
 * restore, nearest-rank percentiles of those times, the report's months in
 * a customer's zone, outage lengths, and which ticket a warranty extension
 * is credited to.  The daemon groups tickets by (customer, level, month) and
 * feeds each group through these functions; everything here is pure: libc
 * only, no clock, no I/O, no allocation.
 *
 * The rules, as PROTOCOL.md states them:
 *
 *  - Met / breached, per clock (S4, S5), from sla_deadline_evaluate() over
 *    the ticket's history (the same engine SHOW uses).  A clock is MET when
 *    its goal event (ACKNOWLEDGED, ARRIVED, RESTORED) stopped it before its
 *    due instant; BREACHED when its running time reached the window, stopped
 *    late (by its goal or not) or still running or paused past due.  A clock
 *    the ticket does not need (on-site without a dispatch, S5; a clock the
 *    ticket's type does not run) and one stopped early by something else
 *    than its goal (a response never acknowledged before the restore) count
 *    in neither.  Clocks are those of the ticket's current cycle, as SHOW
 *    reports them.
 *
 *  - Times: a clock stopped by its goal event -- met, or breached by a late
 *    goal -- gives a time: its running seconds from start to stop with the
 *    paused spans left out (S5).  Running clocks and clocks stopped by
 *    something else give none: neither is a time to respond, arrive or
 *    restore.
 *
 *  - Percentiles are nearest-rank: of n times sorted ascending, the p-th
 *    percentile is the one at 1-based rank ceil(p * n / 100).  The median is
 *    p = 50 (of two times, the smaller), p90 is p = 90 (of two, the larger).
 *    No time, no percentile.
 *
 *  - Minutes are whole minutes, rounded down: a response at 29 min 59 s
 *    reads 29, so a clock met within a window of whole minutes never shows
 *    the window's minutes.
 *
 *  - Months: a ticket's month is the calendar month, in the customer's
 *    zone, of its report instant (2027-03-31T17:00Z is April in
 *    Asia/Shanghai).
 *
 *  - Downtime (S9): an outage lasts from its start to its end; one still
 *    going on is measured up to `now`; a negative span (two clocks a little
 *    apart) counts zero.  Hours are reported to one decimal, rounded half up.
 *
 *  - Extension days (S9): sla_warranty_compute()'s ledger (warranty.h)
 *    decides the days; a counted ledger line is credited to the earliest
 *    vendor-caused interval it merged, and gives the days by which it moved
 *    the last free day -- so the credits of a ledger sum to its
 *    extension_days, in every rounding mode.
 */
#ifndef SLA_COMPLIANCE_H
#define SLA_COMPLIANCE_H

#include "calendar.h"
#include "deadline.h"
#include "sla_types.h"
#include "warranty.h"

/* "YYYY-MM" plus the terminating NUL. */
#define SLA_MONTH_STRLEN 8

/* A calendar month: year SLA_DATE_YEAR_MIN..MAX, month 1..12. */
struct sla_month {
	int year;
	int month;
};

/* True if m is a month of the supported years. */
bool sla_month_valid(struct sla_month m);
/* Order: <0, 0, >0 as a is before, equal to, after b (fields compared). */
int sla_month_cmp(struct sla_month a, struct sla_month b);
/* Parse exactly "YYYY-MM".  -1 on any other text or an invalid month. */
SLA_MUSTCHECK int sla_month_parse(const char *s, struct sla_month *out);
/* Write "YYYY-MM" (len >= SLA_MONTH_STRLEN).  -1 if m is invalid or buf is
 * too small (buf then holds "" if len > 0). */
SLA_MUSTCHECK int sla_month_format(struct sla_month m, char *buf, size_t len);
/* The month after m.  -1 if m is invalid or the last supported month. */
SLA_MUSTCHECK int sla_month_next(struct sla_month m, struct sla_month *out);
/* The month in which instant t falls in zone tz.  -1 as sla_tz_local_date. */
SLA_MUSTCHECK int sla_month_of(const struct sla_tz *tz, sla_time t, struct sla_month *out);
/* The first instant of month m in zone tz (its first day's start,
 * sla_tz_day_start).  -1 if tz is broken or m invalid. */
SLA_MUSTCHECK int sla_month_start(const struct sla_tz *tz, struct sla_month m, sla_time *out);

/* One clock of one ticket as the report counts it. */
struct sla_compliance_clock {
	bool met;             /* stopped by its goal before due */
	bool breached;        /* running time reached the window */
	bool timed;           /* stopped by its goal: `running` is a time */
	sla_duration running; /* seconds, pauses left out; 0 unless timed */
};

/*
 * The three clocks of a ticket from its evaluation `ev` (SLA_DL_OK) and the
 * history it was evaluated from (the goal events are looked up in the
 * current cycle).  out[c] for each enum sla_clock.  0, or -1 on a NULL
 * argument or an evaluation that failed.
 */
SLA_MUSTCHECK int sla_compliance_clocks(const struct sla_deadline_eval *ev,
                                        const struct sla_event *events, size_t n_events,
                                        struct sla_compliance_clock out[SLA_CLOCK_COUNT]);

/* The 1-based nearest rank of percentile p (1..100) among n values:
 * ceil(p * n / 100).  0 if n == 0 or p is out of range. */
size_t sla_nearest_rank(size_t n, int p);

/*
 * Sort v[0..n) ascending in place and set *out to its p-th percentile by
 * nearest rank.  -1 (nothing sorted) if v is NULL, n == 0 or p is not
 * 1..100.
 */
SLA_MUSTCHECK int sla_percentile_nearest_rank(sla_duration *v, size_t n, int p, sla_duration *out);

/* Whole minutes of a non-negative span, rounded down (negative: 0). */
int64_t sla_compliance_minutes(sla_duration seconds);
/* Tenths of an hour of a non-negative span, rounded half up (negative: 0):
 * 30 h -> 300, 7 h 15 min -> 73 (7.25 rounds up), 179 s -> 0, 180 s -> 1. */
int64_t sla_compliance_tenth_hours(sla_duration seconds);

/* An outage's length (S9): end - start, or now - start while `end` is
 * SLA_TIME_NEVER; never negative. */
sla_duration sla_compliance_outage_length(sla_time start, sla_time end, sla_time now);

/*
 * Credit the extension days of a warranty ledger to its inputs: r is
 * sla_warranty_compute()'s result over downtime[0..n) (the same array, the
 * same n), which must be in order of start (sla_warranty_compute takes any
 * order; this function wants them sorted so that it runs in one pass,
 * O(n + lines), whatever a noisy monitor recorded).  credit[0..n) receives,
 * for each input, the days of the counted lines credited to it (0 for
 * most).  A counted line is credited to the earliest vendor-caused input
 * (SOFTWARE_QUALITY, VENDOR_SERVICE) among those it merged (ties: the
 * lowest index), and its days are how far it moved the last free day.  The
 * credits sum to r->extension_days.  0, or -1 on a NULL argument, inputs
 * out of order, or a vendor line no input matches (r not computed from
 * these inputs).
 */
SLA_MUSTCHECK int sla_compliance_credit_days(const struct sla_warranty_result *r,
                                             const struct sla_downtime *downtime, size_t n,
                                             int64_t *credit);

#endif /* SLA_COMPLIANCE_H */
