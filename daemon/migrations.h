/*
 * migrations.h - the SQL files of deploy/sql/, compiled into slad by CMake
 * (daemon/embed_sql.cmake) so a binary always carries its own schema.
 */
#ifndef SLAD_MIGRATIONS_H
#define SLAD_MIGRATIONS_H

#include <stddef.h>

struct migration {
	int version;      /* from the file name: 001_core.sql -> 1 */
	const char *name; /* the file name */
	const char *sql;
};

extern const struct migration migrations[];
extern const size_t migrations_count;

#endif /* SLAD_MIGRATIONS_H */
