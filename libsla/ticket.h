/*
 * ticket.h - S5, S15: the ticket state machine.
 *
 * A ticket is a projection of its append-only event history (DESIGN "Where
 * truth lives"): sla_ticket_apply() folds one event into the projection,
 * sla_ticket_replay() folds a whole history.  The state machine decides only
 * whether an event may happen and where it leads; what an event carries
 * beyond its kind, instant and level (who acknowledged, the remote outcome
 * and who agreed to a visit on DISPATCHED (S5), the pause reason, the
 * assignee, the note text) is stored by the daemon in the event row.
 *
 * Lifecycle (S15: request -> assessment -> arrangement -> resolution):
 *
 *   reported -> acknowledged -> remote_support -> onsite_dispatched -> onsite
 *                    `------------------------------^
 *   any open state   --restored-->  restored  --closed-->  closed
 *   restored, closed --reopened-->  reported (a new clock cycle)
 *   any open state   --cancelled--> cancelled
 *
 * Choices (the requirement leaves them open):
 *  - "Open" states are reported .. onsite.  RESTORED is resolved but not yet
 *    closed; CLOSED may be reopened; CANCELLED is terminal.
 *  - REMOTE_STARTED needs a person to have taken the ticket first (the
 *    ACKNOWLEDGED event is what stops the response clock).
 *  - DISPATCHED is allowed from acknowledged as well as from remote support:
 *    the acknowledging call is itself the first remote help, and when it
 *    shows a visit is needed (S5: "both sides agree") forcing a separate
 *    remote-started event would only add noise.  The daemon requires the
 *    remote outcome and the agreeing person on every DISPATCHED.
 *  - RESTORED is accepted from EVERY open state: restoration is a fact, not
 *    a request (a monitoring "resolved", a customer's reboot while the
 *    engineer drives, a fix on the first call).  Refusing it would lose the
 *    instant the restore clock and the warranty downtime (S9) need.
 *  - CLOSED only from restored; closing does not wait for the customer's
 *    feedback, which is a follow-up ticket of its own (S14, S15).  To end
 *    an open ticket without a fix, cancel it.
 *  - REOPENED from restored or closed goes back to REPORTED and starts a new
 *    clock cycle (cycle + 1): the fault is back and someone must take it
 *    again, so the new response clock must run until a new acknowledgement.
 *    Level and assignment history are kept.
 *  - CANCELLED from any open state (a duplicate, a mistaken report), not
 *    from restored or closed: work was done there, so it is closed instead.
 *  - PAUSED / RESUMED only in open states, toggling the paused flag.
 *    While paused, the progress events (acknowledged, remote_started,
 *    dispatched, arrived, restored) are refused with SLA_TICKET_ERR_PAUSED:
 *    the daemon records an explicit RESUMED first, so the history says when
 *    the clocks ran again (DESIGN: the history explains every deadline).
 *    Cancelling a paused ticket is allowed and clears the flag.
 *  - RECLASSIFIED only in open states; after restoration the level that
 *    governed the work stands (reopen to change it).  The new level must be
 *    1..4 and differ from the current one.
 *  - ASSIGNED in open states and in restored (someone must close it).
 *  - NOTE in every state, cancelled included: annotating finished tickets
 *    is everyday helpdesk work and changes no clock.
 *  - Event instants are not checked for order: a monitoring resolve may
 *    carry an earlier instant than an acknowledgement recorded after it.
 */
#ifndef SLA_TICKET_H
#define SLA_TICKET_H

#include "sla_types.h"

