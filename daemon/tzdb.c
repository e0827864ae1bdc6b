/*
 * tzdb.c - see tzdb.h.
 */
#include "tzdb.h"

#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TZDB_DIR_DEFAULT "/usr/share/zoneinfo"
/* Offset changes within one UTC year; real zones have at most four. */
#define YEAR_TRANSITIONS 8

/* One UTC year of a zone: the offset at its first instant and each change. */
struct tz_year {
	int year;
	int n;
	int32_t off_start;
	sla_time at[YEAR_TRANSITIONS]; /* first instant of each new offset */
	int32_t off[YEAR_TRANSITIONS];
};

struct tzdb_zone {
	char name[TZDB_NAME_MAX + 1];
	char spec[PATH_MAX + 2]; /* ":" + the TZif file, the value for TZ */
	bool fixed;              /* no file: a built-in fixed zone */
	int32_t fixed_offset;
	struct tz_year *years; /* sorted by year, filled on demand */
	size_t n_years, cap_years;
};

/* The process's zones.  The daemon is one thread, the event loop. */
static struct {
	struct tzdb_zone **v;
	size_t n, cap;
} cache;

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int utc_year(sla_time t)
{
	struct sla_date d;
	if (t < SLA_CALENDAR_TIME_MIN)
		return SLA_DATE_YEAR_MIN;
	if (t > SLA_CALENDAR_TIME_MAX)
		return SLA_DATE_YEAR_MAX;
	if (sla_date_from_days(floor_div(t, SLA_DAY), &d) != 0)
		return SLA_DATE_YEAR_MAX;
	return d.year;
}

static sla_time year_start(int year)
{
	int64_t days = 0;
	struct sla_date d = {year, 1, 1};
	if (year > SLA_DATE_YEAR_MAX)
		return SLA_CALENDAR_TIME_MAX + 1;
	if (sla_date_to_days(d, &days) != 0)
		return SLA_CALENDAR_TIME_MIN;
	return days * SLA_DAY;
}

/* The offset glibc gives under the TZ currently set. */
static int32_t probe(sla_time t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (localtime_r(&tt, &tm) == NULL)
		return 0;
	return (int32_t)tm.tm_gmtoff;
}

/* Run glibc under the zone's TZ for a moment; put the old TZ back after. */
struct tz_switch {
	char *old; /* NULL: TZ was unset */
	bool had;
};

static void tz_switch_in(const struct tzdb_zone *z, struct tz_switch *sw)
{
	const char *old = getenv("TZ");
	sw->had = old != NULL;
	sw->old = old ? strdup(old) : NULL;
	setenv("TZ", z->spec, 1);
	tzset();
}

static void tz_switch_out(struct tz_switch *sw)
{
	if (sw->had && sw->old != NULL)
		setenv("TZ", sw->old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(sw->old);
	sw->old = NULL;
}

/* Probe one UTC year: daily, bisecting each change to the second. */
static void fill_year(const struct tzdb_zone *z, int year, struct tz_year *y)
{
	memset(y, 0, sizeof(*y));
	y->year = year;
	sla_time start = year_start(year), end = year_start(year + 1);
	struct tz_switch sw;
	tz_switch_in(z, &sw);
	y->off_start = probe(start);
	int32_t cur = y->off_start;
	for (sla_time t = start; t < end;) {
		sla_time next = t + SLA_DAY < end ? t + SLA_DAY : end;
		int32_t o = probe(next);
		if (o != cur) {
			sla_time lo = t, hi = next; /* lo has cur, hi has o */
			while (hi - lo > 1) {
				sla_time mid = lo + (hi - lo) / 2;
				if (probe(mid) == cur)
					lo = mid;
				else
					hi = mid;
			}
			/* A change at the next year's first second is that year's
			 * starting offset. */
			if (hi < end && y->n < YEAR_TRANSITIONS) {
				y->at[y->n] = hi;
				y->off[y->n] = probe(hi);
				y->n++;
			}
			cur = o;
		}
		t = next;
	}
	tz_switch_out(&sw);
}

/* The zone's record of `year`, computed the first time; NULL when out of
 * memory. */
static const struct tz_year *year_get(struct tzdb_zone *z, int year)
{
	size_t lo = 0, hi = z->n_years;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (z->years[mid].year < year)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < z->n_years && z->years[lo].year == year)
		return &z->years[lo];
	if (z->n_years == z->cap_years) {
		size_t cap = z->cap_years ? z->cap_years * 2 : 8;
		struct tz_year *v = realloc(z->years, cap * sizeof(*v));
		if (v == NULL)
			return NULL;
		z->years = v;
		z->cap_years = cap;
	}
	memmove(&z->years[lo + 1], &z->years[lo], (z->n_years - lo) * sizeof(z->years[0]));
	fill_year(z, year, &z->years[lo]);
	z->n_years++;
	return &z->years[lo];
}

