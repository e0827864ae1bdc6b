/*
 * deadline.h - the SLA clocks of one ticket, replayed from its history
 * (DESIGN "Time"; S4, S5, S6).
 *
 * sla_deadline_evaluate(policy, type, events, n, now) is pure: the result
 * depends on its arguments alone, never on an earlier call or on *out's old
 * contents.  It validates what the clocks need of the history and refuses
 * the rest with a named error.  It does not use ticket.h; it is more lenient
 * than that state machine (it accepts every history ticket.h accepts),
 * except that instants must not go backwards: events come in order of
 * occurrence.
 *
 * Clocks (which ones run is the policy's per-type clock set):
 *   RESPONSE  starts at the cycle start; stops at ACKNOWLEDGED (its goal).
 *   ONSITE    needed only once DISPATCHED in the cycle (S5): before that it
 *             is NOT_NEEDED, and it stays NOT_NEEDED if the cycle ends
 *             without a dispatch.  It counts from the cycle start, or from
 *             the dispatch where policy->onsite_from_dispatch; stops at
 *             ARRIVED (its goal).
 *   RESTORE   starts at the cycle start; stops at RESTORED (its goal).  For
 *             types other than faults this is the "done" clock.
 *   RESTORED also stops RESPONSE and ONSITE if they still run: the service
 *   is back, nobody is to be chased for it.  CLOSED and CANCELLED stop
 *   everything.  A clock stopped other than by its goal is STOPPED (or
 *   BREACHED if it was already late).
 *
 * Cycles: REPORTED starts cycle 1 at its instant.  REOPENED (accepted once
 * the cycle is restored or closed) starts the next cycle at its instant:
 * RESPONSE and RESTORE run again from there, ONSITE is NOT_NEEDED again until
 * a new dispatch (S5: a visit is agreed per occasion).  A new cycle starts
 * unpaused.  Everything reported is about the current (last) cycle.
 *
 * Pause (S5, waiting for the customer): PAUSED ... RESUMED stops every
 * running clock; running time, due instants and every step (warnings, breach
 * and ladder) shift by exactly the paused span.  PAUSED while paused and
 * RESUMED while not paused are refused.
 *
 * Reclassification (DESIGN "Time"): RECLASSIFIED sets the level; the clocks
 * of the cycle are recomputed under the new level from their original start
 * (the report, or the reopen for cycle 2+), with all pauses.  The level
 * carries over into later cycles.  A clock may thereby become overdue at
 * once: its breach step is then due in the past, i.e. immediately.
 *
 * Breach: a clock is breached when its running time reaches the window,
 * i.e. at now >= due_at.  "Within 24 h" of 10:00:00 means up to 09:59:59
 * the next day; at 10:00:00 it is breached.  A goal event exactly at due_at
 * is late (BREACHED): the breach step may already have fired that second.
 *
 * Steps: each clock has, in index order, a warning per policy fraction
 * (index i), the breach (index n_warnings), then the effective ladder
 * (index n_warnings + 1 + k; see sla_policy_effective_ladder).  Indexes are
 * stable for a given policy, type and level.  A step is due when the
 * clock's running time reaches its threshold:
 *   warning i:  ceil(warning_permille[i] * window / 1000)
 *   breach:     window
 *   ladder k:   window + delay_k
 * so due instants never decrease with the index, and all shift with pauses.
 *
 * Moot warnings: a warning whose due instant lies before the instant the
 * clock was armed -- its activation (cycle start, or the dispatch for
 * ONSITE) or the last RECLASSIFIED that changed the level in the cycle --
 * was never due under the schedule in force and is skipped: after 3 -> 1
 * at 4 h the 15/22.5/27 min warnings are noise, the breach is not.  The
 * breach and ladder steps are never moot: they still fire, late.
 *
 * Scheduler use (issue 5: one pending row per (ticket, clock) with the
 * cycle, the index of the next step and its due_at):
 *   - new clock, or ev->cycle differs from the row's:
 *         sla_deadline_next_step(ev, clock, -1, &s)
 *   - after firing step k:
 *         sla_deadline_next_step(ev, clock, k, &s)
 *   - after any event of the ticket (reschedule), same cycle:
 *         sla_deadline_next_step(ev, clock, row.index - 1, &s)
 *   - false: no step to arm.  If the clock is PAUSED keep the row's index
 *     (due_at = infinity); if stopped or the ladder is exhausted, drop it.
 *   A step returned may be due in the past: fire it now, marked late.
 *   Indexes below the row's are never offered again, even when a looser
 *   reclassification moves their instants into the future: the firing key
 *   (ticket, clock, step, cycle) is spent.
 *
 * `now` earlier than the last event (a wall clock stepped back) is taken as
 * the last event's instant: the history is the truth, and a clock that an
 * ACKNOWLEDGED stopped must not look running again.
 */
