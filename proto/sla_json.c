/*
 * sla_json.c - JSON forms of the SLA policy and of the severity rules
 * (S1, S2, S4, S6).  See sla_json.h for the documents.
 *
 * One parser reads both full and partial policy documents into a `struct
 * doc` that remembers what was given; two finishers turn it into a policy
 * (full: everything required) or into a struct sla_policy_override
 * (partial).  Problems are reported in document order, each with its JSON
 * path, before libsla's own validation runs.
 */
#include "sla_json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keys shown in messages are clipped: the message must fit one line. */
#define KEY_SHOW      40
#define PATH_MAX_LEN  128
#define ROOT_PATH     "(document)"
#define STRINGIFY_(x) #x
#define STRINGIFY(x)  STRINGIFY_(x)

/* ---- errors and paths ---- */

/* Writes "path: message"; returns -1 so that callers can `return fail(...)`. */
__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, const char *path,
                                                      const char *fmt, ...)
{
	if (err == NULL || errlen == 0)
		return -1;
	int n = snprintf(err, errlen, "%s: ", path[0] != '\0' ? path : ROOT_PATH);
	if (n < 0 || (size_t)n >= errlen)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static void clear_err(char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		err[0] = '\0';
}

/* Paths are clipped, never overflowing; vsnprintf because the truncation
 * is meant (gcc's -Wformat-truncation would flag snprintf here). */
__attribute__((format(printf, 3, 4))) static void path_printf(char *buf, size_t len,
                                                              const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/* path.key (or key at the root), the key clipped. */
static void path_key(char *buf, size_t len, const char *path, const char *key)
{
	if (path[0] == '\0')
		path_printf(buf, len, "%.*s", KEY_SHOW, key);
	else
		path_printf(buf, len, "%s.%.*s", path, KEY_SHOW, key);
}

static void path_index(char *buf, size_t len, const char *path, size_t i)
{
	path_printf(buf, len, "%s[%zu]", path, i);
}

/* "got ..." words for a JSON value of the wrong type. */
static const char *kind_of(const json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
		return "a fractional number";
	case json_type_int:
		return "an integer";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	case json_type_null:
	default:
		return "null";
	}
}

/* A string value without NUL bytes (C strings would cut it short). */
static int read_string(json_object *v, const char *path, const char *what, const char **out,
                       char *err, size_t errlen)
{
	if (!json_object_is_type(v, json_type_string))
		return fail(err, errlen, path, "expected %s, got %s", what, kind_of(v));
	const char *s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return fail(err, errlen, path, "contains a NUL character");
	*out = s;
	return 0;
}

/* Names of an enumeration, comma separated, for "expected ..." hints. */
typedef const char *name_fn(int value);

static const char *type_name_i(int v)
{
	return sla_ticket_type_name((enum sla_ticket_type)v);
}
static const char *clock_name_i(int v)
{
	return sla_clock_name((enum sla_clock)v);
}
static const char *tier_name_i(int v)
{
	return sla_tier_name((enum sla_tier)v);
}
static const char *rule_kind_name_i(int v)
{
	return sla_severity_rule_kind_name((enum sla_severity_rule_kind)v);
}

static const char *name_list(char *buf, size_t len, name_fn *name, int count)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < count && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i > 0 ? ", " : "", name(i));
		used += n > 0 ? (size_t)n : 0;
	}
	return buf;
}

/* Index of name among the enumeration's names, or -1. */
static int name_index(const char *s, name_fn *name, int count)
{
	for (int i = 0; i < count; i++)
		if (strcmp(s, name(i)) == 0)
			return i;
	return -1;
}

/* ---- durations ---- */

enum dur_status {
	DUR_OK = 0,
	DUR_SYNTAX,
	DUR_RANGE,
};

struct dur_unit {
	char letter;
	sla_duration seconds;
};

/* Largest first: the grammar wants them in this order. */
static const struct dur_unit dur_units[] = {
    {'d', SLA_DAY},
    {'h', SLA_HOUR},
    {'m', SLA_MINUTE},
    {'s', 1},
};
#define N_UNITS (sizeof(dur_units) / sizeof(dur_units[0]))

static enum dur_status parse_dur(const char *s, sla_duration *out)
{
	if (s == NULL || *s == '\0')
		return DUR_SYNTAX;
	size_t next_unit = 0;
	uint64_t total = 0;
	bool too_big = false;
	while (*s != '\0') {
		if (*s < '0' || *s > '9')
			return DUR_SYNTAX;
		uint64_t v = 0;
		/* Stop accumulating once over the limit: no overflow, and the
		 * rest of the text is still checked for syntax. */
		for (; *s >= '0' && *s <= '9'; s++)
			if (v <= (uint64_t)SLA_JSON_DURATION_MAX)
				v = v * 10 + (uint64_t)(*s - '0');
		size_t u = next_unit;
		while (u < N_UNITS && dur_units[u].letter != *s)
			u++;
		if (u == N_UNITS) /* no unit, unknown, repeated or out of order */
			return DUR_SYNTAX;
		s++;
		next_unit = u + 1;
		uint64_t mul = (uint64_t)dur_units[u].seconds;
		if (v > (uint64_t)SLA_JSON_DURATION_MAX / mul)
			too_big = true;
		else
			total += v * mul; /* both terms <= MAX: no overflow */
		if (total > (uint64_t)SLA_JSON_DURATION_MAX)
			too_big = true;
	}
	if (too_big)
		return DUR_RANGE;
	*out = (sla_duration)total;
	return DUR_OK;
}

