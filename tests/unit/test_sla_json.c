/*
 * test_sla_json.c - the JSON forms of the SLA policy (S2, S4, S6) and of the
 * severity rules (S1): round trips, a hand-written document with known
 * values, malformed documents refused with their JSON path, per-contract
 * overrides that change exactly what they name, and the duration grammar.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sla_json.h"

#define M SLA_MINUTE
#define H SLA_HOUR
#define D SLA_DAY

/* ---- helpers ---- */

/* Documents are written with ' for " so the tables stay readable. */
static json_object *parse_sq(const char *text)
{
	char *s = strdup(text);
	assert_non_null(s);
	for (char *p = s; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	enum json_tokener_error jerr;
	json_object *j = json_tokener_parse_verbose(s, &jerr);
	if (jerr != json_tokener_success)
		fail_msg("test document does not parse: %s", text);
	free(s);
	return j;
}

static void assert_prefix(const char *got, const char *want)
{
	if (strncmp(got, want, strlen(want)) != 0)
		fail_msg("message\n  got:  %s\n  want: %s...", got, want);
}

/* Field by field, so that padding never matters. */
static void assert_policy_equal(const struct sla_policy *a, const struct sla_policy *b)
{
	for (int t = 0; t < SLA_TYPE_COUNT; t++) {
		assert_int_equal(a->types[t].start_tier, b->types[t].start_tier);
		for (int c = 0; c < SLA_CLOCK_COUNT; c++) {
			assert_int_equal(a->types[t].runs[c], b->types[t].runs[c]);
			for (int l = 0; l < SLA_LEVEL_COUNT; l++)
				assert_int_equal(a->types[t].window[l][c],
				                 b->types[t].window[l][c]);
		}
	}
	assert_int_equal(a->n_warnings, b->n_warnings);
	for (size_t i = 0; i < a->n_warnings; i++)
		assert_int_equal(a->warning_permille[i], b->warning_permille[i]);
	for (int l = 0; l < SLA_LEVEL_COUNT; l++) {
		assert_int_equal(a->ladder[l].n_steps, b->ladder[l].n_steps);
		for (size_t k = 0; k < a->ladder[l].n_steps; k++) {
			assert_int_equal(a->ladder[l].steps[k].tier, b->ladder[l].steps[k].tier);
			assert_int_equal(a->ladder[l].steps[k].delay, b->ladder[l].steps[k].delay);
		}
	}
	assert_int_equal(a->onsite_from_dispatch, b->onsite_from_dispatch);
}

/* Through text and back, as the store and the wire see it. */
static json_object *reparse(json_object *j)
{
	const char *text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
	json_object *k = json_tokener_parse(text);
	assert_non_null(k);
	return k;
}

static const char *plain(json_object *j)
{
	return json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
	                                             JSON_C_TO_STRING_NOSLASHESCAPE);
}

/*
 * Change the document at a dotted path ("ladder.1.0.tier": object keys, and
 * indexes where the node is an array): set the last segment to the JSON
 * text `value`, or remove it when value is NULL.
 */
static void mutate(json_object *root, const char *path, const char *value)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	json_object *cur = root;
	char *seg = buf;
	for (char *dot = strchr(seg, '.'); dot != NULL; dot = strchr(seg, '.')) {
		*dot = '\0';
		json_object *next = NULL;
		if (json_object_is_type(cur, json_type_array))
			next = json_object_array_get_idx(cur, (size_t)atoi(seg));
		else
			assert_true(json_object_object_get_ex(cur, seg, &next));
		assert_non_null(next);
		cur = next;
		seg = dot + 1;
	}
	json_object *v = value != NULL ? parse_sq(value) : NULL;
	if (json_object_is_type(cur, json_type_array)) {
		if (value == NULL)
			assert_int_equal(json_object_array_del_idx(cur, (size_t)atoi(seg), 1), 0);
		else
			assert_int_equal(json_object_array_put_idx(cur, (size_t)atoi(seg), v), 0);
	} else if (value == NULL) {
		json_object_object_del(cur, seg);
	} else {
		assert_int_equal(json_object_object_add(cur, seg, v), 0);
	}
}

static json_object *default_doc(void)
{
	struct sla_policy p;
	sla_policy_default(&p);
	json_object *j = sla_json_from_policy(&p);
	assert_non_null(j);
	return j;
}

/* ---- durations ---- */

static void durations_parse(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int rc;
		sla_duration want;
	} cases[] = {
	    {"30m", 0, 30 * M},
	    {"1h30m", 0, 90 * M},
	    {"1d", 0, D},
	    {"90s", 0, 90},
	    {"90m", 0, 90 * M},
	    {"2h", 0, 2 * H},
	    {"1d12h", 0, 36 * H},
	    {"1d2h3m4s", 0, D + 2 * H + 3 * M + 4},
	    {"0s", 0, 0},
	    {"007m", 0, 7 * M},
	    {"36500d", 0, SLA_JSON_DURATION_MAX}, /* the limit itself */
	    {"", -1, 0},
	    {"5", -1, 0},   /* no unit */
	    {"-1h", -1, 0}, /* no sign */
	    {"+1h", -1, 0},
	    {"1h-", -1, 0},   /* trailing garbage */
	    {"1h30", -1, 0},  /* last part without unit */
	    {"30m1h", -1, 0}, /* units out of order */
	    {"1h1h", -1, 0},  /* repeated unit */
	    {"1H", -1, 0},    /* units are lower case */
	    {"1w", -1, 0},    /* no weeks */
	    {" 1h", -1, 0},
	    {"1h ", -1, 0},
	    {"1.5h", -1, 0},
	    {"h", -1, 0},
	    {"99999999999d", -1, 0},                /* over the limit */
	    {"36500d1s", -1, 0},                    /* just over */
	    {"99999999999999999999999999s", -1, 0}, /* would overflow int64 */
	    {"99999999999x", -1, 0},                /* syntax wins over size */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sla_duration got = -42;
		int rc = sla_json_parse_duration(cases[i].text, &got);
		if (rc != cases[i].rc)
			fail_msg("'%s': rc %d, want %d", cases[i].text, rc, cases[i].rc);
		assert_int_equal(got, cases[i].rc == 0 ? cases[i].want : -42);
	}
	sla_duration got = -42;
	assert_int_equal(sla_json_parse_duration(NULL, &got), -1);
	assert_int_equal(got, -42);
}