#ifndef SLA_DEADLINE_H
#define SLA_DEADLINE_H

#include "policy.h"
#include "sla_types.h"

/* The last instant accepted: 9999-12-31T23:59:59Z.  Keeps the arithmetic
 * (instant + window + delay) far from int64 overflow. */
#define SLA_DEADLINE_TIME_MAX ((sla_time)253402300799LL)

/* Most steps a clock can have. */
#define SLA_DEADLINE_MAX_STEPS (SLA_POLICY_MAX_WARNINGS + 1 + SLA_POLICY_MAX_LADDER)

enum sla_clock_state {
	SLA_CS_INACTIVE = 0, /* the ticket type does not run this clock */
	SLA_CS_NOT_NEEDED,   /* ONSITE without a dispatch in this cycle (S5) */
	SLA_CS_RUNNING,      /* running, now < due_at */
	SLA_CS_OVERDUE,      /* running, now >= due_at: breached, ladder climbing */
	SLA_CS_PAUSED,       /* waiting for the customer (S5); see .breached */
	SLA_CS_MET,          /* stopped by its goal event before due_at */
	SLA_CS_BREACHED,     /* stopped at or after due_at (by its goal or not) */
	SLA_CS_STOPPED,      /* stopped before due_at without its goal event */
	SLA_CS_COUNT
};

enum sla_step_kind {
	SLA_STEP_WARNING = 0,
	SLA_STEP_BREACH,
	SLA_STEP_ESCALATION, /* a ladder step */
	SLA_STEP_KIND_COUNT
};

enum sla_deadline_err {
	SLA_DL_OK = 0,
	SLA_DL_ERR_ARG,            /* NULL pointer, no events, bad type or clock */
	SLA_DL_ERR_POLICY,         /* the policy fails sla_policy_validate */
	SLA_DL_ERR_KIND,           /* unknown event kind */
	SLA_DL_ERR_TIME_RANGE,     /* instant (or now) outside 0..SLA_DEADLINE_TIME_MAX */
	SLA_DL_ERR_ORDER,          /* instant earlier than the previous event's (equal is fine) */
	SLA_DL_ERR_FIRST,          /* the first event is not REPORTED */
	SLA_DL_ERR_REPORTED_TWICE, /* a second REPORTED */
	SLA_DL_ERR_LEVEL,          /* level missing or invalid (faults need one, S1) */
	SLA_DL_ERR_CANCELLED,      /* anything but NOTE/ASSIGNED after CANCELLED */
	SLA_DL_ERR_CLOSED,         /* anything but REOPENED/NOTE/ASSIGNED after CLOSED */
	SLA_DL_ERR_NOT_FINISHED,   /* REOPENED before the cycle is restored or closed */
	SLA_DL_ERR_RESTORED,       /* ACK/REMOTE/DISPATCH/ARRIVE/RESTORE after RESTORED */
	SLA_DL_ERR_REPEATED,       /* ACKNOWLEDGED, DISPATCHED or ARRIVED twice in a cycle */
	SLA_DL_ERR_NOT_DISPATCHED, /* ARRIVED without DISPATCHED in the cycle */
	SLA_DL_ERR_PAUSED,         /* PAUSED while paused */
	SLA_DL_ERR_NOT_PAUSED,     /* RESUMED while not paused */
	SLA_DL_ERR_COUNT
};

struct sla_step {
	int index; /* see "Steps" above; -1 in "no step" results */
	enum sla_step_kind kind;
	enum sla_tier tier;        /* who hears it (S6) */
	int permille;              /* warning fraction; 1000 for breach and ladder */
	sla_duration after_breach; /* ladder delay; 0 for warnings and the breach */
	sla_duration threshold;    /* running seconds at which it is due */
	sla_time due_at;           /* SLA_TIME_NEVER in "no step" results */
	bool moot;                 /* a warning behind its clock's arming: never fires */
};

struct sla_clock_eval {
	enum sla_clock_state state;
	bool breached;       /* running time reached the window (any state) */
	int cycle;           /* = the ticket's cycle; 0 when INACTIVE */
	sla_duration window; /* seconds, at the current level; 0 when INACTIVE */
	/* The fields below are meaningful only when state > NOT_NEEDED; else
	 * instants are SLA_TIME_NEVER and the rest 0. */
	sla_time start_at; /* cycle start, or the dispatch (ONSITE from dispatch) */
	sla_time armed_at; /* activation or last level change (see "Moot") */
	/* start_at + window + paused spans.  While PAUSED it is projected as if
	 * resumed at now; once stopped, as if it had run on from stopped_at. */
	sla_time due_at;
	sla_time stopped_at;  /* SLA_TIME_NEVER unless MET/BREACHED/STOPPED */
	sla_duration running; /* seconds counted from start_at to min(now, stopped_at) */
	sla_duration paused;  /* seconds paused in the same span */
	/* floor(running * 1000 / window): 500 = half the window used; >= 1000
	 * iff breached; not capped (1500 = 50 % over). */
	int64_t consumed_permille;
	size_t n_steps;
	struct sla_step steps[SLA_DEADLINE_MAX_STEPS]; /* steps[i].index == i */
	/* The first step that is not moot and due after now, while RUNNING or
	 * OVERDUE; else index -1, due_at SLA_TIME_NEVER. */
	struct sla_step next;
};

