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
	/* follow-up tasks (006_tasks.sql; S11, S14) */
	int satisfaction_call_days; /* a call is due this many days after a restore */
	int task_remind_days;       /* inspections and maintenance are announced this early */
	/* HTTPS ingest, health and metrics (issue 7) */
	char http_listen[CONFIG_PATH_MAX]; /* host:port; "" = no HTTPS ingest */
	int http_max_body_bytes;           /* a larger request body: 413 */
	int http_timeout_ms;               /* a request must be complete in this */
	int http_max_connections;
	int http_rate_per_min;                /* per principal: token bucket refill */
	int http_rate_burst;                  /* per principal: bucket size */
	char metrics_listen[CONFIG_PATH_MAX]; /* loopback host:port, plain HTTP; "" = off */
	int healthz_timeout_ms;               /* database probe of /healthz and /metrics */
	char am_customer_label[CONFIG_NAME_MAX];
	char am_equipment_label[CONFIG_NAME_MAX];
	char am_severity_label[CONFIG_NAME_MAX];
	int alert_flap_window_s; /* fires again within this after a resolve: reopen */
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

/* As config_split_hostport, and the host must be a numeric IPv4 or IPv6
 * address (no DNS: it would block); *loopback says whether it is one. */
__attribute__((warn_unused_result)) int
config_numeric_addr(const char *s, char *host, size_t hostlen, int *port, bool *loopback);

#endif /* SLAD_CONFIG_H */
