/*
 * config.c - the configuration table and its parser.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum config_type { CT_STRING, CT_INT, CT_BOOL, CT_LOG_LEVEL, CT_SEED };

struct config_key {
	const char *name;
	enum config_type type;
	size_t offset;
	size_t size; /* CT_STRING: buffer size */
	long min, max;
	const char *def;
};

#define STR(field, def)                                                                            \
	{                                                                                          \
#field, CT_STRING, offsetof(struct slad_config, field),                            \
		    sizeof(((struct slad_config *)0)->field), 0, 0, def                            \
	}
#define INT(field, lo, hi, def)                                                                    \
	{                                                                                          \
#field, CT_INT, offsetof(struct slad_config, field), sizeof(int), lo, hi, def      \
	}
#define BOOL(field, def)                                                                           \
	{                                                                                          \
#field, CT_BOOL, offsetof(struct slad_config, field), sizeof(bool), 0, 0, def      \
	}

static const struct config_key config_keys[] = {
    STR(listen, "127.0.0.1:7443"),
    STR(tls_cert, ""),
    STR(tls_key, ""),
    STR(tls_ca, ""),
    INT(handshake_timeout_ms, 10, 600000, "10000"),
    INT(line_timeout_ms, 10, 3600000, "30000"),
    INT(idle_timeout_ms, 10, 86400000, "600000"),
    INT(max_connections, 1, 1000000, "20000"),
    INT(max_connections_per_addr, 1, 1000000, "20000"),
    INT(output_cap_bytes, 4096, 1 << 30, "4194304"),
    INT(max_line_bytes, 256, 16 << 20, "65536"),
    INT(drain_timeout_ms, 0, 600000, "10000"),
    STR(database, "dbname=slad"),
    BOOL(dev_database, "false"),
    INT(db_connections, 1, 64, "4"),
    INT(batch_max, 1, 10000, "256"),
    INT(batch_delay_us, 0, 1000000, "200"),
    INT(statement_timeout_ms, 10, 600000, "10000"),
    INT(db_connect_timeout_ms, 10, 600000, "5000"),
    INT(db_reconnect_min_ms, 1, 600000, "100"),
    INT(db_reconnect_max_ms, 1, 600000, "5000"),
    INT(db_tcp_user_timeout_ms, 0, 600000, "10000"),
    INT(sched_cap_ms, 10, 3600000, "60000"),
    INT(sched_batch, 1, 100000, "1000"),
    INT(sched_late_s, 0, 86400, "5"),
    INT(satisfaction_call_days, 1, 365, "3"),
    INT(task_remind_days, 0, 365, "7"),
    STR(http_listen, ""),
    INT(http_max_body_bytes, 1024, 64 << 20, "1048576"),
    INT(http_timeout_ms, 10, 600000, "10000"),
    INT(http_max_connections, 1, 1000000, "1000"),
    INT(http_rate_per_min, 1, 6000000, "600"),
    INT(http_rate_burst, 1, 1000000, "60"),
    STR(metrics_listen, ""),
    INT(healthz_timeout_ms, 10, 600000, "2000"),
    STR(am_customer_label, "customer_id"),
    STR(am_equipment_label, "equipment_no"),
    STR(am_severity_label, "severity"),
    INT(alert_flap_window_s, 0, 604800, "900"),
    {"log_level", CT_LOG_LEVEL, offsetof(struct slad_config, log_level), 0, 0, 0, "info"},
    BOOL(seed_demo, "false"),
    {"seed_principal", CT_SEED, 0, 0, 0, 0, NULL},
};
#define N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))

static int set_value(struct slad_config *cfg, const struct config_key *key, const char *value,
                     char *why, size_t whylen);

void config_defaults(struct slad_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	char why[128];
	for (size_t i = 0; i < N_KEYS; i++)
		if (config_keys[i].def != NULL &&
		    set_value(cfg, &config_keys[i], config_keys[i].def, why, sizeof(why)) != 0)
			abort(); /* a default that does not parse is a broken table */
}