int sla_json_parse_duration(const char *s, sla_duration *out)
{
	return parse_dur(s, out) == DUR_OK ? 0 : -1;
}

/* v with the units whose bit is set in mask (bit 3 = d ... bit 0 = s),
 * largest first and greedily; v must be a multiple of the smallest. */
static size_t dur_with_units(uint64_t v, unsigned mask, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t u = 0; u < N_UNITS; u++) {
		if ((mask & (1u << (N_UNITS - 1 - u))) == 0)
			continue;
		uint64_t mul = (uint64_t)dur_units[u].seconds;
		uint64_t q = v / mul;
		v -= q * mul;
		if (q == 0)
			continue;
		/* Fits: at most 24 characters for any 64-bit value and subset
		 * (e.g. 106751991167300d15h30m7s), and len is a local
		 * SLA_JSON_DURATION_BUFLEN. */
		int n = snprintf(buf + used, len - used, "%llu%c", (unsigned long long)q,
		                 dur_units[u].letter);
		used += (size_t)n;
	}
	return used;
}

void sla_json_format_duration(sla_duration d, char *buf, size_t len)
{
	if (buf == NULL || len == 0)
		return;
	/* Magnitude as unsigned so that INT64_MIN does not overflow. */
	uint64_t v = (uint64_t)d;
	const char *sign = "";
	if (d < 0) {
		sign = "-";
		v = 0 - v;
	}
	if (v == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	/* Every subset of units written greedily; the shortest wins, the
	 * earlier (larger units) on a tie.  A greedy split is the shortest for
	 * its subset: moving one of a unit into the next smaller one adds at
	 * least two characters and saves at most one. */
	char best[SLA_JSON_DURATION_BUFLEN] = "";
	size_t best_len = SIZE_MAX;
	for (unsigned mask = (1u << N_UNITS) - 1; mask > 0; mask--) {
		size_t smallest = 0;
		for (size_t u = 0; u < N_UNITS; u++)
			if (mask & (1u << (N_UNITS - 1 - u)))
				smallest = u;
		if (v % (uint64_t)dur_units[smallest].seconds != 0)
			continue;
		char cand[SLA_JSON_DURATION_BUFLEN];
		size_t n = dur_with_units(v, mask, cand, sizeof(cand));
		if (n < best_len) {
			best_len = n;
			memcpy(best, cand, n + 1);
		}
	}
	snprintf(buf, len, "%s%s", sign, best);
}

/* A duration value: a string as above or non-negative integer seconds. */
static int read_duration(json_object *v, const char *path, sla_duration *out, char *err,
                         size_t errlen)
{
	char lim[SLA_JSON_DURATION_BUFLEN];
	sla_json_format_duration(SLA_JSON_DURATION_MAX, lim, sizeof(lim));
	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);
		if (i < 0)
			return fail(err, errlen, path, "%lld is not a duration (negative)",
			            (long long)i);
		if (i > SLA_JSON_DURATION_MAX)
			return fail(err, errlen, path, "%lld seconds exceeds the %s limit",
			            (long long)i, lim);
		*out = i;
		return 0;
	}
	const char *s = "";
	if (read_string(v, path, "a duration like \"30m\" or integer seconds", &s, err, errlen) !=
	    0)
		return -1;
	switch (parse_dur(s, out)) {
	case DUR_OK:
		return 0;
	case DUR_RANGE:
		return fail(err, errlen, path, "'%.*s' exceeds the %s limit", KEY_SHOW, s, lim);
	case DUR_SYNTAX:
	default:
		return fail(err, errlen, path,
		            "'%.*s' is not a duration (e.g. \"30m\", \"1h30m\", \"1d\", \"90s\")",
		            KEY_SHOW, s);
	}
}

/* ---- percentages ---- */

/* "50%", "22.5%" -> per mille; -1 if not that form.  Range is validation's. */
static int parse_percent(const char *s, int *permille)
{
	int v = 0, digits = 0;
	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		if (digits == 4) /* 9999 % is already absurd; stop before overflow */
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (digits == 0)
		return -1;
	v *= 10;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return -1;
		v += *s - '0';
		s++;
	}
	if (s[0] != '%' || s[1] != '\0')
		return -1;
	*permille = v;
	return 0;
}

static json_object *percent_json(int permille)
{
	char buf[32];
	const char *sign = permille < 0 ? "-" : "";
	long long v = permille < 0 ? -(long long)permille : permille;
	if (v % 10 == 0)
		snprintf(buf, sizeof(buf), "%s%lld%%", sign, v / 10);
	else
		snprintf(buf, sizeof(buf), "%s%lld.%lld%%", sign, v / 10, v % 10);
	return json_object_new_string(buf);
}

/* ---- the policy document, as given ---- */

