/*
 * test_severity.c - S1: a report is classified into level 1..4 by the first
 * stage that speaks (explicit > impact > monitor > keyword > default), the
 * most severe match within a stage winning.  Known answers, both languages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "severity.h"

#define NOLEN ((size_t)-1) /* use strlen() */

struct sev_case {
	const char *what;
	enum sla_level explicit_level;
	enum sla_impact impact;
	const char *monitor;
	const char *symptoms;
	size_t symptoms_len; /* NOLEN: strlen(symptoms) */
	enum sla_level want_level;
	enum sla_severity_decided_by want_by;
	const char *want_pattern; /* NULL: no rule */
};

#define EXPL SLA_SEV_BY_EXPLICIT
#define IMP  SLA_SEV_BY_IMPACT
#define MON  SLA_SEV_BY_MONITOR
#define KW   SLA_SEV_BY_KEYWORD
#define DEF  SLA_SEV_BY_DEFAULT
#define L(n) SLA_LEVEL_##n
#define I(x) SLA_IMPACT_##x

static const struct sev_case cases[] = {
    /* precedence */
    {"explicit beats all", L(2), I(INTERRUPTED), "critical", "宕机", NOLEN, L(2), EXPL, NULL},
    {"explicit 4 beats keyword 1", L(4), I(NONE), NULL, "system down", NOLEN, L(4), EXPL, NULL},
    {"explicit 1", L(1), I(NONE), NULL, NULL, 0, L(1), EXPL, NULL},
    {"invalid explicit ignored", (enum sla_level)7, I(NONE), NULL, "down", NOLEN, L(1), KW, "down"},
    {"impact interrupted", L(NONE), I(INTERRUPTED), NULL, NULL, 0, L(1), IMP, "interrupted"},
    {"impact beats monitor", L(NONE), I(AT_RISK), "critical", NULL, 0, L(2), IMP, "at_risk"},
    {"impact degraded", L(NONE), I(DEGRADED), NULL, "", 0, L(3), IMP, "degraded"},
    {"impact beats keyword", L(NONE), I(INTERMITTENT), NULL, "宕机", NOLEN, L(4), IMP,
     "intermittent"},
    {"bad impact ignored", L(NONE), (enum sla_impact)99, "info", NULL, 0, L(4), MON, "info"},
    {"monitor beats keyword", L(NONE), I(NONE), "info", "system down", NOLEN, L(4), MON, "info"},
    /* monitor severities */
    {"pagerduty critical", L(NONE), I(NONE), "critical", NULL, 0, L(1), MON, "critical"},
    {"upper case", L(NONE), I(NONE), "CRITICAL", NULL, 0, L(1), MON, "critical"},
    {"blanks around", L(NONE), I(NONE), "  Disaster \n", NULL, 0, L(1), MON, "disaster"},
    {"zabbix high", L(NONE), I(NONE), "High", NULL, 0, L(2), MON, "high"},
    {"pagerduty error", L(NONE), I(NONE), "error", NULL, 0, L(2), MON, "error"},
    {"zabbix average", L(NONE), I(NONE), "average", NULL, 0, L(3), MON, "average"},
    {"warning", L(NONE), I(NONE), "Warning", NULL, 0, L(3), MON, "warning"},
    {"zabbix information", L(NONE), I(NONE), "Information", NULL, 0, L(4), MON, "information"},
    {"unmapped monitor falls to keywords", L(NONE), I(NONE), "Not classified", "系统瘫痪", NOLEN,
     L(1), KW, "瘫痪"},
    {"monitor must match whole", L(NONE), I(NONE), "criticality", NULL, 0, L(3), DEF, NULL},
    {"blank monitor", L(NONE), I(NONE), "   ", NULL, 0, L(3), DEF, NULL},
    /* level 1 keywords */
    {"two level-1 words: first rule wins", L(NONE), I(NONE), NULL, "所有业务中断,系统瘫痪", NOLEN,
     L(1), KW, "瘫痪"},
    {"宕机", L(NONE), I(NONE), NULL, "服务器宕机", NOLEN, L(1), KW, "宕机"},
    {"english inside chinese", L(NONE), I(NONE), NULL, "服务器down了", NOLEN, L(1), KW, "down"},
    {"case-insensitive", L(NONE), I(NONE), NULL, "the database is DOWN", NOLEN, L(1), KW, "down"},
    {"at start, punctuation after", L(NONE), I(NONE), NULL, "Down. Again.", NOLEN, L(1), KW,
     "down"},
    {"newline after", L(NONE), I(NONE), NULL, "link went down\n", NOLEN, L(1), KW, "down"},
    {"outage", L(NONE), I(NONE), NULL, "Outage in region east", NOLEN, L(1), KW, "outage"},
    {"unreachable", L(NONE), I(NONE), NULL, "host unreachable", NOLEN, L(1), KW, "unreachable"},
    {"multi-word, blanks run", L(NONE), I(NONE), NULL, "API not\r\n  responding", NOLEN, L(1), KW,
     "not responding"},
    {"无法使用 beats slow", L(NONE), I(NONE), NULL, "部分功能无法使用, and slow", NOLEN, L(1), KW,
     "无法使用"},
    /* word boundaries */
    {"download is not down", L(NONE), I(NONE), NULL, "download failed", NOLEN, L(3), DEF, NULL},
    {"countdown is not down", L(NONE), I(NONE), NULL, "countdown shows wrong", NOLEN, L(3), DEF,
     NULL},
    {"underscore is a word char", L(NONE), I(NONE), NULL, "run shutdown_script", NOLEN, L(3), DEF,
     NULL},
    {"digits are word chars", L(NONE), I(NONE), NULL, "down2 and 2down", NOLEN, L(3), DEF, NULL},
    {"risky is not risk", L(NONE), I(NONE), NULL, "a risky change", NOLEN, L(3), DEF, NULL},
    {"second occurrence on a boundary", L(NONE), I(NONE), NULL, "download then down", NOLEN, L(1),
     KW, "down"},
    /* levels 2..4 */
    {"隐患", L(NONE), I(NONE), NULL, "存在隐患", NOLEN, L(2), KW, "隐患"},
    {"failing over with a tab", L(NONE), I(NONE), NULL, "cluster failing\tover to standby", NOLEN,
     L(2), KW, "failing over"},
    {"RISK upper case", L(NONE), I(NONE), NULL, "RISK of disk failure", NOLEN, L(2), KW, "risk"},
    {"缓慢", L(NONE), I(NONE), NULL, "系统响应缓慢", NOLEN, L(3), KW, "缓慢"},
    {"slow", L(NONE), I(NONE), NULL, "pages are slow", NOLEN, L(3), KW, "slow"},
    {"degraded", L(NONE), I(NONE), NULL, "performance degraded", NOLEN, L(3), KW, "degraded"},
    {"timed out", L(NONE), I(NONE), NULL, "request timed   out", NOLEN, L(3), KW, "timed out"},
    {"偶尔", L(NONE), I(NONE), NULL, "偶尔出现报错", NOLEN, L(4), KW, "偶尔"},
    {"intermittent", L(NONE), I(NONE), NULL, "intermittent packet loss", NOLEN, L(4), KW,
     "intermittent"},
    {"intermittently is its own word", L(NONE), I(NONE), NULL, "fails intermittently", NOLEN, L(4),
     KW, "intermittently"},
    /* most severe wins */
    {"occasionally slow -> 3", L(NONE), I(NONE), NULL, "Occasionally slow", NOLEN, L(3), KW,
     "slow"},
    {"occasionally down -> 1", L(NONE), I(NONE), NULL, "occasionally the service is down", NOLEN,
     L(1), KW, "down"},
    {"间歇性中断 -> 1", L(NONE), I(NONE), NULL, "网络间歇性中断", NOLEN, L(1), KW, "中断"},
    {"known false positive: slow down", L(NONE), I(NONE), NULL, "things slow down at noon", NOLEN,
     L(1), KW, "down"},
    /* empty, NULL, truncated, invalid */
    {"nothing at all", L(NONE), I(NONE), NULL, NULL, 0, L(3), DEF, NULL},
    {"empty symptoms", L(NONE), I(NONE), NULL, "", 0, L(3), DEF, NULL},
    {"NULL symptoms with a length", L(NONE), I(NONE), NULL, NULL, 10, L(3), DEF, NULL},
    {"no keyword", L(NONE), I(NONE), NULL, "user asks about the invoice", NOLEN, L(3), DEF, NULL},
    {"length cuts a keyword", L(NONE), I(NONE), NULL, "the system is down", 16, L(3), DEF, NULL},
    {"length cuts a character", L(NONE), I(NONE), NULL, "宕机", 4, L(3), DEF, NULL},
    {"length ends on a boundary", L(NONE), I(NONE), NULL, "it is downloading", 10, L(1), KW,
     "down"},
    {"invalid UTF-8 around", L(NONE), I(NONE), NULL, "\xff\xfe down \xc3", NOLEN, L(1), KW, "down"},
    {"lone lead bytes only", L(NONE), I(NONE), NULL, "\xe5\xe5\xe5\xe5", NOLEN, L(3), DEF, NULL},
    {"NUL bytes inside", L(NONE), I(NONE), NULL, "a\0b\0down", 8, L(1), KW, "down"},
};