static int32_t zone_offset(const void *ctx, sla_time t)
{
	/* The converter is pure as libsla requires: the cache only remembers
	 * answers, so its filling is invisible to the caller. */
	struct tzdb_zone *z = (struct tzdb_zone *)ctx;
	if (z->fixed)
		return z->fixed_offset;
	const struct tz_year *y = year_get(z, utc_year(t));
	if (y == NULL) {
		struct tz_switch sw;
		tz_switch_in(z, &sw);
		int32_t off = probe(t);
		tz_switch_out(&sw);
		return off;
	}
	int32_t off = y->off_start;
	for (int i = 0; i < y->n && y->at[i] <= t; i++)
		off = y->off[i];
	return off;
}

/* IANA names: letters, digits, "_+-", components separated by single
 * slashes, nothing that climbs out of the database directory. */
static bool name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > TZDB_NAME_MAX || name[0] == '/' || name[n - 1] == '/' ||
	    strstr(name, "//") != NULL || strncmp(name, "right/", 6) == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		          (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-' || c == '/';
		if (!ok || (c == '-' && (i == 0 || name[i - 1] == '/')))
			return false;
	}
	return true;
}

/* Whether path is a TZif file (a directory such as "Asia" is not). */
static bool is_tzif(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	char magic[4];
	ssize_t got = read(fd, magic, sizeof(magic));
	close(fd);
	return got == 4 && memcmp(magic, "TZif", 4) == 0;
}

static struct tzdb_zone *zone_new(const char *name)
{
	struct tzdb_zone *z = calloc(1, sizeof(*z));
	if (z == NULL)
		return NULL;
	snprintf(z->name, sizeof(z->name), "%s", name);
	const char *dir = getenv("TZDIR");
	char path[PATH_MAX];
	int len =
	    snprintf(path, sizeof(path), "%s/%s", dir && dir[0] ? dir : TZDB_DIR_DEFAULT, name);
	if (len > 0 && (size_t)len < sizeof(path) && is_tzif(path)) {
		snprintf(z->spec, sizeof(z->spec), ":%s", path);
		return z;
	}
	/* No tz database: the default zone (no DST since 1991) and UTC still
	 * work. */
	if (strcmp(name, TZDB_DEFAULT_ZONE) == 0 || strcmp(name, "UTC") == 0 ||
	    strcmp(name, "Etc/UTC") == 0) {
		z->fixed = true;
		z->fixed_offset = strcmp(name, TZDB_DEFAULT_ZONE) == 0 ? SLA_TZ_SHANGHAI_OFFSET : 0;
		return z;
	}
	free(z);
	return NULL;
}

const struct tzdb_zone *tzdb_zone_get(const char *name)
{
	if (name == NULL || !name_ok(name))
		return NULL;
	for (size_t i = 0; i < cache.n; i++)
		if (strcmp(cache.v[i]->name, name) == 0)
			return cache.v[i];
	if (cache.n == cache.cap) {
		size_t cap = cache.cap ? cache.cap * 2 : 16;
		struct tzdb_zone **v = realloc(cache.v, cap * sizeof(*v));
		if (v == NULL)
			return NULL;
		cache.v = v;
		cache.cap = cap;
	}
	struct tzdb_zone *z = zone_new(name);
	if (z == NULL)
		return NULL;
	cache.v[cache.n++] = z;
	return z;
}

struct sla_tz tzdb_sla_tz(const struct tzdb_zone *zone)
{
	struct sla_tz tz = {zone_offset, zone, 0};
	return tz;
}

const char *tzdb_zone_name(const struct tzdb_zone *zone)
{
	return zone->name;
}

void tzdb_clear(void)
{
	for (size_t i = 0; i < cache.n; i++) {
		free(cache.v[i]->years);
		free(cache.v[i]);
	}
	free(cache.v);
	memset(&cache, 0, sizeof(cache));
}
