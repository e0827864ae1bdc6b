/*
 * domain.c - policies and classification rules in force (see domain.h).
 */
#include "domain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sla_json.h"

#define POLICY_CACHE_MAX 64

struct policy_entry {
	int64_t id;
	struct sla_policy policy;
};

struct domain {
	int64_t policy_id;
	struct sla_policy policy;
	int64_t rules_id;
	struct sla_json_rules *rules;
	/* Tickets keep the policy version they were created under; versions
	 * are immutable rows, so a parsed one never goes stale. */
	struct policy_entry cache[POLICY_CACHE_MAX];
	size_t n_cache, next_evict;
};

static json_object *query_json(PGconn *pg, const char *sql, int64_t *id, char *err, size_t errlen)
{
	PGresult *res = PQexec(pg, sql);
	json_object *j = NULL;
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		snprintf(err, errlen, "%s", PQresultErrorMessage(res));
	} else {
		*id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		j = json_tokener_parse(PQgetvalue(res, 0, 1));
		if (j == NULL)
			snprintf(err, errlen, "stored JSON does not parse");
	}
	PQclear(res);
	return j;
}

/* Seed one row from libsla's shipped defaults when the table is empty. */
static int seed_row(PGconn *pg, const char *sql, json_object *body, char *err, size_t errlen)
{
	const char *params[1] = {json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN)};
	PGresult *res = PQexecParams(pg, sql, 1, NULL, params, NULL, NULL, 0);
	int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
	if (rc != 0)
		snprintf(err, errlen, "%s", PQresultErrorMessage(res));
	PQclear(res);
	return rc;
}

struct domain *domain_load(PGconn *pg, char *err, size_t errlen)
{
	struct domain *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	struct sla_policy def;
	sla_policy_default(&def);
	json_object *def_policy = sla_json_from_policy(&def);
	json_object *def_rules = sla_json_from_rules(sla_severity_default_rules());
	int rc =
	    seed_row(pg,
	             "INSERT INTO policies (name, version, body) SELECT 'default', 1, $1::jsonb"
	             " WHERE NOT EXISTS (SELECT 1 FROM policies)",
	             def_policy, err, errlen);
	if (rc == 0)
		rc = seed_row(pg,
		              "INSERT INTO classification_rules (body) SELECT $1::jsonb"
		              " WHERE NOT EXISTS (SELECT 1 FROM classification_rules)",
		              def_rules, err, errlen);
	json_object_put(def_policy);
	json_object_put(def_rules);
	if (rc != 0)
		goto fail;

	json_object *pj = query_json(pg,
	                             "SELECT id, body FROM policies WHERE name = 'default'"
	                             " ORDER BY version DESC LIMIT 1",
	                             &d->policy_id, err, errlen);
	if (pj == NULL)
		goto fail;
	char why[512];
	rc = sla_json_to_policy(pj, &d->policy, why, sizeof(why));
	json_object_put(pj);
	if (rc != 0) {
		snprintf(err, errlen, "policy %lld in the database: %s", (long long)d->policy_id,
		         why);
		goto fail;
	}
	json_object *rj = query_json(pg,
	                             "SELECT id, body FROM classification_rules"
	                             " ORDER BY id DESC LIMIT 1",
	                             &d->rules_id, err, errlen);
	if (rj == NULL)
		goto fail;
	d->rules = sla_json_rules_parse(rj, why, sizeof(why));
	json_object_put(rj);
	if (d->rules == NULL) {
		snprintf(err, errlen, "classification rules %lld in the database: %s",
		         (long long)d->rules_id, why);
		goto fail;
	}
	log_info("event=domain_loaded policy_id=%lld rules_id=%lld", (long long)d->policy_id,
	         (long long)d->rules_id);
	return d;
fail:
	domain_free(d);
	return NULL;
}

void domain_free(struct domain *d)
{
	if (d == NULL)
		return;
	sla_json_rules_free(d->rules);
	free(d);
}

const struct sla_policy *domain_current_policy(const struct domain *d, int64_t *id)
{
	if (id)
		*id = d->policy_id;
	return &d->policy;
}

const struct sla_severity_rules *domain_current_rules(const struct domain *d, int64_t *id)
{
	if (id)
		*id = d->rules_id;
	return sla_json_rules_view(d->rules);
}

const struct sla_policy *domain_policy_for(struct domain *d, int64_t id, const json_object *body)
{
	if (id == d->policy_id)
		return &d->policy;
	for (size_t i = 0; i < d->n_cache; i++)
		if (d->cache[i].id == id)
			return &d->cache[i].policy;
	struct sla_policy p;
	char why[512];
	if (body == NULL || sla_json_to_policy(body, &p, why, sizeof(why)) != 0) {
		log_error("event=policy_unusable policy_id=%lld reason=\"%s\"", (long long)id,
		          body ? why : "no body");
		return NULL;
	}
	size_t slot;
	if (d->n_cache < POLICY_CACHE_MAX) {
		slot = d->n_cache++;
	} else {
		slot = d->next_evict;
		d->next_evict = (d->next_evict + 1) % POLICY_CACHE_MAX;
	}
	d->cache[slot].id = id;
	d->cache[slot].policy = p;
	return &d->cache[slot].policy;
}

int domain_set_policy(struct domain *d, int64_t id, const struct sla_policy *p)
{
	d->policy_id = id;
	d->policy = *p;
	return 0;
}

int domain_set_rules(struct domain *d, int64_t id, const json_object *body, char *err,
                     size_t errlen)
{
	struct sla_json_rules *r = sla_json_rules_parse(body, err, errlen);
	if (r == NULL)
		return -1;
	sla_json_rules_free(d->rules);
	d->rules = r;
	d->rules_id = id;
	return 0;
}