enum sla_ticket_err {
	SLA_TICKET_OK = 0,
	SLA_TICKET_ERR_BAD_ARGUMENT,       /* NULL pointer, kind or state out of range */
	SLA_TICKET_ERR_NOT_REPORTED,       /* first event of a ticket must be REPORTED */
	SLA_TICKET_ERR_ALREADY_REPORTED,   /* REPORTED on an existing ticket */
	SLA_TICKET_ERR_INVALID_TRANSITION, /* the table says no */
	SLA_TICKET_ERR_TERMINAL,           /* the ticket is cancelled */
	SLA_TICKET_ERR_PAUSED,             /* progress while paused: resume first */
	SLA_TICKET_ERR_ALREADY_PAUSED,
	SLA_TICKET_ERR_NOT_PAUSED,
	SLA_TICKET_ERR_BAD_LEVEL,  /* REPORTED / RECLASSIFIED level not 1..4 */
	SLA_TICKET_ERR_SAME_LEVEL, /* RECLASSIFIED to the level it has */
	SLA_TICKET_ERR_COUNT
};

/* "ok", "bad_argument", "not_reported", ...; "invalid" if out of range. */
const char *sla_ticket_err_name(enum sla_ticket_err err);

/* The tables below live in the header, as the spec; a unit that includes
 * the header without using them must not warn (-Wunused-const-variable=2). */
#if defined(__GNUC__)
#define SLA_TICKET_TABLE __attribute__((unused))
#else
#define SLA_TICKET_TABLE
#endif

/* One cell of the transition table: allowed (err == SLA_TICKET_OK, go to
 * next) or refused with a named error (next is then SLA_STATE_COUNT). */
struct sla_ticket_tx {
	enum sla_ticket_err err;
	enum sla_ticket_state next;
};

/*
 * The transition table, [state][event], for a ticket that is NOT paused;
 * sla_ticket_pause_rule below then refines the open states.
 * Events (columns): reported, acknowledged, remote_started, dispatched,
 * arrived, restored, closed, reopened, cancelled, paused, resumed,
 * reclassified, assigned, note.  Cells:
 *   rep_ ack_ rem_ dsp_ ons_ rst_ cls_ can_  allowed; the next state
 *        (reported, acknowledged, remote_support, onsite_dispatched, onsite,
 *        restored, closed, cancelled); the same state as the row = stays
 *   no__ SLA_TICKET_ERR_INVALID_TRANSITION
 *   end_ SLA_TICKET_ERR_TERMINAL
 *   dup_ SLA_TICKET_ERR_ALREADY_REPORTED
 */
/* clang-format off */
#define rep_ {SLA_TICKET_OK, SLA_STATE_REPORTED}
#define ack_ {SLA_TICKET_OK, SLA_STATE_ACKNOWLEDGED}
#define rem_ {SLA_TICKET_OK, SLA_STATE_REMOTE_SUPPORT}
#define dsp_ {SLA_TICKET_OK, SLA_STATE_ONSITE_DISPATCHED}
#define ons_ {SLA_TICKET_OK, SLA_STATE_ONSITE}
#define rst_ {SLA_TICKET_OK, SLA_STATE_RESTORED}
#define cls_ {SLA_TICKET_OK, SLA_STATE_CLOSED}
#define can_ {SLA_TICKET_OK, SLA_STATE_CANCELLED}
#define no__ {SLA_TICKET_ERR_INVALID_TRANSITION, SLA_STATE_COUNT}
#define end_ {SLA_TICKET_ERR_TERMINAL, SLA_STATE_COUNT}
#define dup_ {SLA_TICKET_ERR_ALREADY_REPORTED, SLA_STATE_COUNT}
SLA_TICKET_TABLE static const struct sla_ticket_tx
sla_ticket_transitions[SLA_STATE_COUNT][SLA_EV_COUNT] = {
/* state \ event:   rep  ack  rem  dsp  arr  rst  cls  reo  can  pau  res  rcl  asg  note */
/* reported      */ {dup_,ack_,no__,no__,no__,rst_,no__,no__,can_,rep_,rep_,rep_,rep_,rep_},
/* acknowledged  */ {dup_,no__,rem_,dsp_,no__,rst_,no__,no__,can_,ack_,ack_,ack_,ack_,ack_},
/* remote_supp.  */ {dup_,no__,no__,dsp_,no__,rst_,no__,no__,can_,rem_,rem_,rem_,rem_,rem_},
/* onsite_disp.  */ {dup_,no__,no__,no__,ons_,rst_,no__,no__,can_,dsp_,dsp_,dsp_,dsp_,dsp_},
/* onsite        */ {dup_,no__,no__,no__,no__,rst_,no__,no__,can_,ons_,ons_,ons_,ons_,ons_},
/* restored      */ {dup_,no__,no__,no__,no__,no__,cls_,rep_,no__,no__,no__,no__,rst_,rst_},
/* closed        */ {dup_,no__,no__,no__,no__,no__,no__,rep_,no__,no__,no__,no__,no__,cls_},
/* cancelled     */ {end_,end_,end_,end_,end_,end_,end_,end_,end_,end_,end_,end_,end_,can_},
};
#undef rep_
#undef ack_
#undef rem_
#undef dsp_
#undef ons_
#undef rst_
#undef cls_
#undef can_
#undef no__
#undef end_
#undef dup_

