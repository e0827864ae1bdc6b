/*
 * severity.h - S1: classify a fault report into level 1..4 and say which rule
 * decided.
 *
 * The rules are data (a table the daemon loads from configuration), not code
 * branches.  libsla ships a bilingual (Chinese / English) default set.
 *
 * Precedence, first stage that yields a level wins:
 *
 *   1. EXPLICIT - a level stated by a person (hotline, engineer).  A person
 *                 has looked; no table may overrule them.
 *   2. IMPACT   - the impact the reporter chose from S1's four definitions
 *                 (interrupted / at risk / degraded / intermittent), mapped
 *                 through the IMPACT rules.
 *   3. MONITOR  - the severity a monitoring system attached to its alert
 *                 (PagerDuty critical/error/warning/info, Zabbix
 *                 disaster/high/average/warning/information, ...), matched
 *                 whole, case-insensitively, ignoring surrounding blanks.
 *   4. KEYWORD  - keywords found in the symptom text (S3).
 *   5. DEFAULT  - the rule set's default level.
 *
 * Within one stage several rules may match; the MOST SEVERE level wins (the
 * lowest number), and among equally severe matches the rule listed first.
 * Erring on the severe side is deliberate: an over-classified ticket costs
 * a tighter clock, an under-classified one costs a missed outage; a person
 * can reclassify either way and the deadlines follow (S1, DESIGN "Time").
 * The keyword stage is not a language model: "not down" and "slow down"
 * still say "down" (level 1), and "偶尔中断" is level 1, not 4.
 *
 * Keyword matching:
 *   - a pattern byte that is an ASCII letter matches either case;
 *   - a space in a pattern matches one or more blanks (space, tab, CR, LF),
 *     so "failing over" also finds "failing\nover";
 *   - where a pattern begins (ends) with an ASCII letter, digit or '_', the
 *     text must not have such a character just before (after) the match: a
 *     word boundary.  "down" finds "is down" and "服务器down了" but not
 *     "download" or "countdown";
 *   - every other byte matches itself, so Chinese patterns match as UTF-8
 *     substrings (UTF-8 is self-synchronising: a valid pattern cannot match
 *     in the middle of a character of valid text).
 * The symptom text is bytes with a length: it need not be NUL-terminated or
 * valid UTF-8, and nothing past its length is read.
 *
 * Default level when nothing matches: 3 in the shipped set.  A report exists,
 * so something "directly affects service" (S1 level 3); 4 would let a real
 * outage described in words we do not know wait a day, 1 would page the
 * whole ladder for every unrecognised alert.  The rule set makes it a
 * setting.
 */
#ifndef SLA_SEVERITY_H
#define SLA_SEVERITY_H

#include "sla_types.h"

/* S1: the impact a reporter chose, in S1's own words. */
enum sla_impact {
	SLA_IMPACT_NONE = 0,     /* not stated */
	SLA_IMPACT_INTERRUPTED,  /* paralysed or service interrupted */
	SLA_IMPACT_AT_RISK,      /* latent risk of paralysis or interruption */
	SLA_IMPACT_DEGRADED,     /* service or performance partly degraded */
	SLA_IMPACT_INTERMITTENT, /* intermittent or indirect effect */
	SLA_IMPACT_COUNT
};

/* "none", "interrupted", "at_risk", "degraded", "intermittent"; "invalid". */
const char *sla_impact_name(enum sla_impact impact);
/* Parse a name above (exact, lower case); 0 and *out, or -1 if unknown. */
SLA_MUSTCHECK int sla_impact_parse(const char *name, enum sla_impact *out);

enum sla_severity_rule_kind {
	SLA_SEV_RULE_IMPACT = 0, /* pattern: an impact name, e.g. "at_risk" */
	SLA_SEV_RULE_MONITOR,    /* pattern: a monitoring severity, e.g. "disaster" */
	SLA_SEV_RULE_KEYWORD,    /* pattern: a symptom keyword, e.g. "宕机", "down" */
	SLA_SEV_RULE_KIND_COUNT
};

/* "impact", "monitor", "keyword"; "invalid". */
const char *sla_severity_rule_kind_name(enum sla_severity_rule_kind kind);

struct sla_severity_rule {
	enum sla_severity_rule_kind kind;
	const char *pattern; /* NUL-terminated UTF-8; borrowed */
	enum sla_level level;
};

/* A rule set.  All pointers are borrowed; the caller keeps them alive. */
struct sla_severity_rules {
	const struct sla_severity_rule *rules;
	size_t count;
	enum sla_level default_level;
};