static void durations_format(void **state)
{
	(void)state;
	static const struct {
		sla_duration d;
		const char *want;
	} cases[] = {
	    {0, "0s"},
	    {1, "1s"},
	    {90, "90s"}, /* shorter than 1m30s */
	    {30 * M, "30m"},
	    {H, "1h"},       /* not 60m */
	    {90 * M, "90m"}, /* shorter than 1h30m */
	    {24 * H, "1d"},
	    {36 * H, "36h"},
	    {3 * D, "3d"},
	    {30 * D, "30d"},
	    {2 * H + M, "2h1m"}, /* tie with 121m: larger units */
	    {D + 1, "1d1s"},
	    {D + 2 * H + 3 * M + 4, "93784s"}, /* shortest, if not the prettiest */
	    {-5 * M, "-5m"},
	    {SLA_JSON_DURATION_MAX, "36500d"},
	};
	char buf[SLA_JSON_DURATION_BUFLEN];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sla_json_format_duration(cases[i].d, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].want);
		if (cases[i].d >= 0) {
			sla_duration back;
			assert_int_equal(sla_json_parse_duration(buf, &back), 0);
			assert_int_equal(back, cases[i].d);
		}
	}
	/* Every 64-bit value fits; the most negative one does not overflow. */
	sla_json_format_duration(INT64_MIN, buf, sizeof(buf));
	assert_string_equal(buf, "-9223372036854775808s");
	sla_json_format_duration(INT64_MAX, buf, sizeof(buf));
	assert_string_equal(buf, "9223372036854775807s");
	/* Truncation, and no buffer at all. */
	char small[3];
	sla_json_format_duration(D + 1, small, sizeof(small)); /* "1d1s" */
	assert_string_equal(small, "1d");
	sla_json_format_duration(D, NULL, 10);
	sla_json_format_duration(D, small, 0);
	/* Exhaustive over the first two days: the shortest form parses back. */
	for (sla_duration d = 0; d <= 2 * D; d++) {
		sla_duration back;
		sla_json_format_duration(d, buf, sizeof(buf));
		assert_int_equal(sla_json_parse_duration(buf, &back), 0);
		assert_int_equal(back, d);
	}
}

/* ---- policies ---- */

