/*
 * warranty.h - the free maintenance period and its downtime extension
 * (S8, S9, S10).
 *
 * S8: the period runs from the acceptance date for a number of months.
 * S9: every stoppage inside the period caused by software quality or vendor
 *     service extends it by the days stopped, a day being 24 hours; causes
 *     outside the vendor's control extend nothing.
 * S10: inside the period quality faults are repaired free
 *     (sla_warranty_is_free_on()).
 *
 * The rules, in the order sla_warranty_compute() applies them:
 *
 *  1. Base period (S8).  It starts when the acceptance date starts in the
 *     contract's zone (local midnight; sla_tz_day_start()).  The last free
 *     day is sla_date_add_months(acceptance, months) - 1 day, the month end
 *     clamped (29 Feb 2024 + 48 months: last day 28 Feb 2028; 31 Jan + 1
 *     month: last day 27 Feb).  The period ends (exclusive) when the day
 *     after the last free day starts in the contract's zone.  Boundaries are
 *     calendar dates in that zone; outage lengths are measured between
 *     instants.
 *
 *  2. Which outages can count (S9).  Only vendor causes: SOFTWARE_QUALITY
 *     and VENDOR_SERVICE.  CUSTOMER, THIRD_PARTY, FORCE_MAJEURE and
 *     DELIBERATE_DAMAGE extend nothing.  UNKNOWN extends nothing either until
 *     someone records a cause: the seed extends only for vendor-caused
 *     stoppages, so an unproven cause must not move the end (recompute when
 *     the cause is set).  Excluded outages are reported in the ledger but
 *     take no part in merging: they never shorten, split or join a vendor
 *     outage, so adding one never changes the extension.
 *
 *  3. Merging, before any rounding.
 *     a. Flaps: intervals of ONE fault (same fault_id) that overlap, touch
 *        or are separated by less than merge_window seconds become one
 *        outage from the first start to the last end (the short gaps count
 *        as downtime: a flapping service is not usable).
 *     b. Overlaps: outages (of any faults) that overlap or touch become one,
 *        so simultaneous stoppages are not counted twice.
 *
 *  4. Counting, in chronological order of the merged outages.  The end in
 *     force starts at the base end and grows with every extension granted.
 *     An outage that ended at or before the period start counts nothing; one
 *     that began before it counts from the period start (clipped).  An
 *     outage counts if it starts before the end in force, i.e. inside the
 *     period as extended so far (extensions earned by earlier outages
 *     included).  One that starts inside and ends after the end in force
 *     counts whole: while the service is down the period keeps extending, so
 *     cutting it at the old end would cheat the customer of exactly the days
 *     the rule is meant to give back.  Outages that start at or after the
 *     end in force count nothing.
 *
 *  5. Extension per counted outage (S9, a day = 24 h), by the contract's
 *     rounding: CEIL (the default: each started 24 h counts one day), FLOOR
 *     (only whole 24 h), or EXACT (the exact downtime in seconds).  CEIL and
 *     FLOOR move the last free day by whole calendar days (so the end stays
 *     at a local midnight, even across a DST change); EXACT moves the end
 *     instant by the seconds and the last free day becomes the local date on
 *     which the period's final second falls.
 *
 *  6. Ongoing outages (end == SLA_TIME_NEVER) are measured up to `now`; one
 *     that starts after `now` (clock skew between sources) measures zero.
 *
 * Result: the base and current end, the total extension, and a ledger with
 * one line per merged vendor outage and per excluded interval, in
 * chronological order, each saying what it granted and why.  The ledger is
 * the caller's array: at most one line per input interval, so a capacity of
 * n always suffices.  No allocation, no globals; the result is independent
 * of the order of the input intervals.
 */
#ifndef SLA_WARRANTY_H
#define SLA_WARRANTY_H

#include "calendar.h"
#include "sla_types.h"

/* S8: the length of a period in months, 1..SLA_WARRANTY_MONTHS_MAX. */
#define SLA_WARRANTY_MONTHS_MAX 1200
/* Default flap-merge window: monitoring that reports down/up within half an
 * hour is one outage, not many (S9 counts stoppages, not alert pairs). */
