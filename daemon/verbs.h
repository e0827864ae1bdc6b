/*
 * verbs.h - what slad does with each request: the role check against the
 * protocol's verb table, field validation, then the verb's handler.
 */
#ifndef SLAD_VERBS_H
#define SLAD_VERBS_H

struct request;
struct tickets;
struct domain;
struct push;
struct sched;

/* What the handlers work with; one per process, owned by main. */
struct app {
	struct tickets *tickets;
	struct domain *domain;
	struct push *push;
	struct sched *sched;
};

/* Record a refusal in the audit table (DESIGN.md: a refusal is an error
 * line and an audit row); `why` says which check refused. */
void verbs_audit_refusal(struct request *req, const char *outcome, const char *why);

/* Take ownership of req; every path ends in exactly one answer. */
void verbs_dispatch(struct request *req);

#endif /* SLAD_VERBS_H */
