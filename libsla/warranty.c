/*
 * warranty.c - the free maintenance period and its downtime extension
 * (S8, S9, S10).  The rules are stated in warranty.h; this file follows them
 * step by step.
 *
 * Working storage is the caller's ledger array: input intervals are copied
 * into it (vendor causes from the front, the others from the back), merged
 * in place, then the excluded lines are moved up behind the merged ones and
 * the whole ledger is sorted chronologically.  Every sort key is total over
 * the fields that differ, so the result does not depend on input order.
 */
#include "warranty.h"

#include <stdlib.h>
#include <string.h>

static const char *const rounding_names[SLA_WARRANTY_ROUND_COUNT] = {"ceil", "floor", "exact"};

static const char *const verdict_names[SLA_WARRANTY_VERDICT_COUNT] = {
    "counted", "excluded_cause", "unknown_cause", "before_period", "after_period",
};

static const char *const error_names[SLA_WARRANTY_E_COUNT] = {
    "ok", "null",  "date",     "months",  "rounding", "merge_window",
    "tz", "cause", "interval", "instant", "capacity", "range",
};

/* Why-strings of counted lines, one per rounding setting (S9). */
static const char *const why_counted[SLA_WARRANTY_ROUND_COUNT] = {
    "vendor-caused stoppage inside the period; each started 24 h counts a day (S9)",
    "vendor-caused stoppage inside the period; whole 24 h only (contract: floor) (S9)",
    "vendor-caused stoppage inside the period; extended by the exact downtime (S9)",
};

static const char *const why_other[SLA_WARRANTY_VERDICT_COUNT] = {
    NULL, /* COUNTED: see why_counted */
    "cause not the vendor's (customer, third party, force majeure or deliberate damage): "
    "extends nothing (S9)",
    "cause not yet recorded: extends nothing until a vendor cause is set (S9)",
    "ended before the period began",
    "began after the free period, as extended so far, had ended",
};

const char *sla_warranty_rounding_name(enum sla_warranty_rounding rounding)
{
	if ((unsigned)rounding >= SLA_WARRANTY_ROUND_COUNT)
		return "invalid";
	return rounding_names[rounding];
}

int sla_warranty_rounding_parse(const char *name, enum sla_warranty_rounding *out)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i < SLA_WARRANTY_ROUND_COUNT; i++) {
		if (strcmp(rounding_names[i], name) == 0) {
			*out = (enum sla_warranty_rounding)i;
			return 0;
		}
	}
	return -1;
}

const char *sla_warranty_verdict_name(enum sla_warranty_verdict verdict)
{
	if ((unsigned)verdict >= SLA_WARRANTY_VERDICT_COUNT)
		return "invalid";
	return verdict_names[verdict];
}

const char *sla_warranty_error_name(enum sla_warranty_error err)
{
	if ((unsigned)err >= SLA_WARRANTY_E_COUNT)
		return "invalid";
	return error_names[err];
}

void sla_warranty_terms_init(struct sla_warranty_terms *terms, struct sla_date acceptance,
                             int months)
{
	memset(terms, 0, sizeof(*terms));
	terms->acceptance = acceptance;
	terms->months = months;
	terms->tz = sla_tz_fixed(SLA_TZ_SHANGHAI_OFFSET);
	terms->rounding = SLA_WARRANTY_ROUND_CEIL; /* S9: each started 24 h counts */
	terms->merge_window = SLA_WARRANTY_MERGE_WINDOW_DEFAULT;
}

/* S9: only stoppages caused by software quality or the vendor's service. */
static bool cause_is_vendor(enum sla_cause cause)
{
	return cause == SLA_CAUSE_SOFTWARE_QUALITY || cause == SLA_CAUSE_VENDOR_SERVICE;
}

static bool instant_ok(sla_time t)
{
	return t >= SLA_CALENDAR_TIME_MIN && t <= SLA_CALENDAR_TIME_MAX;
}

#define CMP(a, b)                                                                                  \
	do {                                                                                       \
		if ((a) != (b))                                                                    \
			return (a) < (b) ? -1 : 1;                                                 \
	} while (0)

/* Tie-breakers shared by the sort keys, so equal keys mean equal lines. */
static int cmp_rest(const struct sla_warranty_line *a, const struct sla_warranty_line *b)
{
	CMP(a->fault_ids[0], b->fault_ids[0]);
	CMP(a->cause, b->cause);
	CMP(a->flags, b->flags);
	CMP(a->interval_count, b->interval_count);
	return 0;
}

