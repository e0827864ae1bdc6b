/*
 * help.c - `slactl --help` and `slactl <command> --help`, written from the
 * verb table so that the help can never disagree with the protocol.
 */
#include "slactl.h"

#include <string.h>

#define WRAP 100

/* Print text wrapped at WRAP columns, continuation lines indented. */
static void wrapped(FILE *out, const char *text, size_t col, size_t indent)
{
	const char *p = text;

	while (*p) {
		const char *sp = strchr(p, ' ');
		size_t w = sp ? (size_t)(sp - p) : strlen(p);

		if (col > indent && col + 1 + w > WRAP) {
			fputc('\n', out);
			for (col = 0; col < indent; col++)
				fputc(' ', out);
		} else if (col > indent) {
			fputc(' ', out);
			col++;
		}
		fwrite(p, 1, w, out);
		col += w;
		p += w;
		while (*p == ' ')
			p++;
	}
	fputc('\n', out);
}

static void roles_text(unsigned roles, char *out, size_t size)
{
	static const enum proto_role all[] = {PROTO_ROLE_HOTLINE, PROTO_ROLE_ENGINEER,
	                                      PROTO_ROLE_MONITOR, PROTO_ROLE_ADMIN};
	size_t n = 0;

	out[0] = '\0';
	if ((roles & PROTO_ROLE_ALL) == PROTO_ROLE_ALL) {
		snprintf(out, size, "everyone");
		return;
	}
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		int k;

		if (!(roles & all[i]))
			continue;
		k = snprintf(out + n, size - n, "%s%s", n ? ", " : "", proto_role_name(all[i]));
		if (k < 0 || (size_t)k >= size - n)
			return;
		n += (size_t)k;
	}
}