struct type_doc {
	bool seen;
	bool tier_seen;
	enum sla_tier tier;
	bool clocks_seen;
	bool clock_seen[SLA_CLOCK_COUNT];
	bool win_seen[SLA_CLOCK_COUNT][SLA_LEVEL_COUNT];
	sla_duration win[SLA_CLOCK_COUNT][SLA_LEVEL_COUNT];
};

struct doc {
	bool full; /* every key required (POLICY_SET) or any subset (override) */
	bool types_seen;
	struct type_doc types[SLA_TYPE_COUNT];
	bool warnings_seen;
	size_t n_warnings;
	int warnings[SLA_POLICY_MAX_WARNINGS];
	bool ladders_seen;
	bool ladder_seen[SLA_LEVEL_COUNT];
	struct sla_ladder ladder[SLA_LEVEL_COUNT];
	bool onsite_seen;
	bool onsite;
};

/* Walks an object's members in document order (json-c keeps it). */
#define FOR_EACH_MEMBER(obj, e)                                                                    \
	for (struct lh_entry *e = lh_table_head(json_object_get_object(obj)); e != NULL;           \
	     e = lh_entry_next(e))

static const char *member_key(const struct lh_entry *e)
{
	return (const char *)lh_entry_k(e);
}

static json_object *member_val(const struct lh_entry *e)
{
	return (json_object *)lh_entry_v(e);
}

/* "1".."4" -> 1..4; 0 otherwise. */
static int level_key(const char *k)
{
	if (k[0] >= '1' && k[0] <= '0' + SLA_LEVEL_COUNT && k[1] == '\0')
		return k[0] - '0';
	return 0;
}

static int expect_object(const json_object *v, const char *path, const char *what, char *err,
                         size_t errlen)
{
	if (json_object_is_type(v, json_type_object))
		return 0;
	return fail(err, errlen, path, "expected %s, got %s", what, kind_of(v));
}

static int missing(const char *path, const char *key, char *err, size_t errlen)
{
	char p[PATH_MAX_LEN];
	path_key(p, sizeof(p), path, key);
	return fail(err, errlen, p, "missing");
}

static int read_clock(json_object *v, const char *path, struct type_doc *td, int c, bool full,
                      char *err, size_t errlen)
{
	char p[PATH_MAX_LEN];
	td->clock_seen[c] = true;
	if (!json_object_is_type(v, json_type_object)) {
		if (json_object_is_type(v, json_type_string) ||
		    json_object_is_type(v, json_type_int)) {
			/* One duration for every level. */
			sla_duration w;
			if (read_duration(v, path, &w, err, errlen) != 0)
				return -1;
			for (int l = 0; l < SLA_LEVEL_COUNT; l++) {
				td->win_seen[c][l] = true;
				td->win[c][l] = w;
			}
			return 0;
		}
		return fail(err, errlen, path,
		            "expected a duration or an object of levels \"1\"..\"4\", got %s",
		            kind_of(v));
	}
	FOR_EACH_MEMBER(v, m_)
	{
		const char *k = member_key(m_);
		json_object *lv = member_val(m_);
		path_key(p, sizeof(p), path, k);
		int l = level_key(k);
		if (l == 0)
			return fail(err, errlen, p, "unknown level (expected \"1\"..\"4\")");
		if (read_duration(lv, p, &td->win[c][l - 1], err, errlen) != 0)
			return -1;
		td->win_seen[c][l - 1] = true;
	}
	if (full)
		for (int l = 0; l < SLA_LEVEL_COUNT; l++)
			if (!td->win_seen[c][l]) {
				char key[2] = {(char)('1' + l), '\0'};
				return missing(path, key, err, errlen);
			}
	return 0;
}

static int read_clocks(json_object *v, const char *path, struct type_doc *td, bool full, char *err,
                       size_t errlen)
{
	char p[PATH_MAX_LEN], names[96];
	td->clocks_seen = true;
	if (expect_object(v, path, "an object of clocks", err, errlen) != 0)
		return -1;
	FOR_EACH_MEMBER(v, m_)
	{
		const char *k = member_key(m_);
		json_object *cv = member_val(m_);
		path_key(p, sizeof(p), path, k);
		int c = name_index(k, clock_name_i, SLA_CLOCK_COUNT);
		if (c < 0)
			return fail(err, errlen, p, "unknown clock (%s)",
			            name_list(names, sizeof(names), clock_name_i, SLA_CLOCK_COUNT));
		if (read_clock(cv, p, td, c, full, err, errlen) != 0)
			return -1;
	}
	return 0;
}

static int read_tier(json_object *v, const char *path, enum sla_tier *out, char *err, size_t errlen)
{
	char names[96];
	name_list(names, sizeof(names), tier_name_i, SLA_TIER_COUNT);
	const char *s = "";
	if (read_string(v, path, "a tier name", &s, err, errlen) != 0)
		return -1;
	int t = name_index(s, tier_name_i, SLA_TIER_COUNT);
	if (t < 0)
		return fail(err, errlen, path, "'%.*s' is not a tier (%s)", KEY_SHOW, s, names);
	*out = (enum sla_tier)t;
	return 0;
}