/* Exact-size heap copies, so ASan catches any read past the given length. */
static char *heap_copy(const char *s, size_t n)
{
	char *p = malloc(n > 0 ? n : 1);
	assert_non_null(p);
	if (n > 0)
		memcpy(p, s, n);
	return p;
}

static void table(void **state)
{
	(void)state;
	const struct sla_severity_rules *rs = sla_severity_default_rules();

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct sev_case *c = &cases[i];
		struct sla_report_facts f = {.explicit_level = c->explicit_level,
		                             .impact = c->impact};
		char *mon = NULL, *sym = NULL;
		if (c->monitor != NULL) {
			f.monitor_severity_len = strlen(c->monitor);
			mon = heap_copy(c->monitor, f.monitor_severity_len);
			f.monitor_severity = mon;
		}
		f.symptoms_len = c->symptoms_len == NOLEN ? strlen(c->symptoms) : c->symptoms_len;
		if (c->symptoms != NULL) {
			sym = heap_copy(c->symptoms, f.symptoms_len);
			f.symptoms = sym;
		}

		struct sla_severity_result r;
		enum sla_level got = sla_severity_classify(rs, &f, &r);
		print_message("case %zu: %s\n", i, c->what);
		assert_int_equal(got, c->want_level);
		assert_int_equal(r.level, c->want_level);
		assert_string_equal(sla_severity_decided_by_name(r.decided_by),
		                    sla_severity_decided_by_name(c->want_by));
		if (c->want_pattern == NULL) {
			assert_null(r.pattern);
			assert_true(r.rule_index == SLA_SEV_NO_RULE);
		} else {
			assert_non_null(r.pattern);
			assert_string_equal(r.pattern, c->want_pattern);
			assert_true(r.rule_index < rs->count);
			assert_ptr_equal(rs->rules[r.rule_index].pattern, r.pattern);
		}
		if (r.decided_by == SLA_SEV_BY_KEYWORD) {
			assert_true(r.match_len > 0);
			assert_true(r.match_offset + r.match_len <= f.symptoms_len);
		} else {
			assert_int_equal(r.match_len, 0);
		}
		free(mon);
		free(sym);
	}
	assert_true(sizeof(cases) / sizeof(cases[0]) >= 40);
}

