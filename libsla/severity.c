/*
 * severity.c - S1 classification over a data-driven rule set.  See
 * severity.h for the precedence and the matching rules.
 */
#include "severity.h"

#include <string.h>

static const char *const impact_names[SLA_IMPACT_COUNT] = {
    "none", "interrupted", "at_risk", "degraded", "intermittent",
};
static const char *const kind_names[SLA_SEV_RULE_KIND_COUNT] = {"impact", "monitor", "keyword"};
static const char *const by_names[SLA_SEV_BY_COUNT] = {
    "explicit", "impact", "monitor", "keyword", "default",
};
static const char *const err_names[SLA_SEV_RULES_ERR_COUNT] = {
    "ok",
    "null",
    "default_level",
    "kind",
    "level",
    "empty_pattern",
    "pattern_too_long",
    "bad_utf8",
    "pattern_blanks",
    "unknown_impact",
    "bad_monitor",
    "duplicate",
};

#define R(kind, pattern, level)                                                                    \
	{                                                                                          \
		SLA_SEV_RULE_##kind, (pattern), SLA_LEVEL_##level                                  \
	}

/*
 * The shipped set.  S1's four definitions, in the words hotline staff and
 * monitoring actually use.  Word lists are deliberately plain: a keyword that
 * is often innocent (停机 "planned downtime", 告警 "an alert") is left out
 * rather than over-classifying every report that contains it.
 */
static const struct sla_severity_rule default_rules[] = {
    /* Impact: S1's definitions one to one. */
    R(IMPACT, "interrupted", 1),
    R(IMPACT, "at_risk", 2),
    R(IMPACT, "degraded", 3),
    R(IMPACT, "intermittent", 4),

    /* Monitoring severities.  PagerDuty: critical/error/warning/info.
     * Zabbix: disaster/high/average/warning/information ("not classified"
     * is left to the keywords).  Opsgenie: P1..P5.  "warning" is in both
     * the PagerDuty and Zabbix scales one step apart; it maps to 3, the
     * severe side (see severity.h). */
    R(MONITOR, "critical", 1),
    R(MONITOR, "disaster", 1),
    R(MONITOR, "fatal", 1),
    R(MONITOR, "emergency", 1),
    R(MONITOR, "p1", 1),
    R(MONITOR, "error", 2),
    R(MONITOR, "high", 2),
    R(MONITOR, "major", 2),
    R(MONITOR, "p2", 2),
    R(MONITOR, "average", 3),
    R(MONITOR, "warning", 3),
    R(MONITOR, "warn", 3),
    R(MONITOR, "minor", 3),
    R(MONITOR, "moderate", 3),
    R(MONITOR, "p3", 3),
    R(MONITOR, "info", 4),
    R(MONITOR, "information", 4),
    R(MONITOR, "informational", 4),
    R(MONITOR, "low", 4),
    R(MONITOR, "p4", 4),
    R(MONITOR, "p5", 4),

    /* Level 1: paralysed, interrupted, basic functions gone. */
    R(KEYWORD, "瘫痪", 1),
    R(KEYWORD, "中断", 1),
    R(KEYWORD, "宕机", 1),
    R(KEYWORD, "无法使用", 1),
    R(KEYWORD, "不能使用", 1),
    R(KEYWORD, "停止运行", 1), /* the seed's own words (S9) */
    R(KEYWORD, "停运", 1),
    R(KEYWORD, "崩溃", 1),
    R(KEYWORD, "死机", 1),
    R(KEYWORD, "无法访问", 1),
    R(KEYWORD, "无法连接", 1),
    R(KEYWORD, "不可用", 1),
    R(KEYWORD, "断网", 1),
    R(KEYWORD, "挂了", 1),
    R(KEYWORD, "down", 1),
    R(KEYWORD, "outage", 1),
    R(KEYWORD, "unreachable", 1),
    R(KEYWORD, "unavailable", 1),
    R(KEYWORD, "offline", 1),
    R(KEYWORD, "crash", 1),
    R(KEYWORD, "crashed", 1),
    R(KEYWORD, "crashes", 1),
    R(KEYWORD, "not responding", 1),
    R(KEYWORD, "unresponsive", 1),
    R(KEYWORD, "interrupted", 1),
    R(KEYWORD, "interruption", 1),
    R(KEYWORD, "paralysed", 1),
    R(KEYWORD, "paralyzed", 1),

    /* Level 2: a latent risk of level 1. */
    R(KEYWORD, "隐患", 2),
    R(KEYWORD, "风险", 2),
    R(KEYWORD, "可能导致", 2),
    R(KEYWORD, "即将", 2),
    R(KEYWORD, "主备切换", 2),
    R(KEYWORD, "冗余失效", 2),
    R(KEYWORD, "单点故障", 2),
    R(KEYWORD, "空间不足", 2),
    R(KEYWORD, "risk", 2),
    R(KEYWORD, "risks", 2),
    R(KEYWORD, "failing over", 2),
    R(KEYWORD, "failed over", 2),
    R(KEYWORD, "failover", 2),
    R(KEYWORD, "redundancy lost", 2),
    R(KEYWORD, "no redundancy", 2),
    R(KEYWORD, "about to fail", 2),
    R(KEYWORD, "imminent", 2),
    R(KEYWORD, "almost full", 2),
    R(KEYWORD, "nearly full", 2),

    /* Level 3: service or performance partly degraded. */
    R(KEYWORD, "缓慢", 3),
    R(KEYWORD, "变慢", 3),
    R(KEYWORD, "很慢", 3),
    R(KEYWORD, "响应慢", 3),
    R(KEYWORD, "卡顿", 3),
    R(KEYWORD, "性能下降", 3),
    R(KEYWORD, "降级", 3),
    R(KEYWORD, "延迟", 3),
    R(KEYWORD, "超时", 3),
    R(KEYWORD, "部分功能", 3),
    R(KEYWORD, "slow", 3),
    R(KEYWORD, "slowly", 3),
    R(KEYWORD, "sluggish", 3),
    R(KEYWORD, "degraded", 3),
    R(KEYWORD, "degradation", 3),
    R(KEYWORD, "latency", 3),
    R(KEYWORD, "lagging", 3),
    R(KEYWORD, "timeout", 3),
    R(KEYWORD, "timeouts", 3),
    R(KEYWORD, "timed out", 3),
    R(KEYWORD, "partially", 3),

    /* Level 4: intermittent or indirect. */
    R(KEYWORD, "偶尔", 4),
    R(KEYWORD, "间歇", 4),
    R(KEYWORD, "偶发", 4),
    R(KEYWORD, "时好时坏", 4),
    R(KEYWORD, "间接", 4),
    R(KEYWORD, "个别", 4),
    R(KEYWORD, "intermittent", 4),
    R(KEYWORD, "intermittently", 4),
    R(KEYWORD, "occasionally", 4),
    R(KEYWORD, "occasional", 4),
    R(KEYWORD, "sporadic", 4),
    R(KEYWORD, "sporadically", 4),
    R(KEYWORD, "sometimes", 4),
    R(KEYWORD, "flaky", 4),
    R(KEYWORD, "indirect", 4),
    R(KEYWORD, "indirectly", 4),
    R(KEYWORD, "cosmetic", 4),
};

