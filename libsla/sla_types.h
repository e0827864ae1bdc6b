/*
 * sla_types.h - vocabulary shared by every libsla module.
 *
 * libsla is the pure domain core (DESIGN.md): libc only, no I/O, no clock
 * reads, no globals.  Every instant is passed in by the caller.
 */
#ifndef SLA_TYPES_H
#define SLA_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define SLA_MUSTCHECK __attribute__((warn_unused_result))
#else
#define SLA_MUSTCHECK
#endif

/* An instant: seconds since the Unix epoch, UTC.  SLA commitments are
 * stated in minutes and hours; "to the second" is the finest grain we owe. */
typedef int64_t sla_time;
/* A span of time in seconds. */
typedef int64_t sla_duration;

#define SLA_MINUTE ((sla_duration)60)
#define SLA_HOUR   ((sla_duration)3600)
#define SLA_DAY    ((sla_duration)86400)
/* "Never": a due instant that will not come (a stopped or absent clock). */
#define SLA_TIME_NEVER INT64_MAX

/* S1: four fault levels, 1 the most severe.  0 means "not classified". */
enum sla_level {
	SLA_LEVEL_NONE = 0,
	SLA_LEVEL_1 = 1, /* paralysed / service interrupted */
	SLA_LEVEL_2 = 2, /* latent risk of paralysis or interruption */
	SLA_LEVEL_3 = 3, /* service partly degraded */
	SLA_LEVEL_4 = 4, /* intermittent or indirect effect */
};
#define SLA_LEVEL_COUNT    4
#define sla_level_valid(l) ((l) >= SLA_LEVEL_1 && (l) <= SLA_LEVEL_4)

/* S6, S16: what kind of work a ticket is. */
enum sla_ticket_type {
	SLA_TYPE_FAULT = 0,
	SLA_TYPE_CONSULTING,
	SLA_TYPE_TRAINING,
	SLA_TYPE_COMPLAINT,
	SLA_TYPE_INSPECTION,
	SLA_TYPE_FOLLOWUP,
	SLA_TYPE_COUNT
};

/* The clocks a ticket may run (DESIGN.md "Time").  For types other than
 * faults, RESTORE is the "work done" clock (an inspection carried out, a
 * follow-up call made); the policy says which clocks each type runs. */
enum sla_clock {
	SLA_CLOCK_RESPONSE = 0, /* report -> first acknowledgement by a person */
	SLA_CLOCK_ONSITE,       /* report or dispatch -> engineer on site (S5) */
	SLA_CLOCK_RESTORE,      /* report -> service restored / work done */
	SLA_CLOCK_COUNT
};

/* S6: escalation tiers, in climbing order. */
enum sla_tier {
	SLA_TIER_ENGINEER = 0,
	SLA_TIER_TEAM_LEAD,
	SLA_TIER_REGIONAL_MANAGER,
	SLA_TIER_DIRECTOR,
	SLA_TIER_COUNT
};

/* S9: what caused a stoppage.  Only vendor causes extend the warranty. */
enum sla_cause {
	SLA_CAUSE_UNKNOWN = 0,
	SLA_CAUSE_SOFTWARE_QUALITY,
	SLA_CAUSE_VENDOR_SERVICE,
	SLA_CAUSE_CUSTOMER,
	SLA_CAUSE_THIRD_PARTY,
	SLA_CAUSE_FORCE_MAJEURE,
	SLA_CAUSE_DELIBERATE_DAMAGE,
	SLA_CAUSE_COUNT
};

/* S5, S15: where a ticket stands. */
enum sla_ticket_state {
	SLA_STATE_REPORTED = 0,
	SLA_STATE_ACKNOWLEDGED,      /* a person took it */
	SLA_STATE_REMOTE_SUPPORT,    /* phone / remote help under way */
	SLA_STATE_ONSITE_DISPATCHED, /* both sides agreed a visit is needed */
	SLA_STATE_ONSITE,            /* engineer arrived */
	SLA_STATE_RESTORED,          /* service restored / work done */
	SLA_STATE_CLOSED,
	SLA_STATE_CANCELLED,
	SLA_STATE_COUNT
};

/* Everything that can happen to a ticket.  Each is an append-only event row
 * in the store; the deadline engine replays them to compute the clocks. */
enum sla_event_kind {
	SLA_EV_REPORTED = 0,   /* creation; carries the initial level */
	SLA_EV_ACKNOWLEDGED,   /* a person acknowledged: stops RESPONSE */
	SLA_EV_REMOTE_STARTED, /* remote support begins */
	SLA_EV_DISPATCHED,     /* on-site visit agreed (S5) */
	SLA_EV_ARRIVED,        /* engineer on site: stops ONSITE */
	SLA_EV_RESTORED,       /* stops RESTORE (and ONSITE if never needed) */
	SLA_EV_CLOSED,
	SLA_EV_REOPENED, /* starts a new cycle of clocks */
	SLA_EV_CANCELLED,
	SLA_EV_PAUSED,       /* waiting for the customer (S5): clocks stop */
	SLA_EV_RESUMED,      /* clocks run again */
	SLA_EV_RECLASSIFIED, /* carries the new level */
	SLA_EV_ASSIGNED,     /* no effect on clocks or state */
	SLA_EV_NOTE,         /* no effect on clocks or state */
	SLA_EV_COUNT
};

/* A ticket event as the deadline engine and the state machine see it. */
struct sla_event {
	enum sla_event_kind kind;
	sla_time at;
	enum sla_level level; /* REPORTED and RECLASSIFIED; else NONE */
};

/* A calendar date (proleptic Gregorian) in some time zone. */
struct sla_date {
	int year;  /* e.g. 2026 */
	int month; /* 1..12 */
	int day;   /* 1..31 */
};

const char *sla_level_name(enum sla_level level);
const char *sla_ticket_type_name(enum sla_ticket_type type);
const char *sla_clock_name(enum sla_clock clock);
const char *sla_tier_name(enum sla_tier tier);
const char *sla_cause_name(enum sla_cause cause);
const char *sla_ticket_state_name(enum sla_ticket_state state);
const char *sla_event_kind_name(enum sla_event_kind kind);

/* Parse the names above back; return 0 and set *out, or -1 if unknown. */
SLA_MUSTCHECK int sla_ticket_type_parse(const char *name, enum sla_ticket_type *out);
SLA_MUSTCHECK int sla_clock_parse(const char *name, enum sla_clock *out);
SLA_MUSTCHECK int sla_tier_parse(const char *name, enum sla_tier *out);
SLA_MUSTCHECK int sla_cause_parse(const char *name, enum sla_cause *out);
SLA_MUSTCHECK int sla_ticket_state_parse(const char *name, enum sla_ticket_state *out);
SLA_MUSTCHECK int sla_event_kind_parse(const char *name, enum sla_event_kind *out);

#endif /* SLA_TYPES_H */