static void match_span(void **state)
{
	(void)state;
	const char *s = "API not \n responding!";
	struct sla_report_facts f = {.symptoms = s, .symptoms_len = strlen(s)};
	struct sla_severity_result r;

	assert_int_equal(sla_severity_classify(NULL, &f, &r), SLA_LEVEL_1);
	assert_int_equal(r.match_offset, 4);
	assert_int_equal(r.match_len, strlen("not \n responding"));

	/* "服务器" is 9 bytes of UTF-8. */
	s = "服务器宕机";
	f = (struct sla_report_facts){.symptoms = s, .symptoms_len = strlen(s)};
	assert_int_equal(sla_severity_classify(NULL, &f, &r), SLA_LEVEL_1);
	assert_int_equal(r.match_offset, 9);
	assert_int_equal(r.match_len, 6);
}

static void null_and_defaults(void **state)
{
	(void)state;
	struct sla_severity_result r;

	/* No facts, no rule set, no result pointer: still a level. */
	assert_int_equal(sla_severity_classify(NULL, NULL, NULL), SLA_LEVEL_3);
	assert_int_equal(sla_severity_classify(NULL, NULL, &r), SLA_LEVEL_3);
	assert_int_equal(r.decided_by, SLA_SEV_BY_DEFAULT);
	assert_true(r.rule_index == SLA_SEV_NO_RULE);

	/* The default is a setting of the set. */
	struct sla_severity_rules four = {.rules = NULL, .count = 0, .default_level = SLA_LEVEL_4};
	assert_int_equal(sla_severity_classify(&four, NULL, &r), SLA_LEVEL_4);
	/* A broken default degrades to 3 instead of leaking out. */
	struct sla_severity_rules broken = {.rules = NULL, .count = 5, .default_level = 9};
	struct sla_report_facts f = {.impact = SLA_IMPACT_INTERRUPTED,
	                             .monitor_severity = "critical",
	                             .monitor_severity_len = 8,
	                             .symptoms = "down",
	                             .symptoms_len = 4};
	assert_int_equal(sla_severity_classify(&broken, &f, &r), SLA_LEVEL_3);
	assert_int_equal(r.decided_by, SLA_SEV_BY_DEFAULT);
	/* NULL monitor pointer with a length is not read. */
	f = (struct sla_report_facts){.monitor_severity = NULL, .monitor_severity_len = 8};
	assert_int_equal(sla_severity_classify(NULL, &f, &r), SLA_LEVEL_3);
}

