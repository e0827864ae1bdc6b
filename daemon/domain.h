/*
 * domain.h - the policy and classification rules in force, cached from
 * PostgreSQL (the truth).  Policies are versioned and immutable per row, so
 * a ticket's policy is looked up by id and parsed once.  POLICY_SET and
 * RULES_SET replace the current ones the moment their row commits.
 */
#ifndef SLAD_DOMAIN_H
#define SLAD_DOMAIN_H

#include <stdint.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "policy.h"
#include "severity.h"

struct domain;

/* Start-up (blocking libpq allowed): seed the default policy and rules if
 * the tables are empty, then load the newest of each.  NULL + err. */
struct domain *domain_load(PGconn *pg, char *err, size_t errlen);
void domain_free(struct domain *d);

/* The policy new tickets get, and its row id. */
const struct sla_policy *domain_current_policy(const struct domain *d, int64_t *id);
/* The rules REPORT and ALERT classify with. */
const struct sla_severity_rules *domain_current_rules(const struct domain *d, int64_t *id);

/*
 * The policy a ticket was created under: parsed from `body` (as stored in
 * its row) the first time `id` is seen, cached afterwards.  NULL when the
 * body does not parse (logged): the caller answers INTERNAL.
 */
const struct sla_policy *domain_policy_for(struct domain *d, int64_t id, const json_object *body);

/* After POLICY_SET / RULES_SET committed: take the new ones.  0 or -1. */
int domain_set_policy(struct domain *d, int64_t id, const struct sla_policy *p);
int domain_set_rules(struct domain *d, int64_t id, const json_object *body, char *err,
                     size_t errlen);

#endif /* SLAD_DOMAIN_H */