struct sla_deadline_eval {
	enum sla_deadline_err err; /* SLA_DL_OK, or why evaluation was refused */
	size_t err_event;          /* index of the refused event, when one is */
	char err_text[160];        /* the reason in words; "" when OK */

	enum sla_ticket_type type;
	sla_time now;         /* effective now: max(now, last event's instant) */
	enum sla_level level; /* the current level (NONE: unclassified non-fault) */
	int cycle;            /* 1 + number of REOPENED */
	sla_time cycle_start; /* REPORTED or the last REOPENED */
	bool paused;          /* a pause is open at now */
	bool closed;          /* CLOSED or CANCELLED is the last cycle's end */
	struct sla_clock_eval clocks[SLA_CLOCK_COUNT];
	sla_time next_due; /* min over clocks of clocks[c].next.due_at */
};

/*
 * Replay events[0..n_events) (in order of occurrence) for a ticket of
 * `type` under `policy`, as of `now`.  Fills *out entirely and returns
 * out->err.  On error: err, err_event and err_text say why, next_due is
 * SLA_TIME_NEVER and everything else is zero; the step functions below then
 * find nothing.  out NULL: returns SLA_DL_ERR_ARG.  The policy is validated
 * on every call (cheap).  Nothing is kept: events are not referenced after
 * the call.
 */
SLA_MUSTCHECK enum sla_deadline_err sla_deadline_evaluate(const struct sla_policy *policy,
                                                          enum sla_ticket_type type,
                                                          const struct sla_event *events,
                                                          size_t n_events, sla_time now,
                                                          struct sla_deadline_eval *out);

/*
 * The first step of `clock` with index > after_index that is not moot,
 * while the clock is RUNNING or OVERDUE (-1: from the first step).  Its
 * due_at may be in the past: fire it now, late.  Returns true and fills
 * *out; false (out->index -1, out->due_at SLA_TIME_NEVER) when the clock is
 * not running (paused, stopped, inactive, not needed) or no step is left.
 */
SLA_MUSTCHECK bool sla_deadline_next_step(const struct sla_deadline_eval *ev, enum sla_clock clock,
                                          int after_index, struct sla_step *out);

/*
 * The first step of `clock` that is not moot and due strictly after t,
 * while RUNNING or OVERDUE.  Same results as sla_deadline_next_step.
 * For a scheduler that lost its row: t = the due instant of the last firing.
 */
SLA_MUSTCHECK bool sla_deadline_first_step_after(const struct sla_deadline_eval *ev,
                                                 enum sla_clock clock, sla_time t,
                                                 struct sla_step *out);

/*
 * Step `index` of `clock` whatever the clock's state (for history and
 * SHOW: "what was step 4").  False if the clock has no such step.
 */
SLA_MUSTCHECK bool sla_deadline_step_at(const struct sla_deadline_eval *ev, enum sla_clock clock,
                                        int index, struct sla_step *out);

/*
 * The earliest due instant the scheduler must arm across all clocks, given
 * after_index[c] = the last step fired (or skipped) of clock c in this
 * cycle, -1 for none: min over c of sla_deadline_next_step(after_index[c]).
 * after_index NULL means "everything due up to now was handled" and
 * returns ev->next_due.  SLA_TIME_NEVER when nothing is to be armed.
 */
sla_time sla_deadline_earliest(const struct sla_deadline_eval *ev,
                               const int after_index[SLA_CLOCK_COUNT]);

/* Stable names: "inactive", "not_needed", "running", "overdue", "paused",
 * "met", "breached", "stopped"; "invalid" when out of range. */
const char *sla_clock_state_name(enum sla_clock_state state);
/* "warning", "breach", "escalation"; "invalid". */
const char *sla_step_kind_name(enum sla_step_kind kind);
/* "ok", "arg", "policy", "kind", "time_range", "order", "first",
 * "reported_twice", "level", "cancelled", "closed", "not_finished",
 * "restored", "repeated", "not_dispatched", "paused", "not_paused";
 * "invalid". */
const char *sla_deadline_err_name(enum sla_deadline_err err);

#endif /* SLA_DEADLINE_H */