static void custom_rules(void **state)
{
	(void)state;
	const struct sla_severity_rule rules[] = {
	    {SLA_SEV_RULE_KEYWORD, "beta", SLA_LEVEL_2},
	    {SLA_SEV_RULE_KEYWORD, "alpha", SLA_LEVEL_2},
	    {SLA_SEV_RULE_KEYWORD, "gamma", SLA_LEVEL_4},
	    /* unusable rules are skipped by classify */
	    {SLA_SEV_RULE_KEYWORD, "", SLA_LEVEL_1},
	    {SLA_SEV_RULE_KEYWORD, NULL, SLA_LEVEL_1},
	    {SLA_SEV_RULE_KEYWORD, "zeta", (enum sla_level)0},
	    {(enum sla_severity_rule_kind)9, "zeta", SLA_LEVEL_1},
	    {SLA_SEV_RULE_MONITOR, "sev1", SLA_LEVEL_1},
	    {SLA_SEV_RULE_MONITOR, "sev1", SLA_LEVEL_4}, /* duplicate: first, most severe */
	    {SLA_SEV_RULE_IMPACT, "degraded", SLA_LEVEL_2},
	};
	const struct sla_severity_rules rs = {rules, sizeof(rules) / sizeof(rules[0]), SLA_LEVEL_4};
	struct sla_severity_result r;
	struct sla_report_facts f = {.symptoms = "alpha beta gamma zeta", .symptoms_len = 21};

	/* Equal levels: the rule listed first wins, not the first in the text. */
	assert_int_equal(sla_severity_classify(&rs, &f, &r), SLA_LEVEL_2);
	assert_int_equal(r.rule_index, 0);
	assert_string_equal(r.pattern, "beta");
	assert_int_equal(r.match_offset, 6);

	f = (struct sla_report_facts){.symptoms = "zeta", .symptoms_len = 4};
	assert_int_equal(sla_severity_classify(&rs, &f, &r), SLA_LEVEL_4);
	assert_int_equal(r.decided_by, SLA_SEV_BY_DEFAULT);

	f = (struct sla_report_facts){.monitor_severity = "SEV1", .monitor_severity_len = 4};
	assert_int_equal(sla_severity_classify(&rs, &f, &r), SLA_LEVEL_1);
	assert_int_equal(r.rule_index, 7);

	/* The impact mapping is data too. */
	f = (struct sla_report_facts){.impact = SLA_IMPACT_DEGRADED};
	assert_int_equal(sla_severity_classify(&rs, &f, &r), SLA_LEVEL_2);
	assert_int_equal(r.decided_by, SLA_SEV_BY_IMPACT);
	/* An impact the set does not map falls through. */
	f = (struct sla_report_facts){.impact = SLA_IMPACT_INTERRUPTED};
	assert_int_equal(sla_severity_classify(&rs, &f, &r), SLA_LEVEL_4);
	assert_int_equal(r.decided_by, SLA_SEV_BY_DEFAULT);
}