#undef R

static const struct sla_severity_rules default_set = {
    .rules = default_rules,
    .count = sizeof(default_rules) / sizeof(default_rules[0]),
    .default_level = SLA_LEVEL_3, /* see severity.h */
};

const struct sla_severity_rules *sla_severity_default_rules(void)
{
	return &default_set;
}

const char *sla_impact_name(enum sla_impact impact)
{
	if ((int)impact < 0 || impact >= SLA_IMPACT_COUNT)
		return "invalid";
	return impact_names[impact];
}

int sla_impact_parse(const char *name, enum sla_impact *out)
{
	if (name == NULL || out == NULL)
		return -1;
	for (int i = 0; i < SLA_IMPACT_COUNT; i++) {
		if (strcmp(impact_names[i], name) == 0) {
			*out = (enum sla_impact)i;
			return 0;
		}
	}
	return -1;
}

const char *sla_severity_rule_kind_name(enum sla_severity_rule_kind kind)
{
	if ((int)kind < 0 || kind >= SLA_SEV_RULE_KIND_COUNT)
		return "invalid";
	return kind_names[kind];
}

const char *sla_severity_decided_by_name(enum sla_severity_decided_by by)
{
	if ((int)by < 0 || by >= SLA_SEV_BY_COUNT)
		return "invalid";
	return by_names[by];
}

const char *sla_severity_rules_err_name(enum sla_sev_rules_err err)
{
	if ((int)err < 0 || err >= SLA_SEV_RULES_ERR_COUNT)
		return "invalid";
	return err_names[err];
}

/* ---- byte classes (ASCII only: libsla does no locale-dependent work) ---- */

