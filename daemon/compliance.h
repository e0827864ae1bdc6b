/*
 * compliance.h - COMPLIANCE (issue 6, "Compliance reports"; PROTOCOL.md
 * COMPLIANCE): SLA compliance per customer, level and month, months in the
 * customer's zone.
 *
 * Nothing is stored for the report: it is computed on demand from the
 * system of record, with the same libsla code that states each figure
 * elsewhere -- a ticket's clocks as SHOW shows them (sla_deadline_evaluate
 * over its history), its extension days as WARRANTY's ledger grants them
 * (sla_warranty_compute over the customer's outages) -- so the report can
 * never disagree with the ticket or the ledger it summarises.  The
 * arithmetic of the report itself (what counts as met or breached, which
 * clocks give a time, nearest-rank percentiles, months) is libsla's
 * compliance.h.
 *
 * The work is divided so that nothing grows with the archive in one step:
 * one customer at a time (its zone, contracts and outages), its tickets a
 * page at a time (deploy/sql/008_compliance.sql), each page folded into the
 * customer's groups and dropped; a customer's rows are final once its last
 * page is read.  Pages are separate statements, so a ticket changing during
 * the report is counted once, as it stood when its page was read.
 */
#ifndef SLAD_COMPLIANCE_H
#define SLAD_COMPLIANCE_H

struct request;

/* COMPLIANCE.  Takes the request; every path answers it exactly once. */
void compliance_dispatch(struct request *req);

#endif /* SLAD_COMPLIANCE_H */