/* The shipped bilingual rule set (static, never freed). */
const struct sla_severity_rules *sla_severity_default_rules(void);

/* Longest pattern a rule may have, in bytes. */
#define SLA_SEV_PATTERN_MAX 128

enum sla_sev_rules_err {
	SLA_SEV_RULES_OK = 0,
	SLA_SEV_RULES_ERR_NULL,          /* no rule set, or rules == NULL with count > 0 */
	SLA_SEV_RULES_ERR_DEFAULT_LEVEL, /* default_level not 1..4 */
	SLA_SEV_RULES_ERR_KIND,          /* kind out of range */
	SLA_SEV_RULES_ERR_LEVEL,         /* a rule's level not 1..4 */
	SLA_SEV_RULES_ERR_EMPTY_PATTERN, /* NULL, "" or only blanks */
	SLA_SEV_RULES_ERR_PATTERN_TOO_LONG,
	SLA_SEV_RULES_ERR_BAD_UTF8,       /* pattern is not valid UTF-8 (or holds controls) */
	SLA_SEV_RULES_ERR_PATTERN_BLANKS, /* leading/trailing or doubled blanks */
	SLA_SEV_RULES_ERR_UNKNOWN_IMPACT, /* impact rule names no impact */
	SLA_SEV_RULES_ERR_BAD_MONITOR,    /* monitor severity not [a-z0-9_-] words */
	SLA_SEV_RULES_ERR_DUPLICATE,      /* same kind and pattern (ignoring case) twice */
	SLA_SEV_RULES_ERR_COUNT
};

/* "ok", "null", "default_level", ...; "invalid". */
const char *sla_severity_rules_err_name(enum sla_sev_rules_err err);

/*
 * Check a rule set before use (the daemon does so when it loads one).
 * Returns SLA_SEV_RULES_OK, or the first problem found; *bad_index (if not
 * NULL) is then the index of the offending rule, or SLA_SEV_NO_RULE when the
 * problem is not one rule's (NULL set, default level).  For DUPLICATE it is
 * the later of the two.
 */
SLA_MUSTCHECK enum sla_sev_rules_err
sla_severity_rules_validate(const struct sla_severity_rules *rs, size_t *bad_index);

#define SLA_SEV_NO_RULE ((size_t)-1)

/* What a report says.  Every field may be absent (NONE / NULL / 0). */
struct sla_report_facts {
	enum sla_level explicit_level; /* a person's level; NONE if not given */
	enum sla_impact impact;        /* NONE if not given */
	const char *monitor_severity;  /* bytes, not NUL-terminated; may be NULL */
	size_t monitor_severity_len;
	const char *symptoms; /* S3: UTF-8 bytes, not NUL-terminated; may be NULL */
	size_t symptoms_len;
};

enum sla_severity_decided_by {
	SLA_SEV_BY_EXPLICIT = 0,
	SLA_SEV_BY_IMPACT,
	SLA_SEV_BY_MONITOR,
	SLA_SEV_BY_KEYWORD,
	SLA_SEV_BY_DEFAULT,
	SLA_SEV_BY_COUNT
};

/* "explicit", "impact", "monitor", "keyword", "default"; "invalid". */
const char *sla_severity_decided_by_name(enum sla_severity_decided_by by);

struct sla_severity_result {
	enum sla_level level; /* always 1..4 */
	enum sla_severity_decided_by decided_by;
	size_t rule_index;   /* index into the rule set, or SLA_SEV_NO_RULE */
	const char *pattern; /* the rule's pattern (borrowed from the set) or NULL */
	size_t match_offset; /* KEYWORD: byte offset of the match in symptoms; else 0 */
	size_t match_len;    /* KEYWORD: bytes matched in symptoms; else 0 */
};

/*
 * Classify a report.  Never fails: NULL facts, an empty report, invalid
 * UTF-8 or an out-of-range explicit level / impact (ignored, as if absent)
 * all end at a documented stage.  rs == NULL means the shipped set.  Rules
 * with a bad kind, a bad level or an empty pattern are skipped and an
 * invalid default level is taken as 3, so an unchecked set degrades instead
 * of crashing; validate sets when loading them.
 * Returns the level; fills *out if it is not NULL.
 */
enum sla_level sla_severity_classify(const struct sla_severity_rules *rs,
                                     const struct sla_report_facts *facts,
                                     struct sla_severity_result *out);

#endif /* SLA_SEVERITY_H */
