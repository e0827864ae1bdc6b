/*
 * policy.c - S2, S4, S6: the shipped SLA policy, per-contract overrides and
 * validation that names what is wrong.  See policy.h for the rules.
 */
#include "policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define M SLA_MINUTE
#define H SLA_HOUR
#define D SLA_DAY

/* Fault windows, [level - 1] = {response, onsite, restore} (issue 2 table). */
static const sla_duration fault_windows[SLA_LEVEL_COUNT][SLA_CLOCK_COUNT] = {
    {30 * M, 4 * H, 8 * H},
    {2 * H, 8 * H, 24 * H},
    {8 * H, 24 * H, 24 * H},
    {24 * H, 24 * H, 24 * H},
};

/* The other types run the same windows at every level. */
struct type_default {
	enum sla_ticket_type type;
	sla_duration window[SLA_CLOCK_COUNT]; /* 0: clock not run */
	enum sla_tier start_tier;
};

static const struct type_default other_types[] = {
    /* Technical advice (S6, free per S16): an answer the same working day. */
    {SLA_TYPE_CONSULTING, {4 * H, 0, 3 * D}, SLA_TIER_ENGINEER},
    /* On-site training (S6): acknowledge the request within the hotline's
     * 24 h, hold the session within a month. */
    {SLA_TYPE_TRAINING, {24 * H, 0, 30 * D}, SLA_TIER_ENGINEER},
    /* Complaints (S6): the regional manager owns them from the start. */
    {SLA_TYPE_COMPLAINT, {2 * H, 0, 3 * D}, SLA_TIER_REGIONAL_MANAGER},
    /* S11: the quarterly inspection visit, done within two weeks of its
     * ticket being opened. */
    {SLA_TYPE_INSPECTION, {0, 0, 14 * D}, SLA_TIER_ENGINEER},
    /* S12, S14: archive and follow-up call "within two days". */
    {SLA_TYPE_FOLLOWUP, {0, 0, 2 * D}, SLA_TIER_ENGINEER},
};

static const int default_warnings[] = {500, 750, 900};

/* Level 1 climbs faster: its restore window is only 8 h. */
static const struct sla_ladder ladder_fast = {
    3,
    {{SLA_TIER_TEAM_LEAD, 15 * M}, {SLA_TIER_REGIONAL_MANAGER, 1 * H}, {SLA_TIER_DIRECTOR, 4 * H}},
};
static const struct sla_ladder ladder_normal = {
    3,
    {{SLA_TIER_TEAM_LEAD, 30 * M}, {SLA_TIER_REGIONAL_MANAGER, 2 * H}, {SLA_TIER_DIRECTOR, 8 * H}},
};

void sla_policy_default(struct sla_policy *out)
{
	memset(out, 0, sizeof(*out));

	struct sla_type_policy *fault = &out->types[SLA_TYPE_FAULT];
	for (int c = 0; c < SLA_CLOCK_COUNT; c++)
		fault->runs[c] = true;
	memcpy(fault->window, fault_windows, sizeof(fault_windows));
	fault->start_tier = SLA_TIER_ENGINEER;

	for (size_t i = 0; i < sizeof(other_types) / sizeof(other_types[0]); i++) {
		const struct type_default *td = &other_types[i];
		struct sla_type_policy *tp = &out->types[td->type];
		for (int c = 0; c < SLA_CLOCK_COUNT; c++) {
			tp->runs[c] = td->window[c] > 0;
			for (int l = 0; l < SLA_LEVEL_COUNT; l++)
				tp->window[l][c] = td->window[c];
		}
		tp->start_tier = td->start_tier;
	}

	out->n_warnings = sizeof(default_warnings) / sizeof(default_warnings[0]);
	memcpy(out->warning_permille, default_warnings, sizeof(default_warnings));

	out->ladder[0] = ladder_fast;
	for (int l = 1; l < SLA_LEVEL_COUNT; l++)
		out->ladder[l] = ladder_normal;
	out->onsite_from_dispatch = false;
}