static int parse_bool(const char *s, bool *out)
{
	if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcmp(s, "1") ||
	    !strcasecmp(s, "on"))
		*out = true;
	else if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcmp(s, "0") ||
	         !strcasecmp(s, "off"))
		*out = false;
	else
		return -1;
	return 0;
}

/* "NAME role=ROLE team=T region=R tier=TIER" */
static int parse_seed(const char *value, struct config_seed_principal *seed, char *why,
                      size_t whylen)
{
	memset(seed, 0, sizeof(*seed));
	char buf[CONFIG_PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", value);
	char *save = NULL;
	char *tok = strtok_r(buf, " \t", &save);
	if (tok == NULL || strchr(tok, '=') != NULL) {
		snprintf(why, whylen, "seed_principal needs a name first");
		return -1;
	}
	snprintf(seed->name, sizeof(seed->name), "%s", tok);
	while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
		char *eq = strchr(tok, '=');
		if (eq == NULL) {
			snprintf(why, whylen, "seed_principal: '%s' is not key=value", tok);
			return -1;
		}
		*eq = '\0';
		char *field = NULL;
		if (!strcmp(tok, "role"))
			field = seed->role;
		else if (!strcmp(tok, "team"))
			field = seed->team;
		else if (!strcmp(tok, "region"))
			field = seed->region;
		else if (!strcmp(tok, "tier"))
			field = seed->tier;
		if (field == NULL) {
			snprintf(why, whylen, "seed_principal: unknown attribute '%s'", tok);
			return -1;
		}
		snprintf(field, CONFIG_NAME_MAX, "%s", eq + 1);
	}
	if (seed->role[0] == '\0') {
		snprintf(why, whylen, "seed_principal %s: role= is required", seed->name);
		return -1;
	}
	return 0;
}

static int set_value(struct slad_config *cfg, const struct config_key *key, const char *value,
                     char *why, size_t whylen)
{
	char *base = (char *)cfg + key->offset;
	switch (key->type) {
	case CT_STRING:
		if (strlen(value) >= key->size) {
			snprintf(why, whylen, "value longer than %zu bytes", key->size - 1);
			return -1;
		}
		memcpy(base, value, strlen(value) + 1);
		return 0;
	case CT_INT: {
		errno = 0;
		char *end = NULL;
		long v = strtol(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0') {
			snprintf(why, whylen, "'%s' is not an integer", value);
			return -1;
		}
		if (v < key->min || v > key->max) {
			snprintf(why, whylen, "%ld is outside %ld..%ld", v, key->min, key->max);
			return -1;
		}
		*(int *)base = (int)v;
		return 0;
	}
	case CT_BOOL:
		if (parse_bool(value, (bool *)base) != 0) {
			snprintf(why, whylen, "'%s' is not true or false", value);
			return -1;
		}
		return 0;
	case CT_LOG_LEVEL:
		if (log_level_parse(value, &cfg->log_level) != 0) {
			snprintf(why, whylen, "'%s' is not debug, info, warn or error", value);
			return -1;
		}
		return 0;
	case CT_SEED:
		if (cfg->n_seed_principals >= CONFIG_MAX_SEEDS) {
			snprintf(why, whylen, "more than %d seed principals", CONFIG_MAX_SEEDS);
			return -1;
		}
		if (parse_seed(value, &cfg->seed_principals[cfg->n_seed_principals], why, whylen))
			return -1;
		cfg->n_seed_principals++;
		return 0;
	}
	abort();
}

/* A Prometheus label name: [a-zA-Z_][a-zA-Z0-9_]*. */
static bool label_name_valid(const char *s)
{
	if (!isalpha((unsigned char)s[0]) && s[0] != '_')
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return false;
	return true;
}

/* Issue 7: the HTTPS and metrics addresses are numeric (resolving a name
 * would block), and plain-HTTP metrics only ever listen on loopback. */
