/*
 * main.c - slactl: `slactl [global options] <command> [options] [values]`.
 *
 * Every command but `watch` and `help` is a verb of proto_verbs[], and its
 * options are that verb's fields: the table is the only list, so the CLI
 * cannot drift from the protocol.
 */
#include "slactl.h"

#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define ERRSZ 512

struct cmdline {
	const struct proto_verb *verb; /* SUBSCRIBE for watch */
	bool watch;
	json_object *body;
	const char *positional[16];
	size_t npositional;
	json_object *options; /* field -> value, as given by --name */
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("slactl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return SLACTL_EXIT_USAGE;
}

/* --name=value or --name value; *value NULL if neither (a last flag). */
static void split_option(char **argv, int argc, int *i, char *name, size_t size, const char **value,
                         bool *inline_value)
{
	const char *arg = argv[*i] + 2;
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);

	if (n >= size)
		n = size - 1;
	memcpy(name, arg, n);
	name[n] = '\0';
	*inline_value = eq != NULL;
	if (eq)
		*value = eq + 1;
	else
		*value = *i + 1 < argc ? argv[*i + 1] : NULL;
}

static int global_key(const char *name)
{
	for (int k = 0; k < SLACTL_KEY_COUNT; k++)
		if (strcmp(name, slactl_key_option((enum slactl_key)k)) == 0)
			return k;
	return -1;
}

/*
 * A global option at argv[*i]: 1 if it was one (and *i moved past its
 * value), 0 if not, -1 on a usage error.
 */
static int global_option(struct slactl_conf *conf, char **argv, int argc, int *i)
{
	const char *arg = argv[*i], *value;
	char name[64];
	bool inl;
	int k;

	if (strcmp(arg, "--json") == 0) {
		conf->json = true;
		return 1;
	}
	if (strcmp(arg, "--csv") == 0) {
		conf->csv = true;
		return 1;
	}
	if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0) {
		conf->verbose = true;
		return 1;
	}
	if (strncmp(arg, "--", 2) != 0)
		return 0;
	split_option(argv, argc, i, name, sizeof name, &value, &inl);
	k = global_key(name);
	if (k < 0 && strcmp(name, "profile") != 0)
		return 0;
	if (!value) {
		usage_error("--%s needs a value", name);
		return -1;
	}
	if (k < 0) {
		free(conf->profile);
		conf->profile = strdup(value);
	} else if (slactl_conf_set_flag(conf, (enum slactl_key)k, value) < 0) {
		return -1;
	}
	if (!inl)
		(*i)++;
	return 1;
}

