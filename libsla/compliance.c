/*
 * compliance.c - the compliance report's arithmetic (see compliance.h).
 */
#include "compliance.h"

#include <stdlib.h>
#include <string.h>

/* ---- months ---- */

bool sla_month_valid(struct sla_month m)
{
	return m.year >= SLA_DATE_YEAR_MIN && m.year <= SLA_DATE_YEAR_MAX && m.month >= 1 &&
	       m.month <= 12;
}

int sla_month_cmp(struct sla_month a, struct sla_month b)
{
	if (a.year != b.year)
		return a.year < b.year ? -1 : 1;
	return a.month < b.month ? -1 : a.month > b.month;
}

static bool digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

int sla_month_parse(const char *s, struct sla_month *out)
{
	struct sla_month m;
	if (s == NULL || out == NULL || !digits(s, 4, &m.year) || s[4] != '-' ||
	    !digits(s + 5, 2, &m.month) || s[7] != '\0' || !sla_month_valid(m))
		return -1;
	*out = m;
	return 0;
}

int sla_month_format(struct sla_month m, char *buf, size_t len)
{
	if (buf == NULL || len == 0)
		return -1;
	buf[0] = '\0';
	if (!sla_month_valid(m) || len < SLA_MONTH_STRLEN)
		return -1;
	int y = m.year;
	buf[0] = (char)('0' + y / 1000);
	buf[1] = (char)('0' + y / 100 % 10);
	buf[2] = (char)('0' + y / 10 % 10);
	buf[3] = (char)('0' + y % 10);
	buf[4] = '-';
	buf[5] = (char)('0' + m.month / 10);
	buf[6] = (char)('0' + m.month % 10);
	buf[7] = '\0';
	return 0;
}

int sla_month_next(struct sla_month m, struct sla_month *out)
{
	if (out == NULL || !sla_month_valid(m))
		return -1;
	struct sla_month n = m.month == 12 ? (struct sla_month){m.year + 1, 1}
	                                   : (struct sla_month){m.year, m.month + 1};
	if (!sla_month_valid(n))
		return -1;
	*out = n;
	return 0;
}

int sla_month_of(const struct sla_tz *tz, sla_time t, struct sla_month *out)
{
	struct sla_date d;
	if (out == NULL || sla_tz_local_date(tz, t, &d) != 0)
		return -1;
	out->year = d.year;
	out->month = d.month;
	return 0;
}

int sla_month_start(const struct sla_tz *tz, struct sla_month m, sla_time *out)
{
	if (out == NULL || !sla_month_valid(m))
		return -1;
	struct sla_date first = {m.year, m.month, 1};
	return sla_tz_day_start(tz, first, out);
}

/* ---- clocks ---- */

/* The event that is clock c's goal (compliance.h: met only by it). */
static const enum sla_event_kind goal_of[SLA_CLOCK_COUNT] = {
    [SLA_CLOCK_RESPONSE] = SLA_EV_ACKNOWLEDGED,
    [SLA_CLOCK_ONSITE] = SLA_EV_ARRIVED,
    [SLA_CLOCK_RESTORE] = SLA_EV_RESTORED,
};

int sla_compliance_clocks(const struct sla_deadline_eval *ev, const struct sla_event *events,
                          size_t n_events, struct sla_compliance_clock out[SLA_CLOCK_COUNT])
{
	if (ev == NULL || out == NULL || (n_events > 0 && events == NULL) || ev->err != SLA_DL_OK)
		return -1;
	memset(out, 0, SLA_CLOCK_COUNT * sizeof(*out));
	/* The current cycle's events follow its REPORTED or last REOPENED,
	 * which deadline.h takes as the cycle start. */
	size_t first = 0;
	for (size_t i = 0; i < n_events; i++)
		if (events[i].kind == SLA_EV_REPORTED || events[i].kind == SLA_EV_REOPENED)
			first = i + 1;
	for (int c = 0; c < SLA_CLOCK_COUNT; c++) {
		const struct sla_clock_eval *ce = &ev->clocks[c];
		struct sla_compliance_clock *o = &out[c];
		o->met = ce->state == SLA_CS_MET;
		o->breached = ce->breached;
		if (ce->state != SLA_CS_MET && ce->state != SLA_CS_BREACHED)
			continue;
		/* Stopped: by its goal only if the goal event is what stopped it
		 * (a late ACKNOWLEDGED is a time to respond; a RESTORED that
		 * stopped an unacknowledged response clock is not). */
		for (size_t i = first; i < n_events && !o->timed; i++)
			o->timed = events[i].kind == goal_of[c] && events[i].at == ce->stopped_at;
		if (o->timed)
			o->running = ce->running;
	}
	return 0;
}