/* Phase 3a: by fault, then chronologically. */
static int cmp_by_fault(const void *pa, const void *pb)
{
	const struct sla_warranty_line *a = pa, *b = pb;
	CMP(a->fault_ids[0], b->fault_ids[0]);
	CMP(a->outage_start, b->outage_start);
	CMP(a->end, b->end);
	return cmp_rest(a, b);
}

/* Phase 3b and the ledger: chronologically; COUNTED first on a tie. */
static int cmp_by_start(const void *pa, const void *pb)
{
	const struct sla_warranty_line *a = pa, *b = pb;
	CMP(a->outage_start, b->outage_start);
	CMP(a->verdict, b->verdict);
	CMP(a->end, b->end);
	return cmp_rest(a, b);
}

/* Add the fault ids of `from` to `to`, keeping them distinct. */
static void add_faults(struct sla_warranty_line *to, const struct sla_warranty_line *from)
{
	to->faults_truncated = to->faults_truncated || from->faults_truncated;
	for (size_t i = 0; i < from->fault_count; i++) {
		bool seen = false;
		for (size_t j = 0; j < to->fault_count && !seen; j++)
			seen = to->fault_ids[j] == from->fault_ids[i];
		if (seen)
			continue;
		if (to->fault_count < SLA_WARRANTY_LINE_FAULTS)
			to->fault_ids[to->fault_count++] = from->fault_ids[i];
		else
			to->faults_truncated = true;
	}
}

/* Merge lines[0..n) in place: neighbours for which join() says so become one
 * line, from the first start to the latest end.  Returns the new count. */
static size_t merge_lines(struct sla_warranty_line *lines, size_t n, sla_duration window,
                          bool per_fault)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		struct sla_warranty_line *cur = w > 0 ? &lines[w - 1] : NULL;
		const struct sla_warranty_line *next = &lines[i];
		bool join = false;
		if (cur != NULL) {
			sla_duration gap = next->outage_start - cur->end;
			if (per_fault) /* S9 flaps: one fault, gap shorter than the window */
				join = cur->fault_ids[0] == next->fault_ids[0] &&
				       (gap <= 0 || gap < window);
			else /* overlapping or touching: never count a second twice */
				join = gap <= 0;
		}
		if (!join) {
			if (w != i)
				lines[w] = *next;
			w++;
			continue;
		}
		if (next->end > cur->end)
			cur->end = next->end;
		cur->interval_count += next->interval_count;
		cur->flags |=
		    next->flags | (per_fault ? SLA_WARRANTY_FLAG_FLAPS : SLA_WARRANTY_FLAG_OVERLAP);
		add_faults(cur, next);
	}
	return w;
}

static enum sla_warranty_error check_terms(const struct sla_warranty_terms *t)
{
	int32_t off;
	if (!sla_date_valid(t->acceptance))
		return SLA_WARRANTY_E_DATE;
	if (t->months <= 0 || t->months > SLA_WARRANTY_MONTHS_MAX)
		return SLA_WARRANTY_E_MONTHS;
	if ((unsigned)t->rounding >= SLA_WARRANTY_ROUND_COUNT)
		return SLA_WARRANTY_E_ROUNDING;
	if (t->merge_window < 0)
		return SLA_WARRANTY_E_MERGE_WINDOW;
	if (sla_tz_offset(&t->tz, 0, &off) < 0)
		return SLA_WARRANTY_E_TZ;
	return SLA_WARRANTY_OK;
}

static enum sla_warranty_error check_interval(const struct sla_downtime *d)
{
	if ((unsigned)d->cause >= SLA_CAUSE_COUNT)
		return SLA_WARRANTY_E_CAUSE;
	if (!instant_ok(d->start) || (d->end != SLA_TIME_NEVER && !instant_ok(d->end)))
		return SLA_WARRANTY_E_INSTANT;
	if (d->end != SLA_TIME_NEVER && d->end < d->start)
		return SLA_WARRANTY_E_INTERVAL;
	return SLA_WARRANTY_OK;
}

