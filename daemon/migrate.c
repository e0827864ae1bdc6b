/*
 * migrate.c - start-up checks, migrations and seeds (see migrate.h).
 */
#include "migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "config.h"
#include "log.h"
#include "migrations.h"
#include "store.h"

/* Run one statement at start-up; -1 with the server's message in err. */
static int exec_startup(PGconn *pg, const char *sql, int nparams, const char *const *params,
                        char *err, size_t errlen)
{
	/* A migration file holds many statements: only the simple protocol
	 * runs those, and it takes no parameters (there are none to take). */
	PGresult *res = nparams == 0 ? PQexec(pg, sql)
	                             : PQexecParams(pg, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "%s", PQresultErrorMessage(res));
		char *nl = strchr(err, '\n');
		if (nl)
			*nl = '\0';
		PQclear(res);
		return -1;
	}
	PQclear(res);
	return 0;
}

static int check_durability(PGconn *pg, const struct slad_config *cfg, char *err, size_t errlen)
{
	PGresult *res = PQexec(pg, "SHOW fsync");
	bool fsync_on = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	                strcmp(PQgetvalue(res, 0, 0), "on") == 0;
	PQclear(res);
	if (!fsync_on && !cfg->dev_database) {
		/* Acknowledged means committed: without fsync a crash of the
		 * database host can lose what slad acknowledged. */
		snprintf(err, errlen,
		         "PostgreSQL runs with fsync=off; refusing to acknowledge reports into it "
		         "(set dev_database = true only for a throw-away development database)");
		return -1;
	}
	if (!fsync_on)
		log_warn("event=dev_database fsync=off note=\"acknowledged reports may be lost\"");
	return 0;
}

static int apply_migrations(PGconn *pg, char *err, size_t errlen)
{
	if (exec_startup(pg,
	                 "CREATE TABLE IF NOT EXISTS schema_migrations ("
	                 " version integer PRIMARY KEY, name text NOT NULL,"
	                 " applied_at timestamptz NOT NULL DEFAULT now())",
	                 0, NULL, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < migrations_count; i++) {
		const struct migration *m = &migrations[i];
		char version[16];
		snprintf(version, sizeof(version), "%d", m->version);
		/* One transaction per migration, serialised across instances
		 * starting together by an advisory lock. */
		if (exec_startup(pg, "BEGIN", 0, NULL, err, errlen) != 0)
			return -1;
		if (exec_startup(pg, "SELECT pg_advisory_xact_lock(4242001)", 0, NULL, err,
		                 errlen) != 0)
			goto rollback;
		const char *p1[1] = {version};
		PGresult *res =
		    PQexecParams(pg, "SELECT 1 FROM schema_migrations WHERE version = $1::integer",
		                 1, NULL, p1, NULL, NULL, 0);
		bool applied = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
		PQclear(res);
		if (!applied) {
			if (exec_startup(pg, m->sql, 0, NULL, err, errlen) != 0) {
				char why[512];
				snprintf(why, sizeof(why), "%s", err);
				snprintf(err, errlen, "migration %s: %s", m->name, why);
				goto rollback;
			}
			const char *p2[2] = {version, m->name};
			if (exec_startup(pg,
			                 "INSERT INTO schema_migrations (version, name) "
			                 "VALUES ($1::integer, $2)",
			                 2, p2, err, errlen) != 0)
				goto rollback;
			log_info("event=migration_applied version=%d name=%s", m->version, m->name);
		}
		if (exec_startup(pg, "COMMIT", 0, NULL, err, errlen) != 0)
			return -1;
	}
	return 0;
rollback:;
	char ignored[64];
	(void)exec_startup(pg, "ROLLBACK", 0, NULL, ignored, sizeof(ignored));
	return -1;
}

/* The configuration file only seeds principals: a name already in the
 * database keeps what the administrator verbs made of it. */
static int seed_principals(PGconn *pg, const struct slad_config *cfg, char *err, size_t errlen)
{
	for (int i = 0; i < cfg->n_seed_principals; i++) {
		const struct config_seed_principal *p = &cfg->seed_principals[i];
		const char *params[5] = {p->name, p->role, p->tier[0] ? p->tier : NULL,
		                         p->team[0] ? p->team : NULL,
		                         p->region[0] ? p->region : NULL};
		if (exec_startup(pg,
		                 "INSERT INTO principals (name, role, tier, team, region) "
		                 "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING",
		                 5, params, err, errlen) != 0) {
			char why[512];
			snprintf(why, sizeof(why), "%s", err);
			snprintf(err, errlen, "seed_principal %s: %s", p->name, why);
			return -1;
		}
	}
	return 0;
}

static int seed_demo(PGconn *pg, char *err, size_t errlen)
{
	/* A demo customer with a four-year contract (S8), once. */
	return exec_startup(
	    pg,
	    "WITH c AS (INSERT INTO customers (name, phone, address, region, team)"
	    " SELECT 'Demo Hospital', '+86-21-5555-0100', '1 Demo Road, Shanghai', 'east',"
	    " 'north' WHERE NOT EXISTS (SELECT 1 FROM customers) RETURNING id)"
	    " INSERT INTO contracts (customer_id, acceptance_date, free_months, hotline_contact)"
	    " SELECT id, current_date, 48, '400-800-0000' FROM c",
	    0, NULL, err, errlen);
}

void migrate_settings_params(const struct slad_config *cfg, struct migrate_settings *out)
{
	snprintf(out->call_days, sizeof(out->call_days), "%d", cfg->satisfaction_call_days);
	snprintf(out->remind_days, sizeof(out->remind_days), "%d", cfg->task_remind_days);
	out->params[0] = out->call_days;
	out->params[1] = out->remind_days;
}

static int migrate_put_settings_blocking(PGconn *pg, const struct slad_config *cfg, char *err,
                                         size_t errlen)
{
	struct migrate_settings ms;
	migrate_settings_params(cfg, &ms);
	return exec_startup(pg, MIGRATE_SETTINGS_SQL, 2, ms.params, err, errlen);
}

int migrate_startup(const struct slad_config *cfg, char *err, size_t errlen)
{
	PGconn *pg = store_connect_blocking(cfg, err, errlen);
	if (pg == NULL)
		return -1;
	int rc = -1;
	if (check_durability(pg, cfg, err, errlen) != 0)
		goto done;
	if (apply_migrations(pg, err, errlen) != 0)
		goto done;
	if (seed_principals(pg, cfg, err, errlen) != 0)
		goto done;
	if (cfg->seed_demo && seed_demo(pg, err, errlen) != 0)
		goto done;
	if (migrate_put_settings_blocking(pg, cfg, err, errlen) != 0)
		goto done;
	rc = 0;
done:
	PQfinish(pg);
	return rc;
}