void slactl_usage(FILE *out)
{
	unsigned last = 0;
	char cmd[PROTO_VERB_MAX + 1], roles[64];
	char path[512];

	fprintf(
	    out,
	    "slactl - the slad command-line client (protocol %d)\n"
	    "\n"
	    "Usage: slactl [global options] <command> [options] [values]\n"
	    "       slactl <command> --help\n"
	    "\n"
	    "Global options (also accepted after the command):\n"
	    "  --host HOST         slad's host name or address (default localhost)\n"
	    "  --port PORT         slad's port (default %s)\n"
	    "  --cert FILE         your client certificate, PEM: it names you (required)\n"
	    "  --key FILE          its private key, PEM (default: in the --cert file)\n"
	    "  --ca FILE           CA certificates that sign slad's certificate, PEM\n"
	    "                      (default: the system's store)\n"
	    "  --server-name NAME  name slad's certificate must carry (default: --host)\n"
	    "  --timeout SECONDS   connect and answer timeout (default %d)\n"
	    "  --profile NAME      settings from a section of the profile file\n"
	    "  --json              print answers as JSON, one object per line\n"
	    "  --csv               print answers as CSV for spreadsheets (RFC 4180, CRLF):\n"
	    "                      the answer's list of rows (COMPLIANCE's rows, LIST's\n"
	    "                      tickets) with a header line, nested objects flattened\n"
	    "                      into columns (response_met, response_breached, ...),\n"
	    "                      null as an empty field; the answer's other members\n"
	    "                      (next_after_id) on stderr.  Any other answer is one row.\n"
	    "  -v, --verbose       print the settings used and where they came from\n"
	    "  -h, --help          this help;  --version: slactl's version\n"
	    "\n"
	    "Settings come from, in this order of precedence: flags; the environment\n"
	    "(SLACTL_HOST, SLACTL_PORT, SLACTL_CERT, SLACTL_KEY, SLACTL_CA, SLACTL_SERVER_NAME,\n"
	    "SLACTL_TIMEOUT); the profile file, section --profile NAME (else $SLACTL_PROFILE),\n"
	    "then its [default] section; then the defaults.  The profile file is\n"
	    "$SLACTL_PROFILES, else $XDG_CONFIG_HOME/slactl/profiles, else\n"
	    "~/.config/slactl/profiles",
	    PROTO_VERSION, SLAC_PORT_DEFAULT, SLAC_TIMEOUT_DEFAULT_MS / 1000);
	if (slactl_profiles_path(path, sizeof path) == 0)
		fprintf(out, "\n(here: %s)", path);
	fprintf(out,
	        ":\n"
	        "\n"
	        "  [default]\n"
	        "  host = slad.example.net\n"
	        "  ca = ca.pem              # relative paths are next to the profile file\n"
	        "  [alice]\n"
	        "  cert = ~/certs/alice.pem\n"
	        "  key = ~/certs/alice.key\n"
	        "  # keys: host, port, cert, key, ca, server_name, timeout\n"
	        "\n"
	        "Command options are the request's fields: --field-name VALUE (or\n"
	        "--field-name=VALUE); values without a name fill the required fields in the\n"
	        "order `slactl <command> --help` lists them; --json-body '{...}' supplies any\n"
	        "fields as JSON.  Creating commands get a fresh --request-id unless you give one;\n"
	        "on failure it is printed so that a retry cannot create a second ticket.\n"
	        "\n"
	        "Exit status: 0 success, 1 the server answered ERR (printed as `error: CODE\n"
	        "message` on stderr), 2 usage error, 3 connection or TLS failure.\n"
	        "\n"
	        "Commands (the roles that may use them; admin may use every command):\n");
	for (const struct proto_verb *v = proto_verbs; v->name; v++) {
		if (v->roles != last) {
			roles_text(v->roles, roles, sizeof roles);
			fprintf(out, "\n %s:\n", roles);
			last = v->roles;
		}
		slactl_verb_to_command(v->name, cmd, sizeof cmd);
		fprintf(out, "  %-18s ", cmd);
		wrapped(out, v->summary, 21, 21);
	}
	fprintf(out,
	        "\n Streaming:\n"
	        "  %-18s stream escalations and tasks live; type `a 1042` to acknowledge\n"
	        "  %-18s help on a command (same as slactl <command> --help)\n",
	        "watch", "help [command]");
	fprintf(out,
	        "\nExamples:\n"
	        "  slactl --profile alice list --breached true\n"
	        "  slactl show 1042\n"
	        "  slactl report --symptoms 'printer offline' --contact-name Li "
	        "--contact-phone 13800000000 --customer-id 7\n"
	        "  slactl watch --team north --max-level 2\n"
	        "  slactl compliance --customer-id 7 --from-month 2026-03 --csv > march.csv\n");
}

static void field_line(FILE *out, const struct proto_field *f, bool creating)
{
	char opt[64], head[96];
	int n;

	slactl_field_to_option(f->name, opt, sizeof opt);
	n = snprintf(head, sizeof head, "  --%s %s", opt, slactl_field_type_name(f->type));
	fputs(head, out);
	if (n < 34) {
		for (; n < 34; n++)
			fputc(' ', out);
	} else {
		fputc('\n', out);
		for (n = 0; n < 34; n++)
			fputc(' ', out);
	}
	if (creating && strcmp(f->name, "request_id") == 0) {
		wrapped(out,
		        "(generated if not given) your id for this request; a retry with the "
		        "same id is answered with the first answer, never a second object",
		        34, 34);
		return;
	}
	{
		char text[512];

		snprintf(text, sizeof text, "%s%s", f->required ? "(required) " : "", f->help);
		wrapped(out, text, 34, 34);
	}
}

