/*
 * codec.c - the slad line protocol: framing, parsing, serializing, and the
 * names of error codes and roles (proto/PROTOCOL.md).
 *
 * Pure: libc and json-c only, no I/O, no global state.  Memory is bounded by
 * the line: the only allocations are the parsed JSON tree, the ERR message
 * copy and the serialized line.
 *
 * json-c's tokener, even with JSON_TOKENER_STRICT, accepts NaN, Infinity,
 * single-quoted strings, raw control characters and "1.", silently keeps the
 * last of two equal keys, truncates keys at \u0000 and saturates huge
 * integers.  So every payload first goes through json_check() below, a strict
 * RFC 8259 recogniser with a depth limit; json-c only ever builds the tree of
 * text that json_check() accepted, and the tree is then compared with the
 * text to find duplicate keys.
 */
#include "proto.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Hard ceiling on the configurable JSON depth: the recogniser keeps one byte
 * per level on the stack. */
#define JSON_DEPTH_CEILING 256

/* ---- error codes and roles ---- */

struct err_info {
	const char *name;
	bool keeps;       /* the connection stays open after this answer */
	const char *text; /* default message when the sender gives none */
};

/* Order follows enum proto_err.  PROTOCOL.md "Error codes" is the prose
 * version of this table; tests compare the two. */
static const struct err_info err_table[PROTO_ERR_COUNT] = {
    [PROTO_OK] = {"OK", true, "success"},
    [PROTO_ERR_SYNTAX] = {"SYNTAX", true, "line does not follow the grammar"},
    [PROTO_ERR_LINE_TOO_LONG] = {"LINE_TOO_LONG", true, "line over the length cap"},
    [PROTO_ERR_NUL_BYTE] = {"NUL_BYTE", true, "NUL byte inside a line"},
    [PROTO_ERR_BAD_UTF8] = {"BAD_UTF8", true, "invalid UTF-8"},
    [PROTO_ERR_BAD_JSON] = {"BAD_JSON", true, "payload is not one JSON object"},
    [PROTO_ERR_JSON_TOO_DEEP] = {"JSON_TOO_DEEP", true, "JSON nested too deep"},
    [PROTO_ERR_UNKNOWN_VERB] = {"UNKNOWN_VERB", true, "verb not in the protocol"},
    [PROTO_ERR_MISSING_FIELD] = {"MISSING_FIELD", true, "a required field is absent"},
    [PROTO_ERR_INVALID_FIELD] = {"INVALID_FIELD", true, "wrong type or out of range"},
    [PROTO_ERR_UNAUTHENTICATED] = {"UNAUTHENTICATED", false, "no usable client identity"},
    [PROTO_ERR_FORBIDDEN] = {"FORBIDDEN", true, "not allowed for this principal"},
    [PROTO_ERR_NOT_FOUND] = {"NOT_FOUND", true, "no such object"},
    [PROTO_ERR_CONFLICT] = {"CONFLICT", true, "state conflicts with the request"},
    [PROTO_ERR_INVALID_TRANSITION] = {"INVALID_TRANSITION", true,
                                      "ticket state does not allow this"},
    [PROTO_ERR_IDEMPOTENCY_MISMATCH] = {"IDEMPOTENCY_MISMATCH", true,
                                        "request_id reused with another body"},
    [PROTO_ERR_UNAVAILABLE] = {"UNAVAILABLE", true, "store unavailable, retry later"},
    [PROTO_ERR_RATE_LIMITED] = {"RATE_LIMITED", true, "too many requests, slow down"},
    [PROTO_ERR_NOT_IMPLEMENTED] = {"NOT_IMPLEMENTED", true, "verb not implemented yet"},
    [PROTO_ERR_TIMEOUT] = {"TIMEOUT", false, "deadline passed"},
    [PROTO_ERR_SHUTTING_DOWN] = {"SHUTTING_DOWN", false, "server shutting down"},
    [PROTO_ERR_INTERNAL] = {"INTERNAL", true, "internal error"},
};

const char *proto_err_name(enum proto_err code)
{
	if ((int)code < 0 || code >= PROTO_ERR_COUNT)
		return "INVALID";
	return err_table[code].name;
}

enum proto_err proto_err_parse(const char *name)
{
	if (name == NULL)
		return PROTO_ERR_COUNT;
	for (int i = 0; i < PROTO_ERR_COUNT; i++)
		if (strcmp(err_table[i].name, name) == 0)
			return (enum proto_err)i;
	return PROTO_ERR_COUNT;
}

bool proto_err_keeps_connection(enum proto_err code)
{
	if ((int)code < 0 || code >= PROTO_ERR_COUNT)
		return false;
	return err_table[code].keeps;
}