/*
 * The paused flag, applied after the table allowed an event in an open
 * state: [paused][event] -> SLA_TICKET_OK or the refusal.
 *   not paused: resume -> NOT_PAUSED; all else as the table says.
 *   paused:     ack, remote, dispatch, arrive, restore -> PAUSED (resume
 *               first); pause -> ALREADY_PAUSED; cancel (clears the flag),
 *               resume, reclassify, assign, note -> OK.
 */
#define ok__ SLA_TICKET_OK
#define psd_ SLA_TICKET_ERR_PAUSED
#define ap__ SLA_TICKET_ERR_ALREADY_PAUSED
#define np__ SLA_TICKET_ERR_NOT_PAUSED
SLA_TICKET_TABLE static const enum sla_ticket_err sla_ticket_pause_rule[2][SLA_EV_COUNT] = {
/* paused \ event:   rep  ack  rem  dsp  arr  rst  cls  reo  can  pau  res  rcl  asg  note */
/* not paused    */ {ok__,ok__,ok__,ok__,ok__,ok__,ok__,ok__,ok__,ok__,np__,ok__,ok__,ok__},
/* paused        */ {ok__,psd_,psd_,psd_,psd_,psd_,ok__,ok__,ok__,ap__,ok__,ok__,ok__,ok__},
};
#undef ok__
#undef psd_
#undef ap__
#undef np__
/* clang-format on */

/*
 * The projection.  A zero-initialised struct is a ticket that does not
 * exist yet (created == false): only REPORTED may be applied to it.
 */
struct sla_ticket {
	bool created;
	enum sla_ticket_state state;
	enum sla_level level;
	bool paused;
	/* Clock cycle: 1 from REPORTED, + 1 on each REOPENED; part of the
	 * escalation key (ticket, clock, step, cycle) (DESIGN "Time"). */
	unsigned cycle;
	sla_time reported_at;    /* instant of REPORTED */
	sla_time cycle_start_at; /* instant of REPORTED or the last REOPENED */
	size_t events;           /* events applied */
};

/* True for reported, acknowledged, remote_support, onsite_dispatched, onsite. */
bool sla_ticket_state_open(enum sla_ticket_state state);

/*
 * Apply one event.  On SLA_TICKET_OK the projection has moved; on any error
 * it is unchanged.  Order of checks: arguments, existence, the transition
 * table, the pause rule, the level.
 */
SLA_MUSTCHECK enum sla_ticket_err sla_ticket_apply(struct sla_ticket *t,
                                                   const struct sla_event *ev);

/*
 * Fold a history from nothing into *out.  On error, *out is the projection
 * just before the refused event and *failed_at (if not NULL) its index;
 * on success *failed_at is n.  An empty history is OK: a ticket that does
 * not exist (created == false).
 */
SLA_MUSTCHECK enum sla_ticket_err sla_ticket_replay(const struct sla_event *events, size_t n,
                                                    struct sla_ticket *out, size_t *failed_at);

#endif /* SLA_TICKET_H */
