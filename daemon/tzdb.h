/*
 * tzdb.h - IANA time zones from the system tz database, as libsla's
 * struct sla_tz converter (libsla/calendar.h).
 *
 * Customers' dates -- warranty ends, report months, "within 3 days" -- are
 * calendar dates in the customer's zone (DESIGN.md "Time"); libsla reads no
 * tz database and asks the caller for the UTC offset in force at an
 * instant.  This module answers from glibc (localtime_r under TZ=<zone>),
 * which reads the zone's TZif file including its POSIX rule for the years
 * after the last listed transition.
 *
 * Not blocking the event loop (DESIGN.md): glibc keeps one zone loaded at a
 * time and switching TZ re-reads a file, so every lookup goes through a
 * per-process cache instead.  A zone's offsets are computed one UTC year at
 * a time, the first time an instant of that year is asked for: one switch
 * of TZ (a few KB read from the page cache), about 370 localtime_r calls,
 * TZ put back.  Every later lookup in that year is a binary search in
 * memory.  A process touches few (zone, year) pairs: the years of its
 * customers' contracts and outages.
 *
 * Transitions are found by probing once a day and bisecting to the second,
 * so two offset changes less than a day apart would be seen as none; no
 * zone has done that since 1970.
 *
 * Asia/Shanghai and UTC work without a tz database (fixed offsets), so a
 * machine without tzdata still serves the default zone.
 */
#ifndef SLAD_TZDB_H
#define SLAD_TZDB_H

#include <stdbool.h>

#include "calendar.h"

/* The default customer zone (DESIGN.md). */
#define TZDB_DEFAULT_ZONE "Asia/Shanghai"
/* Longest zone name accepted (the protocol's limit). */
#define TZDB_NAME_MAX 64

struct tzdb_zone;

/*
 * The zone called `name` ("Europe/Berlin"), loaded into the cache on first
 * use; NULL if the name is malformed or names no zone of the tz database
 * ("right/..." leap-second zones are refused: their offsets count leap
 * seconds).  The zone lives until tzdb_clear().
 */
const struct tzdb_zone *tzdb_zone_get(const char *name);

/* The converter for libsla; its ctx is the cached zone (borrowed). */
struct sla_tz tzdb_sla_tz(const struct tzdb_zone *zone);

/* The zone's name as it was asked for. */
const char *tzdb_zone_name(const struct tzdb_zone *zone);

/* Drop the cache (shutdown, tests).  Pointers from tzdb_zone_get() and
 * converters built from them are invalid afterwards. */
void tzdb_clear(void);

#endif /* SLAD_TZDB_H */
