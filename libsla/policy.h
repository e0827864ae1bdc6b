/*
 * policy.h - S2, S4, S6: the SLA policy as plain structs.
 *
 * A policy says, per ticket type, which clocks run and, per level, the window
 * of each clock; the warning fractions; the escalation ladder that climbs
 * after a breach; and whether the on-site clock counts from the report or
 * from the dispatch decision.  JSON loading lives in the daemon; libsla only
 * sees these structs.  sla_deadline_evaluate() (deadline.h) turns a policy
 * and a ticket's history into due instants.
 *
 * Shipped default (sla_policy_default):
 *
 *   fault         response   on site   restore     (S4's 24 h are the caps)
 *     level 1       30 min       4 h       8 h
 *     level 2        2 h         8 h      24 h
 *     level 3        8 h        24 h      24 h
 *     level 4       24 h        24 h      24 h
 *   consulting    response 4 h,  done  3 days      (technical advice, S6/S16)
 *   training      response 24 h, done 30 days      (a session must be arranged)
 *   complaint     response 2 h,  done  3 days      (ladder from the regional manager, S6)
 *   inspection    done 14 days                      (S11: the quarterly visit)
 *   follow-up     done  2 days                      (S12/S14: "within two days")
 *
 *   For the types other than faults, "done" is the RESTORE clock (see
 *   sla_types.h) and the windows are the same at every level.
 *
 *   Warnings at 50 %, 75 % and 90 % of each window; the breach at 100 %.
 *
 *   Ladder after the breach (the breach itself goes to the type's start tier,
 *   the engineer on duty for most types):
 *     level 1:        team lead +15 min, regional manager +1 h, director +4 h
 *     levels 2 to 4:  team lead +30 min, regional manager +2 h, director +8 h
 *   Level 1 climbs faster because its whole restore window is 8 h.
 *
 *   On-site clock: from the report (the table); a contract may say
 *   from the dispatch decision (onsite_from_dispatch).
 *
 * Ladder delays are measured from the BREACH, not from the previous step:
 * dropping steps below a type's start tier (complaints, S6) or overriding one
 * step then leaves the others where they were.  Delays count running time:
 * a pause (waiting for the customer, S5) shifts the ladder like every other
 * step of the clock.
 *
 * Start tier (S6): warnings and the breach go to the type's start tier, and
 * ladder steps at or below that tier are dropped (the tier was reached at the
 * breach).  Complaints start at the regional manager, so their ladder is the
 * breach (regional manager) and then the director.
 *
 * Validation rules (sla_policy_validate names the first violation):
 *   - every window of a clock the type runs is positive;
 *   - fault windows are at most 24 h (S4's commitments are upper bounds);
 *     other windows at most SLA_POLICY_MAX_WINDOW (a sanity bound that also
 *     keeps the deadline arithmetic far from overflow);
 *   - a lower level number (more severe) never has a longer window than a
 *     higher one, for every clock of every type (DESIGN "Time");
 *   - warning fractions: at most SLA_POLICY_MAX_WARNINGS, each in 1..999
 *     per mille, strictly increasing;
 *   - each ladder: at most SLA_POLICY_MAX_LADDER steps, tiers valid and
 *     strictly climbing, delays in 0..SLA_POLICY_MAX_DELAY and not
 *     decreasing;
 *   - start tiers valid.
 */
#ifndef SLA_POLICY_H
#define SLA_POLICY_H

#include "sla_types.h"

#define SLA_POLICY_MAX_WARNINGS 8
/* Tiers strictly climb, so a ladder has at most one step per tier. */
#define SLA_POLICY_MAX_LADDER SLA_TIER_COUNT
/* S4 caps every fault window. */
#define SLA_POLICY_FAULT_CAP (24 * SLA_HOUR)
/* Sanity bound for the other types' windows. */
#define SLA_POLICY_MAX_WINDOW (90 * SLA_DAY)
/* Sanity bound for a ladder step's delay after the breach. */
#define SLA_POLICY_MAX_DELAY (30 * SLA_DAY)

/* One ladder step: who hears, and how long after the breach. */
struct sla_ladder_step {
	enum sla_tier tier;
	sla_duration delay; /* seconds of running time after the breach, >= 0 */
};

struct sla_ladder {
	size_t n_steps;
	struct sla_ladder_step steps[SLA_POLICY_MAX_LADDER];
};