static void policy_default_round_trip(void **state)
{
	(void)state;
	struct sla_policy def, got;
	sla_policy_default(&def);
	json_object *j = sla_json_from_policy(&def);
	assert_non_null(j);

	/* Known answers for the readable form. */
	json_object *types, *t;
	assert_true(json_object_object_get_ex(j, "types", &types));
	assert_true(json_object_object_get_ex(types, "consulting", &t));
	assert_string_equal(plain(t),
	                    "{\"start_tier\":\"engineer\",\"clocks\":{\"response\":\"4h\","
	                    "\"restore\":\"3d\"}}");
	assert_true(json_object_object_get_ex(types, "fault", &t));
	assert_string_equal(plain(t),
	                    "{\"start_tier\":\"engineer\",\"clocks\":{"
	                    "\"response\":{\"1\":\"30m\",\"2\":\"2h\",\"3\":\"8h\",\"4\":\"1d\"},"
	                    "\"onsite\":{\"1\":\"4h\",\"2\":\"8h\",\"3\":\"1d\",\"4\":\"1d\"},"
	                    "\"restore\":{\"1\":\"8h\",\"2\":\"1d\",\"3\":\"1d\",\"4\":\"1d\"}}}");
	json_object *w;
	assert_true(json_object_object_get_ex(j, "warnings", &w));
	assert_string_equal(plain(w), "[\"50%\",\"75%\",\"90%\"]");
	json_object *ld;
	assert_true(json_object_object_get_ex(j, "ladder", &ld));
	assert_true(json_object_object_get_ex(ld, "1", &ld));
	assert_string_equal(plain(ld), "[{\"tier\":\"team_lead\",\"after\":\"15m\"},"
	                               "{\"tier\":\"regional_manager\",\"after\":\"1h\"},"
	                               "{\"tier\":\"director\",\"after\":\"4h\"}]");

	/* struct -> JSON -> text -> JSON -> struct. */
	json_object *k = reparse(j);
	char err[SLA_JSON_ERR_MAX];
	memset(&got, 0, sizeof(got));
	assert_int_equal(sla_json_to_policy(k, &got, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_policy_equal(&got, &def);
	assert_memory_equal(&got, &def, sizeof(def)); /* both zero their padding */
	json_object_put(k);
	json_object_put(j);

	assert_null(sla_json_from_policy(NULL));
}

static const char hand_doc[] =
    "{'types': {"
    "  'fault': {'start_tier': 'engineer', 'clocks': {"
    "     'response': {'1': '15m', '2': '1h', '3': 14400, '4': '8h'},"
    "     'onsite': {'4': '1d', '3': '12h', '2': '4h', '1': '2h'},"
    "     'restore': {'1': '4h', '2': '8h', '3': '16h', '4': 86400}}},"
    "  'consulting': {'clocks': {'response': '2h', 'restore': '1d12h'}, 'start_tier': 'engineer'},"
    "  'training': {'start_tier': 'team_lead', 'clocks': {'restore': '30d'}},"
    "  'complaint': {'start_tier': 'regional_manager',"
    "                'clocks': {'response': '1h', 'restore': '2d'}},"
    "  'inspection': {'start_tier': 'engineer', 'clocks': {}},"
    "  'followup': {'start_tier': 'engineer',"
    "               'clocks': {'restore': {'1': '1d', '2': '1d', '3': '2d', '4': '2d'}}}},"
    " 'warnings': ['22.5%', '50%', '90%'],"
    " 'ladder': {'1': [{'tier': 'team_lead', 'after': '10m'},"
    "                  {'after': '1h', 'tier': 'director'}],"
    "            '2': [{'tier': 'regional_manager', 'after': 0}],"
    "            '3': [], '4': []},"
    " 'onsite_from_dispatch': true}";

static void policy_hand_written(void **state)
{
	(void)state;
	json_object *j = parse_sq(hand_doc);
	struct sla_policy p;
	char err[SLA_JSON_ERR_MAX];
	assert_int_equal(sla_json_to_policy(j, &p, err, sizeof(err)), 0);
	json_object_put(j);

	static const sla_duration fault[4][3] = {
	    {15 * M, 2 * H, 4 * H},
	    {1 * H, 4 * H, 8 * H},
	    {4 * H, 12 * H, 16 * H},
	    {8 * H, 24 * H, 24 * H},
	};
	for (int l = 0; l < 4; l++)
		for (int c = 0; c < 3; c++)
			assert_int_equal(p.types[SLA_TYPE_FAULT].window[l][c], fault[l][c]);
	static const struct {
		enum sla_ticket_type type;
		sla_duration window[3]; /* 0: not run */
		enum sla_tier tier;
	} others[] = {
	    {SLA_TYPE_CONSULTING, {2 * H, 0, 36 * H}, SLA_TIER_ENGINEER},
	    {SLA_TYPE_TRAINING, {0, 0, 30 * D}, SLA_TIER_TEAM_LEAD},
	    {SLA_TYPE_COMPLAINT, {1 * H, 0, 2 * D}, SLA_TIER_REGIONAL_MANAGER},
	    {SLA_TYPE_INSPECTION, {0, 0, 0}, SLA_TIER_ENGINEER},
	};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		const struct sla_type_policy *tp = &p.types[others[i].type];
		assert_int_equal(tp->start_tier, others[i].tier);
		for (int c = 0; c < 3; c++) {
			assert_int_equal(tp->runs[c], others[i].window[c] > 0);
			for (int l = 0; l < 4; l++)
				assert_int_equal(tp->window[l][c], others[i].window[c]);
		}
	}
	assert_int_equal(p.types[SLA_TYPE_FOLLOWUP].window[0][SLA_CLOCK_RESTORE], D);
	assert_int_equal(p.types[SLA_TYPE_FOLLOWUP].window[3][SLA_CLOCK_RESTORE], 2 * D);
	assert_int_equal(p.n_warnings, 3);
	assert_int_equal(p.warning_permille[0], 225);
	assert_int_equal(p.warning_permille[1], 500);
	assert_int_equal(p.warning_permille[2], 900);
	assert_int_equal(p.ladder[0].n_steps, 2);
	assert_int_equal(p.ladder[0].steps[0].tier, SLA_TIER_TEAM_LEAD);
	assert_int_equal(p.ladder[0].steps[0].delay, 10 * M);
	assert_int_equal(p.ladder[0].steps[1].tier, SLA_TIER_DIRECTOR);
	assert_int_equal(p.ladder[0].steps[1].delay, H);
	assert_int_equal(p.ladder[1].n_steps, 1);
	assert_int_equal(p.ladder[1].steps[0].delay, 0);
	assert_int_equal(p.ladder[2].n_steps, 0);
	assert_int_equal(p.ladder[3].n_steps, 0);
	assert_true(p.onsite_from_dispatch);

	/* And it round-trips, in the shortest forms. */
	json_object *k = sla_json_from_policy(&p);
	json_object *types, *t, *w;
	assert_true(json_object_object_get_ex(k, "types", &types));
	assert_true(json_object_object_get_ex(types, "consulting", &t));
	assert_string_equal(plain(t),
	                    "{\"start_tier\":\"engineer\",\"clocks\":{\"response\":\"2h\","
	                    "\"restore\":\"36h\"}}");
	assert_true(json_object_object_get_ex(types, "inspection", &t));
	assert_string_equal(plain(t), "{\"start_tier\":\"engineer\",\"clocks\":{}}");
	assert_true(json_object_object_get_ex(k, "warnings", &w));
	assert_string_equal(plain(w), "[\"22.5%\",\"50%\",\"90%\"]");
	struct sla_policy q;
	assert_int_equal(sla_json_to_policy(k, &q, err, sizeof(err)), 0);
	assert_policy_equal(&q, &p);
	json_object_put(k);
}

/* One change to the default document, and the message it must give. */
struct bad_case {
	const char *path;  /* mutate() path */
	const char *value; /* JSON text with ' for "; NULL removes */
	const char *want;  /* message prefix */
};

static const struct bad_case bad_policies[] = {
    /* durations */
    {"types.fault.clocks.restore.2", "'30x'",
     "types.fault.clocks.restore.2: '30x' is not a duration"},
    {"types.fault.clocks.response.1", "'1h30'",
     "types.fault.clocks.response.1: '1h30' is not a duration"},
    {"types.fault.clocks.onsite.1", "-60",
     "types.fault.clocks.onsite.1: -60 is not a duration (negative)"},
    {"types.fault.clocks.onsite.1", "1.5",
     "types.fault.clocks.onsite.1: expected a duration like \"30m\" or integer seconds, got a "
     "fractional number"},
    {"types.fault.clocks.onsite.1", "99999999999",
     "types.fault.clocks.onsite.1: 99999999999 seconds exceeds the 36500d limit"},
    {"types.inspection.clocks.restore", "'99999999999d'",
     "types.inspection.clocks.restore: '99999999999d' exceeds the 36500d limit"},
    {"types.fault.clocks.onsite.2", "'8h\\u0000x'",
     "types.fault.clocks.onsite.2: contains a NUL character"},
    {"ladder.2.0.after", "'soon'", "ladder.2[0].after: 'soon' is not a duration"},
    /* names */
    {"types.repair", "{}",
     "types.repair: unknown ticket type (fault, consulting, training, complaint, inspection, "
     "followup)"},
    {"types.fault.clocks.arrival", "'1h'",
     "types.fault.clocks.arrival: unknown clock (response, onsite, restore)"},
    {"types.fault.clocks.response.5", "'1h'", "types.fault.clocks.response.5: unknown level"},
    {"types.fault.clocks.response.01", "'1h'", "types.fault.clocks.response.01: unknown level"},
    {"ladder.5", "[]", "ladder.5: unknown level"},
    {"ladder.1.0.tier", "'boss'",
     "ladder.1[0].tier: 'boss' is not a tier (engineer, team_lead, regional_manager, director)"},
    {"types.fault.start_tier", "'ceo'", "types.fault.start_tier: 'ceo' is not a tier"},
    /* unknown keys */
    {"bogus", "1", "bogus: unknown key (types, warnings, ladder, onsite_from_dispatch)"},
    {"types.fault.colour", "'red'", "types.fault.colour: unknown key (start_tier, clocks)"},
    {"ladder.2.0.delay", "'1h'", "ladder.2[0].delay: unknown key (tier, after)"},
    /* wrong JSON types */
    {"types", "[]", "types: expected an object of ticket types, got an array"},
    {"types.fault", "'fast'",
     "types.fault: expected an object with start_tier and clocks, got a string"},
    {"types.fault.clocks", "'x'", "types.fault.clocks: expected an object of clocks, got a string"},
    {"types.fault.clocks.response", "[1]",
     "types.fault.clocks.response: expected a duration or an object of levels"},
    {"types.consulting.clocks.response", "true",
     "types.consulting.clocks.response: expected a duration or an object"},
    {"types.fault.start_tier", "3", "types.fault.start_tier: expected a tier name, got an integer"},
    {"warnings", "'50%'", "warnings: expected an array of percentages, got a string"},
    {"warnings.1", "75", "warnings[1]: expected a percentage like \"75%\", got an integer"},
    {"ladder", "[]", "ladder: expected an object of levels"},
    {"ladder.2", "{}", "ladder.2: expected an array of steps, got an object"},
    {"ladder.1.0", "'x'", "ladder.1[0]: expected an object with tier and after, got a string"},
    {"ladder.1.0.tier", "null", "ladder.1[0].tier: expected a tier name, got null"},
    {"onsite_from_dispatch", "'no'", "onsite_from_dispatch: expected true or false, got a string"},
    /* percentages */
    {"warnings.1", "'75'", "warnings[1]: '75' is not a percentage"},
    {"warnings.1", "'22.25%'", "warnings[1]: '22.25%' is not a percentage"},
    {"warnings.1", "'12345%'", "warnings[1]: '12345%' is not a percentage"},
    {"warnings.1", "'.5%'", "warnings[1]: '.5%' is not a percentage"},
    {"warnings.1", "'7.%'", "warnings[1]: '7.%' is not a percentage"},
    /* sizes */
    {"warnings", "['1%','2%','3%','4%','5%','6%','7%','8%','9%']", "warnings: 9 given, at most 8"},
    {"ladder.4",
     "[{'tier':'engineer','after':0},{'tier':'team_lead','after':0},{'tier':'regional_manager','"
     "after':0},{'tier':'director','after':0},{'tier':'director','after':0}]",
     "ladder.4: 5 steps, at most 4"},
    /* missing */
    {"types", NULL, "types: missing"},
    {"warnings", NULL, "warnings: missing"},
    {"ladder", NULL, "ladder: missing"},
    {"onsite_from_dispatch", NULL, "onsite_from_dispatch: missing"},
    {"types.training", NULL, "types.training: missing"},
    {"types.fault.start_tier", NULL, "types.fault.start_tier: missing"},
    {"types.fault.clocks", NULL, "types.fault.clocks: missing"},
    {"types.fault.clocks.response.3", NULL, "types.fault.clocks.response.3: missing"},
    {"ladder.2", NULL, "ladder.2: missing"},
    {"ladder.3.0", "{'tier':'director'}", "ladder.3[0].after: missing"},
    {"ladder.3.0", "{'after':'1h'}", "ladder.3[0].tier: missing"},
    /* sla_policy_validate, passed through */
    {"types.fault.clocks.restore.2", "'30h'",
     "fault.restore.level2: 30h exceeds the 24h commitment (S4)"},
    {"types.fault.clocks.response.1", "'4h'",
     "fault.response: level 1 (4h) is looser than level 2 (2h)"},
    {"types.consulting.clocks.restore", "'0s'",
     "consulting.restore.level1: window 0s must be positive"},
    {"types.training.clocks.restore", "'91d'",
     "training.restore.level1: 2184h exceeds the 2160h limit"},
    {"ladder.1.1.tier", "'team_lead'",
     "ladder.level1[1]: tier team_lead does not climb above team_lead"},
    {"ladder.1.2.after", "'5m'", "ladder.level1[2]: delay 5m is earlier than step 1 (1h)"},
    {"ladder.1.0.after", "'31d'", "ladder.level1[0]: delay 744h is outside 0s..720h"},
    {"warnings.0", "'0%'", "warnings[0]: 0.0% must be above 0%"},
    {"warnings.2", "'100%'", "warnings[2]: 100.0% must be below 100%"},
    {"warnings.2", "'60%'", "warnings[2]: 60.0% is not above warnings[1] (75.0%)"},
};

static void policy_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_policies) / sizeof(bad_policies[0]); i++) {
		const struct bad_case *bc = &bad_policies[i];
		json_object *j = default_doc();
		mutate(j, bc->path, bc->value);
		struct sla_policy out, before;
		memset(&out, 0x5a, sizeof(out));
		memcpy(&before, &out, sizeof(out));
		char err[SLA_JSON_ERR_MAX] = "untouched";
		int rc = sla_json_to_policy(j, &out, err, sizeof(err));
		if (rc != -1)
			fail_msg("case %zu (%s) accepted", i, bc->path);
		assert_prefix(err, bc->want);
		assert_memory_equal(&out, &before, sizeof(out)); /* untouched */
		json_object_put(j);
	}
}

