/*
 * migrate.h - start-up work against PostgreSQL, done before the event loop
 * runs (the only place slad uses blocking libpq calls): safety checks,
 * schema migrations from deploy/sql/ (compiled in), and first-start seeds.
 */
#ifndef SLAD_MIGRATE_H
#define SLAD_MIGRATE_H

#include <stddef.h>

struct slad_config;

/* The settings SQL needs from the configuration (table slad_settings,
 * 006_tasks.sql): written at start-up and again by a reload. */
#define MIGRATE_SETTINGS_SQL "SELECT slad_settings_put($1::integer, $2::integer)"

struct migrate_settings {
	char call_days[16];
	char remind_days[16];
	const char *params[2];
};

/* Fill the parameters of MIGRATE_SETTINGS_SQL from cfg. */
void migrate_settings_params(const struct slad_config *cfg, struct migrate_settings *out);

/* Connect, check, migrate, seed.  0, or -1 with the reason in err. */
__attribute__((warn_unused_result)) int migrate_startup(const struct slad_config *cfg, char *err,
                                                        size_t errlen);

#endif /* SLAD_MIGRATE_H */