static struct sla_warranty_line line_of(const struct sla_downtime *d, sla_time now,
                                        enum sla_warranty_rounding rounding)
{
	struct sla_warranty_line l;
	memset(&l, 0, sizeof(l));
	l.cause = d->cause;
	l.fault_ids[0] = d->fault_id;
	l.fault_count = 1;
	l.interval_count = 1;
	l.outage_start = d->start;
	l.start = d->start;
	if (d->end == SLA_TIME_NEVER) {
		/* Still down: measured up to now; a start after now (clock
		 * skew between sources) measures zero rather than failing. */
		l.end = now > d->start ? now : d->start;
		l.flags = SLA_WARRANTY_FLAG_ONGOING;
	} else {
		l.end = d->end;
	}
	l.rounding = rounding;
	if (d->cause == SLA_CAUSE_UNKNOWN)
		l.verdict = SLA_WARRANTY_UNKNOWN_CAUSE;
	else if (!cause_is_vendor(d->cause))
		l.verdict = SLA_WARRANTY_EXCLUDED_CAUSE;
	else
		l.verdict = SLA_WARRANTY_COUNTED; /* provisional, decided in step 4 */
	return l;
}

/* The period's state while counting: the end in force, as an instant and
 * as the last free day. */
struct period {
	sla_time end;
	struct sla_date last_day;
};

/* Step 5: grant the line its extension and move the period's end. */
static enum sla_warranty_error grant(const struct sla_warranty_terms *t,
                                     struct sla_warranty_line *l, struct period *p)
{
	sla_time old_end = p->end;
	switch (t->rounding) {
	case SLA_WARRANTY_ROUND_CEIL: /* S9: each started 24 h counts */
		l->days = (l->downtime + SLA_DAY - 1) / SLA_DAY;
		break;
	case SLA_WARRANTY_ROUND_FLOOR:
		l->days = l->downtime / SLA_DAY;
		break;
	default: /* EXACT: checked in check_terms() */
		l->days = 0;
		if (p->end > SLA_CALENDAR_TIME_MAX - l->downtime)
			return SLA_WARRANTY_E_RANGE;
		p->end += l->downtime;
		/* The last free day is the one holding the period's final second. */
		if (sla_tz_local_date(&t->tz, p->end - 1, &p->last_day) < 0)
			return SLA_WARRANTY_E_RANGE;
		l->granted = p->end - old_end;
		return SLA_WARRANTY_OK;
	}
	/* Whole days move the last free day on the calendar, so the end stays
	 * at a local midnight even across a DST change. */
	struct sla_date last, next;
	if (sla_date_add_days(p->last_day, l->days, &last) < 0 ||
	    sla_date_add_days(last, 1, &next) < 0 || sla_tz_day_start(&t->tz, next, &p->end) < 0)
		return SLA_WARRANTY_E_RANGE;
	p->last_day = last;
	l->granted = p->end - old_end;
	return SLA_WARRANTY_OK;
}

/* Step 4 for one merged vendor outage. */
static enum sla_warranty_error count_line(const struct sla_warranty_terms *t, sla_time start,
                                          struct sla_warranty_line *l, struct period *p)
{
	if (l->end <= start) {
		l->verdict = SLA_WARRANTY_BEFORE_PERIOD;
	} else {
		if (l->start < start) { /* began before acceptance: count from the start */
			l->start = start;
			l->flags |= SLA_WARRANTY_FLAG_CLIPPED;
		}
		l->verdict = l->start < p->end ? SLA_WARRANTY_COUNTED : SLA_WARRANTY_AFTER_PERIOD;
	}
	l->downtime = l->end - l->start;
	l->hours = l->downtime / SLA_HOUR;
	if (l->verdict != SLA_WARRANTY_COUNTED)
		return SLA_WARRANTY_OK;
	/* Began inside, ends later: counted whole, the period keeps extending
	 * while the service is down (warranty.h, rule 4). */
	if (l->end > p->end)
		l->flags |= SLA_WARRANTY_FLAG_PAST_END;
	return grant(t, l, p);
}

