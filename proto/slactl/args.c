/*
 * args.c - from command-line text to request fields, driven by the verb
 * table (proto_verbs[]): names, types and checks.
 */
#include "slactl.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void slactl_verb_to_command(const char *verb, char *out, size_t size)
{
	size_t i = 0;

	for (; verb[i] && i + 1 < size; i++)
		out[i] = verb[i] == '_' ? '-' : (char)tolower((unsigned char)verb[i]);
	out[i] = '\0';
}

const struct proto_verb *slactl_command_find(const char *command)
{
	char name[PROTO_VERB_MAX + 1];
	size_t i = 0;

	for (; command[i]; i++) {
		unsigned char ch = (unsigned char)command[i];

		if (i >= PROTO_VERB_MAX)
			return NULL;
		/* verbs are [A-Z_]: nothing else may sneak in via case folding */
		if (ch == '-' || ch == '_')
			name[i] = '_';
		else if (isalpha(ch))
			name[i] = (char)toupper(ch);
		else
			return NULL;
	}
	name[i] = '\0';
	return proto_verb_find(name);
}

void slactl_field_to_option(const char *field, char *out, size_t size)
{
	size_t i = 0;

	for (; field[i] && i + 1 < size; i++)
		out[i] = field[i] == '_' ? '-' : field[i];
	out[i] = '\0';
}

const char *slactl_field_type_name(enum proto_field_type t)
{
	switch (t) {
	case PROTO_FIELD_STRING:
		return "TEXT";
	case PROTO_FIELD_INT:
		return "INT";
	case PROTO_FIELD_BOOL:
		return "BOOL";
	case PROTO_FIELD_TIME:
		return "TIME";
	case PROTO_FIELD_OBJECT:
		return "JSON-OBJECT";
	case PROTO_FIELD_ARRAY:
		return "JSON-ARRAY";
	}
	return "?";
}

static bool ndigits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int num(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

bool slactl_is_rfc3339(const char *s)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d;

	/* YYYY-MM-DDTHH:MM:SS */
	if (strlen(s) < 20 || !ndigits(s, 4) || s[4] != '-' || !ndigits(s + 5, 2) || s[7] != '-' ||
	    !ndigits(s + 8, 2) || (s[10] != 'T' && s[10] != 't') || !ndigits(s + 11, 2) ||
	    s[13] != ':' || !ndigits(s + 14, 2) || s[16] != ':' || !ndigits(s + 17, 2))
		return false;
	y = num(s, 4);
	mo = num(s + 5, 2);
	d = num(s + 8, 2);
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) ||
	    num(s + 11, 2) > 23 || num(s + 14, 2) > 59 || num(s + 17, 2) > 60)
		return false;
	s += 19;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return false;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if ((*s == 'Z' || *s == 'z') && s[1] == '\0')
		return true;
	return (*s == '+' || *s == '-') && ndigits(s + 1, 2) && s[3] == ':' && ndigits(s + 4, 2) &&
	       s[6] == '\0' && num(s + 1, 2) <= 23 && num(s + 4, 2) <= 59;
}

/* "now", "now-15m", "now+2h": an instant relative to now, in UTC. */
static bool relative_time(const char *text, char *out, size_t size)
{
	time_t t = time(NULL);
	struct tm tm;

	if (strncmp(text, "now", 3) != 0)
		return false;
	text += 3;
	if (*text) {
		char *end;
		long v;
		int sign = *text == '-' ? -1 : *text == '+' ? 1 : 0;

		if (!sign || !isdigit((unsigned char)text[1]))
			return false;
		errno = 0;
		v = strtol(text + 1, &end, 10);
		if (errno || v > 100000)
			return false;
		if (strcmp(end, "s") == 0)
			t += sign * v;
		else if (strcmp(end, "m") == 0)
			t += sign * v * 60;
		else if (strcmp(end, "h") == 0)
			t += sign * v * 3600;
		else if (strcmp(end, "d") == 0)
			t += sign * v * 86400;
		else
			return false;
	}
	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return true;
}

json_object *slactl_field_value(const struct proto_field *f, const char *text, char *err,
                                size_t errsize)
{
	char opt[64];

	slactl_field_to_option(f->name, opt, sizeof opt);
	switch (f->type) {
	case PROTO_FIELD_STRING:
		return json_object_new_string(text);
	case PROTO_FIELD_INT: {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(text, &end, 10);
		if (errno || end == text || *end || isspace((unsigned char)*text)) {
			snprintf(err, errsize, "--%s: expected an integer, got '%s'", opt, text);
			return NULL;
		}
		return json_object_new_int64(v);
	}
	case PROTO_FIELD_BOOL: {
		static const char *const yes[] = {"true", "yes", "on", "1"};
		static const char *const no[] = {"false", "no", "off", "0"};

		for (size_t i = 0; i < 4; i++) {
			if (strcasecmp(text, yes[i]) == 0)
				return json_object_new_boolean(1);
			if (strcasecmp(text, no[i]) == 0)
				return json_object_new_boolean(0);
		}
		snprintf(err, errsize, "--%s: expected true or false, got '%s'", opt, text);
		return NULL;
	}
	case PROTO_FIELD_TIME: {
		char buf[32];

		if (relative_time(text, buf, sizeof buf))
			return json_object_new_string(buf);
		if (!slactl_is_rfc3339(text)) {
			snprintf(err, errsize,
			         "--%s: expected an RFC 3339 time such as 2026-11-27T10:00:00Z "
			         "(or now, now-15m, now+2h), got '%s'",
			         opt, text);
			return NULL;
		}
		return json_object_new_string(text);
	}
	case PROTO_FIELD_OBJECT:
	case PROTO_FIELD_ARRAY: {
		struct json_tokener *tok = json_tokener_new();
		json_object *o;
		bool ok;

		if (!tok)
			return NULL;
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
		o = json_tokener_parse_ex(tok, text, (int)strlen(text));
		ok = o && json_tokener_get_error(tok) == json_tokener_success &&
		     json_tokener_get_parse_end(tok) == strlen(text);
		json_tokener_free(tok);
		if (!ok ||
		    !json_object_is_type(o, f->type == PROTO_FIELD_OBJECT ? json_type_object
		                                                          : json_type_array)) {
			json_object_put(o);
			snprintf(err, errsize, "--%s: expected a JSON %s, got '%s'", opt,
			         f->type == PROTO_FIELD_OBJECT ? "object {...}" : "array [...]",
			         text);
			return NULL;
		}
		return o;
	}
	}
	snprintf(err, errsize, "--%s: unknown field type", opt);
	return NULL;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);

			cur[j] = del < ins ? del : ins;
			if (sub < cur[j])
				cur[j] = sub;
		}
		memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
	}
	return prev[lb];
}

const char *slactl_suggest(const char *word, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	size_t best_d = 3;

	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(word, candidates[i]);

		/* a prefix is a good guess too: "find" -> "find-customer" */
		if (d < best_d || (!best && strncmp(candidates[i], word, strlen(word)) == 0)) {
			best = candidates[i];
			best_d = d;
		}
	}
	return best;
}
