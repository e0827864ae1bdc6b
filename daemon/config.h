/*
 * config.h - slad's configuration file.
 *
 * One `key = value` per line, `#` starts a comment.  Every key, its type,
 * range and default is one row of the table in config.c (as in Redis's
 * static_configs[]); deploy/slad.conf.example documents each.  Every timeout,
 * cap and interval is here so tests can set them to a second or less.
 * Policies, rules and principals live in PostgreSQL: the file only seeds them
 * on first start (seed_principal, seed_demo).
 */
#ifndef SLAD_CONFIG_H
#define SLAD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"

#define CONFIG_MAX_SEEDS 64
#define CONFIG_NAME_MAX  64
#define CONFIG_PATH_MAX  1024

struct config_seed_principal {
	char name[CONFIG_NAME_MAX];
	char role[CONFIG_NAME_MAX];
	char team[CONFIG_NAME_MAX];
	char region[CONFIG_NAME_MAX];
	char tier[CONFIG_NAME_MAX];
};

struct slad_config {
	/* network */
	char listen[CONFIG_PATH_MAX]; /* host:port */
	char tls_cert[CONFIG_PATH_MAX];
	char tls_key[CONFIG_PATH_MAX];
	char tls_ca[CONFIG_PATH_MAX];
	int handshake_timeout_ms;
	int line_timeout_ms;
	int idle_timeout_ms;
	int max_connections;
	int max_connections_per_addr;
	int output_cap_bytes;
	int max_line_bytes;
	int drain_timeout_ms;
	/* store */
	char database[CONFIG_PATH_MAX]; /* libpq conninfo: may hold a password */
	bool dev_database;              /* throw-away: tolerate fsync=off */
	int db_connections;
	int batch_max;
	int batch_delay_us;
	int statement_timeout_ms;
	int db_connect_timeout_ms;
	int db_reconnect_min_ms;
	int db_reconnect_max_ms;
	int db_tcp_user_timeout_ms;
	/* scheduler */
	int sched_cap_ms;
	int sched_batch;
	int sched_late_s;
	/* logging */
	enum log_level log_level;
	/* seeds, applied on first start only */
	bool seed_demo;
	int n_seed_principals;
	struct config_seed_principal seed_principals[CONFIG_MAX_SEEDS];
};

/* Fill `cfg` with the defaults of the table. */
void config_defaults(struct slad_config *cfg);

/*
 * Read `path` over the defaults.  On error returns -1 and writes
 * "FILE:LINE: what is wrong" into err; cfg is then unspecified (callers load
 * into a scratch struct so a failed reload keeps the old one).
 */
__attribute__((warn_unused_result)) int config_load(const char *path, struct slad_config *cfg,
                                                    char *err, size_t errlen);

/* Split "host:port" / "[v6]:port"; -1 if malformed. */
__attribute__((warn_unused_result)) int config_split_hostport(const char *s, char *host,
                                                              size_t hostlen, int *port);

#endif /* SLAD_CONFIG_H */