static int read_type(json_object *v, const char *path, struct type_doc *td, bool full, char *err,
                     size_t errlen)
{
	char p[PATH_MAX_LEN];
	td->seen = true;
	if (expect_object(v, path, "an object with start_tier and clocks", err, errlen) != 0)
		return -1;
	FOR_EACH_MEMBER(v, m_)
	{
		const char *k = member_key(m_);
		json_object *tv = member_val(m_);
		path_key(p, sizeof(p), path, k);
		if (strcmp(k, "start_tier") == 0) {
			td->tier_seen = true;
			if (read_tier(tv, p, &td->tier, err, errlen) != 0)
				return -1;
		} else if (strcmp(k, "clocks") == 0) {
			if (read_clocks(tv, p, td, full, err, errlen) != 0)
				return -1;
		} else {
			return fail(err, errlen, p, "unknown key (start_tier, clocks)");
		}
	}
	if (full && !td->tier_seen)
		return missing(path, "start_tier", err, errlen);
	if (full && !td->clocks_seen)
		return missing(path, "clocks", err, errlen);
	return 0;
}

static int read_types(json_object *v, const char *path, struct doc *d, char *err, size_t errlen)
{
	char p[PATH_MAX_LEN], names[128];
	name_list(names, sizeof(names), type_name_i, SLA_TYPE_COUNT);
	d->types_seen = true;
	if (expect_object(v, path, "an object of ticket types", err, errlen) != 0)
		return -1;
	FOR_EACH_MEMBER(v, m_)
	{
		const char *k = member_key(m_);
		json_object *tv = member_val(m_);
		path_key(p, sizeof(p), path, k);
		int t = name_index(k, type_name_i, SLA_TYPE_COUNT);
		if (t < 0)
			return fail(err, errlen, p, "unknown ticket type (%s)", names);
		if (read_type(tv, p, &d->types[t], d->full, err, errlen) != 0)
			return -1;
	}
	if (d->full)
		for (int t = 0; t < SLA_TYPE_COUNT; t++)
			if (!d->types[t].seen)
				return missing(path, type_name_i(t), err, errlen);
	return 0;
}

static int read_warnings(json_object *v, const char *path, struct doc *d, char *err, size_t errlen)
{
	char p[PATH_MAX_LEN];
	d->warnings_seen = true;
	if (!json_object_is_type(v, json_type_array))
		return fail(err, errlen, path, "expected an array of percentages, got %s",
		            kind_of(v));
	size_t n = json_object_array_length(v);
	if (n > SLA_POLICY_MAX_WARNINGS)
		return fail(err, errlen, path, "%zu given, at most %d", n, SLA_POLICY_MAX_WARNINGS);
	for (size_t i = 0; i < n; i++) {
		json_object *w = json_object_array_get_idx(v, i);
		path_index(p, sizeof(p), path, i);
		const char *s = "";
		if (read_string(w, p, "a percentage like \"75%\"", &s, err, errlen) != 0)
			return -1;
		if (parse_percent(s, &d->warnings[i]) != 0)
			return fail(err, errlen, p,
			            "'%.*s' is not a percentage like \"75%%\" or \"22.5%%\"",
			            KEY_SHOW, s);
	}
	d->n_warnings = n;
	return 0;
}

static int read_step(json_object *v, const char *path, struct sla_ladder_step *st, char *err,
                     size_t errlen)
{
	char p[PATH_MAX_LEN];
	bool tier = false, after = false;
	if (expect_object(v, path, "an object with tier and after", err, errlen) != 0)
		return -1;
	FOR_EACH_MEMBER(v, m_)
	{
		const char *k = member_key(m_);
		json_object *sv = member_val(m_);
		path_key(p, sizeof(p), path, k);
		if (strcmp(k, "tier") == 0) {
			tier = true;
			if (read_tier(sv, p, &st->tier, err, errlen) != 0)
				return -1;
		} else if (strcmp(k, "after") == 0) {
			after = true;
			if (read_duration(sv, p, &st->delay, err, errlen) != 0)
				return -1;
		} else {
			return fail(err, errlen, p, "unknown key (tier, after)");
		}
	}
	/* Both are required even in an override: a ladder is replaced whole. */
	if (!tier)
		return missing(path, "tier", err, errlen);
	if (!after)
		return missing(path, "after", err, errlen);
	return 0;
}

static int read_ladders(json_object *v, const char *path, struct doc *d, char *err, size_t errlen)
{
	char p[PATH_MAX_LEN], ps[PATH_MAX_LEN];
	d->ladders_seen = true;
	if (expect_object(v, path, "an object of levels \"1\"..\"4\"", err, errlen) != 0)
		return -1;
	FOR_EACH_MEMBER(v, m_)
	{
		const char *k = member_key(m_);
		json_object *lv = member_val(m_);
		path_key(p, sizeof(p), path, k);
		int l = level_key(k);
		if (l == 0)
			return fail(err, errlen, p, "unknown level (expected \"1\"..\"4\")");
		if (!json_object_is_type(lv, json_type_array))
			return fail(err, errlen, p, "expected an array of steps, got %s",
			            kind_of(lv));
		size_t n = json_object_array_length(lv);
		if (n > SLA_POLICY_MAX_LADDER)
			return fail(err, errlen, p, "%zu steps, at most %d", n,
			            SLA_POLICY_MAX_LADDER);
		struct sla_ladder *ld = &d->ladder[l - 1];
		for (size_t i = 0; i < n; i++) {
			path_index(ps, sizeof(ps), p, i);
			if (read_step(json_object_array_get_idx(lv, i), ps, &ld->steps[i], err,
			              errlen) != 0)
				return -1;
		}
		ld->n_steps = n;
		d->ladder_seen[l - 1] = true;
	}
	if (d->full)
		for (int l = 0; l < SLA_LEVEL_COUNT; l++)
			if (!d->ladder_seen[l]) {
				char key[2] = {(char)('1' + l), '\0'};
				return missing(path, key, err, errlen);
			}
	return 0;
}

