/*
 * migrate.h - start-up work against PostgreSQL, done before the event loop
 * runs (the only place slad uses blocking libpq calls): safety checks,
 * schema migrations from deploy/sql/ (compiled in), and first-start seeds.
 */
#ifndef SLAD_MIGRATE_H
#define SLAD_MIGRATE_H

#include <stddef.h>

struct slad_config;

/* Connect, check, migrate, seed.  0, or -1 with the reason in err. */
__attribute__((warn_unused_result)) int migrate_startup(const struct slad_config *cfg, char *err,
                                                        size_t errlen);

#endif /* SLAD_MIGRATE_H */
