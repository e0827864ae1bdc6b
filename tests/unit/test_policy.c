/*
 * test_policy.c - S2, S4, S6: the shipped policy has the table, and
 * validation names exactly what is wrong.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"

#define M SLA_MINUTE
#define H SLA_HOUR
#define D SLA_DAY

static void default_fault_table(void **state)
{
	(void)state;
	/* Issue 2's table, within S4's 24 h. */
	static const sla_duration want[4][3] = {
	    {30 * M, 4 * H, 8 * H},
	    {2 * H, 8 * H, 24 * H},
	    {8 * H, 24 * H, 24 * H},
	    {24 * H, 24 * H, 24 * H},
	};
	struct sla_policy p;
	sla_policy_default(&p);
	for (int l = 1; l <= 4; l++)
		for (int c = 0; c < SLA_CLOCK_COUNT; c++)
			assert_int_equal(sla_policy_window(&p, SLA_TYPE_FAULT, (enum sla_level)l,
			                                   (enum sla_clock)c),
			                 want[l - 1][c]);
	assert_false(p.onsite_from_dispatch);
	assert_int_equal(p.n_warnings, 3);
	assert_int_equal(p.warning_permille[0], 500);
	assert_int_equal(p.warning_permille[1], 750);
	assert_int_equal(p.warning_permille[2], 900);
	char err[160];
	assert_int_equal(sla_policy_validate(&p, err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

static void default_type_clock_sets(void **state)
{
	(void)state;
	/* S6: each type its own clock set; 0 = not run. */
	static const struct {
		enum sla_ticket_type type;
		sla_duration response, onsite, done;
		enum sla_tier start;
	} cases[] = {
	    {SLA_TYPE_FAULT, 24 * H, 24 * H, 24 * H, SLA_TIER_ENGINEER}, /* level 4 row */
	    {SLA_TYPE_CONSULTING, 4 * H, 0, 3 * D, SLA_TIER_ENGINEER},
	    {SLA_TYPE_TRAINING, 24 * H, 0, 30 * D, SLA_TIER_ENGINEER},
	    {SLA_TYPE_COMPLAINT, 2 * H, 0, 3 * D, SLA_TIER_REGIONAL_MANAGER},
	    {SLA_TYPE_INSPECTION, 0, 0, 14 * D, SLA_TIER_ENGINEER},
	    {SLA_TYPE_FOLLOWUP, 0, 0, 2 * D, SLA_TIER_ENGINEER},
	};
	struct sla_policy p;
	sla_policy_default(&p);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sla_duration want[3] = {cases[i].response, cases[i].onsite, cases[i].done};
		for (int c = 0; c < SLA_CLOCK_COUNT; c++) {
			assert_int_equal(sla_policy_runs(&p, cases[i].type, (enum sla_clock)c),
			                 want[c] > 0);
			/* NONE reads level 4; other types are equal at every level. */
			assert_int_equal(
			    sla_policy_window(&p, cases[i].type, SLA_LEVEL_NONE, (enum sla_clock)c),
			    want[c]);
			if (cases[i].type != SLA_TYPE_FAULT)
				for (int l = 1; l <= 4; l++)
					assert_int_equal(sla_policy_window(&p, cases[i].type,
					                                   (enum sla_level)l,
					                                   (enum sla_clock)c),
					                 want[c]);
		}
		assert_int_equal(sla_policy_start_tier(&p, cases[i].type), cases[i].start);
	}
}

static void default_ladders(void **state)
{
	(void)state;
	struct sla_policy p;
	sla_policy_default(&p);
	struct sla_ladder ld;
	sla_policy_effective_ladder(&p, SLA_TYPE_FAULT, SLA_LEVEL_1, &ld);
	assert_int_equal(ld.n_steps, 3);
	assert_int_equal(ld.steps[0].tier, SLA_TIER_TEAM_LEAD);
	assert_int_equal(ld.steps[0].delay, 15 * M);
	assert_int_equal(ld.steps[1].tier, SLA_TIER_REGIONAL_MANAGER);
	assert_int_equal(ld.steps[1].delay, 1 * H);
	assert_int_equal(ld.steps[2].tier, SLA_TIER_DIRECTOR);
	assert_int_equal(ld.steps[2].delay, 4 * H);
	for (int l = 2; l <= 4; l++) {
		sla_policy_effective_ladder(&p, SLA_TYPE_FAULT, (enum sla_level)l, &ld);
		assert_int_equal(ld.n_steps, 3);
		assert_int_equal(ld.steps[0].delay, 30 * M);
		assert_int_equal(ld.steps[1].delay, 2 * H);
		assert_int_equal(ld.steps[2].delay, 8 * H);
	}
	/* S6: complaints start at the regional manager; only the director is
	 * left above, at its own delay after the breach. */
	sla_policy_effective_ladder(&p, SLA_TYPE_COMPLAINT, SLA_LEVEL_NONE, &ld);
	assert_int_equal(ld.n_steps, 1);
	assert_int_equal(ld.steps[0].tier, SLA_TIER_DIRECTOR);
	assert_int_equal(ld.steps[0].delay, 8 * H);
	/* Out of range: empty. */
	sla_policy_effective_ladder(&p, SLA_TYPE_COUNT, SLA_LEVEL_1, &ld);
	assert_int_equal(ld.n_steps, 0);
	sla_policy_effective_ladder(&p, SLA_TYPE_FAULT, (enum sla_level)5, &ld);
	assert_int_equal(ld.n_steps, 0);
	sla_policy_effective_ladder(NULL, SLA_TYPE_FAULT, SLA_LEVEL_1, &ld);
	assert_int_equal(ld.n_steps, 0);
}

static void accessors_out_of_range(void **state)
{
	(void)state;
	struct sla_policy p;
	sla_policy_default(&p);
	assert_false(sla_policy_runs(NULL, SLA_TYPE_FAULT, SLA_CLOCK_RESPONSE));
	assert_false(sla_policy_runs(&p, (enum sla_ticket_type) - 1, SLA_CLOCK_RESPONSE));
	assert_false(sla_policy_runs(&p, SLA_TYPE_FAULT, SLA_CLOCK_COUNT));
	assert_int_equal(
	    sla_policy_window(&p, SLA_TYPE_FAULT, (enum sla_level)7, SLA_CLOCK_RESPONSE), 0);
	assert_int_equal(sla_policy_window(&p, SLA_TYPE_COUNT, SLA_LEVEL_1, SLA_CLOCK_RESPONSE), 0);
	assert_int_equal(
	    sla_policy_window(&p, SLA_TYPE_INSPECTION, SLA_LEVEL_1, SLA_CLOCK_RESPONSE), 0);
	assert_int_equal(sla_policy_start_tier(NULL, SLA_TYPE_COMPLAINT), SLA_TIER_ENGINEER);
	assert_int_equal(sla_policy_start_tier(&p, SLA_TYPE_COUNT), SLA_TIER_ENGINEER);
}

/* Validation: one mutation of the default, one exact message. */
typedef void (*mutate_fn)(struct sla_policy *p);

static void m_restore_30h(struct sla_policy *p)
{
	p->types[SLA_TYPE_FAULT].window[1][SLA_CLOCK_RESTORE] = 30 * H;
}
static void m_level1_looser(struct sla_policy *p)
{
	p->types[SLA_TYPE_FAULT].window[0][SLA_CLOCK_RESPONSE] = 2 * H;
	p->types[SLA_TYPE_FAULT].window[3][SLA_CLOCK_RESPONSE] = 30 * M;
}
static void m_level2_looser_than_3(struct sla_policy *p)
{
	p->types[SLA_TYPE_FAULT].window[1][SLA_CLOCK_ONSITE] = 23 * H + 59 * M + 59;
	p->types[SLA_TYPE_FAULT].window[2][SLA_CLOCK_ONSITE] = 23 * H;
	p->types[SLA_TYPE_FAULT].window[3][SLA_CLOCK_ONSITE] = 23 * H;
}
static void m_zero_window(struct sla_policy *p)
{
	p->types[SLA_TYPE_FAULT].window[2][SLA_CLOCK_ONSITE] = 0;
}
static void m_negative_window(struct sla_policy *p)
{
	p->types[SLA_TYPE_CONSULTING].window[0][SLA_CLOCK_RESPONSE] = -5 * M;
}
static void m_other_over_limit(struct sla_policy *p)
{
	for (int l = 0; l < 4; l++)
		p->types[SLA_TYPE_TRAINING].window[l][SLA_CLOCK_RESTORE] = 90 * D + 1;
}
static void m_other_looser(struct sla_policy *p)
{
	p->types[SLA_TYPE_COMPLAINT].window[0][SLA_CLOCK_RESTORE] = 4 * D;
}
static void m_start_tier(struct sla_policy *p)
{
	p->types[SLA_TYPE_COMPLAINT].start_tier = (enum sla_tier)9;
}
static void m_too_many_warnings(struct sla_policy *p)
{
	p->n_warnings = SLA_POLICY_MAX_WARNINGS + 1;
}
static void m_warning_zero(struct sla_policy *p)
{
	p->warning_permille[0] = 0;
}
static void m_warning_negative(struct sla_policy *p)
{
	p->warning_permille[0] = -25;
}
static void m_warning_1000(struct sla_policy *p)
{
	p->warning_permille[2] = 1000;
}
static void m_warning_not_increasing(struct sla_policy *p)
{
	p->warning_permille[1] = 225;
	p->warning_permille[0] = 225;
}
static void m_ladder_too_long(struct sla_policy *p)
{
	p->ladder[0].n_steps = SLA_POLICY_MAX_LADDER + 1;
}
static void m_ladder_bad_tier(struct sla_policy *p)
{
	p->ladder[2].steps[1].tier = (enum sla_tier) - 1;
}
static void m_ladder_not_climbing(struct sla_policy *p)
{
	p->ladder[1].steps[1].tier = SLA_TIER_TEAM_LEAD;
}
static void m_ladder_negative_delay(struct sla_policy *p)
{
	p->ladder[3].steps[0].delay = -1;
}
static void m_ladder_delay_too_long(struct sla_policy *p)
{
	p->ladder[3].steps[2].delay = 30 * D + 1;
}
static void m_ladder_delay_back(struct sla_policy *p)
{
	p->ladder[0].steps[2].delay = 30 * M;
}
/* Windows of clocks a type does not run are ignored. */
static void m_unused_window(struct sla_policy *p)
{
	p->types[SLA_TYPE_FOLLOWUP].window[0][SLA_CLOCK_ONSITE] = -1;
}
static void m_no_warnings(struct sla_policy *p)
{
	p->n_warnings = 0;
	p->warning_permille[0] = -7; /* beyond n_warnings: ignored */
}
static void m_empty_ladder_same_delay(struct sla_policy *p)
{
	p->ladder[0].n_steps = 0;
	p->ladder[1].steps[1].delay = 30 * M; /* equal delays are allowed */
}

static void validate_names_the_fault(void **state)
{
	(void)state;
	static const struct {
		mutate_fn mutate;
		const char *want; /* NULL: valid */
	} cases[] = {
	    {m_restore_30h, "fault.restore.level2: 30h exceeds the 24h commitment (S4)"},
	    {m_level1_looser, "fault.response: level 1 (2h) is looser than level 4 (30m)"},
	    {m_level2_looser_than_3,
	     "fault.onsite: level 2 (23h59m59s) is looser than level 3 (23h)"},
	    {m_zero_window, "fault.onsite.level3: window 0s must be positive"},
	    {m_negative_window, "consulting.response.level1: window -5m must be positive"},
	    {m_other_over_limit, "training.restore.level1: 2160h1s exceeds the 2160h limit"},
	    {m_other_looser, "complaint.restore: level 1 (96h) is looser than level 2 (72h)"},
	    {m_start_tier, "complaint.start_tier: 9 is not a tier"},
	    {m_too_many_warnings, "warnings: 9 given, at most 8"},
	    {m_warning_zero, "warnings[0]: 0.0% must be above 0%"},
	    {m_warning_negative, "warnings[0]: -2.5% must be above 0%"},
	    {m_warning_1000, "warnings[2]: 100.0% must be below 100% (the breach)"},
	    {m_warning_not_increasing,
	     "warnings[1]: 22.5% is not above warnings[0] (22.5%); fractions must increase"},
	    {m_ladder_too_long, "ladder.level1: 5 steps, at most 4"},
	    {m_ladder_bad_tier, "ladder.level3[1]: -1 is not a tier"},
	    {m_ladder_not_climbing,
	     "ladder.level2[1]: tier team_lead does not climb above team_lead (step 0)"},
	    {m_ladder_negative_delay,
	     "ladder.level4[0]: delay -1s is outside 0s..720h after the breach"},
	    {m_ladder_delay_too_long,
	     "ladder.level4[2]: delay 720h1s is outside 0s..720h after the breach"},
	    {m_ladder_delay_back, "ladder.level1[2]: delay 30m is earlier than step 1 (1h)"},
	    {m_unused_window, NULL},
	    {m_no_warnings, NULL},
	    {m_empty_ladder_same_delay, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sla_policy p;
		sla_policy_default(&p);
		cases[i].mutate(&p);
		char err[160];
		memset(err, 'x', sizeof(err));
		int rc = sla_policy_validate(&p, err, sizeof(err));
		if (cases[i].want == NULL) {
			assert_int_equal(rc, 0);
			assert_string_equal(err, "");
		} else {
			assert_int_equal(rc, -1);
			assert_string_equal(err, cases[i].want);
		}
	}
}

static void validate_edge_arguments(void **state)
{
	(void)state;
	char err[16];
	assert_int_equal(sla_policy_validate(NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "policy: missing");
	assert_int_equal(sla_policy_validate(NULL, NULL, 0), -1);

	struct sla_policy p;
	sla_policy_default(&p);
	m_restore_30h(&p);
	/* No buffer, and a short one: truncated, terminated. */
	assert_int_equal(sla_policy_validate(&p, NULL, 0), -1);
	assert_int_equal(sla_policy_validate(&p, err, sizeof(err)), -1);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_memory_equal(err, "fault.restore.l", sizeof(err) - 1);
}

static void format_duration_table(void **state)
{
	(void)state;
	static const struct {
		sla_duration d;
		const char *want;
	} cases[] = {
	    {0, "0s"},       {45, "45s"},       {30 * M, "30m"},
	    {24 * H, "24h"}, {90 * M, "1h30m"}, {25 * H + 61, "25h1m1s"},
	    {-5 * M, "-5m"}, {H + 1, "1h1s"},   {INT64_MIN, "-2562047788015215h30m8s"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[40];
		assert_string_equal(sla_policy_format_duration(cases[i].d, buf, sizeof(buf)),
		                    cases[i].want);
	}
	assert_null(sla_policy_format_duration(60, NULL, 10));
	char one[1] = {'x'};
	assert_ptr_equal(sla_policy_format_duration(60, one, 0), one);
	assert_int_equal(one[0], 'x');
}

static void override_nothing_is_identity(void **state)
{
	(void)state;
	struct sla_policy base, out;
	struct sla_policy_override ov;
	sla_policy_default(&base);
	sla_policy_override_init(&ov);
	memset(&out, 0x5a, sizeof(out));
	char err[160];
	assert_int_equal(sla_policy_apply_override(&base, &ov, &out, err, sizeof(err)), 0);
	assert_memory_equal(&base, &out, sizeof(base));
	assert_string_equal(err, "");
}

static void override_fields(void **state)
{
	(void)state;
	struct sla_policy base, out;
	struct sla_policy_override ov;
	sla_policy_default(&base);
	sla_policy_override_init(&ov);
	/* A contract with a 20-minute level-1 response, 6 h level-1 restore,
	 * two warnings, a one-step level-2 ladder, on site from dispatch. */
	ov.window[SLA_TYPE_FAULT][0][SLA_CLOCK_RESPONSE] = 20 * M;
	ov.window[SLA_TYPE_FAULT][0][SLA_CLOCK_RESTORE] = 6 * H;
	ov.window[SLA_TYPE_COMPLAINT][2][SLA_CLOCK_RESPONSE] = 3 * H;
	ov.window[SLA_TYPE_COMPLAINT][3][SLA_CLOCK_RESPONSE] = 3 * H;
	ov.has_warnings = true;
	ov.n_warnings = 2;
	ov.warning_permille[0] = 800;
	ov.warning_permille[1] = 950;
	ov.has_ladder[1] = true;
	ov.ladder[1].n_steps = 1;
	ov.ladder[1].steps[0] = (struct sla_ladder_step){SLA_TIER_DIRECTOR, 1 * H};
	ov.has_onsite_from_dispatch = true;
	ov.onsite_from_dispatch = true;
	char err[160];
	assert_int_equal(sla_policy_apply_override(&base, &ov, &out, err, sizeof(err)), 0);
	assert_int_equal(sla_policy_window(&out, SLA_TYPE_FAULT, SLA_LEVEL_1, SLA_CLOCK_RESPONSE),
	                 20 * M);
	assert_int_equal(sla_policy_window(&out, SLA_TYPE_FAULT, SLA_LEVEL_1, SLA_CLOCK_RESTORE),
	                 6 * H);
	assert_int_equal(sla_policy_window(&out, SLA_TYPE_FAULT, SLA_LEVEL_1, SLA_CLOCK_ONSITE),
	                 4 * H);
	assert_int_equal(sla_policy_window(&out, SLA_TYPE_FAULT, SLA_LEVEL_2, SLA_CLOCK_RESPONSE),
	                 2 * H);
	assert_int_equal(
	    sla_policy_window(&out, SLA_TYPE_COMPLAINT, SLA_LEVEL_4, SLA_CLOCK_RESPONSE), 3 * H);
	assert_int_equal(out.n_warnings, 2);
	assert_int_equal(out.warning_permille[1], 950);
	assert_int_equal(out.ladder[1].n_steps, 1);
	assert_int_equal(out.ladder[0].n_steps, 3); /* untouched */
	assert_true(out.onsite_from_dispatch);

	/* Turning it back off, and no warnings at all. */
	struct sla_policy_override ov2;
	sla_policy_override_init(&ov2);
	ov2.has_onsite_from_dispatch = true;
	ov2.has_warnings = true;
	assert_int_equal(sla_policy_apply_override(&out, &ov2, &out, err, sizeof(err)), 0);
	assert_false(out.onsite_from_dispatch);
	assert_int_equal(out.n_warnings, 0);
}

static void override_refusals(void **state)
{
	(void)state;
	struct sla_policy base, out, before;
	sla_policy_default(&base);
	memset(&out, 0x33, sizeof(out));
	before = out;
	char err[160];

	static const struct {
		int which;
		const char *want;
	} cases[] = {
	    {0, "override consulting.onsite.level1: consulting does not run the onsite clock"},
	    {1, "fault.restore.level2: 30h exceeds the 24h commitment (S4)"},
	    {2, "warnings: 9 given, at most 8"},
	    {3, "ladder.level3[1]: tier engineer does not climb above director (step 0)"},
	    {4, "fault.response.level1: window -1s must be positive"},
	    {5, "fault.response: level 1 (8h) is looser than level 2 (2h)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sla_policy_override ov;
		sla_policy_override_init(&ov);
		switch (cases[i].which) {
		case 0:
			ov.window[SLA_TYPE_CONSULTING][0][SLA_CLOCK_ONSITE] = H;
			break;
		case 1:
			ov.window[SLA_TYPE_FAULT][1][SLA_CLOCK_RESTORE] = 30 * H;
			break;
		case 2:
			ov.has_warnings = true;
			ov.n_warnings = 9;
			break;
		case 3:
			ov.has_ladder[2] = true;
			ov.ladder[2].n_steps = 2;
			ov.ladder[2].steps[0] = (struct sla_ladder_step){SLA_TIER_DIRECTOR, 0};
			ov.ladder[2].steps[1] = (struct sla_ladder_step){SLA_TIER_ENGINEER, H};
			break;
		case 4:
			ov.window[SLA_TYPE_FAULT][0][SLA_CLOCK_RESPONSE] = -1;
			break;
		default:
			ov.window[SLA_TYPE_FAULT][0][SLA_CLOCK_RESPONSE] = 8 * H;
			break;
		}
		assert_int_equal(sla_policy_apply_override(&base, &ov, &out, err, sizeof(err)), -1);
		assert_string_equal(err, cases[i].want);
		assert_memory_equal(&out, &before, sizeof(out)); /* unchanged */
	}

	struct sla_policy_override ov;
	sla_policy_override_init(&ov);
	assert_int_equal(sla_policy_apply_override(NULL, &ov, &out, err, sizeof(err)), -1);
	assert_string_equal(err, "override: missing argument");
	assert_int_equal(sla_policy_apply_override(&base, NULL, &out, NULL, 0), -1);
	assert_int_equal(sla_policy_apply_override(&base, &ov, NULL, NULL, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(default_fault_table),
	    cmocka_unit_test(default_type_clock_sets),
	    cmocka_unit_test(default_ladders),
	    cmocka_unit_test(accessors_out_of_range),
	    cmocka_unit_test(validate_names_the_fault),
	    cmocka_unit_test(validate_edge_arguments),
	    cmocka_unit_test(format_duration_table),
	    cmocka_unit_test(override_nothing_is_identity),
	    cmocka_unit_test(override_fields),
	    cmocka_unit_test(override_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