static int read_doc(const json_object *j, struct doc *d, char *err, size_t errlen)
{
	if (expect_object(j, "", "a JSON object", err, errlen) != 0)
		return -1;
	char p[PATH_MAX_LEN];
	FOR_EACH_MEMBER(j, m_)
	{
		const char *k = member_key(m_);
		json_object *v = member_val(m_);
		path_key(p, sizeof(p), "", k);
		int rc;
		if (strcmp(k, "types") == 0) {
			rc = read_types(v, p, d, err, errlen);
		} else if (strcmp(k, "warnings") == 0) {
			rc = read_warnings(v, p, d, err, errlen);
		} else if (strcmp(k, "ladder") == 0) {
			rc = read_ladders(v, p, d, err, errlen);
		} else if (strcmp(k, "onsite_from_dispatch") == 0) {
			d->onsite_seen = true;
			d->onsite = json_object_get_boolean(v);
			rc = json_object_is_type(v, json_type_boolean)
			         ? 0
			         : fail(err, errlen, p, "expected true or false, got %s",
			                kind_of(v));
		} else {
			rc = fail(err, errlen, p,
			          "unknown key (types, warnings, ladder, onsite_from_dispatch)");
		}
		if (rc != 0)
			return -1;
	}
	if (!d->full)
		return 0;
	if (!d->types_seen)
		return missing("", "types", err, errlen);
	if (!d->warnings_seen)
		return missing("", "warnings", err, errlen);
	if (!d->ladders_seen)
		return missing("", "ladder", err, errlen);
	if (!d->onsite_seen)
		return missing("", "onsite_from_dispatch", err, errlen);
	return 0;
}

int sla_json_to_policy(const json_object *j, struct sla_policy *out, char *err, size_t errlen)
{
	clear_err(err, errlen);
	if (out == NULL)
		return fail(err, errlen, "", "no policy to fill");
	/* About 1 KiB each: the stack is fine, and nothing can run out. */
	struct doc doc;
	memset(&doc, 0, sizeof(doc));
	const struct doc *d = &doc;
	doc.full = true;
	int rc = read_doc(j, &doc, err, errlen);
	if (rc == 0) {
		/* Zeroed first: padding too, so stored policies compare with
		 * memcmp. */
		struct sla_policy p;
		memset(&p, 0, sizeof(p));
		for (int t = 0; t < SLA_TYPE_COUNT; t++) {
			const struct type_doc *td = &d->types[t];
			p.types[t].start_tier = td->tier;
			for (int c = 0; c < SLA_CLOCK_COUNT; c++) {
				p.types[t].runs[c] = td->clock_seen[c];
				for (int l = 0; l < SLA_LEVEL_COUNT; l++)
					p.types[t].window[l][c] = td->win[c][l];
			}
		}
		p.n_warnings = d->n_warnings;
		memcpy(p.warning_permille, d->warnings, sizeof(p.warning_permille));
		memcpy(p.ladder, d->ladder, sizeof(p.ladder));
		p.onsite_from_dispatch = d->onsite;
		/* The message of sla_policy_validate is passed through. */
		rc = sla_policy_validate(&p, err, errlen);
		if (rc == 0)
			memcpy(out, &p, sizeof(p));
	}
	return rc;
}

/* What a contract may change (sla_policy_override) checked against base. */
static int doc_to_override(const struct doc *d, const struct sla_policy *base,
                           struct sla_policy_override *ov, char *err, size_t errlen)
{
	char p[PATH_MAX_LEN];
	sla_policy_override_init(ov);
	for (int t = 0; t < SLA_TYPE_COUNT; t++) {
		const struct type_doc *td = &d->types[t];
		const char *tn = type_name_i(t);
		const struct sla_type_policy *bt = &base->types[t];
		if (td->tier_seen && td->tier != bt->start_tier) {
			path_printf(p, sizeof(p), "types.%s.start_tier", tn);
			return fail(err, errlen, p,
			            "a contract cannot change the start tier (%s, S6)",
			            sla_tier_name(bt->start_tier));
		}
		for (int c = 0; c < SLA_CLOCK_COUNT; c++) {
			if (!td->clock_seen[c])
				continue;
			const char *cn = clock_name_i(c);
			if (!bt->runs[c]) {
				path_printf(p, sizeof(p), "types.%s.clocks.%s", tn, cn);
				return fail(
				    err, errlen, p,
				    "%s does not run the %s clock; a contract cannot add one", tn,
				    cn);
			}
			for (int l = 0; l < SLA_LEVEL_COUNT; l++) {
				if (!td->win_seen[c][l])
					continue;
				/* 0 would mean "keep" in the override struct. */
				if (td->win[c][l] == 0) {
					path_printf(p, sizeof(p), "types.%s.clocks.%s.%d", tn, cn,
					            l + 1);
					return fail(err, errlen, p, "a window must be positive");
				}
				ov->window[t][l][c] = td->win[c][l];
			}
		}
	}
	ov->has_warnings = d->warnings_seen;
	ov->n_warnings = d->n_warnings;
	memcpy(ov->warning_permille, d->warnings, sizeof(ov->warning_permille));
	memcpy(ov->has_ladder, d->ladder_seen, sizeof(ov->has_ladder));
	memcpy(ov->ladder, d->ladder, sizeof(ov->ladder));
	ov->has_onsite_from_dispatch = d->onsite_seen;
	ov->onsite_from_dispatch = d->onsite;
	return 0;
}