static void policy_whole_document_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text; /* NULL: no document */
		const char *want;
	} cases[] = {
	    {NULL, "(document): expected a JSON object, got null"},
	    {"[]", "(document): expected a JSON object, got an array"},
	    {"'policy'", "(document): expected a JSON object, got a string"},
	    {"{}", "types: missing"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *j = cases[i].text != NULL ? parse_sq(cases[i].text) : NULL;
		struct sla_policy out;
		char err[SLA_JSON_ERR_MAX];
		assert_int_equal(sla_json_to_policy(j, &out, err, sizeof(err)), -1);
		assert_prefix(err, cases[i].want);
		json_object_put(j);
	}

	/* No error buffer, a tiny one, no output. */
	json_object *j = parse_sq("{'bogus': 1}");
	struct sla_policy out;
	assert_int_equal(sla_json_to_policy(j, &out, NULL, 0), -1);
	char tiny[4];
	assert_int_equal(sla_json_to_policy(j, &out, tiny, sizeof(tiny)), -1);
	assert_string_equal(tiny, "bog");
	char small[10];
	assert_int_equal(sla_json_to_policy(j, &out, small, sizeof(small)), -1);
	assert_string_equal(small, "bogus: un");
	char err[SLA_JSON_ERR_MAX];
	assert_int_equal(sla_json_to_policy(j, NULL, err, sizeof(err)), -1);
	assert_prefix(err, "(document): no policy to fill");
	json_object_put(j);

	/* A long unknown key is clipped in the message, not overflowing. */
	char doc[400];
	snprintf(doc, sizeof(doc), "{'%0200d': 1}", 7);
	j = parse_sq(doc);
	assert_int_equal(sla_json_to_policy(j, &out, err, sizeof(err)), -1);
	assert_true(strlen(err) < 120);
	assert_null(strstr(err, "00000000000000000000000000000000000000000"));
	assert_non_null(strstr(err, ": unknown key"));
	json_object_put(j);
}