struct val_case {
	const char *what;
	struct sla_severity_rule rule;
	enum sla_sev_rules_err want;
};

static const struct val_case val_cases[] = {
    {"ok keyword", {SLA_SEV_RULE_KEYWORD, "宕机", SLA_LEVEL_1}, SLA_SEV_RULES_OK},
    {"ok multi-word", {SLA_SEV_RULE_KEYWORD, "not responding", SLA_LEVEL_1}, SLA_SEV_RULES_OK},
    {"ok monitor", {SLA_SEV_RULE_MONITOR, "Not classified", SLA_LEVEL_4}, SLA_SEV_RULES_OK},
    {"ok monitor dash", {SLA_SEV_RULE_MONITOR, "sev-1", SLA_LEVEL_1}, SLA_SEV_RULES_OK},
    {"bad kind", {(enum sla_severity_rule_kind)3, "x", SLA_LEVEL_1}, SLA_SEV_RULES_ERR_KIND},
    {"negative kind",
     {(enum sla_severity_rule_kind) - 1, "x", SLA_LEVEL_1},
     SLA_SEV_RULES_ERR_KIND},
    {"level 0", {SLA_SEV_RULE_KEYWORD, "x", SLA_LEVEL_NONE}, SLA_SEV_RULES_ERR_LEVEL},
    {"level 5", {SLA_SEV_RULE_KEYWORD, "x", (enum sla_level)5}, SLA_SEV_RULES_ERR_LEVEL},
    {"NULL pattern", {SLA_SEV_RULE_KEYWORD, NULL, SLA_LEVEL_1}, SLA_SEV_RULES_ERR_EMPTY_PATTERN},
    {"empty pattern", {SLA_SEV_RULE_KEYWORD, "", SLA_LEVEL_1}, SLA_SEV_RULES_ERR_EMPTY_PATTERN},
    {"blank pattern", {SLA_SEV_RULE_KEYWORD, "   ", SLA_LEVEL_1}, SLA_SEV_RULES_ERR_EMPTY_PATTERN},
    {"leading blank",
     {SLA_SEV_RULE_KEYWORD, " down", SLA_LEVEL_1},
     SLA_SEV_RULES_ERR_PATTERN_BLANKS},
    {"trailing blank",
     {SLA_SEV_RULE_KEYWORD, "down ", SLA_LEVEL_1},
     SLA_SEV_RULES_ERR_PATTERN_BLANKS},
    {"double blank",
     {SLA_SEV_RULE_KEYWORD, "not  ok", SLA_LEVEL_1},
     SLA_SEV_RULES_ERR_PATTERN_BLANKS},
    {"tab", {SLA_SEV_RULE_KEYWORD, "a\tb", SLA_LEVEL_1}, SLA_SEV_RULES_ERR_BAD_UTF8},
    {"DEL", {SLA_SEV_RULE_KEYWORD, "a\x7f", SLA_LEVEL_1}, SLA_SEV_RULES_ERR_BAD_UTF8},
    {"stray continuation", {SLA_SEV_RULE_KEYWORD, "\x80", SLA_LEVEL_1}, SLA_SEV_RULES_ERR_BAD_UTF8},
    {"truncated", {SLA_SEV_RULE_KEYWORD, "\xe5\xae", SLA_LEVEL_1}, SLA_SEV_RULES_ERR_BAD_UTF8},
    {"overlong 2", {SLA_SEV_RULE_KEYWORD, "\xc0\xaf", SLA_LEVEL_1}, SLA_SEV_RULES_ERR_BAD_UTF8},
    {"overlong 3", {SLA_SEV_RULE_KEYWORD, "\xe0\x80\xaf", SLA_LEVEL_1}, SLA_SEV_RULES_ERR_BAD_UTF8},
    {"overlong 4",
     {SLA_SEV_RULE_KEYWORD, "\xf0\x80\x80\xaf", SLA_LEVEL_1},
     SLA_SEV_RULES_ERR_BAD_UTF8},
    {"surrogate", {SLA_SEV_RULE_KEYWORD, "\xed\xa0\x80", SLA_LEVEL_1}, SLA_SEV_RULES_ERR_BAD_UTF8},
    {"beyond U+10FFFF",
     {SLA_SEV_RULE_KEYWORD, "\xf4\x90\x80\x80", SLA_LEVEL_1},
     SLA_SEV_RULES_ERR_BAD_UTF8},
    {"ok 4-byte", {SLA_SEV_RULE_KEYWORD, "\xf0\x9f\x94\xa5", SLA_LEVEL_1}, SLA_SEV_RULES_OK},
    {"ok 2-byte", {SLA_SEV_RULE_KEYWORD, "caf\xc3\xa9", SLA_LEVEL_1}, SLA_SEV_RULES_OK},
    {"unknown impact",
     {SLA_SEV_RULE_IMPACT, "broken", SLA_LEVEL_1},
     SLA_SEV_RULES_ERR_UNKNOWN_IMPACT},
    {"impact none", {SLA_SEV_RULE_IMPACT, "none", SLA_LEVEL_1}, SLA_SEV_RULES_ERR_UNKNOWN_IMPACT},
    {"monitor in chinese",
     {SLA_SEV_RULE_MONITOR, "严重", SLA_LEVEL_1},
     SLA_SEV_RULES_ERR_BAD_MONITOR},
    {"monitor with colon",
     {SLA_SEV_RULE_MONITOR, "sev:1", SLA_LEVEL_1},
     SLA_SEV_RULES_ERR_BAD_MONITOR},
};

