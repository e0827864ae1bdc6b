/*
 * ticket.c - S5, S15: fold events into a ticket projection through the
 * transition table in ticket.h.
 */
#include "ticket.h"

static const char *const err_names[SLA_TICKET_ERR_COUNT] = {
    "ok",         "bad_argument", "not_reported",   "already_reported", "invalid_transition",
    "terminal",   "paused",       "already_paused", "not_paused",       "bad_level",
    "same_level",
};

const char *sla_ticket_err_name(enum sla_ticket_err err)
{
	if ((int)err < 0 || err >= SLA_TICKET_ERR_COUNT)
		return "invalid";
	return err_names[err];
}

bool sla_ticket_state_open(enum sla_ticket_state state)
{
	return (int)state >= (int)SLA_STATE_REPORTED && state <= SLA_STATE_ONSITE;
}

static bool kind_valid(enum sla_event_kind k)
{
	return (int)k >= 0 && k < SLA_EV_COUNT;
}

static bool state_valid(enum sla_ticket_state s)
{
	return (int)s >= 0 && s < SLA_STATE_COUNT;
}

/* Compute the successor of *t into *next; *t is never written here. */
static enum sla_ticket_err step(const struct sla_ticket *t, const struct sla_event *ev,
                                struct sla_ticket *next)
{
	*next = *t;

	if (!t->created) {
		if (ev->kind != SLA_EV_REPORTED)
			return SLA_TICKET_ERR_NOT_REPORTED;
		if (!sla_level_valid(ev->level))
			return SLA_TICKET_ERR_BAD_LEVEL;
		*next = (struct sla_ticket){
		    .created = true,
		    .state = SLA_STATE_REPORTED,
		    .level = ev->level,
		    .paused = false,
		    .cycle = 1,
		    .reported_at = ev->at,
		    .cycle_start_at = ev->at,
		    .events = 1,
		};
		return SLA_TICKET_OK;
	}
	if (!state_valid(t->state))
		return SLA_TICKET_ERR_BAD_ARGUMENT;

	const struct sla_ticket_tx *tx = &sla_ticket_transitions[t->state][ev->kind];
	if (tx->err != SLA_TICKET_OK)
		return tx->err;
	enum sla_ticket_err perr = sla_ticket_pause_rule[t->paused ? 1 : 0][ev->kind];
	if (perr != SLA_TICKET_OK)
		return perr;

	switch (ev->kind) {
	case SLA_EV_RECLASSIFIED:
		if (!sla_level_valid(ev->level))
			return SLA_TICKET_ERR_BAD_LEVEL;
		if (ev->level == t->level)
			return SLA_TICKET_ERR_SAME_LEVEL;
		next->level = ev->level;
		break;
	case SLA_EV_PAUSED:
		next->paused = true;
		break;
	case SLA_EV_RESUMED:
	case SLA_EV_CANCELLED:
		next->paused = false;
		break;
	case SLA_EV_REOPENED:
		/* A new clock cycle (DESIGN "Time"). */
		next->paused = false;
		next->cycle = t->cycle + 1;
		next->cycle_start_at = ev->at;
		break;
	default:
		break;
	}
	next->state = tx->next;
	next->events = t->events + 1;
	return SLA_TICKET_OK;
}

enum sla_ticket_err sla_ticket_apply(struct sla_ticket *t, const struct sla_event *ev)
{
	struct sla_ticket next;

	if (t == NULL || ev == NULL || !kind_valid(ev->kind))
		return SLA_TICKET_ERR_BAD_ARGUMENT;
	enum sla_ticket_err err = step(t, ev, &next);
	if (err == SLA_TICKET_OK)
		*t = next;
	return err;
}

enum sla_ticket_err sla_ticket_replay(const struct sla_event *events, size_t n,
                                      struct sla_ticket *out, size_t *failed_at)
{
	size_t dummy;

	if (failed_at == NULL)
		failed_at = &dummy;
	*failed_at = 0;
	if (out == NULL || (events == NULL && n > 0))
		return SLA_TICKET_ERR_BAD_ARGUMENT;
	*out = (struct sla_ticket){0};
	for (size_t i = 0; i < n; i++) {
		enum sla_ticket_err err = sla_ticket_apply(out, &events[i]);
		if (err != SLA_TICKET_OK) {
			*failed_at = i;
			return err;
		}
	}
	*failed_at = n;
	return SLA_TICKET_OK;
}