void sla_policy_override_init(struct sla_policy_override *ov)
{
	memset(ov, 0, sizeof(*ov));
}

char *sla_policy_format_duration(sla_duration d, char *buf, size_t buflen)
{
	if (buf == NULL || buflen == 0)
		return buf;
	const char *sign = "";
	/* Magnitude as unsigned so that INT64_MIN does not overflow. */
	uint64_t v = (uint64_t)d;
	if (d < 0) {
		sign = "-";
		v = 0 - v;
	}
	if (v == 0) {
		snprintf(buf, buflen, "0s");
		return buf;
	}
	uint64_t h = v / 3600, m = (v % 3600) / 60, s = v % 60;
	char hs[24] = "", ms[8] = "", ss[8] = "";
	if (h)
		snprintf(hs, sizeof(hs), "%lluh", (unsigned long long)h);
	if (m)
		snprintf(ms, sizeof(ms), "%llum", (unsigned long long)m);
	if (s)
		snprintf(ss, sizeof(ss), "%llus", (unsigned long long)s);
	snprintf(buf, buflen, "%s%s%s%s", sign, hs, ms, ss);
	return buf;
}

/* Returns -1 so that callers can `return fail(...)`. */
__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
                                                      ...)
{
	if (err != NULL && errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool tier_valid(enum sla_tier t)
{
	return (int)t >= 0 && t < SLA_TIER_COUNT;
}

/* Per mille as a percentage with one decimal: 225 -> "22.5%". */
static const char *pct(int permille, char *buf, size_t buflen)
{
	const char *sign = permille < 0 ? "-" : "";
	long long v = permille < 0 ? -(long long)permille : permille;
	snprintf(buf, buflen, "%s%lld.%lld%%", sign, v / 10, v % 10);
	return buf;
}

static int validate_windows(const struct sla_policy *p, char *err, size_t errlen)
{
	char a[32], b[32];
	for (int t = 0; t < SLA_TYPE_COUNT; t++) {
		const struct sla_type_policy *tp = &p->types[t];
		const char *tn = sla_ticket_type_name((enum sla_ticket_type)t);
		if (!tier_valid(tp->start_tier))
			return fail(err, errlen, "%s.start_tier: %d is not a tier", tn,
			            (int)tp->start_tier);
		sla_duration cap =
		    t == SLA_TYPE_FAULT ? SLA_POLICY_FAULT_CAP : SLA_POLICY_MAX_WINDOW;
		for (int c = 0; c < SLA_CLOCK_COUNT; c++) {
			if (!tp->runs[c])
				continue;
			const char *cn = sla_clock_name((enum sla_clock)c);
			for (int l = 0; l < SLA_LEVEL_COUNT; l++) {
				sla_duration w = tp->window[l][c];
				if (w <= 0)
					return fail(err, errlen,
					            "%s.%s.level%d: window %s must be positive", tn,
					            cn, l + 1,
					            sla_policy_format_duration(w, a, sizeof(a)));
				if (w > cap) {
					sla_policy_format_duration(w, a, sizeof(a));
					sla_policy_format_duration(cap, b, sizeof(b));
					if (t == SLA_TYPE_FAULT)
						return fail(err, errlen,
						            "%s.%s.level%d: %s exceeds the %s "
						            "commitment (S4)",
						            tn, cn, l + 1, a, b);
					return fail(err, errlen,
					            "%s.%s.level%d: %s exceeds the %s limit", tn,
					            cn, l + 1, a, b);
				}
			}
			/* DESIGN "Time": level 1 is never looser than level 4. */
			for (int i = 0; i < SLA_LEVEL_COUNT; i++)
				for (int j = i + 1; j < SLA_LEVEL_COUNT; j++)
					if (tp->window[i][c] > tp->window[j][c])
						return fail(err, errlen,
						            "%s.%s: level %d (%s) is looser than "
						            "level %d (%s)",
						            tn, cn, i + 1,
						            sla_policy_format_duration(
						                tp->window[i][c], a, sizeof(a)),
						            j + 1,
						            sla_policy_format_duration(
						                tp->window[j][c], b, sizeof(b)));
		}
	}
	return 0;
}

static int validate_warnings(size_t n, const int *permille, char *err, size_t errlen)
{
	char a[32], b[32];
	if (n > SLA_POLICY_MAX_WARNINGS)
		return fail(err, errlen, "warnings: %zu given, at most %d", n,
		            SLA_POLICY_MAX_WARNINGS);
	for (size_t i = 0; i < n; i++) {
		int f = permille[i];
		if (f <= 0)
			return fail(err, errlen, "warnings[%zu]: %s must be above 0%%", i,
			            pct(f, a, sizeof(a)));
		if (f >= 1000)
			return fail(err, errlen,
			            "warnings[%zu]: %s must be below 100%% (the breach)", i,
			            pct(f, a, sizeof(a)));
		if (i > 0 && f <= permille[i - 1])
			return fail(err, errlen,
			            "warnings[%zu]: %s is not above warnings[%zu] (%s); fractions "
			            "must increase",
			            i, pct(f, a, sizeof(a)), i - 1,
			            pct(permille[i - 1], b, sizeof(b)));
	}
	return 0;
}

static int validate_ladder(int level, const struct sla_ladder *ld, char *err, size_t errlen)
{
	char a[32], b[32];
	if (ld->n_steps > SLA_POLICY_MAX_LADDER)
		return fail(err, errlen, "ladder.level%d: %zu steps, at most %d", level,
		            ld->n_steps, SLA_POLICY_MAX_LADDER);
	for (size_t k = 0; k < ld->n_steps; k++) {
		const struct sla_ladder_step *s = &ld->steps[k];
		if (!tier_valid(s->tier))
			return fail(err, errlen, "ladder.level%d[%zu]: %d is not a tier", level, k,
			            (int)s->tier);
		if (s->delay < 0 || s->delay > SLA_POLICY_MAX_DELAY)
			return fail(
			    err, errlen,
			    "ladder.level%d[%zu]: delay %s is outside 0s..%s after the breach",
			    level, k, sla_policy_format_duration(s->delay, a, sizeof(a)),
			    sla_policy_format_duration(SLA_POLICY_MAX_DELAY, b, sizeof(b)));
		if (k == 0)
			continue;
		const struct sla_ladder_step *prev = &ld->steps[k - 1];
		if (s->tier <= prev->tier)
			return fail(
			    err, errlen,
			    "ladder.level%d[%zu]: tier %s does not climb above %s (step %zu)",
			    level, k, sla_tier_name(s->tier), sla_tier_name(prev->tier), k - 1);
		if (s->delay < prev->delay)
			return fail(err, errlen,
			            "ladder.level%d[%zu]: delay %s is earlier than step %zu (%s)",
			            level, k, sla_policy_format_duration(s->delay, a, sizeof(a)),
			            k - 1, sla_policy_format_duration(prev->delay, b, sizeof(b)));
	}
	return 0;
}

int sla_policy_validate(const struct sla_policy *policy, char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (policy == NULL)
		return fail(err, errlen, "policy: missing");
	if (validate_windows(policy, err, errlen) != 0)
		return -1;
	if (validate_warnings(policy->n_warnings, policy->warning_permille, err, errlen) != 0)
		return -1;
	for (int l = 0; l < SLA_LEVEL_COUNT; l++)
		if (validate_ladder(l + 1, &policy->ladder[l], err, errlen) != 0)
			return -1;
	return 0;
}

int sla_policy_apply_override(const struct sla_policy *base, const struct sla_policy_override *ov,
                              struct sla_policy *out, char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (base == NULL || ov == NULL || out == NULL)
		return fail(err, errlen, "override: missing argument");

	struct sla_policy p = *base;
	for (int t = 0; t < SLA_TYPE_COUNT; t++)
		for (int l = 0; l < SLA_LEVEL_COUNT; l++)
			for (int c = 0; c < SLA_CLOCK_COUNT; c++) {
				sla_duration w = ov->window[t][l][c];
				if (w == 0)
					continue;
				if (!p.types[t].runs[c])
					return fail(
					    err, errlen,
					    "override %s.%s.level%d: %s does not run the %s "
					    "clock",
					    sla_ticket_type_name((enum sla_ticket_type)t),
					    sla_clock_name((enum sla_clock)c), l + 1,
					    sla_ticket_type_name((enum sla_ticket_type)t),
					    sla_clock_name((enum sla_clock)c));
				p.types[t].window[l][c] = w;
			}
	if (ov->has_warnings) {
		/* Check the count before copying: the array is fixed-size. */
		if (validate_warnings(ov->n_warnings, ov->warning_permille, err, errlen) != 0)
			return -1;
		p.n_warnings = ov->n_warnings;
		memcpy(p.warning_permille, ov->warning_permille, sizeof(p.warning_permille));
	}
	for (int l = 0; l < SLA_LEVEL_COUNT; l++)
		if (ov->has_ladder[l])
			p.ladder[l] = ov->ladder[l];
	if (ov->has_onsite_from_dispatch)
		p.onsite_from_dispatch = ov->onsite_from_dispatch;

	if (sla_policy_validate(&p, err, errlen) != 0)
		return -1;
	*out = p;
	return 0;
}

static bool type_valid(enum sla_ticket_type t)
{
	return (int)t >= 0 && t < SLA_TYPE_COUNT;
}

static bool clock_valid(enum sla_clock c)
{
	return (int)c >= 0 && c < SLA_CLOCK_COUNT;
}

/* Row index for a level; NONE reads level 4 (see policy.h); -1 if invalid. */
static int level_row(enum sla_level level)
{
	if (level == SLA_LEVEL_NONE)
		return SLA_LEVEL_4 - 1;
	if (!sla_level_valid(level))
		return -1;
	return (int)level - 1;
}

bool sla_policy_runs(const struct sla_policy *policy, enum sla_ticket_type type,
                     enum sla_clock clock)
{
	if (policy == NULL || !type_valid(type) || !clock_valid(clock))
		return false;
	return policy->types[type].runs[clock];
}

sla_duration sla_policy_window(const struct sla_policy *policy, enum sla_ticket_type type,
                               enum sla_level level, enum sla_clock clock)
{
	int row = level_row(level);
	if (row < 0 || !sla_policy_runs(policy, type, clock))
		return 0;
	return policy->types[type].window[row][clock];
}

enum sla_tier sla_policy_start_tier(const struct sla_policy *policy, enum sla_ticket_type type)
{
	if (policy == NULL || !type_valid(type))
		return SLA_TIER_ENGINEER;
	return policy->types[type].start_tier;
}

void sla_policy_effective_ladder(const struct sla_policy *policy, enum sla_ticket_type type,
                                 enum sla_level level, struct sla_ladder *out)
{
	memset(out, 0, sizeof(*out));
	int row = level_row(level);
	if (policy == NULL || !type_valid(type) || row < 0)
		return;
	const struct sla_ladder *ld = &policy->ladder[row];
	enum sla_tier start = policy->types[type].start_tier;
	size_t n = ld->n_steps < SLA_POLICY_MAX_LADDER ? ld->n_steps : SLA_POLICY_MAX_LADDER;
	for (size_t k = 0; k < n; k++) {
		/* S6: the breach already reached the start tier. */
		if (ld->steps[k].tier <= start)
			continue;
		out->steps[out->n_steps++] = ld->steps[k];
	}
}