/* ---- percentiles ---- */

size_t sla_nearest_rank(size_t n, int p)
{
	if (n == 0 || p < 1 || p > 100)
		return 0;
	/* ceil(p * n / 100) without overflow for any n a caller can hold. */
	size_t whole = n / 100 * (size_t)p, rest = n % 100 * (size_t)p;
	return whole + (rest + 99) / 100;
}

static int cmp_duration(const void *a, const void *b)
{
	sla_duration x = *(const sla_duration *)a, y = *(const sla_duration *)b;
	return x < y ? -1 : x > y;
}

int sla_percentile_nearest_rank(sla_duration *v, size_t n, int p, sla_duration *out)
{
	size_t rank = sla_nearest_rank(n, p);
	if (v == NULL || out == NULL || rank == 0)
		return -1;
	qsort(v, n, sizeof(*v), cmp_duration);
	*out = v[rank - 1];
	return 0;
}

/* ---- units ---- */

int64_t sla_compliance_minutes(sla_duration seconds)
{
	return seconds > 0 ? seconds / SLA_MINUTE : 0;
}

int64_t sla_compliance_tenth_hours(sla_duration seconds)
{
	/* A tenth of an hour is 360 s; half of it rounds up. */
	return seconds > 0 ? seconds / 360 + (seconds % 360 >= 180) : 0;
}

sla_duration sla_compliance_outage_length(sla_time start, sla_time end, sla_time now)
{
	sla_time stop = end == SLA_TIME_NEVER ? now : end;
	return stop > start ? stop - start : 0;
}

/* ---- extension days (S9) ---- */

static bool vendor_cause(enum sla_cause c)
{
	return c == SLA_CAUSE_SOFTWARE_QUALITY || c == SLA_CAUSE_VENDOR_SERVICE;
}

/* Whether vendor input d is one of the intervals line l merged. */
static bool line_holds(const struct sla_warranty_line *l, const struct sla_downtime *d)
{
	bool fault = l->faults_truncated;
	for (size_t i = 0; i < l->fault_count && !fault; i++)
		fault = l->fault_ids[i] == d->fault_id;
	return fault && d->start >= l->outage_start && d->start <= l->end;
}

int sla_compliance_credit_days(const struct sla_warranty_result *r,
                               const struct sla_downtime *downtime, size_t n, int64_t *credit)
{
	if (r == NULL || (n > 0 && (downtime == NULL || credit == NULL)) ||
	    (r->line_count > 0 && r->lines == NULL))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && downtime[i].start < downtime[i - 1].start)
			return -1; /* not in order of start */
		credit[i] = 0;
	}
	/*
	 * One walk over both: the ledger's lines are in chronological order,
	 * vendor lines are disjoint, and an input starting inside a vendor
	 * line's span overlaps it, so it was merged into it (warranty.h, rule
	 * 3).  The first vendor input of a line is therefore its earliest.
	 * Each line says where it left the last free day, so the days a
	 * counted line granted are the step from the line before it.
	 */
	struct sla_date before = r->base_last_day;
	size_t next = 0;
	for (size_t k = 0; k < r->line_count; k++) {
		const struct sla_warranty_line *l = &r->lines[k];
		int64_t days = 0;
		if (sla_date_diff_days(before, l->last_day_after, &days) != 0)
			return -1;
		before = l->last_day_after;
		if (l->verdict == SLA_WARRANTY_EXCLUDED_CAUSE ||
		    l->verdict == SLA_WARRANTY_UNKNOWN_CAUSE)
			continue;
		while (next < n && !vendor_cause(downtime[next].cause))
			next++;
		if (next == n || !line_holds(l, &downtime[next]))
			return -1;
		size_t first = next;
		while (next < n &&
		       (!vendor_cause(downtime[next].cause) || downtime[next].start <= l->end))
			next++;
		if (l->verdict == SLA_WARRANTY_COUNTED)
			credit[first] += days;
	}
	return 0;
}