int sla_json_to_policy_override(const json_object *j, const struct sla_policy *base,
                                struct sla_policy *out, char *err, size_t errlen)
{
	clear_err(err, errlen);
	if (base == NULL || out == NULL)
		return fail(err, errlen, "", "no base policy or no policy to fill");
	struct doc d;
	struct sla_policy_override ov;
	memset(&d, 0, sizeof(d));
	if (read_doc(j, &d, err, errlen) != 0 || doc_to_override(&d, base, &ov, err, errlen) != 0)
		return -1;
	return sla_policy_apply_override(base, &ov, out, err, errlen);
}

/* ---- building documents ---- */

/* Adds val under key (array: appends when key is NULL).  A NULL val (a
 * failed constructor) or a failed add drops val and clears *ok, so a whole
 * document is built first and checked once. */
static void put(json_object *o, const char *key, json_object *val, bool *ok)
{
	int rc = -1;
	if (val != NULL && o != NULL)
		rc = key != NULL ? json_object_object_add(o, key, val)
		                 : json_object_array_add(o, val);
	if (rc != 0) {
		json_object_put(val);
		*ok = false;
	}
}

static json_object *duration_json(sla_duration d)
{
	char buf[SLA_JSON_DURATION_BUFLEN];
	sla_json_format_duration(d, buf, sizeof(buf));
	return json_object_new_string(buf);
}

static json_object *clock_json(const struct sla_type_policy *tp, int c, bool *ok)
{
	bool same = true;
	for (int l = 1; l < SLA_LEVEL_COUNT; l++)
		same = same && tp->window[l][c] == tp->window[0][c];
	/* Equal rows (every type but faults) read best as one duration. */
	if (same)
		return duration_json(tp->window[0][c]);
	json_object *o = json_object_new_object();
	for (int l = 0; l < SLA_LEVEL_COUNT; l++) {
		char key[2] = {(char)('1' + l), '\0'};
		put(o, key, duration_json(tp->window[l][c]), ok);
	}
	return o;
}

static json_object *ladder_json(const struct sla_ladder *ld, bool *ok)
{
	json_object *a = json_object_new_array();
	size_t n = ld->n_steps < SLA_POLICY_MAX_LADDER ? ld->n_steps : SLA_POLICY_MAX_LADDER;
	for (size_t i = 0; i < n; i++) {
		json_object *st = json_object_new_object();
		put(st, "tier", json_object_new_string(sla_tier_name(ld->steps[i].tier)), ok);
		put(st, "after", duration_json(ld->steps[i].delay), ok);
		put(a, NULL, st, ok);
	}
	return a;
}

json_object *sla_json_from_policy(const struct sla_policy *p)
{
	if (p == NULL)
		return NULL;
	bool ok = true;
	json_object *root = json_object_new_object();
	json_object *types = json_object_new_object();
	for (int t = 0; t < SLA_TYPE_COUNT; t++) {
		const struct sla_type_policy *tp = &p->types[t];
		json_object *to = json_object_new_object();
		put(to, "start_tier", json_object_new_string(sla_tier_name(tp->start_tier)), &ok);
		json_object *clocks = json_object_new_object();
		for (int c = 0; c < SLA_CLOCK_COUNT; c++)
			if (tp->runs[c])
				put(clocks, clock_name_i(c), clock_json(tp, c, &ok), &ok);
		put(to, "clocks", clocks, &ok);
		put(types, type_name_i(t), to, &ok);
	}
	put(root, "types", types, &ok);

	json_object *warnings = json_object_new_array();
	size_t nw =
	    p->n_warnings < SLA_POLICY_MAX_WARNINGS ? p->n_warnings : SLA_POLICY_MAX_WARNINGS;
	for (size_t i = 0; i < nw; i++)
		put(warnings, NULL, percent_json(p->warning_permille[i]), &ok);
	put(root, "warnings", warnings, &ok);

	json_object *ladders = json_object_new_object();
	for (int l = 0; l < SLA_LEVEL_COUNT; l++) {
		char key[2] = {(char)('1' + l), '\0'};
		put(ladders, key, ladder_json(&p->ladder[l], &ok), &ok);
	}
	put(root, "ladder", ladders, &ok);
	put(root, "onsite_from_dispatch", json_object_new_boolean(p->onsite_from_dispatch), &ok);

	if (!ok) {
		json_object_put(root);
		return NULL;
	}
	return root;
}