static void validate_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(val_cases) / sizeof(val_cases[0]); i++) {
		const struct val_case *c = &val_cases[i];
		/* a good rule first, so the bad one's index is 1 */
		const struct sla_severity_rule rules[2] = {
		    {SLA_SEV_RULE_KEYWORD, "fine", SLA_LEVEL_3},
		    c->rule,
		};
		const struct sla_severity_rules rs = {rules, 2, SLA_LEVEL_3};
		size_t bad = 42;
		print_message("validate %zu: %s\n", i, c->what);
		assert_string_equal(
		    sla_severity_rules_err_name(sla_severity_rules_validate(&rs, &bad)),
		    sla_severity_rules_err_name(c->want));
		assert_true(bad == (c->want == SLA_SEV_RULES_OK ? SLA_SEV_NO_RULE : 1));
	}
}

static void validate_set(void **state)
{
	(void)state;
	size_t bad = 0;

	assert_int_equal(sla_severity_rules_validate(sla_severity_default_rules(), &bad),
	                 SLA_SEV_RULES_OK);
	assert_true(bad == SLA_SEV_NO_RULE);
	assert_int_equal(sla_severity_rules_validate(NULL, &bad), SLA_SEV_RULES_ERR_NULL);
	struct sla_severity_rules rs = {NULL, 1, SLA_LEVEL_3};
	assert_int_equal(sla_severity_rules_validate(&rs, NULL), SLA_SEV_RULES_ERR_NULL);
	rs.count = 0;
	assert_int_equal(sla_severity_rules_validate(&rs, NULL), SLA_SEV_RULES_OK);
	rs.default_level = SLA_LEVEL_NONE;
	assert_int_equal(sla_severity_rules_validate(&rs, &bad), SLA_SEV_RULES_ERR_DEFAULT_LEVEL);
	assert_true(bad == SLA_SEV_NO_RULE);

	char longp[SLA_SEV_PATTERN_MAX + 2];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	struct sla_severity_rule r1 = {SLA_SEV_RULE_KEYWORD, longp, SLA_LEVEL_1};
	rs = (struct sla_severity_rules){&r1, 1, SLA_LEVEL_3};
	assert_int_equal(sla_severity_rules_validate(&rs, &bad),
	                 SLA_SEV_RULES_ERR_PATTERN_TOO_LONG);
	assert_int_equal(bad, 0);
	longp[SLA_SEV_PATTERN_MAX] = '\0'; /* exactly the maximum */
	assert_int_equal(sla_severity_rules_validate(&rs, &bad), SLA_SEV_RULES_OK);

	/* Duplicates: same kind, same pattern ignoring case -> the later one. */
	const struct sla_severity_rule dup[] = {
	    {SLA_SEV_RULE_KEYWORD, "Down", SLA_LEVEL_1},
	    {SLA_SEV_RULE_MONITOR, "down", SLA_LEVEL_1}, /* other kind: fine */
	    {SLA_SEV_RULE_KEYWORD, "downs", SLA_LEVEL_1},
	    {SLA_SEV_RULE_KEYWORD, "dow", SLA_LEVEL_1},
	    {SLA_SEV_RULE_KEYWORD, "DOWN", SLA_LEVEL_2},
	};
	rs = (struct sla_severity_rules){dup, 5, SLA_LEVEL_3};
	assert_int_equal(sla_severity_rules_validate(&rs, &bad), SLA_SEV_RULES_ERR_DUPLICATE);
	assert_int_equal(bad, 4);
}