/* ---- per-contract overrides ---- */

static void override_changes_named_fields(void **state)
{
	(void)state;
	struct sla_policy base;
	sla_policy_default(&base);
	char err[SLA_JSON_ERR_MAX];
	struct sla_policy got, want;

	/* {} changes nothing. */
	json_object *j = parse_sq("{}");
	assert_int_equal(sla_json_to_policy_override(j, &base, &got, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_policy_equal(&got, &base);
	json_object_put(j);

	/* One window at one level. */
	j = parse_sq("{'types': {'fault': {'clocks': {'response': {'1': '15m'}}}}}");
	assert_int_equal(sla_json_to_policy_override(j, &base, &got, err, sizeof(err)), 0);
	want = base;
	want.types[SLA_TYPE_FAULT].window[0][SLA_CLOCK_RESPONSE] = 15 * M;
	assert_policy_equal(&got, &want);
	json_object_put(j);

	/* One duration for every level; start tier repeated unchanged. */
	j = parse_sq("{'types': {'consulting': {'start_tier': 'engineer',"
	             "                          'clocks': {'response': '2h'}}}}");
	assert_int_equal(sla_json_to_policy_override(j, &base, &got, err, sizeof(err)), 0);
	want = base;
	for (int l = 0; l < SLA_LEVEL_COUNT; l++)
		want.types[SLA_TYPE_CONSULTING].window[l][SLA_CLOCK_RESPONSE] = 2 * H;
	assert_policy_equal(&got, &want);
	json_object_put(j);

	/* Warnings (even none), one ladder, the on-site rule (S5). */
	j = parse_sq("{'warnings': [], 'ladder': {'2': [{'tier': 'director', 'after': '1h'}]},"
	             " 'onsite_from_dispatch': true}");
	assert_int_equal(sla_json_to_policy_override(j, &base, &got, err, sizeof(err)), 0);
	want = base;
	want.n_warnings = 0;
	want.ladder[1].n_steps = 1;
	want.ladder[1].steps[0].tier = SLA_TIER_DIRECTOR;
	want.ladder[1].steps[0].delay = H;
	want.onsite_from_dispatch = true;
	assert_policy_equal(&got, &want);
	json_object_put(j);

	/* In place (out == base). */
	struct sla_policy inplace = base;
	j = parse_sq("{'warnings': ['80%']}");
	assert_int_equal(sla_json_to_policy_override(j, &inplace, &inplace, err, sizeof(err)), 0);
	assert_int_equal(inplace.n_warnings, 1);
	assert_int_equal(inplace.warning_permille[0], 800);
	json_object_put(j);

	/* A full document read back from POLICY_SHOW is a valid override. */
	j = default_doc();
	assert_int_equal(sla_json_to_policy_override(j, &base, &got, err, sizeof(err)), 0);
	assert_policy_equal(&got, &base);
	json_object_put(j);
}

static void override_refusals(void **state)
{
	(void)state;
	static const struct {
		const char *doc;
		const char *want;
	} cases[] = {
	    {"{'types': {'consulting': {'clocks': {'onsite': '4h'}}}}",
	     "types.consulting.clocks.onsite: consulting does not run the onsite clock; a contract "
	     "cannot add one"},
	    {"{'types': {'complaint': {'start_tier': 'engineer'}}}",
	     "types.complaint.start_tier: a contract cannot change the start tier "
	     "(regional_manager, S6)"},
	    {"{'types': {'fault': {'clocks': {'restore': {'1': '0s'}}}}}",
	     "types.fault.clocks.restore.1: a window must be positive"},
	    {"{'types': {'fault': {'clocks': {'restore': {'4': '30h'}}}}}",
	     "fault.restore.level4: 30h exceeds the 24h commitment (S4)"},
	    {"{'types': {'fault': {'clocks': {'response': {'1': '3h'}}}}}",
	     "fault.response: level 1 (3h) is looser than level 2 (2h)"},
	    {"{'types': {'fault': {'clocks': {'response': {'9': '3h'}}}}}",
	     "types.fault.clocks.response.9: unknown level"},
	    {"{'warnings': ['50%'], 'bogus': 1}", "bogus: unknown key"},
	    {"{'warnings': ['90%', '50%']}", "warnings[1]: 50.0% is not above warnings[0]"},
	    {"{'ladder': {'1': [{'tier': 'team_lead'}]}}", "ladder.1[0].after: missing"},
	    {"{'onsite_from_dispatch': 1}", "onsite_from_dispatch: expected true or false"},
	    {"[]", "(document): expected a JSON object"},
	};
	struct sla_policy base;
	sla_policy_default(&base);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *j = parse_sq(cases[i].doc);
		struct sla_policy out, before;
		memset(&out, 0x5a, sizeof(out));
		memcpy(&before, &out, sizeof(out));
		char err[SLA_JSON_ERR_MAX];
		if (sla_json_to_policy_override(j, &base, &out, err, sizeof(err)) != -1)
			fail_msg("case %zu accepted: %s", i, cases[i].doc);
		assert_prefix(err, cases[i].want);
		assert_memory_equal(&out, &before, sizeof(out));
		json_object_put(j);
	}
	char err[SLA_JSON_ERR_MAX];
	struct sla_policy out;
	json_object *j = parse_sq("{}");
	assert_int_equal(sla_json_to_policy_override(j, NULL, &out, err, sizeof(err)), -1);
	assert_prefix(err, "(document): no base policy");
	assert_int_equal(sla_json_to_policy_override(j, &base, NULL, err, sizeof(err)), -1);
	json_object_put(j);
}

/* Odd structs still serialise without reading out of bounds. */
static void policy_from_odd_struct(void **state)
{
	(void)state;
	struct sla_policy p;
	sla_policy_default(&p);
	p.n_warnings = 100;
	p.warning_permille[0] = -5;
	p.ladder[0].n_steps = 100;
	p.ladder[0].steps[0].tier = (enum sla_tier)42;
	json_object *j = sla_json_from_policy(&p);
	assert_non_null(j);
	json_object *w, *ld;
	assert_true(json_object_object_get_ex(j, "warnings", &w));
	assert_int_equal(json_object_array_length(w), SLA_POLICY_MAX_WARNINGS);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(w, 0)), "-0.5%");
	assert_true(json_object_object_get_ex(j, "ladder", &ld));
	assert_true(json_object_object_get_ex(ld, "1", &ld));
	assert_int_equal(json_object_array_length(ld), SLA_POLICY_MAX_LADDER);
	/* and it does not read back */
	struct sla_policy q;
	char err[SLA_JSON_ERR_MAX];
	assert_int_equal(sla_json_to_policy(j, &q, err, sizeof(err)), -1);
	assert_prefix(err, "warnings[0]: '-0.5%' is not a percentage");
	json_object_put(j);
}

