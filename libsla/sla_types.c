/*
 * sla_types.c - names of the shared enumerations, as the protocol and the
 * store spell them.  Keep these strings stable: they are on the wire and in
 * PostgreSQL rows.
 */
#include "sla_types.h"

#include <string.h>

static const char *const level_names[] = {"none", "1", "2", "3", "4"};
static const char *const type_names[SLA_TYPE_COUNT] = {
    "fault", "consulting", "training", "complaint", "inspection", "followup",
};
static const char *const clock_names[SLA_CLOCK_COUNT] = {"response", "onsite", "restore"};
static const char *const tier_names[SLA_TIER_COUNT] = {
    "engineer",
    "team_lead",
    "regional_manager",
    "director",
};
static const char *const cause_names[SLA_CAUSE_COUNT] = {
    "unknown",     "software_quality", "vendor_service",    "customer",
    "third_party", "force_majeure",    "deliberate_damage",
};
static const char *const state_names[SLA_STATE_COUNT] = {
    "reported", "acknowledged", "remote_support", "onsite_dispatched",
    "onsite",   "restored",     "closed",         "cancelled",
};
static const char *const event_names[SLA_EV_COUNT] = {
    "reported", "acknowledged", "remote_started", "dispatched", "arrived",
    "restored", "closed",       "reopened",       "cancelled",  "paused",
    "resumed",  "reclassified", "assigned",       "note",
};

static const char *name_of(const char *const *names, size_t count, int value)
{
	if (value < 0 || (size_t)value >= count)
		return "invalid";
	return names[value];
}

static int index_of(const char *const *names, size_t count, const char *name)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < count; i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

#define NAMES(a) (a), (sizeof(a) / sizeof((a)[0]))

const char *sla_level_name(enum sla_level level)
{
	return name_of(NAMES(level_names), (int)level);
}
const char *sla_ticket_type_name(enum sla_ticket_type type)
{
	return name_of(NAMES(type_names), (int)type);
}
const char *sla_clock_name(enum sla_clock clock)
{
	return name_of(NAMES(clock_names), (int)clock);
}
const char *sla_tier_name(enum sla_tier tier)
{
	return name_of(NAMES(tier_names), (int)tier);
}
const char *sla_cause_name(enum sla_cause cause)
{
	return name_of(NAMES(cause_names), (int)cause);
}
const char *sla_ticket_state_name(enum sla_ticket_state state)
{
	return name_of(NAMES(state_names), (int)state);
}
const char *sla_event_kind_name(enum sla_event_kind kind)
{
	return name_of(NAMES(event_names), (int)kind);
}

#define DEFINE_PARSE(fn, type, table)                                                              \
	int fn(const char *name, type *out)                                                        \
	{                                                                                          \
		int i = index_of(NAMES(table), name);                                              \
		if (i < 0)                                                                         \
			return -1;                                                                 \
		*out = (type)i;                                                                    \
		return 0;                                                                          \
	}

DEFINE_PARSE(sla_ticket_type_parse, enum sla_ticket_type, type_names)
DEFINE_PARSE(sla_clock_parse, enum sla_clock, clock_names)
DEFINE_PARSE(sla_tier_parse, enum sla_tier, tier_names)
DEFINE_PARSE(sla_cause_parse, enum sla_cause, cause_names)
DEFINE_PARSE(sla_ticket_state_parse, enum sla_ticket_state, state_names)
DEFINE_PARSE(sla_event_kind_parse, enum sla_event_kind, event_names)