void slactl_command_help(FILE *out, const struct proto_verb *v)
{
	char cmd[PROTO_VERB_MAX + 1], roles[64], opt[64];
	bool any = false, positional = false, times = false;

	/* pushes come only while the session lasts: subscribe is watch */
	if (strcmp(v->name, "SUBSCRIBE") == 0) {
		slactl_watch_help(out);
		return;
	}

	slactl_verb_to_command(v->name, cmd, sizeof cmd);
	roles_text(v->roles, roles, sizeof roles);
	fprintf(out, "Usage: slactl [global options] %s%s", cmd,
	        strcmp(v->name, "HELLO") == 0 ? "" : " [options]");
	for (const struct proto_field *f = v->fields; f->name && strcmp(v->name, "HELLO"); f++) {
		if (!f->required || strcmp(f->name, "request_id") == 0)
			continue;
		slactl_field_to_option(f->name, opt, sizeof opt);
		for (char *p = opt; *p; p++)
			*p = *p == '-' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
		fprintf(out, " [%s]", opt);
	}
	fprintf(out, "\n\n%c%s.\n\nProtocol verb %s; allowed for: %s.\n",
	        v->summary[0] >= 'a' && v->summary[0] <= 'z' ? v->summary[0] - 32 : v->summary[0],
	        v->summary + 1, v->name, roles);
	if (v->creating)
		fprintf(out, "Creates something: carries a request_id, so a retry is safe.\n");
	if (strcmp(v->name, "HELLO") == 0) {
		fprintf(out, "slactl sends HELLO on every connection; `slactl hello` prints the "
		             "server's\nanswer: its version, its limits, and who you are to it.\n"
		             "\nOptions: none.  Global options: slactl --help.\n");
		return;
	}
	fprintf(out, "\nOptions:\n");
	for (const struct proto_field *f = v->fields; f->name; f++) {
		field_line(out, f, v->creating);
		any = true;
		positional = positional || (f->required && strcmp(f->name, "request_id") != 0);
		times = times || f->type == PROTO_FIELD_TIME;
	}
	if (!any)
		fprintf(out, "  (none)\n");
	fprintf(out, "  --json-body JSON                fields as one JSON object; options given "
	             "as well\n"
	             "                                  override its members\n\n");
	if (positional)
		fprintf(out, "Values without an option name fill the required fields in the order "
		             "above.\n");
	if (times)
		fprintf(out, "TIME values are RFC 3339 (2026-11-27T10:00:00Z) or now, now-15m, "
		             "now+2h.\n");
	fprintf(out, "Global options (--host, --cert, --json, --csv, ...): slactl --help.\n");
}

void slactl_watch_help(FILE *out)
{
	const struct proto_verb *sub = proto_verb_find("SUBSCRIBE");

	fprintf(out,
	        "Usage: slactl [global options] watch [filters]    (subscribe: the same)\n"
	        "\n"
	        "Subscribe and stream escalations and tasks as they come, one line each:\n"
	        "\n"
	        "  10:42:07  T-1042  ACME  L1  response BREACH +3m  -> team_lead\n"
	        "  (time due, ticket, customer, level, clock, step, how late, who is told)\n"
	        "\n"
	        "While watching, type a command and Enter:\n"
	        "  a 1042   (or ack 1042, acknowledge T-1042)  acknowledge ticket 1042: you take\n"
	        "           it, which stops its response clock and its escalation ladder\n"
	        "  q        stop watching (so do Ctrl-C, and Ctrl-D at a terminal)\n"
	        "\n"
	        "Delivery receipts are sent by slactl for every line it shows; a receipt says\n"
	        "the line reached you and stops nothing.  If the connection drops, slactl\n"
	        "reconnects, subscribes again and receives what it missed, without duplicates.\n"
	        "With --json each push is one JSON object per line:\n"
	        "  {\"event\":\"ESCALATION\",\"seq\":12,\"body\":{...}}\n"
	        "\nFilters (the SUBSCRIBE fields):\n");
	if (sub)
		for (const struct proto_field *f = sub->fields; f->name; f++)
			field_line(out, f, false);
	fprintf(out, "  --json-body JSON                filters as one JSON object\n");
}
