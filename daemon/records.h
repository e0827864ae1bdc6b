/*
 * records.h - the after-sales records (issue 6, first part): the customer
 * archive (S12), contracts (S7, S8), equipment (S13), the warranty ledger
 * (S8-S10) and satisfaction feedback (S14, S15).
 *
 * PostgreSQL keeps the facts (deploy/sql/005_records.sql): customers,
 * contracts, equipment, every revision of every outage, tasks, feedback.
 * The warranty ledger is not stored: it is computed here with libsla
 * (sla_warranty_compute) whenever it is asked for, from the contract's
 * terms and the outages' history, in the customer's time zone (tzdb.h).
 * That keeps every ledger the system ever stated reproducible -- the
 * earlier ledger behind a corrected cause is recomputed from the outage
 * revisions before the correction (S9 "revises without erasing").
 */
#ifndef SLAD_RECORDS_H
#define SLAD_RECORDS_H

#include <stdbool.h>

#include <json-c/json.h>

#include "calendar.h"
#include "sla_types.h"
#include "warranty.h"

struct request;

/* CUSTOMER_ADD, CUSTOMER_UPDATE, CUSTOMER_SHOW, CONTRACT_ADD,
 * CONTRACT_UPDATE, EQUIPMENT_ADD, EQUIPMENT_UPDATE, WARRANTY, FEEDBACK.
 * Takes the request; every path answers it exactly once. */
void records_dispatch(struct request *req);

/*
 * SHOW's charge (S10, S16): whether the ticket's fault instant lies inside
 * the maintenance period of a contract covering it, the downtime extensions
 * earned so far included (S9).  `ticket` is slad_ticket_load()'s document
 * (its "warranty" member); ongoing outages are measured up to `now`.
 */
bool records_ticket_in_warranty(const json_object *ticket, sla_time now);

/*
 * SET_CAUSE's warranty_revised: whether giving the ticket's current outage
 * the cause `cause` changes what a covering contract's ledger grants (an
 * extension, a current end).  False for a ticket without an outage, or
 * when only the name of a vendor cause changes.
 */
bool records_cause_revises_warranty(const json_object *ticket, const char *cause, sla_time now);

/*
 * RESTORE's outage.extension_days (S9): the days the covering contract's
 * ledger grants the line the ticket's current outage falls in once it ends
 * at `end` with `cause` (NULL: the cause it has): 0 when it extends nothing
 * (a customer cause, outside the period, an unknown cause); -1 when the
 * document carries no warranty view or the ticket has no outage.
 */
int64_t records_restore_extension_days(const json_object *ticket, const char *cause, sla_time end,
                                       sla_time now);

/*
 * A customer's zone by its IANA name; one the tz database no longer knows
 * (it was checked when stored) falls back to the default, logged.
 */
struct sla_tz records_zone_of(const char *name);

/* A contract's terms as slad_contract_terms() states them (accepted_date,
 * free_months, rounding), in zone tz.  0 or -1. */
int records_contract_terms(const json_object *t, struct sla_tz tz, struct sla_warranty_terms *out);

/* Hours of downtime as the ledger states them: to the hundredth, written
 * without trailing noise (30.0, 7.5, 0.25). */
json_object *records_hours_json(sla_duration seconds);

#endif /* SLAD_RECORDS_H */