const char *proto_role_name(enum proto_role role)
{
	switch (role) {
	case PROTO_ROLE_HOTLINE:
		return "hotline";
	case PROTO_ROLE_ENGINEER:
		return "engineer";
	case PROTO_ROLE_MONITOR:
		return "monitor";
	case PROTO_ROLE_ADMIN:
		return "admin";
	}
	return "invalid";
}

unsigned proto_role_parse(const char *name)
{
	static const enum proto_role roles[] = {PROTO_ROLE_HOTLINE, PROTO_ROLE_ENGINEER,
	                                        PROTO_ROLE_MONITOR, PROTO_ROLE_ADMIN};
	if (name == NULL)
		return 0;
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcmp(proto_role_name(roles[i]), name) == 0)
			return roles[i];
	return 0;
}

struct proto_limits proto_limits_default(void)
{
	struct proto_limits l = {PROTO_MAX_LINE_DEFAULT, PROTO_MAX_JSON_DEPTH};
	return l;
}

/* Zero or negative limits mean "the default"; the depth has a ceiling. */
static struct proto_limits limits_effective(const struct proto_limits *limits)
{
	struct proto_limits l = proto_limits_default();
	if (limits != NULL) {
		if (limits->max_line > 0)
			l.max_line = limits->max_line;
		if (limits->max_json_depth > 0)
			l.max_json_depth = limits->max_json_depth;
	}
	if (l.max_json_depth > JSON_DEPTH_CEILING)
		l.max_json_depth = JSON_DEPTH_CEILING;
	return l;
}

/* ---- small helpers ---- */

static void fail(struct proto_error *err, enum proto_err code, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(struct proto_error *err, enum proto_err code, size_t offset, const char *fmt, ...)
{
	va_list ap;
	err->code = code;
	err->offset = offset;
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
}

static bool is_tag_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

static bool is_verb_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

/* Error code names may carry digits (BAD_UTF8). */
static bool is_code_char(unsigned char c)
{
	return is_verb_char(c) || (c >= '0' && c <= '9');
}

/* Length of the run of bytes from s[0] accepted by `ok`, up to n. */
static size_t span(const char *s, size_t n, bool (*ok)(unsigned char))
{
	size_t i = 0;
	while (i < n && ok((unsigned char)s[i]))
		i++;
	return i;
}

static bool valid_token(const char *s, size_t max, bool (*ok)(unsigned char))
{
	if (s == NULL)
		return false;
	size_t n = strnlen(s, max + 1);
	return n >= 1 && n <= max && span(s, n, ok) == n;
}

/* ---- UTF-8 and NUL (S: DESIGN "Bad input") ---- */

/*
 * Length of the valid UTF-8 sequence starting at s[0] (1..4), or 0 if the
 * bytes there are not one: overlong forms, UTF-16 surrogates, code points
 * over U+10FFFF, stray continuation bytes and truncated sequences are all
 * refused (RFC 3629).
 */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t need;
	unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the 2nd byte */
	if (c >= 0xC2 && c <= 0xDF) {
		need = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		if (c == 0xE0)
			lo = 0xA0; /* overlong */
		else if (c == 0xED)
			hi = 0x9F; /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		if (c == 0xF0)
			lo = 0x90; /* overlong */
		else if (c == 0xF4)
			hi = 0x8F; /* over U+10FFFF */
	} else {
		return 0; /* continuation byte, C0/C1 overlong lead, F5..FF */
	}
	if (n < need || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return need;
}

/* First NUL or invalid UTF-8 in s[0..n); PROTO_OK if none. */
static enum proto_err text_check(const char *text, size_t n, size_t *off)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0;
	while (i < n) {
		if (s[i] == 0) {
			*off = i;
			return PROTO_ERR_NUL_BYTE;
		}
		size_t k = utf8_seq(s + i, n - i);
		if (k == 0) {
			*off = i;
			return PROTO_ERR_BAD_UTF8;
		}
		i += k;
	}
	return PROTO_OK;
}

/* ---- strict JSON recogniser (RFC 8259, narrowed) ---- */

struct jscan {
	const unsigned char *s;
	size_t n, i;
	size_t off;      /* where it went wrong */
	const char *why; /* static text for the detail */
};