static const struct proto_field *field_find(const struct proto_verb *v, const char *name)
{
	for (const struct proto_field *f = v->fields; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

static int unknown_command(const char *word)
{
	const char *names[128];
	static char store[128][PROTO_VERB_MAX + 1];
	size_t n = 0;
	const char *best;

	for (const struct proto_verb *v = proto_verbs; v->name && n < 126; v++, n++) {
		slactl_verb_to_command(v->name, store[n], sizeof store[n]);
		names[n] = store[n];
	}
	names[n++] = "watch";
	names[n++] = "help";
	best = slactl_suggest(word, names, n);
	if (best)
		return usage_error("unknown command '%s'; did you mean '%s'? (slactl --help)", word,
		                   best);
	return usage_error("unknown command '%s' (slactl --help lists them)", word);
}

static int unknown_option(const struct cmdline *cl, const char *cmd, const char *name)
{
	const char *names[64];
	char store[64][64];
	size_t n = 0;
	const char *best;

	for (const struct proto_field *f = cl->verb->fields; f->name && n < 60; f++, n++) {
		slactl_field_to_option(f->name, store[n], sizeof store[n]);
		names[n] = store[n];
	}
	names[n++] = "json-body";
	best = slactl_suggest(name, names, n);
	if (best)
		return usage_error("%s: unknown option --%s; did you mean --%s?", cmd, name, best);
	return usage_error("%s: unknown option --%s (slactl %s --help)", cmd, name, cmd);
}

/* The command's own options; global ones are accepted here too. */
static int parse_command_args(struct slactl_conf *conf, struct cmdline *cl, const char *cmd,
                              char **argv, int argc, int i)
{
	char err[ERRSZ];
	bool dashdash = false;

	for (; i < argc; i++) {
		const char *arg = argv[i], *value;
		const struct proto_field *f;
		char name[64], field[64];
		bool inl;
		json_object *jv;
		int g;

		if (dashdash || arg[0] != '-' || arg[1] == '\0' ||
		    (arg[1] != '-' && arg[1] != 'h' && arg[1] != 'v')) {
			/* a value: "-5" is a value too */
			if (cl->npositional == sizeof cl->positional / sizeof cl->positional[0])
				return usage_error("%s: too many values", cmd);
			cl->positional[cl->npositional++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			dashdash = true;
			continue;
		}
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			if (cl->watch)
				slactl_watch_help(stdout);
			else
				slactl_command_help(stdout, cl->verb);
			return -1; /* done, exit 0 */
		}
		split_option(argv, argc, &i, name, sizeof name, &value, &inl);
		snprintf(field, sizeof field, "%s", name);
		for (char *p = field; *p; p++)
			if (*p == '-')
				*p = '_';
		f = field_find(cl->verb, field);
		if (!f && strcmp(name, "json-body") == 0) {
			if (!value)
				return usage_error("--json-body needs a JSON object");
			if (cl->body)
				return usage_error("--json-body given twice");
			{
				static const struct proto_field jb = {
				    "json-body", PROTO_FIELD_OBJECT, false, NULL};

				cl->body = slactl_field_value(&jb, value, err, sizeof err);
			}
			if (!cl->body)
				return usage_error("%s", err);
			if (!inl)
				i++;
			continue;
		}
		if (!f) {
			/* fields win over global options of the same name */
			g = global_option(conf, argv, argc, &i);
			if (g < 0)
				return SLACTL_EXIT_USAGE;
			if (g > 0)
				continue;
			return unknown_option(cl, cmd, name);
		}
		if (json_object_object_get_ex(cl->options, f->name, NULL))
			return usage_error("--%s given twice", name);
		/* a BOOL flag alone means true: --breached */
		if (f->type == PROTO_FIELD_BOOL && !inl &&
		    (!value || (value[0] == '-' && value[1] == '-'))) {
			json_object_object_add(cl->options, f->name, json_object_new_boolean(1));
			continue;
		}
		if (!value)
			return usage_error("--%s needs a value (%s)", name,
			                   slactl_field_type_name(f->type));
		jv = slactl_field_value(f, value, err, sizeof err);
		if (!jv)
			return usage_error("%s", err);
		json_object_object_add(cl->options, f->name, jv);
		if (!inl)
			i++;
	}
	return 0;
}

/* Options over --json-body, values into the required fields left. */
static int build_body(struct cmdline *cl, const char *cmd, char *rid, size_t ridsize)
{
	char err[ERRSZ], opt[64];
	size_t next = 0;

	if (!cl->body)
		cl->body = json_object_new_object();
	if (strcmp(cl->verb->name, "HELLO") == 0) {
		/* slactl says HELLO itself on connecting; `hello` shows the answer */
		if (cl->npositional || json_object_object_length(cl->options) ||
		    json_object_object_length(cl->body))
			return usage_error("hello takes no options: slactl sends HELLO itself");
		return 0;
	}
	json_object_object_foreach(cl->options, key, val)
	{
		json_object_object_add(cl->body, key, json_object_get(val));
	}
	for (const struct proto_field *f = cl->verb->fields; f->name && next < cl->npositional;
	     f++) {
		json_object *jv;

		if (!f->required || strcmp(f->name, "request_id") == 0 ||
		    json_object_object_get_ex(cl->body, f->name, NULL))
			continue;
		jv = slactl_field_value(f, cl->positional[next], err, sizeof err);
		if (!jv)
			return usage_error("%s", err);
		json_object_object_add(cl->body, f->name, jv);
		next++;
	}
	if (next < cl->npositional)
		return usage_error("%s: unexpected value '%s' (options are --name VALUE)", cmd,
		                   cl->positional[next]);
	rid[0] = '\0';
	if (cl->verb->creating) {
		json_object *v;

		if (json_object_object_get_ex(cl->body, "request_id", &v)) {
			snprintf(rid, ridsize, "%s", json_object_get_string(v));
		} else {
			char fresh[SLAC_REQUEST_ID_LEN + 1];

			if (slac_request_id_new(fresh) < 0)
				return usage_error("cannot generate a request_id");
			json_object_object_add(cl->body, "request_id",
			                       json_object_new_string(fresh));
			snprintf(rid, ridsize, "%s", fresh);
		}
	}
	for (const struct proto_field *f = cl->verb->fields; f->name; f++) {
		if (!f->required || json_object_object_get_ex(cl->body, f->name, NULL))
			continue;
		slactl_field_to_option(f->name, opt, sizeof opt);
		return usage_error("%s: missing --%s (required: %s)", cmd, opt, f->help);
	}
	/* the same checks the server makes, so a typo costs no round trip */
	{
		struct proto_msg m = {.kind = PROTO_MSG_REQUEST, .body = cl->body};
		struct proto_error perr;

		snprintf(m.tag, sizeof m.tag, "1");
		snprintf(m.verb, sizeof m.verb, "%s", cl->verb->name);
		if (proto_validate_request(&m, &perr) != PROTO_OK)
			return usage_error("%s: %s (%s)", cmd, perr.detail,
			                   proto_err_name(perr.code));
	}
	return 0;
}

static void print_settings(const struct slactl_conf *conf)
{
	for (int k = 0; k < SLACTL_KEY_COUNT; k++)
		fprintf(stderr, "slactl: %-11s = %s  (%s)\n", slactl_key_option((enum slactl_key)k),
		        conf->set[k].value ? conf->set[k].value : "-",
		        conf->set[k].value ? conf->set[k].source : "unset");
}

static void retry_hint(const char *rid, const char *cmd)
{
	if (rid[0])
		fprintf(stderr,
		        "request_id: %s\n(it may or may not have been applied; to retry safely: "
		        "slactl %s --request-id %s ...)\n",
		        rid, cmd, rid);
}

static int run(struct slactl_conf *conf, struct cmdline *cl, const char *cmd, const char *rid)
{
	struct slac_profile p;
	struct slac_client *c;
	struct slac_error err;
	struct slac_answer ans;
	int rc;
	enum slactl_format fmt = conf->csv    ? SLACTL_FORMAT_CSV
	                         : conf->json ? SLACTL_FORMAT_JSON
	                                      : SLACTL_FORMAT_TABLE;

	p = slactl_conf_profile(conf);
	if (!p.cert)
		return usage_error("no client certificate: give --cert FILE, SLACTL_CERT or cert = "
		                   "in a profile (slad requires mutual TLS)");
	c = slac_connect(&p, &err);
	if (!c) {
		if (err.status == SLAC_ERR_SERVER) {
			fprintf(stderr, "error: %s %s\n", proto_err_name(err.code), err.message);
			return SLACTL_EXIT_ERR;
		}
		fprintf(stderr, "slactl: %s\n", err.message);
		if (rid[0])
			fprintf(stderr, "request_id: %s (nothing was sent; a retry may reuse it)\n",
			        rid);
		return SLACTL_EXIT_CONN;
	}
	if (cl->watch) {
		rc = slactl_watch(c, cl->body, conf->json);
		slac_client_free(c);
		return rc;
	}
	if (strcmp(cl->verb->name, "HELLO") == 0) {
		/* slac_connect() said HELLO already: show its answer */
		slactl_print_answer(stdout, stderr, slac_session_hello(slac_client_session(c)),
		                    fmt);
		slac_client_free(c);
		return SLACTL_EXIT_OK;
	}
	rc = SLACTL_EXIT_OK;
	switch (slac_call(c, cl->verb->name, json_object_object_length(cl->body) ? cl->body : NULL,
	                  &ans, 0)) {
	case SLAC_OK:
		slactl_print_answer(stdout, stderr, ans.body, fmt);
		break;
	case SLAC_ERR_SERVER:
		fprintf(stderr, "error: %s %s\n", proto_err_name(ans.err.code), ans.err.message);
		if (ans.err.code == PROTO_ERR_UNAVAILABLE || ans.err.code == PROTO_ERR_INTERNAL ||
		    ans.err.code == PROTO_ERR_SHUTTING_DOWN || ans.err.code == PROTO_ERR_TIMEOUT ||
		    ans.err.code == PROTO_ERR_RATE_LIMITED)
			retry_hint(rid, cmd);
		rc = SLACTL_EXIT_ERR;
		break;
	case SLAC_ERR_LOCAL:
		fprintf(stderr, "slactl: %s\n", ans.err.message);
		rc = SLACTL_EXIT_USAGE;
		break;
	default:
		fprintf(stderr, "slactl: %s\n", ans.err.message);
		retry_hint(rid, cmd);
		rc = SLACTL_EXIT_CONN;
		break;
	}
	slac_answer_clear(&ans);
	slac_client_free(c);
	return rc;
}

int main(int argc, char **argv)
{
	struct slactl_conf conf = {0};
	struct cmdline cl = {0};
	char err[ERRSZ], rid[128];
	const char *cmd;
	int i = 1, rc;

	signal(SIGPIPE, SIG_IGN); /* a closed stdout pipe is an error, not a kill */
	for (; i < argc; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			slactl_usage(stdout);
			return SLACTL_EXIT_OK;
		}
		if (strcmp(arg, "--version") == 0) {
			printf("slactl %s (protocol %d)\n", SLACTL_VERSION, PROTO_VERSION);
			return SLACTL_EXIT_OK;
		}
		if (arg[0] != '-')
			break;
		rc = global_option(&conf, argv, argc, &i);
		if (rc < 0) {
			rc = SLACTL_EXIT_USAGE;
			goto out;
		}
		if (rc == 0) {
			rc = usage_error("unknown option %s (slactl --help)", arg);
			goto out;
		}
	}
	if (i >= argc) {
		slactl_usage(stderr);
		rc = SLACTL_EXIT_USAGE;
		goto out;
	}
	cmd = argv[i++];
	if (strcmp(cmd, "help") == 0) {
		const struct proto_verb *v = i < argc ? slactl_command_find(argv[i]) : NULL;

		rc = SLACTL_EXIT_OK;
		if (i >= argc)
			slactl_usage(stdout);
		else if (strcmp(argv[i], "watch") == 0)
			slactl_watch_help(stdout);
		else if (v)
			slactl_command_help(stdout, v);
		else
			rc = unknown_command(argv[i]);
		goto out;
	}
	/* A one-shot SUBSCRIBE would end the session at once, and the pushes
	 * read meanwhile would be receipted without anyone seeing them:
	 * `subscribe` is `watch`. */
	cl.watch = strcmp(cmd, "watch") == 0 || strcmp(cmd, "subscribe") == 0;
	cl.verb = cl.watch ? proto_verb_find("SUBSCRIBE") : slactl_command_find(cmd);
	if (!cl.verb) {
		rc = unknown_command(cmd);
		goto out;
	}
	cl.options = json_object_new_object();
	rc = parse_command_args(&conf, &cl, cmd, argv, argc, i);
	if (rc < 0) {
		rc = SLACTL_EXIT_OK; /* --help */
		goto out;
	}
	if (rc != 0)
		goto out;
	rc = build_body(&cl, cmd, rid, sizeof rid);
	if (rc != 0)
		goto out;
	/* One output format: a CSV file is not a stream of pushes either. */
	if (conf.json && conf.csv) {
		rc = usage_error("--json and --csv exclude each other");
		goto out;
	}
	if (conf.csv && cl.watch) {
		rc = usage_error("%s: --csv is for answers; pushes are lines or --json", cmd);
		goto out;
	}
	if (slactl_conf_resolve(&conf, err, sizeof err) < 0) {
		rc = usage_error("%s", err);
		goto out;
	}
	if (conf.verbose)
		print_settings(&conf);
	rc = run(&conf, &cl, cmd, rid);
out:
	json_object_put(cl.body);
	json_object_put(cl.options);
	slactl_conf_free(&conf);
	free(conf.profile);
	return rc;
}