/* ---- severity rules ---- */

static void assert_rules_equal(const struct sla_severity_rules *a,
                               const struct sla_severity_rules *b)
{
	assert_int_equal(a->count, b->count);
	assert_int_equal(a->default_level, b->default_level);
	for (size_t i = 0; i < a->count; i++) {
		assert_int_equal(a->rules[i].kind, b->rules[i].kind);
		assert_int_equal(a->rules[i].level, b->rules[i].level);
		assert_string_equal(a->rules[i].pattern, b->rules[i].pattern);
	}
}

static void rules_default_round_trip(void **state)
{
	(void)state;
	const struct sla_severity_rules *def = sla_severity_default_rules();
	json_object *j = sla_json_from_rules(def);
	assert_non_null(j);
	json_object *k = reparse(j);
	char err[SLA_JSON_ERR_MAX];
	struct sla_json_rules *r = sla_json_rules_parse(k, err, sizeof(err));
	if (r == NULL)
		fail_msg("%s", err);
	assert_string_equal(err, "");
	/* Released documents: the container owns its strings. */
	json_object_put(k);
	json_object_put(j);
	const struct sla_severity_rules *v = sla_json_rules_view(r);
	assert_rules_equal(v, def);
	for (size_t i = 0; i < v->count; i++)
		assert_ptr_not_equal(v->rules[i].pattern, def->rules[i].pattern);
	sla_json_rules_free(r);
}