/* What one ticket type runs. */
struct sla_type_policy {
	bool runs[SLA_CLOCK_COUNT]; /* which clocks this type runs */
	/* window[level - 1][clock], seconds; ignored where !runs[clock] */
	sla_duration window[SLA_LEVEL_COUNT][SLA_CLOCK_COUNT];
	enum sla_tier start_tier; /* S6: warnings and breach go here */
};

struct sla_policy {
	struct sla_type_policy types[SLA_TYPE_COUNT];
	/* Warning fractions in per mille of the window (500 = 50 %), strictly
	 * increasing, each 1..999.  Per mille keeps 22.5 % exact. */
	size_t n_warnings;
	int warning_permille[SLA_POLICY_MAX_WARNINGS];
	/* Escalation ladder per level (ladder[level - 1]), after the breach. */
	struct sla_ladder ladder[SLA_LEVEL_COUNT];
	/* Contract setting: the on-site clock runs from the dispatch decision
	 * instead of from the report (S5). */
	bool onsite_from_dispatch;
};

/*
 * A per-contract override: every field is optional.  A zeroed struct (or
 * sla_policy_override_init) changes nothing.
 *   window:   a value > 0 replaces the base window; 0 keeps it; a negative
 *             value is applied and then refused by validation.  Setting a
 *             window of a clock the type does not run is an error.
 *   warnings: used when has_warnings (n_warnings may be 0: no warnings).
 *   ladder:   ladder[l] used when has_ladder[l].
 */
struct sla_policy_override {
	sla_duration window[SLA_TYPE_COUNT][SLA_LEVEL_COUNT][SLA_CLOCK_COUNT];
	bool has_warnings;
	size_t n_warnings;
	int warning_permille[SLA_POLICY_MAX_WARNINGS];
	bool has_ladder[SLA_LEVEL_COUNT];
	struct sla_ladder ladder[SLA_LEVEL_COUNT];
	bool has_onsite_from_dispatch;
	bool onsite_from_dispatch;
};

/* Fill *out with the shipped default above.  It passes validation. */
void sla_policy_default(struct sla_policy *out);

/* Clear *ov: an override that changes nothing. */
void sla_policy_override_init(struct sla_policy_override *ov);

/*
 * Check *policy.  Returns 0 when valid; -1 otherwise, with a message that
 * names the field and the rule in err (always NUL-terminated when
 * errlen > 0; err may be NULL when errlen is 0), e.g.
 *   "fault.restore.level2: 30h exceeds the 24h commitment (S4)"
 *   "fault.response: level 1 (2h) is looser than level 4 (30m)"
 */
SLA_MUSTCHECK int sla_policy_validate(const struct sla_policy *policy, char *err, size_t errlen);

/*
 * *out = *base with *ov applied, if the result validates.  Returns 0, or -1
 * with the reason in err; *out is then unchanged.  out may equal base.
 */
SLA_MUSTCHECK int sla_policy_apply_override(const struct sla_policy *base,
                                            const struct sla_policy_override *ov,
                                            struct sla_policy *out, char *err, size_t errlen);

/* Whether tickets of `type` run `clock`; false for out-of-range arguments. */
bool sla_policy_runs(const struct sla_policy *policy, enum sla_ticket_type type,
                     enum sla_clock clock);

/*
 * The window of `clock` for `type` at `level`, in seconds; 0 when the type
 * does not run the clock or an argument is out of range.  SLA_LEVEL_NONE
 * reads the level-4 row: types other than faults need not be classified
 * (S6), and their default rows are equal at every level.
 */
sla_duration sla_policy_window(const struct sla_policy *policy, enum sla_ticket_type type,
                               enum sla_level level, enum sla_clock clock);

/* The tier warnings and the breach go to for `type` (S6); ENGINEER when out
 * of range. */
enum sla_tier sla_policy_start_tier(const struct sla_policy *policy, enum sla_ticket_type type);

/*
 * The ladder a ticket of `type` at `level` climbs after its breach: the
 * level's ladder without the steps at or below the type's start tier (S6).
 * SLA_LEVEL_NONE reads the level-4 ladder.  Out-of-range arguments give an
 * empty ladder.
 */
void sla_policy_effective_ladder(const struct sla_policy *policy, enum sla_ticket_type type,
                                 enum sla_level level, struct sla_ladder *out);

/*
 * Write `d` seconds as the validation messages do: "30m", "24h", "1h30m",
 * "45s", "-5m", "0s" (hours are not folded into days, to read against the
 * 24 h commitment).  Returns buf.
 */
char *sla_policy_format_duration(sla_duration d, char *buf, size_t buflen);

#endif /* SLA_POLICY_H */
