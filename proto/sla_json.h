/*
 * sla_json.h - the JSON forms of an SLA policy and of the severity rules
 * (POLICY_SET / POLICY_SHOW / RULES_SET / RULES_SHOW, S1, S2, S4, S6).
 *
 * libsla knows only structs; this module is the one reading of the documents
 * an administrator writes by hand, stores in PostgreSQL and reads back.
 * Pure: libc, json-c and libsla headers, no I/O, no globals.
 *
 * Policy document (every key shown is required in a full document):
 *
 *   {"types": {
 *      "fault":      {"start_tier": "engineer",
 *                     "clocks": {"response": {"1": "30m", "2": "2h", "3": "8h", "4": "1d"},
 *                                "onsite":   {"1": "4h", "2": "8h", "3": "1d", "4": "1d"},
 *                                "restore":  {"1": "8h", "2": "1d", "3": "1d", "4": "1d"}}},
 *      "consulting": {"start_tier": "engineer",
 *                     "clocks": {"response": "4h", "restore": "3d"}},
 *      ... all six types (fault, consulting, training, complaint, inspection, followup)},
 *    "warnings": ["50%", "75%", "90%"],
 *    "ladder": {"1": [{"tier": "team_lead", "after": "15m"}, ...], "2": [...], "3": [...],
 *               "4": [...]},
 *    "onsite_from_dispatch": false}
 *
 *   - A clock listed under "clocks" runs for that type; an absent one does not.
 *     Its value is an object with the four levels "1".."4", or one duration
 *     for all four (the types other than faults have equal rows).
 *   - A duration is a string of <digits><unit> parts with units d, h, m, s in
 *     that order, each at most once ("30m", "1h30m", "1d", "90s"; a day is
 *     86400 s), or a non-negative JSON integer of seconds.  At most
 *     SLA_JSON_DURATION_MAX.
 *   - Warnings are percentages of the window with at most one decimal
 *     ("22.5%"), stored per mille.
 *   - Ladder delays ("after") count from the breach (policy.h).
 *
 * A partial document (a per-contract override) has the same shape with any
 * key left out; a clock may give only some levels.  It can change windows of
 * the clocks the base runs, the warnings, whole ladders per level and
 * onsite_from_dispatch; it cannot add a clock or change a start tier (a
 * start_tier equal to the base's is accepted, so a full document read back
 * from POLICY_SHOW is a valid override).
 *
 * Severity rules document (both keys required):
 *
 *   {"default_level": 3,
 *    "rules": [{"kind": "keyword", "pattern": "宕机", "level": 1}, ...]}
 *
 * Errors: every function that can fail writes one line into err (always
 * NUL-terminated when errlen > 0; err may be NULL when errlen is 0) naming
 * the JSON path first, e.g.
 *   "types.fault.clocks.restore.2: '30x' is not a duration"
 *   "ladder.1[0].tier: 'boss' is not a tier (engineer, team_lead, ...)"
 *   "rules[3].level: 7 is not 1..4"
 * Unknown keys are errors.  The structural checks run first; then libsla's
 * validation, whose message is passed through unchanged for policies
 * (e.g. "fault.restore.level2: 30h exceeds the 24h commitment (S4)") and
 * named by rule index for rules.
 */
#ifndef SLAD_SLA_JSON_H
#define SLAD_SLA_JSON_H

#include <stddef.h>

#include <json-c/json.h>

#include "policy.h"
#include "severity.h"

/* A buffer this size holds every message this module writes. */
#define SLA_JSON_ERR_MAX 256
/* Longest duration accepted: 100 years.  Far above every policy bound
 * (SLA_POLICY_MAX_WINDOW, SLA_POLICY_MAX_DELAY), far below overflow. */
#define SLA_JSON_DURATION_MAX (36500 * SLA_DAY)
/* Room for any sla_json_format_duration() output, NUL included. */
#define SLA_JSON_DURATION_BUFLEN 48
/* Most rules a RULES_SET document may hold (bounded memory per request). */
#define SLA_JSON_RULES_MAX 1024

/* ---- durations ---- */

/*
 * Parse a duration string ("30m", "1h30m", "1d", "90s"; grammar above) into
 * seconds.  Returns 0 and sets *out, or -1 (empty, no unit, sign, unknown or
 * repeated or out-of-order unit, trailing garbage, over
 * SLA_JSON_DURATION_MAX) leaving *out unchanged.
 */
SLA_MUSTCHECK int sla_json_parse_duration(const char *s, sla_duration *out);

/*
 * Write d in the shortest string that parses back to exactly d ("90m" rather
 * than "1h30m", "1d" rather than "24h"; ties go to the larger units); "0s"
 * for 0; negative values get a leading '-' (which the parser refuses).
 * Truncates to len - 1 bytes; SLA_JSON_DURATION_BUFLEN always suffices.
 */
void sla_json_format_duration(sla_duration d, char *buf, size_t len);

/* ---- policies ---- */

/* The full document for *p; a new reference (json_object_put it), or NULL if
 * p is NULL or memory ran out. */
json_object *sla_json_from_policy(const struct sla_policy *p);

/*
 * A full document -> *out.  Returns 0, or -1 with the reason in err; *out is
 * untouched on error.  The result has passed sla_policy_validate().
 */
SLA_MUSTCHECK int sla_json_to_policy(const json_object *j, struct sla_policy *out, char *err,
                                     size_t errlen);

/*
 * A partial document applied over *base (sla_policy_apply_override) ->
 * *out.  Returns 0, or -1 with the reason in err; *out is untouched on
 * error.  out may equal base.  An empty object {} yields *base.
 */
SLA_MUSTCHECK int sla_json_to_policy_override(const json_object *j, const struct sla_policy *base,
                                              struct sla_policy *out, char *err, size_t errlen);

/* ---- severity rules ---- */

/* Owns a rule set parsed from JSON: the rules array, copies of the pattern
 * strings and the sla_severity_rules view over them.  Opaque. */
struct sla_json_rules;

/*
 * Parse and validate (sla_severity_rules_validate) a rules document.  Returns
 * a new container (free with sla_json_rules_free), or NULL with the reason in
 * err ("out of memory" when allocation fails).
 */
struct sla_json_rules *sla_json_rules_parse(const json_object *j, char *err, size_t errlen);

/* The rule set; borrowed, valid until sla_json_rules_free(r).  NULL for NULL. */
const struct sla_severity_rules *sla_json_rules_view(const struct sla_json_rules *r);

/* NULL is a no-op. */
void sla_json_rules_free(struct sla_json_rules *r);

/*
 * The document for *rs; a new reference, or NULL if rs is NULL, has
 * rules == NULL with count > 0, a rule with a NULL pattern, or memory ran
 * out.  Kinds and levels are written as they are (an out-of-range kind as
 * "invalid"); validate a set to be sure it reads back.
 */
json_object *sla_json_from_rules(const struct sla_severity_rules *rs);

#endif /* SLAD_SLA_JSON_H */