#define SLA_WARRANTY_MERGE_WINDOW_DEFAULT ((sla_duration)(30 * 60))
/* Fault ids listed per ledger line; more are counted, not listed. */
#define SLA_WARRANTY_LINE_FAULTS 8

/* S9: how a partial day of downtime counts.  CEIL is 0 so that a
 * zero-initialised terms struct gets the seed's default. */
enum sla_warranty_rounding {
	SLA_WARRANTY_ROUND_CEIL = 0, /* each started 24 h counts a day (default) */
	SLA_WARRANTY_ROUND_FLOOR,    /* only whole 24 h count */
	SLA_WARRANTY_ROUND_EXACT,    /* the exact downtime, to the second */
	SLA_WARRANTY_ROUND_COUNT
};

/* The contract's warranty terms. */
struct sla_warranty_terms {
	struct sla_date acceptance; /* S8: first day of the period, local date */
	int months;                 /* S8: 1..SLA_WARRANTY_MONTHS_MAX */
	struct sla_tz tz;           /* the contract's zone; its ctx is borrowed */
	enum sla_warranty_rounding rounding;
	sla_duration merge_window; /* seconds, >= 0; 0 merges only touching flaps */
};

/* One stoppage as recorded (a ticket's outage, a monitoring down/up pair). */
struct sla_downtime {
	int64_t fault_id; /* e.g. the ticket id; flaps merge per fault */
	sla_time start;   /* service stopped */
	sla_time end;     /* service restored; SLA_TIME_NEVER: still down */
	enum sla_cause cause;
};

/* What became of a ledger line. */
enum sla_warranty_verdict {
	SLA_WARRANTY_COUNTED = 0,    /* vendor outage inside the period: extended */
	SLA_WARRANTY_EXCLUDED_CAUSE, /* S9: not the vendor's cause */
	SLA_WARRANTY_UNKNOWN_CAUSE,  /* cause not yet recorded */
	SLA_WARRANTY_BEFORE_PERIOD,  /* vendor outage that ended before the start */
	SLA_WARRANTY_AFTER_PERIOD,   /* vendor outage that began after the end */
	SLA_WARRANTY_VERDICT_COUNT
};

/* Ledger line flags: how the line came about. */
#define SLA_WARRANTY_FLAG_FLAPS    0x01u /* several intervals of one fault merged */
#define SLA_WARRANTY_FLAG_OVERLAP  0x02u /* overlapping outages merged */
#define SLA_WARRANTY_FLAG_CLIPPED  0x04u /* began before the period: counted from its start */
#define SLA_WARRANTY_FLAG_PAST_END 0x08u /* ran past the end in force: counted whole */
#define SLA_WARRANTY_FLAG_ONGOING  0x10u /* still down: measured up to `now` */

struct sla_warranty_line {
	enum sla_warranty_verdict verdict;
	unsigned flags;                              /* SLA_WARRANTY_FLAG_* */
	enum sla_cause cause;                        /* of the earliest interval */
	int64_t fault_ids[SLA_WARRANTY_LINE_FAULTS]; /* distinct, by first appearance */
	size_t fault_count;                          /* ids listed in fault_ids */
	bool faults_truncated;                       /* more faults than listed */
	size_t interval_count;                       /* input intervals merged here */
	sla_time outage_start;                       /* as recorded (earliest start) */
	sla_time start;                              /* as counted (clipped) */
	sla_time end;                                /* latest end (ongoing: now) */
	sla_duration downtime;                       /* end - start, seconds */
	int64_t hours;                               /* downtime in whole hours, rounded down */
	int64_t days;                                /* days granted (0 in EXACT mode) */
	sla_duration granted;                        /* seconds the end moved */
	enum sla_warranty_rounding rounding;         /* the contract's setting */
	sla_time end_after;                          /* period end once this line applied */
	struct sla_date last_day_after;              /* last free day once this line applied */
	const char *why;                             /* static text, never NULL */
};