static void rules_chinese_patterns(void **state)
{
	(void)state;
	/* Raw UTF-8 and \u escapes mean the same pattern. */
	json_object *j = parse_sq("{'default_level': 4, 'rules': ["
	                          " {'kind': 'keyword', 'pattern': '宕机', 'level': 1},"
	                          " {'kind': 'keyword', 'pattern': '\\u670d\\u52a1\\u4e2d\\u65ad',"
	                          "  'level': 1},"
	                          " {'kind': 'keyword', 'pattern': '性能 下降', 'level': 3},"
	                          " {'kind': 'monitor', 'pattern': 'disaster', 'level': 1},"
	                          " {'kind': 'impact', 'pattern': 'at_risk', 'level': 2}]}");
	char err[SLA_JSON_ERR_MAX];
	struct sla_json_rules *r = sla_json_rules_parse(j, err, sizeof(err));
	if (r == NULL)
		fail_msg("%s", err);
	json_object_put(j);
	const struct sla_severity_rules *v = sla_json_rules_view(r);
	assert_int_equal(v->count, 5);
	assert_int_equal(v->default_level, SLA_LEVEL_4);
	assert_string_equal(v->rules[0].pattern, "宕机");
	assert_string_equal(v->rules[1].pattern, "服务中断");
	assert_int_equal(v->rules[3].kind, SLA_SEV_RULE_MONITOR);
	assert_int_equal(v->rules[4].kind, SLA_SEV_RULE_IMPACT);
	assert_int_equal(v->rules[4].level, SLA_LEVEL_2);

	/* The parsed set classifies (S1). */
	static const char text[] = "今天上午服务器宕机了";
	struct sla_report_facts facts = {.symptoms = text, .symptoms_len = strlen(text)};
	struct sla_severity_result res;
	assert_int_equal(sla_severity_classify(v, &facts, &res), SLA_LEVEL_1);
	assert_int_equal(res.decided_by, SLA_SEV_BY_KEYWORD);
	assert_int_equal(res.rule_index, 0);

	/* Round trip through text, UTF-8 intact. */
	json_object *k = sla_json_from_rules(v);
	assert_string_equal(plain(k),
	                    "{\"default_level\":4,\"rules\":["
	                    "{\"kind\":\"keyword\",\"pattern\":\"宕机\",\"level\":1},"
	                    "{\"kind\":\"keyword\",\"pattern\":\"服务中断\",\"level\":1},"
	                    "{\"kind\":\"keyword\",\"pattern\":\"性能 下降\",\"level\":3},"
	                    "{\"kind\":\"monitor\",\"pattern\":\"disaster\",\"level\":1},"
	                    "{\"kind\":\"impact\",\"pattern\":\"at_risk\",\"level\":2}]}");
	json_object *k2 = reparse(k);
	struct sla_json_rules *r2 = sla_json_rules_parse(k2, err, sizeof(err));
	assert_non_null(r2);
	assert_rules_equal(sla_json_rules_view(r2), v);
	json_object_put(k2);
	json_object_put(k);
	sla_json_rules_free(r2);
	sla_json_rules_free(r);

	/* An empty list is a valid set: everything gets the default. */
	j = parse_sq("{'rules': [], 'default_level': 2}");
	r = sla_json_rules_parse(j, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(sla_json_rules_view(r)->count, 0);
	assert_int_equal(sla_json_rules_view(r)->default_level, SLA_LEVEL_2);
	sla_json_rules_free(r);
	json_object_put(j);
}

static void rules_malformed(void **state)
{
	(void)state;
#define KW(p, l) "{'kind': 'keyword', 'pattern': '" p "', 'level': " #l "}"
	static const struct {
		const char *doc;
		const char *want;
	} cases[] = {
	    {"[]", "(document): expected a JSON object, got an array"},
	    {"{'rules': []}", "default_level: missing"},
	    {"{'default_level': 3}", "rules: missing"},
	    {"{'default_level': 3, 'rules': [], 'version': 1}",
	     "version: unknown key (default_level, rules)"},
	    {"{'default_level': '3', 'rules': []}",
	     "default_level: expected a level 1..4, got a string"},
	    {"{'default_level': 0, 'rules': []}", "default_level: 0 is not 1..4"},
	    {"{'default_level': 3, 'rules': {}}",
	     "rules: expected an array of rules, got an object"},
	    {"{'default_level': 3, 'rules': ['down']}",
	     "rules[0]: expected an object with kind, pattern and level, got a string"},
	    {"{'default_level': 3, 'rules': [" KW("a", 1) "," KW("b", 2) "," KW("c", 3) "," KW(
	         "d", 7) "]}",
	     "rules[3].level: 7 is not 1..4"},
	    {"{'default_level': 3, 'rules': [" KW("a", 1.0) "]}",
	     "rules[0].level: expected a level 1..4, got a fractional number"},
	    {"{'default_level': 3, 'rules': [{'kind': 'regex', 'pattern': 'a', 'level': 1}]}",
	     "rules[0].kind: 'regex' is not a rule kind (impact, monitor, keyword)"},
	    {"{'default_level': 3, 'rules': [{'kind': 1, 'pattern': 'a', 'level': 1}]}",
	     "rules[0].kind: expected a rule kind, got an integer"},
	    {"{'default_level': 3, 'rules': [{'kind': 'keyword', 'pattern': 5, 'level': 1}]}",
	     "rules[0].pattern: expected a pattern string, got an integer"},
	    {"{'default_level': 3, 'rules': [" KW("a\\u0000b", 1) "]}",
	     "rules[0].pattern: contains a NUL character"},
	    {"{'default_level': 3, 'rules': [{'pattern': 'a', 'level': 1}]}",
	     "rules[0].kind: missing"},
	    {"{'default_level': 3, 'rules': [{'kind': 'keyword', 'level': 1}]}",
	     "rules[0].pattern: missing"},
	    {"{'default_level': 3, 'rules': [{'kind': 'keyword', 'pattern': 'a'}]}",
	     "rules[0].level: missing"},
	    {"{'default_level': 3, 'rules': [{'kind': 'keyword', 'pattern': 'a', 'level': 1, "
	     "'note': 'x'}]}",
	     "rules[0].note: unknown key (kind, pattern, level)"},
	    /* sla_severity_rules_validate, named by rule index */
	    {"{'default_level': 3, 'rules': [" KW("a", 1) "," KW("", 1) "]}",
	     "rules[1].pattern: empty or only blanks (empty_pattern)"},
	    {"{'default_level': 3, 'rules': [" KW("   ", 1) "]}",
	     "rules[0].pattern: empty or only blanks"},
	    {"{'default_level': 3, 'rules': [" KW(" down", 1) "]}",
	     "rules[0].pattern: leading, trailing or doubled blanks"},
	    {"{'default_level': 3, 'rules': [" KW("a\\u0001", 1) "]}",
	     "rules[0].pattern: not valid UTF-8 or holds a control character"},
	    {"{'default_level': 3, 'rules': [{'kind': 'impact', 'pattern': 'broken', 'level': 1}]}",
	     "rules[0].pattern: not an impact (interrupted, at_risk, degraded, intermittent)"},
	    {"{'default_level': 3, 'rules': [{'kind': 'monitor', 'pattern': '严重', 'level': 1}]}",
	     "rules[0].pattern: a monitoring severity is ASCII"},
	    {"{'default_level': 3, 'rules': [" KW("down", 1) "," KW("宕机", 1) "," KW("DOWN",
	                                                                              2) "]}",
	     "rules[2]: same kind and pattern (ignoring case) as rules[0] (duplicate)"},
	    {"{'default_level': 3, 'rules': [" KW("Up", 2) "," KW("DOWN", 1) "," KW(
	         "宕机", 1) "," KW("down", 2) "]}",
	     "rules[3]: same kind and pattern (ignoring case) as rules[1] (duplicate)"},
	};
#undef KW
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *j = parse_sq(cases[i].doc);
		char err[SLA_JSON_ERR_MAX];
		struct sla_json_rules *r = sla_json_rules_parse(j, err, sizeof(err));
		if (r != NULL)
			fail_msg("case %zu accepted: %s", i, cases[i].doc);
		assert_prefix(err, cases[i].want);
		json_object_put(j);
	}

	/* Too long a pattern (S1 rules are words, not essays). */
	char doc[512], pat[SLA_SEV_PATTERN_MAX + 2];
	memset(pat, 'x', sizeof(pat) - 1);
	pat[sizeof(pat) - 1] = '\0';
	snprintf(
	    doc, sizeof(doc),
	    "{'default_level': 3, 'rules': [{'kind': 'keyword', 'pattern': '%s', 'level': 1}]}",
	    pat);
	json_object *j = parse_sq(doc);
	char err[SLA_JSON_ERR_MAX];
	assert_null(sla_json_rules_parse(j, err, sizeof(err)));
	assert_prefix(err, "rules[0].pattern: longer than 128 bytes");
	json_object_put(j);

	/* Too many rules. */
	j = json_object_new_object();
	json_object_object_add(j, "default_level", json_object_new_int(3));
	json_object *a = json_object_new_array();
	for (int i = 0; i <= SLA_JSON_RULES_MAX; i++)
		json_object_array_add(a, json_object_new_object());
	json_object_object_add(j, "rules", a);
	assert_null(sla_json_rules_parse(j, err, sizeof(err)));
	assert_string_equal(err, "rules: 1025 given, at most 1024");
	assert_null(sla_json_rules_parse(j, NULL, 0));
	json_object_put(j);

	assert_null(sla_json_rules_parse(NULL, err, sizeof(err)));
	assert_string_equal(err, "(document): expected a JSON object, got null");
}