static enum proto_err jfail(struct jscan *j, enum proto_err code, size_t off, const char *why)
{
	j->off = off;
	j->why = why;
	return code;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at s[i]; -1 if not there. */
static long hex4(const struct jscan *j, size_t i)
{
	if (j->n - i < 4)
		return -1;
	long v = 0;
	for (size_t k = 0; k < 4; k++) {
		int h = hexval(j->s[i + k]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/* A string starting at the opening quote s[i]. */
static enum proto_err jstring(struct jscan *j)
{
	size_t start = j->i;
	size_t i = j->i + 1;
	for (;;) {
		if (i >= j->n)
			return jfail(j, PROTO_ERR_BAD_JSON, start, "unterminated string");
		unsigned char c = j->s[i];
		if (c == '"') {
			j->i = i + 1;
			return PROTO_OK;
		}
		if (c < 0x20)
			return jfail(j, PROTO_ERR_BAD_JSON, i,
			             "control character in string (escape it)");
		if (c != '\\') {
			i++;
			continue;
		}
		if (i + 1 >= j->n)
			return jfail(j, PROTO_ERR_BAD_JSON, i, "unterminated string");
		unsigned char e = j->s[i + 1];
		if (strchr("\"\\/bfnrt", e) != NULL && e != 0) {
			i += 2;
			continue;
		}
		if (e != 'u')
			return jfail(j, PROTO_ERR_BAD_JSON, i, "invalid escape");
		long cp = hex4(j, i + 2);
		if (cp < 0)
			return jfail(j, PROTO_ERR_BAD_JSON, i, "invalid \\u escape");
		if (cp == 0)
			/* C strings end at U+0000: keys and values would be cut
			 * short silently. */
			return jfail(j, PROTO_ERR_BAD_JSON, i, "\\u0000 is not allowed");
		if (cp >= 0xDC00 && cp <= 0xDFFF)
			return jfail(j, PROTO_ERR_BAD_JSON, i, "unpaired surrogate escape");
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			long lo = -1;
			if (j->n - i >= 12 && j->s[i + 6] == '\\' && j->s[i + 7] == 'u')
				lo = hex4(j, i + 8);
			if (lo < 0xDC00 || lo > 0xDFFF)
				return jfail(j, PROTO_ERR_BAD_JSON, i, "unpaired surrogate escape");
			i += 12;
		} else {
			i += 6;
		}
	}
}

static bool jdigit(const struct jscan *j, size_t i)
{
	return i < j->n && j->s[i] >= '0' && j->s[i] <= '9';
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?; integers must fit int64. */
static enum proto_err jnumber(struct jscan *j)
{
	size_t start = j->i, i = j->i;
	bool neg = false, integral = true;
	if (j->s[i] == '-') {
		neg = true;
		i++;
	}
	size_t digits = i;
	if (!jdigit(j, i))
		return jfail(j, PROTO_ERR_BAD_JSON, start, "invalid number");
	if (j->s[i] == '0') {
		i++;
		if (jdigit(j, i))
			return jfail(j, PROTO_ERR_BAD_JSON, start, "leading zero in number");
	} else {
		while (jdigit(j, i))
			i++;
	}
	size_t ndigits = i - digits;
	if (i < j->n && j->s[i] == '.') {
		integral = false;
		i++;
		if (!jdigit(j, i))
			return jfail(j, PROTO_ERR_BAD_JSON, start, "digits expected after '.'");
		while (jdigit(j, i))
			i++;
	}
	if (i < j->n && (j->s[i] == 'e' || j->s[i] == 'E')) {
		integral = false;
		i++;
		if (i < j->n && (j->s[i] == '+' || j->s[i] == '-'))
			i++;
		if (!jdigit(j, i))
			return jfail(j, PROTO_ERR_BAD_JSON, start, "digits expected in exponent");
		while (jdigit(j, i))
			i++;
	}
	if (integral && ndigits >= 19) {
		/* json-c would saturate: refuse instead of guessing. */
		const char *max = neg ? "9223372036854775808" : "9223372036854775807";
		if (ndigits > 19 || memcmp(j->s + digits, max, 19) > 0)
			return jfail(j, PROTO_ERR_INVALID_FIELD, start,
			             "integer out of range (64-bit signed)");
	}
	j->i = i;
	return PROTO_OK;
}

static enum proto_err jliteral(struct jscan *j)
{
	static const char *const lits[] = {"true", "false", "null"};
	for (size_t k = 0; k < 3; k++) {
		size_t l = strlen(lits[k]);
		if (j->n - j->i >= l && memcmp(j->s + j->i, lits[k], l) == 0) {
			j->i += l;
			return PROTO_OK;
		}
	}
	return jfail(j, PROTO_ERR_BAD_JSON, j->i, "unexpected character");
}

static void jws(struct jscan *j)
{
	while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t'))
		j->i++;
}

/*
 * Recognise exactly one JSON object filling text[0..n).  Whitespace between
 * tokens is space or tab; nothing may follow the closing brace.
 */
static enum proto_err json_check(struct jscan *j, int max_depth)
{
	enum { V_VALUE, V_VALUE_OR_END, V_KEY, V_KEY_OR_END, V_AFTER } st = V_VALUE;
	unsigned char stack[JSON_DEPTH_CEILING]; /* '{' or '[' per level */
	int depth = 0;
	enum proto_err rc;

	if (j->n == 0 || j->s[0] != '{')
		return jfail(j, PROTO_ERR_BAD_JSON, 0, "payload must be a JSON object");
	for (;;) {
		if (depth == 0 && st == V_AFTER) {
			if (j->i != j->n)
				return jfail(j, PROTO_ERR_BAD_JSON, j->i,
				             "trailing characters after the JSON object");
			return PROTO_OK;
		}
		if (depth > 0)
			jws(j);
		if (j->i >= j->n)
			return jfail(j, PROTO_ERR_BAD_JSON, j->n, "unexpected end of JSON");
		unsigned char c = j->s[j->i];
		switch (st) {
		case V_KEY_OR_END:
			if (c == '}') {
				j->i++;
				depth--;
				st = V_AFTER;
				break;
			}
			/* fall through */
		case V_KEY:
			if (c != '"')
				return jfail(j, PROTO_ERR_BAD_JSON, j->i, "object key expected");
			if ((rc = jstring(j)) != PROTO_OK)
				return rc;
			jws(j);
			if (j->i >= j->n || j->s[j->i] != ':')
				return jfail(j, PROTO_ERR_BAD_JSON, j->i, "':' expected");
			j->i++;
			st = V_VALUE;
			break;
		case V_VALUE_OR_END:
			if (c == ']') {
				j->i++;
				depth--;
				st = V_AFTER;
				break;
			}
			/* fall through */
		case V_VALUE:
			if (c == '{' || c == '[') {
				if (depth >= max_depth)
					return jfail(j, PROTO_ERR_JSON_TOO_DEEP, j->i,
					             "JSON nested too deep");
				stack[depth++] = c;
				j->i++;
				st = c == '{' ? V_KEY_OR_END : V_VALUE_OR_END;
				break;
			}
			if (c == '"')
				rc = jstring(j);
			else if (c == '-' || (c >= '0' && c <= '9'))
				rc = jnumber(j);
			else
				rc = jliteral(j);
			if (rc != PROTO_OK)
				return rc;
			st = V_AFTER;
			break;
		case V_AFTER:
			if (c == ',') {
				j->i++;
				st = stack[depth - 1] == '{' ? V_KEY : V_VALUE;
			} else if ((c == '}' && stack[depth - 1] == '{') ||
			           (c == ']' && stack[depth - 1] == '[')) {
				j->i++;
				depth--;
			} else {
				return jfail(j, PROTO_ERR_BAD_JSON, j->i,
				             stack[depth - 1] == '{' ? "',' or '}' expected"
				                                     : "',' or ']' expected");
			}
			break;
		}
	}
}

/* ---- duplicate keys ---- */

/*
 * json-c keeps the last of two equal keys.  A tree object therefore has
 * fewer members than its text has keys exactly when that text repeats a
 * key.  The walk below visits tree objects in document order while a cursor
 * finds the same objects in the (already validated) text, so the first
 * object whose counts differ is the one with the duplicate.  Time is
 * O(length x depth); no memory beyond the recursion, which the depth limit
 * bounds.
 */
struct dupscan {
	const char *s;
	size_t n;
	size_t cursor; /* next place to look for an object's '{' */
};

/* Skip a string starting at its opening quote; return the index after it. */
static size_t skip_string(const char *s, size_t n, size_t i)
{
	for (i++; i < n && s[i] != '"'; i++)
		if (s[i] == '\\')
			i++;
	return i + 1;
}

/* Find the next object in the text; return its offset and count its keys. */
static size_t next_object(struct dupscan *d, size_t *keys)
{
	size_t i = d->cursor;
	while (i < d->n && d->s[i] != '{')
		i = d->s[i] == '"' ? skip_string(d->s, d->n, i) : i + 1;
	size_t start = i;
	int level = 0;
	*keys = 0;
	for (; i < d->n; i++) {
		char c = d->s[i];
		if (c == '"') {
			i = skip_string(d->s, d->n, i) - 1;
		} else if (c == '{' || c == '[') {
			level++;
		} else if (c == '}' || c == ']') {
			if (--level == 0)
				break;
		} else if (c == ':' && level == 1) {
			(*keys)++;
		}
	}
	d->cursor = start + 1;
	return start;
}

/* Name the repeated key of the object at `start` (error path only). */
static void name_duplicate(const char *s, size_t n, size_t start, struct proto_error *err)
{
	json_object *seen = json_object_new_object();
	struct json_tokener *tok = json_tokener_new_ex(2);
	int level = 0;
	size_t i;
	fail(err, PROTO_ERR_INVALID_FIELD, start, "duplicate key in object");
	if (seen == NULL || tok == NULL)
		goto done;
	for (i = start; i < n; i++) {
		char c = s[i];
		if (c == '{' || c == '[') {
			level++;
		} else if (c == '}' || c == ']') {
			if (--level == 0)
				break;
		} else if (c == '"') {
			size_t end = skip_string(s, n, i);
			size_t k = end;
			while (k < n && (s[k] == ' ' || s[k] == '\t'))
				k++;
			if (level == 1 && k < n && s[k] == ':') {
				json_tokener_reset(tok);
				json_object *key =
				    json_tokener_parse_ex(tok, s + i, (int)(end - i));
				const char *name = key ? json_object_get_string(key) : NULL;
				if (name != NULL && json_object_object_get_ex(seen, name, NULL)) {
					fail(err, PROTO_ERR_INVALID_FIELD, i,
					     "duplicate key \"%.64s\"", name);
					json_object_put(key);
					goto done;
				}
				if (name != NULL)
					json_object_object_add(seen, name, NULL);
				json_object_put(key);
			}
			i = end - 1;
		}
	}
done:
	json_tokener_free(tok);
	json_object_put(seen);
}

/*
 * Walk the tree in document order: compare each object's member count with
 * its key count in the text, and refuse doubles that overflowed to infinity.
 * Returns false with err filled in.
 */
static bool tree_check(json_object *o, struct dupscan *d, size_t base, struct proto_error *err)
{
	switch (json_object_get_type(o)) {
	case json_type_object: {
		size_t keys;
		size_t at = next_object(d, &keys);
		if ((size_t)json_object_object_length(o) != keys) {
			name_duplicate(d->s, d->n, at, err);
			err->offset += base;
			return false;
		}
		json_object_object_foreach(o, key, val)
		{
			(void)key;
			if (!tree_check(val, d, base, err))
				return false;
		}
		return true;
	}
	case json_type_array: {
		size_t len = json_object_array_length(o);
		for (size_t i = 0; i < len; i++)
			if (!tree_check(json_object_array_get_idx(o, i), d, base, err))
				return false;
		return true;
	}
	case json_type_double:
		if (!isfinite(json_object_get_double(o))) {
			fail(err, PROTO_ERR_INVALID_FIELD, base, "number out of range");
			return false;
		}
		return true;
	default:
		return true;
	}
}

/*
 * Parse the payload text[0..n) at line offset `base` into *body.  Strict
 * check first, then json-c builds the tree, then duplicates are looked for.
 */
static enum proto_err parse_payload(const char *text, size_t n, size_t base, int max_depth,
                                    json_object **body, struct proto_error *err)
{
	struct jscan j = {(const unsigned char *)text, n, 0, 0, NULL};
	enum proto_err rc = json_check(&j, max_depth);
	if (rc != PROTO_OK) {
		fail(err, rc, base + j.off, "%s", j.why);
		return rc;
	}
	if (n > INT32_MAX) {
		fail(err, PROTO_ERR_LINE_TOO_LONG, base, "payload too large for the JSON parser");
		return PROTO_ERR_LINE_TOO_LONG;
	}
	/* json-c counts the scalar under the deepest container as a level. */
	struct json_tokener *tok = json_tokener_new_ex(max_depth + 2);
	if (tok == NULL) {
		fail(err, PROTO_ERR_INTERNAL, base, "out of memory");
		return PROTO_ERR_INTERNAL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_object *o = json_tokener_parse_ex(tok, text, (int)n);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (o == NULL || jerr != json_tokener_success || end != n ||
	    !json_object_is_type(o, json_type_object)) {
		/* Only allocation failure gets here: json_check() accepted a
		 * subset of what json-c reads. */
		json_object_put(o);
		fail(err, PROTO_ERR_INTERNAL, base, "JSON parser failed: %s",
		     json_tokener_error_desc(jerr));
		return PROTO_ERR_INTERNAL;
	}
	struct dupscan d = {text, n, 0};
	if (!tree_check(o, &d, base, err)) {
		json_object_put(o);
		return err->code;
	}
	*body = o;
	return PROTO_OK;
}

/* ---- the line parser ---- */

void proto_msg_clear(struct proto_msg *msg)
{
	if (msg == NULL)
		return;
	json_object_put(msg->body);
	free(msg->message);
	memset(msg, 0, sizeof(*msg));
}

/* Copy a validated token into a fixed buffer. */
static void copy_token(char *dst, const char *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The first token if it is a well-formed tag followed by SP or the end. */
static size_t leading_tag(const char *line, size_t len)
{
	size_t t = span(line, len, is_tag_char);
	if (t == 0 || t > PROTO_TAG_MAX || (t < len && line[t] != ' '))
		return 0;
	return t;
}

/*
 * Read a [A-Z_]{1,32} token (with `digits`, [A-Z0-9_]) at line[*p], ending
 * at SP or the end of the line.  `what` names it in the detail.
 */
static bool read_word(const char *line, size_t len, size_t *p, char *out, const char *what,
                      bool digits, struct proto_error *err)
{
	size_t n = span(line + *p, len - *p, digits ? is_code_char : is_verb_char);
	size_t end = *p + n;
	/* read_sep() has refused a second space already. */
	if (n == 0 || (end < len && line[end] != ' ')) {
		fail(err, PROTO_ERR_SYNTAX, end, "%s must be [A-Z%s_]{1,%d}", what,
		     digits ? "0-9" : "", PROTO_VERB_MAX);
		return false;
	}
	if (n > PROTO_VERB_MAX) {
		fail(err, PROTO_ERR_SYNTAX, *p + PROTO_VERB_MAX, "%s longer than %d bytes", what,
		     PROTO_VERB_MAX);
		return false;
	}
	copy_token(out, line + *p, n);
	*p = end;
	return true;
}

/* Expect exactly one SP at line[*p] followed by something. */
static bool read_sep(const char *line, size_t len, size_t *p, const char *next,
                     struct proto_error *err)
{
	if (*p >= len) {
		fail(err, PROTO_ERR_SYNTAX, *p, "%s expected", next);
		return false;
	}
	/* read_word()/the tag reader stop only at SP or the end. */
	(*p)++;
	if (*p >= len) {
		fail(err, PROTO_ERR_SYNTAX, *p - 1, "trailing space");
		return false;
	}
	if (line[*p] == ' ') {
		fail(err, PROTO_ERR_SYNTAX, *p, "exactly one space between tokens");
		return false;
	}
	return true;
}

/* `<seq>`: a decimal uint64, no sign, no leading zero. */
static bool read_seq(const char *line, size_t len, size_t *p, uint64_t *seq,
                     struct proto_error *err)
{
	size_t i = *p;
	uint64_t v = 0;
	while (i < len && line[i] >= '0' && line[i] <= '9') {
		unsigned d = (unsigned)(line[i] - '0');
		if (v > (UINT64_MAX - d) / 10) {
			fail(err, PROTO_ERR_SYNTAX, *p, "sequence number over 2^64-1");
			return false;
		}
		v = v * 10 + d;
		i++;
	}
	if (i == *p || (i < len && line[i] != ' ')) {
		fail(err, PROTO_ERR_SYNTAX, i, "sequence number must be decimal digits");
		return false;
	}
	if (line[*p] == '0' && i - *p > 1) {
		fail(err, PROTO_ERR_SYNTAX, *p, "leading zero in sequence number");
		return false;
	}
	*seq = v;
	*p = i;
	return true;
}

static enum proto_err parse_request(const char *line, size_t len, size_t p, int depth,
                                    struct proto_msg *out, struct proto_error *err)
{
	out->kind = PROTO_MSG_REQUEST;
	if (!read_sep(line, len, &p, "verb", err))
		return err->code;
	if (!read_word(line, len, &p, out->verb, "verb", false, err))
		return err->code;
	if (p == len)
		return PROTO_OK;
	if (!read_sep(line, len, &p, "payload", err))
		return err->code;
	return parse_payload(line + p, len - p, p, depth, &out->body, err);
}

static enum proto_err parse_err_answer(const char *line, size_t len, size_t p,
                                       struct proto_msg *out, struct proto_error *err)
{
	char code[PROTO_VERB_MAX + 1];
	out->kind = PROTO_MSG_ERR;
	if (!read_sep(line, len, &p, "error code", err))
		return err->code;
	size_t at = p;
	if (!read_word(line, len, &p, code, "error code", true, err))
		return err->code;
	out->code = proto_err_parse(code);
	if (out->code == PROTO_ERR_COUNT || out->code == PROTO_OK) {
		fail(err, PROTO_ERR_SYNTAX, at, "unknown error code");
		return PROTO_ERR_SYNTAX;
	}
	if (!read_sep(line, len, &p, "message", err))
		return err->code;
	for (size_t i = p; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if ((c < 0x20 && c != '\t') || c == 0x7F) {
			fail(err, PROTO_ERR_SYNTAX, i, "control character in message");
			return PROTO_ERR_SYNTAX;
		}
	}
	out->message = malloc(len - p + 1);
	if (out->message == NULL) {
		fail(err, PROTO_ERR_INTERNAL, p, "out of memory");
		return PROTO_ERR_INTERNAL;
	}
	copy_token(out->message, line + p, len - p);
	return PROTO_OK;
}

static enum proto_err parse_server(const char *line, size_t len, size_t p, bool untagged, int depth,
                                   struct proto_msg *out, struct proto_error *err)
{
	char word[PROTO_VERB_MAX + 1];
	if (!read_sep(line, len, &p, "OK, ERR or an event", err))
		return err->code;
	size_t at = p;
	if (!read_word(line, len, &p, word, untagged ? "event" : "OK or ERR", false, err))
		return err->code;
	if (strcmp(word, "ERR") == 0)
		return parse_err_answer(line, len, p, out, err);
	if (strcmp(word, "OK") == 0) {
		if (untagged) {
			fail(err, PROTO_ERR_SYNTAX, at, "an OK answer needs a tag");
			return PROTO_ERR_SYNTAX;
		}
		out->kind = PROTO_MSG_OK;
		if (!read_sep(line, len, &p, "payload", err))
			return err->code;
		return parse_payload(line + p, len - p, p, depth, &out->body, err);
	}
	if (!untagged) {
		fail(err, PROTO_ERR_SYNTAX, at, "OK or ERR expected after a tag");
		return PROTO_ERR_SYNTAX;
	}
	out->kind = PROTO_MSG_PUSH;
	copy_token(out->verb, word, strlen(word));
	if (!read_sep(line, len, &p, "sequence number", err))
		return err->code;
	if (!read_seq(line, len, &p, &out->seq, err))
		return err->code;
	if (!read_sep(line, len, &p, "payload", err))
		return err->code;
	return parse_payload(line + p, len - p, p, depth, &out->body, err);
}

enum proto_err proto_parse_line(const char *line, size_t len, enum proto_direction from,
                                const struct proto_limits *limits, struct proto_msg *out,
                                struct proto_error *err)
{
	struct proto_limits lim = limits_effective(limits);
	enum proto_err rc;
	size_t off = 0;

	memset(out, 0, sizeof(*out));
	memset(err, 0, sizeof(*err));
	strcpy(err->tag, "*");
	if (len > 0 && line[len - 1] == '\r')
		len--;
	/* The tag first, so that even a line refused for its length or its
	 * bytes is answered under its tag. */
	size_t t = leading_tag(line, len);
	if (t > 0)
		copy_token(err->tag, line, t);
	if (len > lim.max_line) {
		fail(err, PROTO_ERR_LINE_TOO_LONG, lim.max_line, "line longer than %zu bytes",
		     lim.max_line);
		return PROTO_ERR_LINE_TOO_LONG;
	}
	if ((rc = text_check(line, len, &off)) != PROTO_OK) {
		fail(err, rc, off, "%s", rc == PROTO_ERR_NUL_BYTE ? "NUL byte" : "invalid UTF-8");
		return rc;
	}
	if (len == 0) {
		/* PROTOCOL.md: servers skip empty lines before parsing. */
		fail(err, PROTO_ERR_SYNTAX, 0, "empty line");
		return PROTO_ERR_SYNTAX;
	}
	bool untagged = from == PROTO_FROM_SERVER && line[0] == '*' && (len == 1 || line[1] == ' ');
	if (untagged) {
		t = 1;
	} else if (t == 0) {
		size_t n = span(line, len, is_tag_char);
		if (n == 0)
			fail(err, PROTO_ERR_SYNTAX, 0,
			     line[0] == ' ' ? "line starts with a space"
			                    : "line must start with a tag [A-Za-z0-9._-]{1,32}");
		else if (n > PROTO_TAG_MAX)
			fail(err, PROTO_ERR_SYNTAX, PROTO_TAG_MAX, "tag longer than %d bytes",
			     PROTO_TAG_MAX);
		else
			fail(err, PROTO_ERR_SYNTAX, n, "tag must be [A-Za-z0-9._-]{1,%d}",
			     PROTO_TAG_MAX);
		return PROTO_ERR_SYNTAX;
	}
	copy_token(out->tag, line, t);
	if (from == PROTO_FROM_CLIENT)
		rc = parse_request(line, len, t, lim.max_json_depth, out, err);
	else
		rc = parse_server(line, len, t, untagged, lim.max_json_depth, out, err);
	if (rc != PROTO_OK)
		proto_msg_clear(out);
	return rc;
}

/* ---- framing ---- */

enum proto_frame proto_frame_next(const char *buf, size_t len, size_t max_line, size_t *line_len,
                                  size_t *consumed)
{
	/* A terminator can only be CRLF or LF, so the LF of a line that fits
	 * lies within max_line + 2 bytes: look no further (Redis'
	 * processInlineBuffer keeps the same check beside the search). */
	size_t window = len > max_line && len - max_line >= 2 ? max_line + 2 : len;
	const char *lf = memchr(buf, '\n', window);

	*line_len = 0;
	*consumed = 0;
	if (lf != NULL) {
		size_t i = (size_t)(lf - buf);
		size_t n = i > 0 && buf[i - 1] == '\r' ? i - 1 : i;
		if (n <= max_line) {
			*line_len = n;
			*consumed = i + 1;
			return PROTO_FRAME_LINE;
		}
		*consumed = i; /* the LF stays: the caller discards up to it */
		return PROTO_FRAME_TOO_LONG;
	}
	/* Over the cap unless the one byte past it is the CR of a CRLF. */
	if (len > max_line && (len - max_line >= 2 || buf[max_line] != '\r')) {
		lf = memchr(buf + window, '\n', len - window);
		*consumed = lf != NULL ? (size_t)(lf - buf) : len;
		return PROTO_FRAME_TOO_LONG;
	}
	return PROTO_FRAME_NEED_MORE;
}

/* ---- serializers ---- */

/* The body's JSON text, or NULL if it cannot go on the wire. */
static const char *body_text(const json_object *body, size_t *n)
{
	static const char empty[] = "{}";
	if (body == NULL) {
		*n = 2;
		return empty;
	}
	if (!json_object_is_type(body, json_type_object))
		return NULL;
	/* json-c caches the text inside the object, hence the cast. */
	const char *s = json_object_to_json_string_length(
	    (json_object *)body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, n);
	if (s == NULL)
		return NULL;
	/* Never emit what our own parser would refuse (NaN, \u0000, invalid
	 * UTF-8 in a string, nesting over the default depth, huge integers). */
	size_t off;
	struct jscan j = {(const unsigned char *)s, *n, 0, 0, NULL};
	if (text_check(s, *n, &off) != PROTO_OK || json_check(&j, PROTO_MAX_JSON_DEPTH) != PROTO_OK)
		return NULL;
	return s;
}

/* Join up to four parts with single spaces and a final LF. */
static char *join_line(const char *const *parts, const size_t *lens, size_t count, size_t *len)
{
	size_t total = 1;
	for (size_t i = 0; i < count; i++)
		total += lens[i] + (i > 0);
	char *line = malloc(total + 1);
	if (line == NULL)
		return NULL;
	size_t p = 0;
	for (size_t i = 0; i < count; i++) {
		if (i > 0)
			line[p++] = ' ';
		memcpy(line + p, parts[i], lens[i]);
		p += lens[i];
	}
	line[p++] = '\n';
	line[p] = '\0';
	if (len != NULL)
		*len = p;
	return line;
}

static bool valid_tag(const char *tag)
{
	return valid_token(tag, PROTO_TAG_MAX, is_tag_char);
}

static bool valid_word(const char *word)
{
	return valid_token(word, PROTO_VERB_MAX, is_verb_char);
}

char *proto_format_request(const char *tag, const char *verb, const json_object *body, size_t *len)
{
	size_t n = 0;
	const char *json = NULL;
	if (!valid_tag(tag) || !valid_word(verb))
		return NULL;
	if (body != NULL && (json = body_text(body, &n)) == NULL)
		return NULL;
	const char *parts[] = {tag, verb, json};
	size_t lens[] = {strlen(tag), strlen(verb), n};
	return join_line(parts, lens, body != NULL ? 3 : 2, len);
}

char *proto_format_ok(const char *tag, const json_object *body, size_t *len)
{
	size_t n;
	const char *json;
	if (!valid_tag(tag) || (json = body_text(body, &n)) == NULL)
		return NULL;
	const char *parts[] = {tag, "OK", json};
	size_t lens[] = {strlen(tag), 2, n};
	return join_line(parts, lens, 3, len);
}

char *proto_format_err(const char *tag, enum proto_err code, const char *message, size_t *len)
{
	if (tag == NULL)
		tag = "*";
	if ((strcmp(tag, "*") != 0 && !valid_tag(tag)) || code <= PROTO_OK ||
	    code >= PROTO_ERR_COUNT)
		return NULL;
	if (message == NULL)
		message = "";
	/* One answer stays one line: controls become spaces, bytes that are
	 * not UTF-8 become '?'; leading spaces go (the grammar has exactly
	 * one before the message). */
	size_t mlen = strlen(message);
	char *clean = malloc(mlen + 1);
	if (clean == NULL)
		return NULL;
	const unsigned char *m = (const unsigned char *)message;
	size_t i = 0, o = 0;
	while (i < mlen) {
		size_t k = utf8_seq(m + i, mlen - i);
		if (k == 0) {
			clean[o++] = '?';
			i++;
		} else if (k == 1 &&
		           ((m[i] < 0x20 && m[i] != '\t') || m[i] == 0x7F || m[i] == ' ')) {
			if (o > 0)
				clean[o++] = ' ';
			i++;
		} else {
			memcpy(clean + o, m + i, k);
			o += k;
			i += k;
		}
	}
	const char *text = clean;
	if (o == 0) {
		/* Never an empty message: the code's own words. */
		text = err_table[code].text;
		o = strlen(text);
	}
	const char *name = err_table[code].name;
	const char *parts[] = {tag, "ERR", name, text};
	size_t lens[] = {strlen(tag), 3, strlen(name), o};
	char *line = join_line(parts, lens, 4, len);
	free(clean);
	return line;
}

char *proto_format_push(const char *event, uint64_t seq, const json_object *body, size_t *len)
{
	char num[24];
	size_t n;
	const char *json;
	/* "* OK" and "* ERR" are answers, never events. */
	if (!valid_word(event) || strcmp(event, "OK") == 0 || strcmp(event, "ERR") == 0)
		return NULL;
	if ((json = body_text(body, &n)) == NULL)
		return NULL;
	int w = snprintf(num, sizeof(num), "%llu", (unsigned long long)seq);
	const char *parts[] = {"*", event, num, json};
	size_t lens[] = {1, strlen(event), (size_t)w, n};
	return join_line(parts, lens, 4, len);
}