enum sla_warranty_error sla_warranty_compute(const struct sla_warranty_terms *terms,
                                             const struct sla_downtime *downtime, size_t n,
                                             sla_time now, struct sla_warranty_line *lines,
                                             size_t cap, struct sla_warranty_result *out)
{
	enum sla_warranty_error err;
	if (terms == NULL || out == NULL || (n > 0 && (downtime == NULL || lines == NULL)))
		return SLA_WARRANTY_E_NULL;
	memset(out, 0, sizeof(*out));
	if ((err = check_terms(terms)) != SLA_WARRANTY_OK)
		return err;
	if (n > cap)
		return SLA_WARRANTY_E_CAPACITY;
	if (!instant_ok(now)) {
		out->error_index = n;
		return SLA_WARRANTY_E_INSTANT;
	}
	for (size_t i = 0; i < n; i++) {
		if ((err = check_interval(&downtime[i])) != SLA_WARRANTY_OK) {
			out->error_index = i;
			return err;
		}
	}

	/* Step 1 (S8): the base period in the contract's zone. */
	struct sla_date after_last;
	out->acceptance = terms->acceptance;
	if (sla_tz_day_start(&terms->tz, terms->acceptance, &out->start) < 0)
		return SLA_WARRANTY_E_TZ;
	if (sla_date_add_months(terms->acceptance, terms->months, &after_last) < 0 ||
	    sla_date_add_days(after_last, -1, &out->base_last_day) < 0 ||
	    sla_tz_day_start(&terms->tz, after_last, &out->base_end) < 0)
		return SLA_WARRANTY_E_RANGE;

	/* Step 2: vendor intervals to the front, the others to the back. */
	size_t v = 0, e = 0;
	for (size_t i = 0; i < n; i++) {
		struct sla_warranty_line l = line_of(&downtime[i], now, terms->rounding);
		if (l.verdict == SLA_WARRANTY_COUNTED)
			lines[v++] = l;
		else
			lines[n - 1 - e++] = l;
	}

	/* Step 3: flaps of one fault, then overlaps of any faults. */
	if (v > 0) {
		qsort(lines, v, sizeof(*lines), cmp_by_fault);
		size_t a = merge_lines(lines, v, terms->merge_window, true);
		qsort(lines, a, sizeof(*lines), cmp_by_start);
		v = merge_lines(lines, a, 0, false);
	}

	/* Step 4 and 5: count chronologically, extending as we go. */
	struct period p = {.end = out->base_end, .last_day = out->base_last_day};
	for (size_t i = 0; i < v; i++) {
		if ((err = count_line(terms, out->start, &lines[i], &p)) != SLA_WARRANTY_OK)
			return err;
		lines[i].end_after = p.end;
		lines[i].last_day_after = p.last_day;
	}

	/* The ledger: excluded lines behind the merged ones, all by start. */
	if (e > 0)
		memmove(lines + v, lines + (n - e), e * sizeof(*lines));
	out->lines = lines;
	out->line_count = v + e;
	if (out->line_count > 0)
		qsort(lines, out->line_count, sizeof(*lines), cmp_by_start);
	struct period running = {.end = out->base_end, .last_day = out->base_last_day};
	for (size_t i = 0; i < out->line_count; i++) {
		struct sla_warranty_line *l = &lines[i];
		if (l->verdict == SLA_WARRANTY_EXCLUDED_CAUSE ||
		    l->verdict == SLA_WARRANTY_UNKNOWN_CAUSE) {
			l->downtime = l->end - l->start;
			l->hours = l->downtime / SLA_HOUR;
			l->end_after = running.end;
			l->last_day_after = running.last_day;
		}
		running.end = l->end_after;
		running.last_day = l->last_day_after;
		l->why = l->verdict == SLA_WARRANTY_COUNTED ? why_counted[terms->rounding]
		                                            : why_other[l->verdict];
		if (l->verdict == SLA_WARRANTY_COUNTED)
			out->counted++;
		else
			out->not_counted++;
	}

	out->last_day = p.last_day;
	out->end = p.end;
	out->extension = p.end - out->base_end;
	/* Both dates are valid here, so this cannot fail. */
	return sla_date_diff_days(out->base_last_day, p.last_day, &out->extension_days) < 0
	           ? SLA_WARRANTY_E_RANGE
	           : SLA_WARRANTY_OK;
}

bool sla_warranty_is_free_on(const struct sla_warranty_result *r, sla_time t)
{
	/* S10: quality faults are repaired free inside the period. */
	return r != NULL && t >= r->start && t < r->end;
}

int sla_warranty_days_left(const struct sla_warranty_result *r, const struct sla_tz *tz,
                           sla_time now, int64_t *out)
{
	struct sla_date today;
	int64_t diff;
	if (r == NULL || tz == NULL || out == NULL)
		return -1;
	if (now >= r->end) {
		*out = 0;
		return 0;
	}
	if (now < r->start)
		today = r->acceptance;
	else if (sla_tz_local_date(tz, now, &today) < 0)
		return -1;
	if (sla_date_diff_days(today, r->last_day, &diff) < 0)
		return -1;
	/* Today counts; a zone other than the contract's may put today past
	 * the last day while the period still runs: never negative. */
	*out = diff >= 0 ? diff + 1 : 0;
	return 0;
}
