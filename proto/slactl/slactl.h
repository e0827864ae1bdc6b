/*
 * slactl.h - the slad command-line client: one subcommand per verb of
 * proto_verbs[] (so it cannot drift from the protocol), `watch` for live
 * escalations, connection settings from flags, environment or a profile.
 */
#ifndef SLACTL_H
#define SLACTL_H

#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

#include "client.h"
#include "proto.h"

#ifndef SLACTL_VERSION
#define SLACTL_VERSION "0.1.0"
#endif

/* Exit status, as `slactl --help` documents it. */
enum slactl_exit {
	SLACTL_EXIT_OK = 0,
	SLACTL_EXIT_ERR = 1,   /* the server answered ERR */
	SLACTL_EXIT_USAGE = 2, /* bad command line or configuration */
	SLACTL_EXIT_CONN = 3,  /* connection or TLS failure */
};

/* One connection setting's value and where it came from. */
struct slactl_setting {
	char *value;        /* malloc'd, NULL if unset */
	const char *source; /* "flag", "environment", "profile NAME", "default" */
};

enum slactl_key {
	SLACTL_HOST,
	SLACTL_PORT,
	SLACTL_CERT,
	SLACTL_KEY,
	SLACTL_CA,
	SLACTL_SERVER_NAME,
	SLACTL_TIMEOUT,
	SLACTL_KEY_COUNT
};

struct slactl_conf {
	struct slactl_setting set[SLACTL_KEY_COUNT];
	char *profile; /* --profile NAME */
	bool json;     /* --json */
	bool csv;      /* --csv */
	bool verbose;  /* -v: settings and their sources on stderr */
};

/* ---- config.c ---- */

/* The setting's option name without dashes ("server-name"), its profile
 * key ("server_name") and its environment variable ("SLACTL_SERVER_NAME"). */
const char *slactl_key_option(enum slactl_key k);
const char *slactl_key_profile(enum slactl_key k);
const char *slactl_key_env(enum slactl_key k);
/* Set from a flag (takes a copy); replaces any earlier value. */
int slactl_conf_set_flag(struct slactl_conf *conf, enum slactl_key k, const char *value);
/*
 * Fill what the flags left unset from the environment, then from the
 * profile file (flags > environment > profile > defaults).  0, or -1 with
 * a message in err (a usage error: unreadable profile, unknown key, a named
 * profile that does not exist, a bad timeout).
 */
int slactl_conf_resolve(struct slactl_conf *conf, char *err, size_t errsize);
/* The profile file consulted: $SLACTL_PROFILES, else
 * $XDG_CONFIG_HOME/slactl/profiles, else ~/.config/slactl/profiles. */
int slactl_profiles_path(char *out, size_t size);
/* The library's view of the settings (pointers into conf). */
struct slac_profile slactl_conf_profile(const struct slactl_conf *conf);
void slactl_conf_free(struct slactl_conf *conf);

/* ---- args.c: options to a request body ---- */

/* "FIND_CUSTOMER" <-> "find-customer"; out must hold PROTO_VERB_MAX + 1. */
void slactl_verb_to_command(const char *verb, char *out, size_t size);
const struct proto_verb *slactl_command_find(const char *command);
/* "customer_id" -> "customer-id" */
void slactl_field_to_option(const char *field, char *out, size_t size);
const char *slactl_field_type_name(enum proto_field_type t);
/* Convert one option's text to the field's JSON value; NULL with a message
 * in err if it does not parse. */
json_object *slactl_field_value(const struct proto_field *f, const char *text, char *err,
                                size_t errsize);
/* Whether s is an RFC 3339 date-time ("2026-11-27T10:00:00Z"). */
bool slactl_is_rfc3339(const char *s);
/* The closest of candidates to word (edit distance <= 2), or NULL. */
const char *slactl_suggest(const char *word, const char *const *candidates, size_t n);

/* ---- output.c ---- */

/* How answers are printed: for people, for scripts, for spreadsheets. */
enum slactl_format {
	SLACTL_FORMAT_TABLE = 0, /* the default */
	SLACTL_FORMAT_JSON,      /* --json */
	SLACTL_FORMAT_CSV,       /* --csv */
};

/*
 * Print an answer on out:
 *  - TABLE: a table for arrays of objects (a cell holding an object of
 *    plain values shows them joined by '/', a legend under the table says
 *    which), key: value lines for the rest;
 *  - JSON: one compact JSON line;
 *  - CSV (RFC 4180, CRLF line ends): for an answer holding one array of
 *    objects (COMPLIANCE's rows, LIST's tickets), a header line and one
 *    line per object, nested objects flattened into columns named
 *    outer_inner (response_met, response_breached, ...), arrays as JSON
 *    text, null as an empty field; the answer's other members go to note
 *    (stderr) as key: value lines.  Any other answer is one row of itself.
 */
void slactl_print_answer(FILE *out, FILE *note, json_object *body, enum slactl_format fmt);
/* One CSV field as RFC 4180 wants it: quoted when it holds a comma, a
 * double quote, CR or LF, inner quotes doubled. */
void slactl_csv_field(FILE *out, const char *text);
/* Terminal columns taken by a UTF-8 string (CJK counts 2). */
size_t slactl_text_width(const char *s);
/* A JSON value as a table cell or a value after "key: ". */
const char *slactl_cell_text(json_object *v, char *buf, size_t size);

/* ---- help.c ---- */

void slactl_usage(FILE *out);
void slactl_command_help(FILE *out, const struct proto_verb *v);
void slactl_watch_help(FILE *out);

/* ---- watch.c ---- */

/* `slactl watch`: SUBSCRIBE with body, then stream pushes until stdin
 * says `q`, or SIGINT/SIGTERM.  Returns the exit status. */
int slactl_watch(struct slac_client *c, json_object *filters, bool json);
/* One push as the line a tired engineer reads at a glance. */
void slactl_format_push(char *out, size_t size, const char *event, uint64_t seq, json_object *body,
                        long long now, bool color);

#endif /* SLACTL_H */