/* ---- severity rules ---- */

struct sla_json_rules {
	struct sla_severity_rules view;
	struct sla_severity_rule *rules;
	char *strings; /* every pattern, NUL-terminated, back to back */
};

const struct sla_severity_rules *sla_json_rules_view(const struct sla_json_rules *r)
{
	return r != NULL ? &r->view : NULL;
}

void sla_json_rules_free(struct sla_json_rules *r)
{
	if (r == NULL)
		return;
	free(r->rules);
	free(r->strings);
	free(r);
}

static int read_level(json_object *v, const char *path, enum sla_level *out, char *err,
                      size_t errlen)
{
	if (!json_object_is_type(v, json_type_int))
		return fail(err, errlen, path, "expected a level 1..4, got %s", kind_of(v));
	int64_t l = json_object_get_int64(v);
	if (l < SLA_LEVEL_1 || l > SLA_LEVEL_4)
		return fail(err, errlen, path, "%lld is not 1..4", (long long)l);
	*out = (enum sla_level)l;
	return 0;
}

/* One rule; its pattern is borrowed from the document for now. */
static int read_rule(json_object *v, const char *path, struct sla_severity_rule *r, char *err,
                     size_t errlen)
{
	char p[PATH_MAX_LEN], names[64];
	bool kind = false, pattern = false, level = false;
	if (expect_object(v, path, "an object with kind, pattern and level", err, errlen) != 0)
		return -1;
	FOR_EACH_MEMBER(v, m_)
	{
		const char *k = member_key(m_);
		json_object *rv = member_val(m_);
		path_key(p, sizeof(p), path, k);
		if (strcmp(k, "kind") == 0) {
			kind = true;
			const char *s = "";
			if (read_string(rv, p, "a rule kind", &s, err, errlen) != 0)
				return -1;
			int i = name_index(s, rule_kind_name_i, SLA_SEV_RULE_KIND_COUNT);
			if (i < 0)
				return fail(err, errlen, p, "'%.*s' is not a rule kind (%s)",
				            KEY_SHOW, s,
				            name_list(names, sizeof(names), rule_kind_name_i,
				                      SLA_SEV_RULE_KIND_COUNT));
			r->kind = (enum sla_severity_rule_kind)i;
		} else if (strcmp(k, "pattern") == 0) {
			pattern = true;
			if (read_string(rv, p, "a pattern string", &r->pattern, err, errlen) != 0)
				return -1;
		} else if (strcmp(k, "level") == 0) {
			level = true;
			if (read_level(rv, p, &r->level, err, errlen) != 0)
				return -1;
		} else {
			return fail(err, errlen, p, "unknown key (kind, pattern, level)");
		}
	}
	if (!kind)
		return missing(path, "kind", err, errlen);
	if (!pattern)
		return missing(path, "pattern", err, errlen);
	if (!level)
		return missing(path, "level", err, errlen);
	return 0;
}

/* ASCII case folded, as sla_severity_rules_validate compares patterns. */
static bool same_pattern(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return *a == *b;
}

/* sla_severity_rules_validate's verdict, named by path. */
struct sev_msg {
	const char *field; /* appended to "rules[i]" */
	const char *text;
};
static const struct sev_msg sev_msgs[SLA_SEV_RULES_ERR_COUNT] = {
    [SLA_SEV_RULES_ERR_NULL] = {"", "no rule set"},
    [SLA_SEV_RULES_ERR_DEFAULT_LEVEL] = {"", "default level is not 1..4"},
    [SLA_SEV_RULES_ERR_KIND] = {".kind", "not a rule kind"},
    [SLA_SEV_RULES_ERR_LEVEL] = {".level", "not 1..4"},
    [SLA_SEV_RULES_ERR_EMPTY_PATTERN] = {".pattern", "empty or only blanks"},
    [SLA_SEV_RULES_ERR_PATTERN_TOO_LONG] = {".pattern",
                                            "longer than " STRINGIFY(SLA_SEV_PATTERN_MAX) " bytes"},
    [SLA_SEV_RULES_ERR_BAD_UTF8] = {".pattern", "not valid UTF-8 or holds a control character"},
    [SLA_SEV_RULES_ERR_PATTERN_BLANKS] = {".pattern",
                                          "leading, trailing or doubled blanks (a space "
                                          "matches any run of blanks)"},
    [SLA_SEV_RULES_ERR_UNKNOWN_IMPACT] = {".pattern",
                                          "not an impact (interrupted, at_risk, degraded, "
                                          "intermittent)"},
    [SLA_SEV_RULES_ERR_BAD_MONITOR] = {".pattern",
                                       "a monitoring severity is ASCII letters, digits, '_', "
                                       "'-' and single spaces"},
    [SLA_SEV_RULES_ERR_DUPLICATE] = {"", "same kind and pattern (ignoring case) as"},
};

