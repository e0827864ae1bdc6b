/*
 * tickets.h - the ticket verbs: REPORT and ALERT (batched, durable before
 * OK), the engineer's state changes (load, decide with libsla, write if the
 * ticket did not change meanwhile), SHOW, LIST and FIND_CUSTOMER.
 *
 * libsla decides (classification, the state machine, the clocks); this
 * module only moves facts between the protocol and PostgreSQL.
 */
#ifndef SLAD_TICKETS_H
#define SLAD_TICKETS_H

#include <event2/event.h>

struct tickets;
struct request;
struct store;
struct domain;
struct slad_config;

struct tickets *tickets_new(struct event_base *base, struct store *st, struct domain *dom,
                            const struct slad_config *cfg);
void tickets_free(struct tickets *t);
void tickets_reload(struct tickets *t, const struct slad_config *cfg);
/* The scheduler to tell when committed clock rows fall due (may be NULL). */
struct sched;
void tickets_set_sched(struct tickets *t, struct sched *s);

void tickets_report(struct tickets *t, struct request *req);
void tickets_alert(struct tickets *t, struct request *req);
/* ACKNOWLEDGE, DISPATCH, ARRIVE, RESTORE, RECLASSIFY, PAUSE, RESUME, ASSIGN,
 * NOTE, CLOSE, REOPEN, CANCEL, SET_CAUSE. */
void tickets_change(struct tickets *t, struct request *req);
void tickets_show(struct tickets *t, struct request *req);
void tickets_list(struct tickets *t, struct request *req);
void tickets_find_customer(struct tickets *t, struct request *req);

#endif /* SLAD_TICKETS_H */
