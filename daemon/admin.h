/*
 * admin.h - the administrator verbs of the daemon issue: principals,
 * SLA policies and classification rules, each stored in PostgreSQL as a new
 * version and in force the moment it commits (DESIGN.md "Running it").
 */
#ifndef SLAD_ADMIN_H
#define SLAD_ADMIN_H

struct request;
struct store;
struct domain;

/* PRINCIPAL_ADD, PRINCIPAL_UPDATE, POLICY_SET, POLICY_SHOW, RULES_SET,
 * RULES_SHOW. */
void admin_dispatch(struct store *st, struct domain *dom, struct request *req);

#endif /* SLAD_ADMIN_H */