struct sla_warranty_result {
	struct sla_date acceptance;      /* first free day */
	sla_time start;                  /* when the period starts (instant) */
	struct sla_date base_last_day;   /* S8: last free day without extensions */
	sla_time base_end;               /* exclusive end of the base period */
	struct sla_date last_day;        /* last free day, extensions included */
	sla_time end;                    /* exclusive end, extensions included */
	int64_t extension_days;          /* last_day - base_last_day, calendar days */
	sla_duration extension;          /* end - base_end, seconds */
	struct sla_warranty_line *lines; /* the caller's array (borrowed) */
	size_t line_count;
	size_t counted;     /* lines with verdict COUNTED */
	size_t not_counted; /* the others */
	size_t error_index; /* on an interval error: the offending input index */
};

enum sla_warranty_error {
	SLA_WARRANTY_OK = 0,
	SLA_WARRANTY_E_NULL,         /* a required pointer was NULL */
	SLA_WARRANTY_E_DATE,         /* acceptance date is not a valid date */
	SLA_WARRANTY_E_MONTHS,       /* months <= 0 or > SLA_WARRANTY_MONTHS_MAX */
	SLA_WARRANTY_E_ROUNDING,     /* unknown rounding setting */
	SLA_WARRANTY_E_MERGE_WINDOW, /* negative merge window */
	SLA_WARRANTY_E_TZ,           /* the zone gives an offset beyond +-18 h */
	SLA_WARRANTY_E_CAUSE,        /* an interval has an unknown cause value */
	SLA_WARRANTY_E_INTERVAL,     /* an interval ends before it starts */
	SLA_WARRANTY_E_INSTANT,      /* an instant (or now) outside the calendar range */
	SLA_WARRANTY_E_CAPACITY,     /* more intervals than ledger lines */
	SLA_WARRANTY_E_RANGE,        /* the period would end after year 9999 */
	SLA_WARRANTY_E_COUNT
};

/* Fill terms with the defaults: zone Asia/Shanghai (+08:00), CEIL rounding,
 * SLA_WARRANTY_MERGE_WINDOW_DEFAULT. */
void sla_warranty_terms_init(struct sla_warranty_terms *terms, struct sla_date acceptance,
                             int months);

/*
 * Compute the period for `terms` with the n downtime intervals `downtime`
 * (any order; may be NULL when n == 0), ongoing ones measured up to `now`.
 * The ledger is written to lines[0..cap); cap must be >= n.  On success
 * *out describes the period and out->lines == lines.  On an error nothing
 * in *out is meaningful except error_index (for E_CAUSE, E_INTERVAL and
 * E_INSTANT: the offending interval's index, or n if `now` is out of
 * range), and lines[] may have been written.
 */
SLA_MUSTCHECK enum sla_warranty_error
sla_warranty_compute(const struct sla_warranty_terms *terms, const struct sla_downtime *downtime,
                     size_t n, sla_time now, struct sla_warranty_line *lines, size_t cap,
                     struct sla_warranty_result *out);

/* S10: true if instant t lies inside the free period (start <= t < end). */
bool sla_warranty_is_free_on(const struct sla_warranty_result *r, sla_time t);

/* Free days left at `now`, today included: last_day - today + 1 where today
 * is now's local date in tz; the whole period's length before it starts; 0
 * once it has ended.  -1 on a NULL argument or a broken zone. */
SLA_MUSTCHECK int sla_warranty_days_left(const struct sla_warranty_result *r,
                                         const struct sla_tz *tz, sla_time now, int64_t *out);

const char *sla_warranty_rounding_name(enum sla_warranty_rounding rounding);
/* Parse "ceil", "floor", "exact".  -1 if unknown. */
SLA_MUSTCHECK int sla_warranty_rounding_parse(const char *name, enum sla_warranty_rounding *out);
const char *sla_warranty_verdict_name(enum sla_warranty_verdict verdict);
const char *sla_warranty_error_name(enum sla_warranty_error err);

#endif /* SLA_WARRANTY_H */