static bool is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static bool is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static unsigned char fold(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/*
 * Match pattern p at text[pos..len).  A space in p matches a run of blanks;
 * ASCII letters ignore case; other bytes match exactly.  Returns the number
 * of text bytes matched, 0 for no match (an empty pattern never matches).
 */
static size_t match_at(const char *text, size_t len, size_t pos, const char *p)
{
	size_t i = pos;

	for (; *p != '\0'; p++) {
		unsigned char pc = (unsigned char)*p;
		if (pc == ' ') {
			if (i >= len || !is_blank((unsigned char)text[i]))
				return 0;
			while (i < len && is_blank((unsigned char)text[i]))
				i++;
			continue;
		}
		if (i >= len || fold((unsigned char)text[i]) != fold(pc))
			return 0;
		i++;
	}
	return i - pos;
}

/*
 * First occurrence of keyword p in text, honouring word boundaries where
 * p begins or ends with a word character.  Returns true and the span.
 */
static bool keyword_find(const char *text, size_t len, const char *p, size_t *at, size_t *n)
{
	size_t plen = strlen(p);
	bool word_start = is_word((unsigned char)p[0]);
	bool word_end = plen > 0 && is_word((unsigned char)p[plen - 1]);

	for (size_t pos = 0; pos < len; pos++) {
		if (word_start && pos > 0 && is_word((unsigned char)text[pos - 1]))
			continue;
		size_t m = match_at(text, len, pos, p);
		if (m == 0)
			continue;
		if (word_end && pos + m < len && is_word((unsigned char)text[pos + m]))
			continue;
		*at = pos;
		*n = m;
		return true;
	}
	return false;
}

/* The whole of text, less surrounding blanks, equals p (ignoring case). */
static bool whole_match(const char *text, size_t len, const char *p)
{
	size_t b = 0, e = len;

	while (b < e && is_blank((unsigned char)text[b]))
		b++;
	while (e > b && is_blank((unsigned char)text[e - 1]))
		e--;
	if (b == e)
		return false;
	return match_at(text, e, b, p) == e - b;
}

static bool rule_usable(const struct sla_severity_rule *r)
{
	return (int)r->kind >= 0 && r->kind < SLA_SEV_RULE_KIND_COUNT &&
	       sla_level_valid(r->level) && r->pattern != NULL && r->pattern[0] != '\0';
}

/* Keep the most severe candidate; ties go to the earlier rule. */
static void consider(struct sla_severity_result *best, bool *found,
                     const struct sla_severity_rule *r, size_t index, size_t at, size_t n)
{
	if (*found && best->level <= r->level)
		return;
	*found = true;
	best->level = r->level;
	best->rule_index = index;
	best->pattern = r->pattern;
	best->match_offset = at;
	best->match_len = n;
}

/* Run one stage over the rule set; true if some rule of that kind matched. */
static bool run_stage(const struct sla_severity_rules *rs, enum sla_severity_rule_kind kind,
                      const struct sla_report_facts *f, struct sla_severity_result *best)
{
	bool found = false;

	if (rs->rules == NULL)
		return false;
	for (size_t i = 0; i < rs->count; i++) {
		const struct sla_severity_rule *r = &rs->rules[i];
		if (r->kind != kind || !rule_usable(r))
			continue;
		size_t at = 0, n = 0;
		bool hit = false;
		switch (kind) {
		case SLA_SEV_RULE_IMPACT:
			hit = strcmp(r->pattern, impact_names[f->impact]) == 0;
			break;
		case SLA_SEV_RULE_MONITOR:
			hit = whole_match(f->monitor_severity, f->monitor_severity_len, r->pattern);
			break;
		case SLA_SEV_RULE_KEYWORD:
			hit = keyword_find(f->symptoms, f->symptoms_len, r->pattern, &at, &n);
			break;
		case SLA_SEV_RULE_KIND_COUNT:
			break;
		}
		if (hit)
			consider(best, &found, r, i, at, n);
	}
	return found;
}

enum sla_level sla_severity_classify(const struct sla_severity_rules *rs,
                                     const struct sla_report_facts *facts,
                                     struct sla_severity_result *out)
{
	static const struct sla_report_facts empty = {0};
	struct sla_severity_result res = {
	    .level = SLA_LEVEL_NONE,
	    .decided_by = SLA_SEV_BY_DEFAULT,
	    .rule_index = SLA_SEV_NO_RULE,
	};

	if (rs == NULL)
		rs = &default_set;
	if (facts == NULL)
		facts = &empty;

	if (sla_level_valid(facts->explicit_level)) {
		res.level = facts->explicit_level;
		res.decided_by = SLA_SEV_BY_EXPLICIT;
		goto done;
	}
	if (facts->impact > SLA_IMPACT_NONE && facts->impact < SLA_IMPACT_COUNT &&
	    run_stage(rs, SLA_SEV_RULE_IMPACT, facts, &res)) {
		res.decided_by = SLA_SEV_BY_IMPACT;
		goto done;
	}
	if (facts->monitor_severity != NULL && facts->monitor_severity_len > 0 &&
	    run_stage(rs, SLA_SEV_RULE_MONITOR, facts, &res)) {
		res.decided_by = SLA_SEV_BY_MONITOR;
		goto done;
	}
	if (facts->symptoms != NULL && facts->symptoms_len > 0 &&
	    run_stage(rs, SLA_SEV_RULE_KEYWORD, facts, &res)) {
		res.decided_by = SLA_SEV_BY_KEYWORD;
		goto done;
	}
	/* Nothing matched: the set's default, or 3 if the set's is broken. */
	res.level = sla_level_valid(rs->default_level) ? rs->default_level : SLA_LEVEL_3;
done:
	if (res.decided_by != SLA_SEV_BY_KEYWORD) {
		res.match_offset = 0;
		res.match_len = 0;
	}
	if (out != NULL)
		*out = res;
	return res.level;
}

/* ---- validation ---- */

/* Strict UTF-8 (no overlongs, surrogates or > U+10FFFF) and no controls. */
static bool utf8_clean(const unsigned char *s)
{
	while (*s != '\0') {
		unsigned char c = *s;
		unsigned int need;
		unsigned int cp;
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1fu;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0fu;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07u;
		} else {
			return false;
		}
		for (unsigned int k = 1; k <= need; k++) {
			if ((s[k] & 0xc0) != 0x80) /* also stops at the NUL */
				return false;
			cp = (cp << 6) | (s[k] & 0x3fu);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		s += need + 1;
	}
	return true;
}

/* Patterns use single spaces between words (a space matches any blank run). */
static bool blanks_tidy(const char *p)
{
	size_t n = strlen(p);

	if (p[0] == ' ' || p[n - 1] == ' ')
		return false;
	return strstr(p, "  ") == NULL;
}

static bool monitor_word_chars(const char *p)
{
	for (; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (!is_word(c) && c != '-' && c != ' ')
			return false;
	}
	return true;
}

static bool same_pattern(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (fold((unsigned char)*a) != fold((unsigned char)*b))
			return false;
	return *a == *b;
}

static enum sla_sev_rules_err check_rule(const struct sla_severity_rule *r)
{
	if ((int)r->kind < 0 || r->kind >= SLA_SEV_RULE_KIND_COUNT)
		return SLA_SEV_RULES_ERR_KIND;
	if (!sla_level_valid(r->level))
		return SLA_SEV_RULES_ERR_LEVEL;
	if (r->pattern == NULL)
		return SLA_SEV_RULES_ERR_EMPTY_PATTERN;
	size_t n = strnlen(r->pattern, SLA_SEV_PATTERN_MAX + 1);
	if (n > SLA_SEV_PATTERN_MAX)
		return SLA_SEV_RULES_ERR_PATTERN_TOO_LONG;
	if (!utf8_clean((const unsigned char *)r->pattern))
		return SLA_SEV_RULES_ERR_BAD_UTF8;
	if (strspn(r->pattern, " ") == n)
		return SLA_SEV_RULES_ERR_EMPTY_PATTERN;
	if (!blanks_tidy(r->pattern))
		return SLA_SEV_RULES_ERR_PATTERN_BLANKS;
	if (r->kind == SLA_SEV_RULE_IMPACT) {
		enum sla_impact im;
		if (sla_impact_parse(r->pattern, &im) != 0 || im == SLA_IMPACT_NONE)
			return SLA_SEV_RULES_ERR_UNKNOWN_IMPACT;
	}
	/* Monitoring systems name severities with ASCII words; anything else
	 * in a monitor rule is a configuration slip (a keyword in the wrong
	 * list, say) and would never match. */
	if (r->kind == SLA_SEV_RULE_MONITOR && !monitor_word_chars(r->pattern))
		return SLA_SEV_RULES_ERR_BAD_MONITOR;
	return SLA_SEV_RULES_OK;
}

enum sla_sev_rules_err sla_severity_rules_validate(const struct sla_severity_rules *rs,
                                                   size_t *bad_index)
{
	size_t dummy;

	if (bad_index == NULL)
		bad_index = &dummy;
	*bad_index = SLA_SEV_NO_RULE;
	if (rs == NULL || (rs->rules == NULL && rs->count > 0))
		return SLA_SEV_RULES_ERR_NULL;
	if (!sla_level_valid(rs->default_level))
		return SLA_SEV_RULES_ERR_DEFAULT_LEVEL;
	for (size_t i = 0; i < rs->count; i++) {
		enum sla_sev_rules_err e = check_rule(&rs->rules[i]);
		if (e != SLA_SEV_RULES_OK) {
			*bad_index = i;
			return e;
		}
		/* A repeated pattern is at best dead weight and at worst two
		 * levels for one word; either way the author meant something
		 * else. */
		for (size_t j = 0; j < i; j++) {
			if (rs->rules[j].kind == rs->rules[i].kind &&
			    same_pattern(rs->rules[j].pattern, rs->rules[i].pattern)) {
				*bad_index = i;
				return SLA_SEV_RULES_ERR_DUPLICATE;
			}
		}
	}
	return SLA_SEV_RULES_OK;
}