static int rules_verdict(const struct sla_severity_rules *rs, char *err, size_t errlen)
{
	size_t bad;
	enum sla_sev_rules_err e = sla_severity_rules_validate(rs, &bad);
	if (e == SLA_SEV_RULES_OK)
		return 0;
	/* A code added to severity.h after this table still gets its name. */
	static const struct sev_msg unknown = {"", "invalid"};
	const struct sev_msg *m = sev_msgs[e].text != NULL ? &sev_msgs[e] : &unknown;
	char p[PATH_MAX_LEN] = "default_level"; /* the set's own problems */
	if (bad != SLA_SEV_NO_RULE)
		path_printf(p, sizeof(p), "rules[%zu]%s", bad, m->field);
	if (e == SLA_SEV_RULES_ERR_DUPLICATE) {
		size_t first = 0;
		while (first < bad &&
		       !(rs->rules[first].kind == rs->rules[bad].kind &&
		         same_pattern(rs->rules[first].pattern, rs->rules[bad].pattern)))
			first++;
		return fail(err, errlen, p, "%s rules[%zu] (%s)", m->text, first,
		            sla_severity_rules_err_name(e));
	}
	return fail(err, errlen, p, "%s (%s)", m->text, sla_severity_rules_err_name(e));
}

struct sla_json_rules *sla_json_rules_parse(const json_object *j, char *err, size_t errlen)
{
	clear_err(err, errlen);
	if (expect_object(j, "", "a JSON object", err, errlen) != 0)
		return NULL;
	struct sla_json_rules *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		fail(err, errlen, "", "out of memory");
		return NULL;
	}
	bool have_default = false, have_rules = false;
	char p[PATH_MAX_LEN];
	FOR_EACH_MEMBER(j, m_)
	{
		const char *k = member_key(m_);
		json_object *v = member_val(m_);
		path_key(p, sizeof(p), "", k);
		if (strcmp(k, "default_level") == 0) {
			have_default = true;
			if (read_level(v, p, &r->view.default_level, err, errlen) != 0)
				goto fail;
		} else if (strcmp(k, "rules") == 0) {
			have_rules = true;
			if (!json_object_is_type(v, json_type_array)) {
				fail(err, errlen, p, "expected an array of rules, got %s",
				     kind_of(v));
				goto fail;
			}
			size_t n = json_object_array_length(v);
			if (n > SLA_JSON_RULES_MAX) {
				fail(err, errlen, p, "%zu given, at most %d", n,
				     SLA_JSON_RULES_MAX);
				goto fail;
			}
			free(r->rules);
			r->rules = calloc(n > 0 ? n : 1, sizeof(*r->rules));
			if (r->rules == NULL) {
				fail(err, errlen, "", "out of memory");
				goto fail;
			}
			r->view.count = n;
			char pi[PATH_MAX_LEN];
			for (size_t i = 0; i < n; i++) {
				path_index(pi, sizeof(pi), p, i);
				if (read_rule(json_object_array_get_idx(v, i), pi, &r->rules[i],
				              err, errlen) != 0)
					goto fail;
			}
		} else {
			fail(err, errlen, p, "unknown key (default_level, rules)");
			goto fail;
		}
	}
	if (!have_default) {
		missing("", "default_level", err, errlen);
		goto fail;
	}
	if (!have_rules) {
		missing("", "rules", err, errlen);
		goto fail;
	}

	/* Own the patterns: one buffer, the rules repointed into it. */
	size_t total = 1;
	for (size_t i = 0; i < r->view.count; i++)
		total += strlen(r->rules[i].pattern) + 1;
	r->strings = malloc(total);
	if (r->strings == NULL) {
		fail(err, errlen, "", "out of memory");
		goto fail;
	}
	char *at = r->strings;
	for (size_t i = 0; i < r->view.count; i++) {
		size_t n = strlen(r->rules[i].pattern) + 1;
		memcpy(at, r->rules[i].pattern, n);
		r->rules[i].pattern = at;
		at += n;
	}
	r->view.rules = r->rules;
	if (rules_verdict(&r->view, err, errlen) != 0)
		goto fail;
	return r;
fail:
	sla_json_rules_free(r);
	return NULL;
}

json_object *sla_json_from_rules(const struct sla_severity_rules *rs)
{
	if (rs == NULL || (rs->rules == NULL && rs->count > 0))
		return NULL;
	for (size_t i = 0; i < rs->count; i++)
		if (rs->rules[i].pattern == NULL)
			return NULL;
	bool ok = true;
	json_object *root = json_object_new_object();
	put(root, "default_level", json_object_new_int((int)rs->default_level), &ok);
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < rs->count; i++) {
		const struct sla_severity_rule *r = &rs->rules[i];
		json_object *o = json_object_new_object();
		put(o, "kind", json_object_new_string(sla_severity_rule_kind_name(r->kind)), &ok);
		put(o, "pattern", json_object_new_string(r->pattern), &ok);
		put(o, "level", json_object_new_int((int)r->level), &ok);
		put(a, NULL, o, &ok);
	}
	put(root, "rules", a, &ok);
	if (!ok) {
		json_object_put(root);
		return NULL;
	}
	return root;
}