static void rules_edges(void **state)
{
	(void)state;
	sla_json_rules_free(NULL);
	assert_null(sla_json_rules_view(NULL));
	assert_null(sla_json_from_rules(NULL));
	struct sla_severity_rules rs = {NULL, 1, SLA_LEVEL_3};
	assert_null(sla_json_from_rules(&rs));
	struct sla_severity_rule one = {SLA_SEV_RULE_KEYWORD, NULL, SLA_LEVEL_1};
	rs.rules = &one;
	assert_null(sla_json_from_rules(&rs));
	/* Written as it is, even when invalid. */
	one.pattern = "down";
	one.kind = (enum sla_severity_rule_kind)9;
	one.level = (enum sla_level)7;
	json_object *j = sla_json_from_rules(&rs);
	assert_string_equal(plain(j), "{\"default_level\":3,\"rules\":[{\"kind\":\"invalid\","
	                              "\"pattern\":\"down\",\"level\":7}]}");
	json_object_put(j);
	rs.count = 0;
	rs.rules = NULL;
	j = sla_json_from_rules(&rs);
	assert_string_equal(plain(j), "{\"default_level\":3,\"rules\":[]}");
	json_object_put(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(durations_parse),
	    cmocka_unit_test(durations_format),
	    cmocka_unit_test(policy_default_round_trip),
	    cmocka_unit_test(policy_hand_written),
	    cmocka_unit_test(policy_malformed),
	    cmocka_unit_test(policy_whole_document_errors),
	    cmocka_unit_test(override_changes_named_fields),
	    cmocka_unit_test(override_refusals),
	    cmocka_unit_test(policy_from_odd_struct),
	    cmocka_unit_test(rules_default_round_trip),
	    cmocka_unit_test(rules_chinese_patterns),
	    cmocka_unit_test(rules_malformed),
	    cmocka_unit_test(rules_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