static void names(void **state)
{
	(void)state;
	for (int i = 0; i < SLA_IMPACT_COUNT; i++) {
		enum sla_impact back;
		assert_int_equal(sla_impact_parse(sla_impact_name((enum sla_impact)i), &back), 0);
		assert_int_equal(back, i);
	}
	enum sla_impact unused;
	assert_int_equal(sla_impact_parse("nope", &unused), -1);
	assert_int_equal(sla_impact_parse(NULL, &unused), -1);
	assert_int_equal(sla_impact_parse("none", NULL), -1);
	assert_string_equal(sla_impact_name(SLA_IMPACT_COUNT), "invalid");
	assert_string_equal(sla_impact_name((enum sla_impact) - 1), "invalid");
	assert_string_equal(sla_severity_rule_kind_name(SLA_SEV_RULE_KEYWORD), "keyword");
	assert_string_equal(sla_severity_rule_kind_name(SLA_SEV_RULE_KIND_COUNT), "invalid");
	assert_string_equal(sla_severity_decided_by_name(SLA_SEV_BY_EXPLICIT), "explicit");
	assert_string_equal(sla_severity_decided_by_name(SLA_SEV_BY_COUNT), "invalid");
	assert_string_equal(sla_severity_rules_err_name(SLA_SEV_RULES_ERR_DUPLICATE), "duplicate");
	assert_string_equal(sla_severity_rules_err_name(SLA_SEV_RULES_ERR_COUNT), "invalid");
	for (int i = 0; i < SLA_SEV_RULES_ERR_COUNT; i++)
		for (int j = 0; j < i; j++)
			assert_string_not_equal(
			    sla_severity_rules_err_name((enum sla_sev_rules_err)i),
			    sla_severity_rules_err_name((enum sla_sev_rules_err)j));
}

/* Deterministic noise: random bytes (often UTF-8 lead / continuation bytes
 * and keyword fragments) in exact-size buffers never crash or over-read. */
static void noise(void **state)
{
	(void)state;
	static const char *const frags[] = {"down", "宕",   "机",   "\xe5", "\xae", " ",
	                                    "_",    "slow", "\xff", "not",  "\n",   "failing"};
	uint32_t seed = 12345;

	for (int iter = 0; iter < 2000; iter++) {
		char buf[64];
		size_t n = 0;
		while (n < sizeof(buf)) {
			seed = seed * 1103515245u + 12345u;
			const char *fr = frags[(seed >> 16) % (sizeof(frags) / sizeof(frags[0]))];
			size_t fl = strlen(fr);
			if (n + fl > sizeof(buf) || ((seed >> 8) & 7) == 0)
				break;
			memcpy(buf + n, fr, fl);
			n += fl;
		}
		char *sym = heap_copy(buf, n);
		char *mon = heap_copy(buf, n < 9 ? n : 9);
		struct sla_report_facts f = {.monitor_severity = mon,
		                             .monitor_severity_len = n < 9 ? n : 9,
		                             .symptoms = sym,
		                             .symptoms_len = n};
		struct sla_severity_result r;
		enum sla_level l = sla_severity_classify(NULL, &f, &r);
		assert_true(sla_level_valid(l));
		if (r.decided_by == SLA_SEV_BY_KEYWORD)
			assert_true(r.match_offset + r.match_len <= n);
		free(sym);
		free(mon);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(table),
	    cmocka_unit_test(match_span),
	    cmocka_unit_test(null_and_defaults),
	    cmocka_unit_test(custom_rules),
	    cmocka_unit_test(validate_table),
	    cmocka_unit_test(validate_set),
	    cmocka_unit_test(names),
	    cmocka_unit_test(noise),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
