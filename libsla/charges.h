/*
 * charges.h - S16, S10: is a ticket's work free or billable, and why.
 *
 * Decision, by ticket type (first row that applies):
 *
 *   consulting  free always: technical advice is free (S16).
 *   complaint   free always: handling a complaint is the vendor's own duty
 *               (S6 complaint handling), never a service sold.
 *   followup    free always: follow-up calls are the vendor's own quality
 *               process (S14, S15 tracking and feedback).
 *   training    billable always, itemised (S16 on-site training).
 *   inspection  inside the period free: the quarterly inspections are part
 *               of the maintenance promise (S11); after it billable at cost
 *               (S10).
 *   fault       after the period: billable at cost whatever the cause (S10
 *                 "service continues at cost", S16 "repairs outside
 *                 warranty").
 *               inside the period, by cause:
 *                 software_quality, vendor_service -> free, no labour,
 *                   material or management fees (S10);
 *                 unknown -> free, PROVISIONALLY: the free promise is the
 *                   rule inside the period and the customer is not billed on
 *                   a guess; when the cause is recorded the daemon decides
 *                   again, and a non-vendor cause turns it billable;
 *                 customer, third_party, force_majeure, deliberate_damage ->
 *                   billable: the promise covers quality faults, and the
 *                   seed names deliberate damage and force majeure as
 *                   exceptions (S9, S10);
 *                 ...except when the fault comes from the customer's
 *                   hardware or system upgrade (upgrade_compat): inside the
 *                   period the vendor supplies the patches and support free
 *                   (seed 1.1 item 3), whatever the recorded cause short of
 *                   force majeure or deliberate damage (S9).
 * The cause is ignored for types other than fault.
 *
 * An analysis report the customer asked for is billable on its own line in
 * every case (S16 "analysis reports billable"), even when the work is free.
 * Anything billable is recorded itemised (S16 "with an itemised record").
 */
#ifndef SLA_CHARGES_H
#define SLA_CHARGES_H

#include "sla_types.h"

enum sla_charge_reason {
	SLA_CHARGE_QUALITY_IN_WARRANTY = 0, /* free: vendor cause inside the period (S10) */
	SLA_CHARGE_CAUSE_PENDING,           /* free, provisional: cause unknown, in period */
	SLA_CHARGE_UPGRADE_SUPPORT,         /* free: adapting to a customer upgrade, in period */
	SLA_CHARGE_CUSTOMER_CAUSED,         /* billable: customer's own fault, in period */
	SLA_CHARGE_THIRD_PARTY,             /* billable: a third party's fault, in period */
	SLA_CHARGE_FORCE_MAJEURE,           /* billable: excluded by S9 */
	SLA_CHARGE_DELIBERATE_DAMAGE,       /* billable: excluded by S9 */
	SLA_CHARGE_OUT_OF_WARRANTY,         /* billable at cost (S10) */
	SLA_CHARGE_TECHNICAL_ADVICE,        /* free (S16) */
	SLA_CHARGE_TRAINING,                /* billable (S16) */
	SLA_CHARGE_COMPLAINT,               /* free */
	SLA_CHARGE_INSPECTION_IN_WARRANTY,  /* free (S11) */
	SLA_CHARGE_INSPECTION_AT_COST,      /* billable at cost after the period (S10) */
	SLA_CHARGE_FOLLOWUP,                /* free (S14) */
	SLA_CHARGE_REASON_COUNT
};

/* "quality_in_warranty", "cause_pending", ...; "invalid" if out of range. */
const char *sla_charges_reason_name(enum sla_charge_reason reason);

/* What the decision needs to know. */
struct sla_charge_facts {
	enum sla_ticket_type type;
	enum sla_cause cause; /* faults only; SLA_CAUSE_UNKNOWN while not established */
	/* The fault date (or the work date, for inspections) falls inside the
	 * maintenance period including extensions earned (S8, S9); the caller
	 * computes it with the warranty module. */
	bool in_warranty;
	/* The fault arises from the customer's hardware / system upgrade, and
	 * the work is adapting the software to it (seed 1.1 item 3). */
	bool upgrade_compat;
	/* The customer asked for a written analysis report (S16). */
	bool analysis_report;
};

struct sla_charge_decision {
	bool work_billable;            /* the ticket's work itself */
	bool report_billable;          /* an extra line for the requested analysis report */
	bool itemised;                 /* anything billable: keep an itemised record (S16) */
	bool provisional;              /* decided before the cause is known; decide again */
	enum sla_charge_reason reason; /* why the work is free or billable */
	const char *sentence;          /* a human sentence (static English) */
};

/*
 * Decide.  Returns 0 and fills *out, or -1 (and leaves *out alone) if an
 * argument is NULL or the type or cause is out of range.
 */
SLA_MUSTCHECK int sla_charges_decide(const struct sla_charge_facts *facts,
                                     struct sla_charge_decision *out);

#endif /* SLA_CHARGES_H */
