/*
 * test_sla_types.c - the names of the shared enumerations are on the wire and
 * in PostgreSQL rows: every value has a distinct name that parses back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sla_types.h"

#define ROUND_TRIP(count, name_fn, parse_fn, type)                                                 \
	do {                                                                                       \
		for (int i = 0; i < (count); i++) {                                                \
			const char *name = name_fn((type)i);                                       \
			assert_string_not_equal(name, "invalid");                                  \
			type back;                                                                 \
			assert_int_equal(parse_fn(name, &back), 0);                                \
			assert_int_equal((int)back, i);                                            \
			for (int j = 0; j < i; j++)                                                \
				assert_string_not_equal(name, name_fn((type)j));                   \
		}                                                                                  \
		assert_string_equal(name_fn((type)(count)), "invalid");                            \
		assert_string_equal(name_fn((type)-1), "invalid");                                 \
		type unused;                                                                       \
		assert_int_equal(parse_fn("no-such-name", &unused), -1);                           \
		assert_int_equal(parse_fn(NULL, &unused), -1);                                     \
	} while (0)

static void names_round_trip(void **state)
{
	(void)state;
	ROUND_TRIP(SLA_TYPE_COUNT, sla_ticket_type_name, sla_ticket_type_parse,
	           enum sla_ticket_type);
	ROUND_TRIP(SLA_CLOCK_COUNT, sla_clock_name, sla_clock_parse, enum sla_clock);
	ROUND_TRIP(SLA_TIER_COUNT, sla_tier_name, sla_tier_parse, enum sla_tier);
	ROUND_TRIP(SLA_CAUSE_COUNT, sla_cause_name, sla_cause_parse, enum sla_cause);
	ROUND_TRIP(SLA_STATE_COUNT, sla_ticket_state_name, sla_ticket_state_parse,
	           enum sla_ticket_state);
	ROUND_TRIP(SLA_EV_COUNT, sla_event_kind_name, sla_event_kind_parse, enum sla_event_kind);
}

static void level_names(void **state)
{
	(void)state;
	assert_string_equal(sla_level_name(SLA_LEVEL_1), "1");
	assert_string_equal(sla_level_name(SLA_LEVEL_4), "4");
	assert_string_equal(sla_level_name(SLA_LEVEL_NONE), "none");
	assert_string_equal(sla_level_name((enum sla_level)5), "invalid");
	assert_true(sla_level_valid(SLA_LEVEL_1));
	assert_false(sla_level_valid(SLA_LEVEL_NONE));
	assert_false(sla_level_valid(5));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(names_round_trip),
	    cmocka_unit_test(level_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