static int check_http(const char *path, const struct slad_config *cfg, char *err, size_t errlen)
{
	char host[256];
	int port;
	bool loopback;
	if (cfg->http_listen[0] != '\0' &&
	    config_numeric_addr(cfg->http_listen, host, sizeof(host), &port, &loopback) != 0) {
		snprintf(err, errlen, "%s: http_listen: '%s' is not numeric host:port", path,
		         cfg->http_listen);
		return -1;
	}
	if (cfg->metrics_listen[0] != '\0') {
		if (config_numeric_addr(cfg->metrics_listen, host, sizeof(host), &port,
		                        &loopback) != 0) {
			snprintf(err, errlen, "%s: metrics_listen: '%s' is not numeric host:port",
			         path, cfg->metrics_listen);
			return -1;
		}
		if (!loopback) {
			snprintf(
			    err, errlen,
			    "%s: metrics_listen: plain HTTP listens on loopback only (127.0.0.0/8 "
			    "or ::1); scrape over HTTPS (http_listen) from elsewhere",
			    path);
			return -1;
		}
	}
	const char *const labels[] = {cfg->am_customer_label, cfg->am_equipment_label,
	                              cfg->am_severity_label};
	const char *const names[] = {"am_customer_label", "am_equipment_label",
	                             "am_severity_label"};
	for (size_t i = 0; i < 3; i++) {
		if (!label_name_valid(labels[i])) {
			snprintf(err, errlen, "%s: %s: '%s' is not a label name", path, names[i],
			         labels[i]);
			return -1;
		}
	}
	return 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

int config_load(const char *path, struct slad_config *cfg, char *err, size_t errlen)
{
	config_defaults(cfg);
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char line[CONFIG_PATH_MAX * 2];
	int lineno = 0;
	int rc = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line too long", path, lineno);
			rc = -1;
			break;
		}
		char *hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		char *s = trim(line);
		if (*s == '\0')
			continue;
		char *eq = strchr(s, '=');
		if (eq == NULL) {
			snprintf(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		char *name = trim(s);
		char *value = trim(eq + 1);
		const struct config_key *key = NULL;
		for (size_t i = 0; i < N_KEYS; i++)
			if (strcmp(config_keys[i].name, name) == 0)
				key = &config_keys[i];
		if (key == NULL) {
			snprintf(err, errlen, "%s:%d: unknown key '%s'", path, lineno, name);
			rc = -1;
			break;
		}
		char why[256];
		if (set_value(cfg, key, value, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s:%d: %s: %s", path, lineno, name, why);
			rc = -1;
			break;
		}
	}
	fclose(f);
	if (rc != 0)
		return rc;
	if (cfg->db_reconnect_min_ms > cfg->db_reconnect_max_ms) {
		snprintf(err, errlen, "%s: db_reconnect_min_ms exceeds db_reconnect_max_ms", path);
		return -1;
	}
	char host[256];
	int port;
	if (config_split_hostport(cfg->listen, host, sizeof(host), &port) != 0) {
		snprintf(err, errlen, "%s: listen: '%s' is not host:port", path, cfg->listen);
		return -1;
	}
	const char *missing = !cfg->tls_cert[0]  ? "tls_cert"
	                      : !cfg->tls_key[0] ? "tls_key"
	                      : !cfg->tls_ca[0]  ? "tls_ca"
	                                         : NULL;
	if (missing != NULL) {
		snprintf(err, errlen, "%s: %s is required", path, missing);
		return -1;
	}
	return check_http(path, cfg, err, errlen);
}

int config_numeric_addr(const char *s, char *host, size_t hostlen, int *port, bool *loopback)
{
	if (config_split_hostport(s, host, hostlen, port) != 0)
		return -1;
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, host, &a4) == 1) {
		*loopback = (ntohl(a4.s_addr) >> 24) == 127;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		*loopback = IN6_IS_ADDR_LOOPBACK(&a6);
		return 0;
	}
	return -1;
}

int config_split_hostport(const char *s, char *host, size_t hostlen, int *port)
{
	const char *colon;
	const char *h = s;
	size_t hl;
	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -1;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostlen)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	char *end = NULL;
	long p = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end != '\0' || p < 0 || p > 65535)
		return -1;
	*port = (int)p;
	return 0;
}
