/*
 * test_proto_codec.c - the line codec and the verb table (proto/codec.c,
 * proto/verbs.c) against proto/PROTOCOL.md: round trips of every verb and
 * push, the malformed-line table in tests/data/malformed_lines.tsv, framing,
 * limits, and the spec's role and error tables.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "sla_types.h"

/* ---- helpers ---- */

/* A file of the source tree, found from this file's own path. */
static char *source_path(const char *rel)
{
	static const char me[] = "unit/test_proto_codec.c";
	const char *file = __FILE__;
	size_t n = strlen(file), k = strlen(me);
	assert_true(n >= k && strcmp(file + n - k, me) == 0);
	char *path = malloc(n - k + strlen(rel) + 1);
	assert_non_null(path);
	memcpy(path, file, n - k);
	strcpy(path + n - k, rel);
	return path;
}

static char *slurp(const char *rel, size_t *len)
{
	char *path = source_path(rel);
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	free(path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

static json_object *J(const char *text)
{
	json_object *o = json_tokener_parse(text);
	if (o == NULL)
		fail_msg("bad fixture JSON: %s", text);
	return o;
}

static enum proto_err parse_c(const char *line, struct proto_msg *m, struct proto_error *e)
{
	return proto_parse_line(line, strlen(line), PROTO_FROM_CLIENT, NULL, m, e);
}

static enum proto_err parse_s(const char *line, struct proto_msg *m, struct proto_error *e)
{
	return proto_parse_line(line, strlen(line), PROTO_FROM_SERVER, NULL, m, e);
}

static enum proto_err validate(const char *verb, json_object *body, struct proto_error *e)
{
	struct proto_msg m;
	memset(&m, 0, sizeof(m));
	m.kind = PROTO_MSG_REQUEST;
	strcpy(m.tag, "t1");
	snprintf(m.verb, sizeof(m.verb), "%s", verb);
	m.body = body;
	return proto_validate_request(&m, e);
}

static void expect_valid(const char *verb, const char *json)
{
	struct proto_error e;
	json_object *o = J(json);
	enum proto_err rc = validate(verb, o, &e);
	if (rc != PROTO_OK)
		fail_msg("%s %s: %s %s", verb, json, proto_err_name(rc), e.detail);
	json_object_put(o);
}

static void expect_invalid(const char *verb, const char *json, enum proto_err code,
                           const char *needle)
{
	struct proto_error e;
	json_object *o = J(json);
	enum proto_err rc = validate(verb, o, &e);
	if (rc != code)
		fail_msg("%s %s: got %s (%s), want %s", verb, json, proto_err_name(rc), e.detail,
		         proto_err_name(code));
	if (needle != NULL && strstr(e.detail, needle) == NULL)
		fail_msg("%s %s: detail \"%s\" lacks \"%s\"", verb, json, e.detail, needle);
	assert_string_equal(e.tag, "t1");
	json_object_put(o);
}

static char *format_msg(const struct proto_msg *m, size_t *len)
{
	switch (m->kind) {
	case PROTO_MSG_REQUEST:
		return proto_format_request(m->tag, m->verb, m->body, len);
	case PROTO_MSG_OK:
		return proto_format_ok(m->tag, m->body, len);
	case PROTO_MSG_ERR:
		return proto_format_err(m->tag, m->code, m->message, len);
	case PROTO_MSG_PUSH:
		return proto_format_push(m->verb, m->seq, m->body, len);
	}
	return NULL;
}

static void assert_msg_equal(const struct proto_msg *a, const struct proto_msg *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_string_equal(a->tag, b->tag);
	assert_string_equal(a->verb, b->verb);
	assert_int_equal(a->code, b->code);
	assert_true((a->message == NULL) == (b->message == NULL));
	if (a->message != NULL)
		assert_string_equal(a->message, b->message);
	assert_true(a->seq == b->seq);
	assert_true((a->body == NULL) == (b->body == NULL));
	if (a->body != NULL)
		assert_true(json_object_equal(a->body, b->body));
}

/* format -> parse -> equal, and a second format gives the same bytes. */
static void roundtrip(const struct proto_msg *m)
{
	enum proto_direction dir =
	    m->kind == PROTO_MSG_REQUEST ? PROTO_FROM_CLIENT : PROTO_FROM_SERVER;
	size_t len = 0, len2 = 0;
	char *line = format_msg(m, &len);
	assert_non_null(line);
	assert_int_equal(strlen(line), len);
	assert_true(len >= 1 && line[len - 1] == '\n');
	assert_null(memchr(line, '\n', len - 1));

	struct proto_msg back;
	struct proto_error e;
	enum proto_err rc = proto_parse_line(line, len - 1, dir, NULL, &back, &e);
	if (rc != PROTO_OK)
		fail_msg("%s: %s at %zu: %s", line, proto_err_name(rc), e.offset, e.detail);
	assert_msg_equal(m, &back);
	char *again = format_msg(&back, &len2);
	assert_non_null(again);
	assert_int_equal(len, len2);
	assert_memory_equal(line, again, len);
	free(again);
	free(line);
	proto_msg_clear(&back);
}

/* ---- names ---- */

static void test_err_names(void **state)
{
	(void)state;
	for (int i = 0; i < PROTO_ERR_COUNT; i++) {
		const char *name = proto_err_name((enum proto_err)i);
		assert_int_equal(proto_err_parse(name), i);
	}
	assert_string_equal(proto_err_name(PROTO_ERR_BAD_JSON), "BAD_JSON");
	assert_string_equal(proto_err_name(PROTO_ERR_COUNT), "INVALID");
	assert_string_equal(proto_err_name((enum proto_err) - 1), "INVALID");
	assert_int_equal(proto_err_parse("NOPE"), PROTO_ERR_COUNT);
	assert_int_equal(proto_err_parse(NULL), PROTO_ERR_COUNT);
	/* Only these end the connection (PROTOCOL.md "Error codes"). */
	for (int i = 0; i < PROTO_ERR_COUNT; i++) {
		bool closes = i == PROTO_ERR_UNAUTHENTICATED || i == PROTO_ERR_TIMEOUT ||
		              i == PROTO_ERR_SHUTTING_DOWN;
		assert_int_equal(proto_err_keeps_connection((enum proto_err)i), !closes);
	}
	assert_false(proto_err_keeps_connection(PROTO_ERR_COUNT));
	assert_false(proto_err_keeps_connection((enum proto_err) - 5));
}

static void test_role_names(void **state)
{
	(void)state;
	static const struct {
		enum proto_role role;
		const char *name;
	} cases[] = {
	    {PROTO_ROLE_HOTLINE, "hotline"},
	    {PROTO_ROLE_ENGINEER, "engineer"},
	    {PROTO_ROLE_MONITOR, "monitor"},
	    {PROTO_ROLE_ADMIN, "admin"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_string_equal(proto_role_name(cases[i].role), cases[i].name);
		assert_int_equal(proto_role_parse(cases[i].name), cases[i].role);
	}
	assert_string_equal(proto_role_name((enum proto_role)3), "invalid");
	assert_int_equal(proto_role_parse("root"), 0);
	assert_int_equal(proto_role_parse(NULL), 0);
	struct proto_limits l = proto_limits_default();
	assert_int_equal(l.max_line, 65536);
	assert_int_equal(l.max_json_depth, 16);
}

/* ---- the verb table ---- */

/* /tmp/verbs.txt of the protocol issue: the names are fixed. */
static const char *const fixed_verbs[] = {
    "HELLO",
    "PING",
    "QUIT",
    "REPORT",
    "FIND_CUSTOMER",
    "NOTE",
    "SHOW",
    "LIST",
    "FEEDBACK",
    "ALERT",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "ACKNOWLEDGE",
    "RECEIPT",
    "DISPATCH",
    "ARRIVE",
    "RESTORE",
    "RECLASSIFY",
    "PAUSE",
    "RESUME",
    "ASSIGN",
    "CLOSE",
    "REOPEN",
    "CANCEL",
    "SET_CAUSE",
    "CUSTOMER_ADD",
    "CUSTOMER_UPDATE",
    "CUSTOMER_SHOW",
    "CONTRACT_ADD",
    "CONTRACT_UPDATE",
    "EQUIPMENT_ADD",
    "EQUIPMENT_UPDATE",
    "PRINCIPAL_ADD",
    "PRINCIPAL_UPDATE",
    "ROTA_ADD",
    "POLICY_SET",
    "POLICY_SHOW",
    "RULES_SET",
    "RULES_SHOW",
    "WARRANTY",
    "COMPLIANCE",
    "TASKS",
    "TASK_DONE",
    "STATS",
};
#define N_FIXED (sizeof(fixed_verbs) / sizeof(fixed_verbs[0]))

static size_t verb_count(void)
{
	size_t n = 0;
	while (proto_verbs[n].name != NULL)
		n++;
	return n;
}

static void test_verb_table(void **state)
{
	(void)state;
	assert_int_equal(verb_count(), N_FIXED);
	for (size_t i = 0; i < N_FIXED; i++) {
		const struct proto_verb *v = proto_verb_find(fixed_verbs[i]);
		if (v == NULL)
			fail_msg("verb %s missing from proto_verbs[]", fixed_verbs[i]);
		assert_string_equal(v->name, fixed_verbs[i]);
	}
	assert_null(proto_verb_find("FROB"));
	assert_null(proto_verb_find(NULL));
	assert_null(proto_verb_find("hello"));
	for (const struct proto_verb *v = proto_verbs; v->name != NULL; v++) {
		size_t n = strlen(v->name);
		assert_true(n >= 1 && n <= PROTO_VERB_MAX);
		assert_int_equal(strspn(v->name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_"), n);
		assert_true(v->roles & PROTO_ROLE_ADMIN); /* admin may call every verb */
		assert_int_equal(v->roles & ~(unsigned)PROTO_ROLE_ALL, 0);
		assert_non_null(v->summary);
		assert_non_null(v->fields);
		assert_ptr_equal(proto_verb_find(v->name), v);
		/* A creating verb carries request_id, required, first. */
		bool has_rid =
		    v->fields[0].name != NULL && strcmp(v->fields[0].name, "request_id") == 0;
		assert_int_equal(has_rid, v->creating);
		if (has_rid)
			assert_true(v->fields[0].required);
		for (const struct proto_field *f = v->fields; f->name != NULL; f++) {
			assert_non_null(f->help);
			if (f != v->fields)
				assert_string_not_equal(f->name, "request_id");
			for (const struct proto_field *g = f + 1; g->name != NULL; g++)
				assert_string_not_equal(f->name, g->name);
		}
	}
	/* The three everyone-verbs, and only them, are open to every role. */
	for (const struct proto_verb *v = proto_verbs; v->name != NULL; v++) {
		bool all = v->roles == PROTO_ROLE_ALL;
		bool everyone = !strcmp(v->name, "HELLO") || !strcmp(v->name, "PING") ||
		                !strcmp(v->name, "QUIT");
		assert_int_equal(all, everyone);
	}
}

/* A value of the field's type that passes its rule. */
static json_object *gen_value(const struct proto_field *f)
{
	static const struct {
		const char *name, *value;
	} strings[] = {
	    {"request_id", "req-0001"},
	    {"type", "fault"},
	    {"cause", "software_quality"},
	    {"state", "reported"},
	    {"tier", "team_lead"},
	    {"role", "engineer"},
	    {"impact", "degraded"},
	    {"action", "trigger"},
	    {"remote_outcome", "failed"},
	    {"rounding", "started_day"},
	    {"onsite_from", "dispatch"},
	    {"kind", "archive"},
	    {"status", "open"},
	    {"timezone", "Asia/Shanghai"},
	};
	const char *n = f->name;
	size_t len = strlen(n);
	switch (f->type) {
	case PROTO_FIELD_STRING:
		for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
			if (strcmp(strings[i].name, n) == 0)
				return json_object_new_string(strings[i].value);
		if (len > 5 && strcmp(n + len - 5, "_date") == 0)
			return json_object_new_string("2028-02-29");
		if (len > 6 && strcmp(n + len - 6, "_month") == 0)
			return json_object_new_string("2026-11");
		return json_object_new_string("some text, 中文");
	case PROTO_FIELD_INT:
		if (!strcmp(n, "level") || !strcmp(n, "max_level") || !strcmp(n, "score"))
			return json_object_new_int64(2);
		return json_object_new_int64(!strcmp(n, "free_months") ? 48 : 7);
	case PROTO_FIELD_BOOL:
		return json_object_new_boolean(1);
	case PROTO_FIELD_TIME:
		if (!strcmp(n, "to") || !strcmp(n, "ends_at"))
			return json_object_new_string("2026-11-27T18:30:00.250+08:00");
		return json_object_new_string("2026-11-27T10:00:00Z");
	case PROTO_FIELD_OBJECT:
		return J("{\"k\":\"v\",\"n\":{\"m\":[1,2.5,null,true]}}");
	case PROTO_FIELD_ARRAY:
		if (!strcmp(n, "events"))
			return J("[\"ESCALATION\",\"TASK\"]");
		return J("[{\"name\":\"x\"},\"y\",3]");
	}
	return NULL;
}

/* A body for the verb: required fields only, or every field. */
static json_object *gen_body(const struct proto_verb *v, bool full)
{
	json_object *o = json_object_new_object();
	for (const struct proto_field *f = v->fields; f->name != NULL; f++)
		if (full || f->required)
			json_object_object_add(o, f->name, gen_value(f));
	/* Rules that tie fields together. */
	if (!strcmp(v->name, "REPORT")) {
		json_object_object_del(o, "customer_name");
		json_object_object_del(o, "customer_phone");
		json_object_object_add(o, "customer_id", json_object_new_int64(7));
	} else if (!strcmp(v->name, "FIND_CUSTOMER") && !full) {
		json_object_object_add(o, "phone", json_object_new_string("+86 10 5555 0100"));
	} else if (!strcmp(v->name, "ALERT")) {
		json_object_object_del(o, "ends_at");
		json_object_object_add(o, "starts_at",
		                       json_object_new_string("2026-11-27T10:00:00Z"));
		json_object_object_add(o, "severity", json_object_new_string("critical"));
		json_object_object_add(o, "summary", json_object_new_string("disk full"));
	} else if (strstr(v->name, "_UPDATE") != NULL && !full) {
		json_object_object_add(o, v->fields[1].name, gen_value(&v->fields[1]));
	}
	return o;
}

static void test_every_verb_roundtrips(void **state)
{
	(void)state;
	for (int full = 0; full <= 1; full++) {
		for (const struct proto_verb *v = proto_verbs; v->name != NULL; v++) {
			struct proto_msg m;
			struct proto_error e;
			memset(&m, 0, sizeof(m));
			m.kind = PROTO_MSG_REQUEST;
			snprintf(m.tag, sizeof(m.tag), "%s.%d", v->name, full);
			strcpy(m.verb, v->name);
			m.body = gen_body(v, full);
			enum proto_err rc = proto_validate_request(&m, &e);
			if (rc != PROTO_OK)
				fail_msg("%s %s: %s %s", v->name,
				         json_object_to_json_string(m.body), proto_err_name(rc),
				         e.detail);
			roundtrip(&m);
			json_object_put(m.body);
			/* And without a payload where nothing is required. */
			if (v->fields[0].name == NULL || !v->fields[0].required) {
				m.body = NULL;
				roundtrip(&m);
			}
		}
	}
}

/* Each required field missing, each field of the wrong type, an unknown one. */
static void test_every_field_checked(void **state)
{
	(void)state;
	static const char *const wrong[] = {
	    [PROTO_FIELD_STRING] = "123", [PROTO_FIELD_INT] = "\"1\"", [PROTO_FIELD_BOOL] = "1",
	    [PROTO_FIELD_TIME] = "5",     [PROTO_FIELD_OBJECT] = "[]", [PROTO_FIELD_ARRAY] = "{}",
	};
	for (const struct proto_verb *v = proto_verbs; v->name != NULL; v++) {
		struct proto_error e;
		char needle[80];
		for (const struct proto_field *f = v->fields; f->name != NULL; f++) {
			snprintf(needle, sizeof(needle), "'%s'", f->name);
			json_object *o = gen_body(v, true);
			json_object_object_add(o, f->name, J(wrong[f->type]));
			assert_int_equal(validate(v->name, o, &e), PROTO_ERR_INVALID_FIELD);
			assert_non_null(strstr(e.detail, needle));
			json_object_put(o);
			if (!f->required)
				continue;
			o = gen_body(v, false);
			json_object_object_del(o, f->name);
			assert_int_equal(validate(v->name, o, &e), PROTO_ERR_MISSING_FIELD);
			assert_non_null(strstr(e.detail, needle));
			json_object_put(o);
		}
		json_object *o = gen_body(v, true);
		json_object_object_add(o, "zzz", json_object_new_int64(1));
		assert_int_equal(validate(v->name, o, &e), PROTO_ERR_INVALID_FIELD);
		assert_string_equal(e.detail, "unknown field 'zzz'");
		json_object_put(o);
	}
}

/* The codec spells libsla's names itself (it may not depend on libsla). */
static void test_names_agree_with_libsla(void **state)
{
	(void)state;
	char buf[256];
	for (int i = 0; i < SLA_TYPE_COUNT; i++) {
		snprintf(buf, sizeof(buf),
		         "{\"request_id\":\"r\",\"symptoms\":\"s\",\"contact_name\":\"c\","
		         "\"contact_phone\":\"1\",\"customer_id\":1,\"type\":\"%s\"}",
		         sla_ticket_type_name((enum sla_ticket_type)i));
		expect_valid("REPORT", buf);
	}
	for (int i = 0; i < SLA_CAUSE_COUNT; i++) {
		snprintf(buf, sizeof(buf), "{\"ticket_id\":1,\"cause\":\"%s\"}",
		         sla_cause_name((enum sla_cause)i));
		expect_valid("RESTORE", buf);
	}
	for (int i = 0; i < SLA_STATE_COUNT; i++) {
		snprintf(buf, sizeof(buf), "{\"state\":\"%s\"}",
		         sla_ticket_state_name((enum sla_ticket_state)i));
		expect_valid("LIST", buf);
	}
	for (int i = 0; i < SLA_TIER_COUNT; i++) {
		snprintf(buf, sizeof(buf), "{\"tier\":\"%s\"}", sla_tier_name((enum sla_tier)i));
		expect_valid("SUBSCRIBE", buf);
	}
	for (unsigned r = 1; r <= PROTO_ROLE_ADMIN; r <<= 1) {
		snprintf(buf, sizeof(buf), "{\"name\":\"li\",\"role\":\"%s\"}",
		         proto_role_name((enum proto_role)r));
		expect_valid("PRINCIPAL_UPDATE", buf);
	}
	expect_invalid("RESTORE", "{\"ticket_id\":1,\"cause\":\"gremlins\"}",
	               PROTO_ERR_INVALID_FIELD, "'cause'");
	expect_invalid("LIST", "{\"state\":\"open\"}", PROTO_ERR_INVALID_FIELD, "'state'");
}

static void test_value_rules(void **state)
{
	(void)state;
	/* ranges */
	expect_valid("RECLASSIFY", "{\"ticket_id\":1,\"level\":1,\"reason\":\"r\"}");
	expect_valid("RECLASSIFY", "{\"ticket_id\":1,\"level\":4,\"reason\":\"r\"}");
	expect_invalid("RECLASSIFY", "{\"ticket_id\":1,\"level\":5,\"reason\":\"r\"}",
	               PROTO_ERR_INVALID_FIELD, "field 'level': expected integer 1..4");
	expect_invalid("FEEDBACK", "{\"request_id\":\"f\",\"ticket_id\":1,\"score\":0}",
	               PROTO_ERR_INVALID_FIELD, "'score'");
	expect_valid("FEEDBACK", "{\"request_id\":\"f\",\"ticket_id\":1,\"score\":5}");
	expect_invalid("SHOW", "{\"ticket_id\":0}", PROTO_ERR_INVALID_FIELD,
	               "field 'ticket_id': expected integer >= 1");
	expect_valid("RECEIPT", "{\"seq\":0}");
	expect_invalid("RECEIPT", "{\"seq\":-1}", PROTO_ERR_INVALID_FIELD, "'seq'");
	expect_invalid("LIST", "{\"limit\":1001}", PROTO_ERR_INVALID_FIELD, "'limit'");
	expect_invalid("HELLO", "{\"version\":0}", PROTO_ERR_INVALID_FIELD, "'version'");
	expect_valid("HELLO", "{\"version\":7,\"capabilities\":[\"x\"]}");
	/* request_id */
	expect_valid("NOTE", "{\"request_id\":\"!~0123456789012345678901234567890123456789012345678"
	                     "9012345678901\",\"ticket_id\":1,\"text\":\"t\"}");
	expect_invalid("NOTE",
	               "{\"request_id\":\"012345678901234567890123456789012345678901234567890123"
	               "45678901234\",\"ticket_id\":1,\"text\":\"t\"}",
	               PROTO_ERR_INVALID_FIELD, "longer than 64");
	expect_invalid("NOTE", "{\"request_id\":\"é\",\"ticket_id\":1,\"text\":\"t\"}",
	               PROTO_ERR_INVALID_FIELD, "printable ASCII");
	/* strings */
	expect_invalid("NOTE", "{\"request_id\":\"r\",\"ticket_id\":1,\"text\":\"\"}",
	               PROTO_ERR_INVALID_FIELD, "must not be empty");
	/* null: optional means absent, required is refused */
	expect_valid("SHOW", "{\"ticket_id\":3,\"history\":null}");
	expect_invalid("SHOW", "{\"ticket_id\":null}", PROTO_ERR_INVALID_FIELD, "must not be null");
	/* dates, months, zones, arrays of names */
	expect_valid("WARRANTY", "{\"contract_id\":1,\"on_date\":\"2028-02-29\"}");
	expect_valid("WARRANTY", "{\"contract_id\":1,\"on_date\":\"2000-02-29\"}");
	static const char *const bad_dates[] = {
	    "2027-02-29", "1900-02-29",  "2026-04-31", "2026-00-10", "2026-13-10", "2026-1-10",
	    "0000-01-01", "2026-01-01T", "2026/01/01", "2026-01-00", "20260101",
	};
	char buf[160];
	for (size_t i = 0; i < sizeof(bad_dates) / sizeof(bad_dates[0]); i++) {
		snprintf(buf, sizeof(buf), "{\"contract_id\":1,\"on_date\":\"%s\"}", bad_dates[i]);
		expect_invalid("WARRANTY", buf, PROTO_ERR_INVALID_FIELD, "YYYY-MM-DD");
	}
	expect_valid("COMPLIANCE", "{\"from_month\":\"2026-01\",\"to_month\":\"2026-12\"}");
	expect_invalid("COMPLIANCE", "{\"from_month\":\"2026-1\"}", PROTO_ERR_INVALID_FIELD,
	               "YYYY-MM");
	expect_invalid("COMPLIANCE", "{\"from_month\":\"2026-01-01\"}", PROTO_ERR_INVALID_FIELD,
	               "YYYY-MM");
	expect_invalid("COMPLIANCE", "{\"from_month\":\"2026-12\",\"to_month\":\"2026-01\"}",
	               PROTO_ERR_INVALID_FIELD, "'to_month'");
	expect_valid("CUSTOMER_UPDATE", "{\"customer_id\":1,\"timezone\":\"America/Argentina/"
	                                "Buenos_Aires\"}");
	expect_invalid("CUSTOMER_UPDATE", "{\"customer_id\":1,\"timezone\":\"UTC; drop\"}",
	               PROTO_ERR_INVALID_FIELD, "time zone");
	expect_invalid("CUSTOMER_UPDATE",
	               "{\"customer_id\":1,\"timezone\":\"Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	               PROTO_ERR_INVALID_FIELD, "time zone");
	expect_valid("SUBSCRIBE", "{\"events\":[]}");
	expect_invalid("SUBSCRIBE", "{\"events\":[\"TASK\",1]}", PROTO_ERR_INVALID_FIELD,
	               "element 1");
	expect_valid("EQUIPMENT_UPDATE", "{\"equipment_no\":\"E-1\",\"quantity\":1000000}");
	expect_invalid("EQUIPMENT_UPDATE", "{\"equipment_no\":\"E-1\",\"quantity\":0}",
	               PROTO_ERR_INVALID_FIELD, "'quantity'");
}

static void test_times(void **state)
{
	(void)state;
	static const char *const good[] = {
	    "2026-11-27T10:00:00Z",           "2026-11-27T23:59:59Z",
	    "2028-02-29T00:00:00Z",           "2026-11-27T10:00:00.5Z",
	    "2026-11-27T10:00:00.123456789Z", "2026-11-27T10:00:00+08:00",
	    "2026-11-27T10:00:00-23:59",      "0001-01-01T00:00:00Z",
	    "9999-12-31T23:59:59Z",
	};
	static const char *const bad[] = {
	    "2026-11-27T10:00:00",
	    "2026-11-27t10:00:00Z",
	    "2026-11-27T10:00:00z",
	    "2026-11-27 10:00:00Z",
	    "2026-11-27T24:00:00Z",
	    "2026-11-27T10:60:00Z",
	    "2026-11-27T10:00:60Z",
	    "2026-11-27T10:00:00.Z",
	    "2026-11-27T10:00:00.1234567890Z",
	    "2026-11-27T10:00:00+0800",
	    "2026-11-27T10:00:00+24:00",
	    "2026-11-27T10:00:00+08:60",
	    "2026-11-27T10:00:00Zjunk",
	    "2027-02-29T10:00:00Z",
	    "2026-11-27T1:00:00Z",
	    "2026-11-27T10-00:00Z",
	    "2026-11-27T10:00-00Z",
	    "2026-11-27T10:00:00+08-00",
	};
	char buf[256];
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(buf, sizeof(buf), "{\"due_before\":\"%s\"}", good[i]);
		expect_valid("TASKS", buf);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "{\"due_before\":\"%s\"}", bad[i]);
		expect_invalid("TASKS", buf, PROTO_ERR_INVALID_FIELD, "RFC 3339");
	}
	/* Offsets count when comparing: 18:00+08:00 is 10:00Z. */
	expect_invalid("ROTA_ADD",
	               "{\"request_id\":\"r\",\"team\":\"t\",\"principal\":\"p\",\"from\":"
	               "\"2026-11-27T10:00:00Z\",\"to\":\"2026-11-27T18:00:00+08:00\"}",
	               PROTO_ERR_INVALID_FIELD, "'to'");
	expect_valid("ROTA_ADD",
	             "{\"request_id\":\"r\",\"team\":\"t\",\"principal\":\"p\",\"from\":"
	             "\"2026-11-27T10:00:00Z\",\"to\":\"2026-11-27T18:00:01+08:00\"}");
}

static void test_cross_rules(void **state)
{
	(void)state;
	const char *base = "\"request_id\":\"r\",\"symptoms\":\"s\",\"contact_name\":\"c\","
	                   "\"contact_phone\":\"1\"";
	char buf[512];
	snprintf(buf, sizeof(buf), "{%s,\"customer_name\":\"Acme\",\"customer_phone\":\"2\"}",
	         base);
	expect_valid("REPORT", buf);
	snprintf(buf, sizeof(buf), "{%s,\"customer_phone\":\"2\"}", base);
	expect_invalid("REPORT", buf, PROTO_ERR_MISSING_FIELD, "'customer_name'");
	snprintf(buf, sizeof(buf), "{%s,\"customer_name\":\"Acme\"}", base);
	expect_invalid("REPORT", buf, PROTO_ERR_MISSING_FIELD, "'customer_phone'");
	snprintf(buf, sizeof(buf), "{%s,\"customer_id\":4,\"customer_phone\":\"2\"}", base);
	expect_invalid("REPORT", buf, PROTO_ERR_INVALID_FIELD, "not both");
	snprintf(buf, sizeof(buf), "{%s,\"customer_id\":4,\"customer_name\":null}", base);
	expect_valid("REPORT", buf);

	expect_valid("FIND_CUSTOMER", "{\"equipment_no\":\"E-7\"}");
	expect_valid("FIND_CUSTOMER", "{\"name\":\"Acme\"}");
	expect_invalid("FIND_CUSTOMER", "{}", PROTO_ERR_MISSING_FIELD, "'phone', 'name'");
	expect_invalid("FIND_CUSTOMER", "{\"phone\":null}", PROTO_ERR_MISSING_FIELD, NULL);

	const char *al = "\"request_id\":\"a\",\"dedup_key\":\"k\"";
	snprintf(buf, sizeof(buf), "{%s,\"action\":\"resolve\"}", al);
	expect_valid("ALERT", buf);
	snprintf(buf, sizeof(buf),
	         "{%s,\"action\":\"resolve\",\"starts_at\":\"2026-11-27T10:00:00Z\","
	         "\"ends_at\":\"2026-11-27T10:00:00Z\"}",
	         al);
	expect_valid("ALERT", buf);
	snprintf(buf, sizeof(buf),
	         "{%s,\"action\":\"resolve\",\"starts_at\":\"2026-11-27T10:00:00Z\","
	         "\"ends_at\":\"2026-11-27T09:59:59Z\"}",
	         al);
	expect_invalid("ALERT", buf, PROTO_ERR_INVALID_FIELD, "'ends_at'");
	snprintf(buf, sizeof(buf),
	         "{%s,\"action\":\"trigger\",\"starts_at\":\"2026-11-27T10:00:00Z\","
	         "\"severity\":\"critical\"}",
	         al);
	expect_invalid("ALERT", buf, PROTO_ERR_MISSING_FIELD, "'summary'");
	snprintf(buf, sizeof(buf),
	         "{%s,\"action\":\"trigger\",\"starts_at\":\"2026-11-27T10:00:00Z\","
	         "\"summary\":\"x\"}",
	         al);
	expect_invalid("ALERT", buf, PROTO_ERR_MISSING_FIELD, "'severity'");

	expect_invalid("PRINCIPAL_UPDATE", "{\"name\":\"li\"}", PROTO_ERR_MISSING_FIELD,
	               "nothing to update");
	expect_valid("PRINCIPAL_UPDATE", "{\"name\":\"li\",\"team\":null}");
	expect_invalid("CONTRACT_UPDATE", "{\"contract_id\":2}", PROTO_ERR_MISSING_FIELD,
	               "'contract_id'");
	struct proto_error e;
	assert_int_equal(validate("CONTRACT_UPDATE", NULL, &e), PROTO_ERR_MISSING_FIELD);
	assert_int_equal(validate("PING", NULL, &e), PROTO_OK);
	assert_int_equal(validate("STATS", NULL, &e), PROTO_OK);
}

static void test_validate_odd_messages(void **state)
{
	(void)state;
	struct proto_msg m;
	struct proto_error e;
	memset(&m, 0, sizeof(m));
	m.kind = PROTO_MSG_OK;
	strcpy(m.verb, "PING");
	assert_int_equal(proto_validate_request(&m, &e), PROTO_ERR_SYNTAX);
	assert_string_equal(e.tag, "*");
	m.kind = PROTO_MSG_REQUEST;
	strcpy(m.tag, "x");
	strcpy(m.verb, "FROB");
	assert_int_equal(proto_validate_request(&m, &e), PROTO_ERR_UNKNOWN_VERB);
	assert_string_equal(e.tag, "x");
	strcpy(m.verb, "PING");
	m.body = json_object_new_array();
	assert_int_equal(proto_validate_request(&m, &e), PROTO_ERR_BAD_JSON);
	json_object_put(m.body);
	proto_msg_clear(NULL);
}

/* ---- answers and pushes ---- */

static void test_pushes_roundtrip(void **state)
{
	(void)state;
	static const uint64_t seqs[] = {0, 1, 42, 9223372036854775807ull, UINT64_MAX};
	struct proto_msg m;
	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		memset(&m, 0, sizeof(m));
		m.kind = PROTO_MSG_PUSH;
		strcpy(m.tag, "*"); /* pushes are untagged */
		strcpy(m.verb, "ESCALATION");
		m.seq = seqs[i];
		m.body =
		    J("{\"ticket_id\":17,\"customer_id\":3,\"customer_name\":\"Acme 甲\","
		      "\"level\":1,\"clock\":\"response\",\"step\":\"breach\",\"fraction\":1.0,"
		      "\"tier\":\"engineer\",\"due_at\":\"2026-11-27T10:30:00Z\","
		      "\"fired_at\":\"2026-11-27T10:30:00Z\",\"late\":false,\"cycle\":1}");
		roundtrip(&m);
		json_object_put(m.body);
		strcpy(m.verb, "TASK");
		m.body = J("{\"task_id\":9,\"kind\":\"satisfaction_call\",\"customer_id\":3,"
		           "\"due_at\":\"2026-11-30T00:00:00Z\",\"ticket_id\":17,\"late\":true}");
		roundtrip(&m);
		json_object_put(m.body);
	}
	/* A push without a body is sent with {} and read back so. */
	size_t len;
	char *line = proto_format_push("TASK", 5, NULL, &len);
	assert_string_equal(line, "* TASK 5 {}\n");
	free(line);
	line = proto_format_push("ESCALATION", 18446744073709551615ull, NULL, NULL);
	assert_string_equal(line, "* ESCALATION 18446744073709551615 {}\n");
	free(line);
}

static void test_answers_roundtrip(void **state)
{
	(void)state;
	struct proto_msg m;
	memset(&m, 0, sizeof(m));
	m.kind = PROTO_MSG_OK;
	strcpy(m.tag, "a-1.B_2");
	m.body = J("{\"ticket_id\":1,\"due\":{\"response\":\"2026-11-27T10:30:00Z\"},"
	           "\"history\":[{\"kind\":\"reported\"}],\"x\":-0.5e-3,\"s\":\"\\\"/\\\\\\n\"}");
	roundtrip(&m);
	json_object_put(m.body);
	m.body = json_object_new_object();
	roundtrip(&m);
	json_object_put(m.body);
	m.body = NULL;

	m.kind = PROTO_MSG_ERR;
	for (int c = 1; c < PROTO_ERR_COUNT; c++) {
		m.code = (enum proto_err)c;
		m.message = (char *)"field 'level': expected integer 1..4\t(级别)";
		roundtrip(&m);
	}
	strcpy(m.tag, "*");
	m.code = PROTO_ERR_SYNTAX;
	roundtrip(&m);
	m.message = NULL;

	size_t len;
	char *line = proto_format_ok("t9", NULL, &len);
	assert_string_equal(line, "t9 OK {}\n");
	assert_int_equal(len, 9);
	free(line);
	line = proto_format_err(NULL, PROTO_ERR_TIMEOUT, NULL, NULL);
	assert_string_equal(line, "* ERR TIMEOUT deadline passed\n");
	free(line);
	line = proto_format_err("t1", PROTO_ERR_NOT_FOUND, "", NULL);
	assert_string_equal(line, "t1 ERR NOT_FOUND no such object\n");
	free(line);
	/* One answer stays one line, in UTF-8. */
	line = proto_format_err("t1", PROTO_ERR_INTERNAL, "a\r\nb\x01\x7f\xff\xc3 (é", &len);
	assert_string_equal(line, "t1 ERR INTERNAL a  b  ?? (é\n");
	assert_int_equal(len, strlen(line));
	free(line);
	/* The message never starts with a space, and is never empty. */
	line = proto_format_err("t1", PROTO_ERR_SYNTAX, "  \r\n\t x ", NULL);
	assert_string_equal(line, "t1 ERR SYNTAX \t x \n");
	free(line);
	line = proto_format_err("t1", PROTO_ERR_SYNTAX, " \x01\r", NULL);
	assert_string_equal(line, "t1 ERR SYNTAX line does not follow the grammar\n");
	free(line);
	line = proto_format_request("t1", "PING", NULL, NULL);
	assert_string_equal(line, "t1 PING\n");
	free(line);
	json_object *o = J("{\"a\":\"x/y\"}");
	line = proto_format_request("t1", "PING", o, NULL);
	assert_string_equal(line, "t1 PING {\"a\":\"x/y\"}\n");
	free(line);
	json_object_put(o);
}

static void test_format_refuses(void **state)
{
	(void)state;
	json_object *arr = json_object_new_array();
	json_object *obj = json_object_new_object();
	assert_null(proto_format_request("", "PING", NULL, NULL));
	assert_null(proto_format_request(NULL, "PING", NULL, NULL));
	assert_null(proto_format_request("*", "PING", NULL, NULL));
	assert_null(proto_format_request("a b", "PING", NULL, NULL));
	assert_null(proto_format_request("t123456789012345678901234567890123", "PING", NULL, NULL));
	assert_null(proto_format_request("t1", "ping", NULL, NULL));
	assert_null(proto_format_request("t1", NULL, NULL, NULL));
	assert_null(proto_format_request("t1", "", NULL, NULL));
	assert_null(proto_format_request("t1", "PING", arr, NULL));
	assert_null(proto_format_ok("*", obj, NULL));
	assert_null(proto_format_ok("t1", arr, NULL));
	assert_null(proto_format_err("t 1", PROTO_ERR_SYNTAX, "x", NULL));
	assert_null(proto_format_err("t1", PROTO_OK, "x", NULL));
	assert_null(proto_format_err("t1", PROTO_ERR_COUNT, "x", NULL));
	assert_null(proto_format_push("OK", 1, obj, NULL));
	assert_null(proto_format_push("ERR", 1, obj, NULL));
	assert_null(proto_format_push("esc", 1, obj, NULL));
	assert_null(proto_format_push("TASK", 1, arr, NULL));
	/* Nothing our own parser would refuse goes on the wire. */
	json_object_object_add(obj, "n", json_object_new_double(0.0 / 0.0));
	assert_null(proto_format_ok("t1", obj, NULL));
	json_object_object_add(obj, "n", json_object_new_string_len("a\0b", 3));
	assert_null(proto_format_ok("t1", obj, NULL));
	json_object_object_add(obj, "n", json_object_new_string("\xff"));
	assert_null(proto_format_ok("t1", obj, NULL));
	json_object_object_add(obj, "n", json_object_new_uint64(UINT64_MAX));
	assert_null(proto_format_ok("t1", obj, NULL));
	json_object_object_del(obj, "n");
	json_object *deep = json_object_new_object();
	for (int i = 0; i < PROTO_MAX_JSON_DEPTH; i++) {
		json_object *up = json_object_new_object();
		json_object_object_add(up, "a", deep);
		deep = up;
	}
	assert_null(proto_format_ok("t1", deep, NULL));
	json_object_put(deep);
	json_object_put(arr);
	json_object_put(obj);
}

/* ---- parsing ---- */

static void test_parse_requests(void **state)
{
	(void)state;
	struct proto_msg m;
	struct proto_error e;
	assert_int_equal(parse_c("t1 PING", &m, &e), PROTO_OK);
	assert_int_equal(m.kind, PROTO_MSG_REQUEST);
	assert_string_equal(m.tag, "t1");
	assert_string_equal(m.verb, "PING");
	assert_null(m.body);
	proto_msg_clear(&m);
	assert_int_equal(parse_c("a.b-c_D.99 SHOW {\"ticket_id\":5}\r", &m, &e), PROTO_OK);
	assert_string_equal(m.tag, "a.b-c_D.99");
	json_object *v;
	assert_true(json_object_object_get_ex(m.body, "ticket_id", &v));
	assert_int_equal(json_object_get_int64(v), 5);
	proto_msg_clear(&m);
	/* Whitespace inside the object is JSON's business. */
	assert_int_equal(parse_c("t SHOW { \"ticket_id\" :\t5 , \"history\" : [ ] }", &m, &e),
	                 PROTO_OK);
	proto_msg_clear(&m);
	/* 32-byte tag and verb are the longest. */
	assert_int_equal(parse_c("t1234567890123456789012345678901 "
	                         "ABCDEFGHIJKLMNOPQRSTUVWXYZ_ABCDE",
	                         &m, &e),
	                 PROTO_OK);
	proto_msg_clear(&m);
	/* Unicode: escapes and raw UTF-8, a surrogate pair, 4-byte forms. */
	assert_int_equal(
	    parse_c("t1 NOTE {\"text\":\"\\u00e9\\ud83d\\ude00 é😀 \\u2028\\/\\b\\f\\n\\r\\t\"}", &m,
	            &e),
	    PROTO_OK);
	assert_true(json_object_object_get_ex(m.body, "text", &v));
	assert_string_equal(json_object_get_string(v), "é😀 é😀 \u2028/\b\f\n\r\t");
	proto_msg_clear(&m);
	/* Numbers at the edges of int64. */
	assert_int_equal(parse_c("t1 X {\"a\":-9223372036854775808,\"b\":9223372036854775807,"
	                         "\"c\":-0,\"d\":0.0,\"e\":1E+2,\"f\":-1.5e-400}",
	                         &m, &e),
	                 PROTO_OK);
	proto_msg_clear(&m);
	assert_int_equal(parse_c("t1 X {\"a\":9223372036854775808}", &m, &e),
	                 PROTO_ERR_INVALID_FIELD);
	assert_int_equal(parse_c("t1 X {\"a\":-9223372036854775809}", &m, &e),
	                 PROTO_ERR_INVALID_FIELD);
	assert_int_equal(parse_c("t1 X {\"a\":[1e400]}", &m, &e), PROTO_ERR_INVALID_FIELD);
	assert_string_equal(e.detail, "number out of range");
	/* Failure leaves *out empty and names the tag. */
	assert_int_equal(parse_c("tag7 PING {\"a\":", &m, &e), PROTO_ERR_BAD_JSON);
	assert_int_equal(m.kind, 0);
	assert_null(m.body);
	assert_string_equal(m.tag, "");
	assert_string_equal(e.tag, "tag7");
	assert_int_equal(e.offset, 15);
	assert_string_equal(e.detail, "unexpected end of JSON");
	/* An empty line is a SYNTAX error here; servers skip it first. */
	assert_int_equal(proto_parse_line("", 0, PROTO_FROM_CLIENT, NULL, &m, &e),
	                 PROTO_ERR_SYNTAX);
	assert_int_equal(proto_parse_line("\r", 1, PROTO_FROM_CLIENT, NULL, &m, &e),
	                 PROTO_ERR_SYNTAX);
	assert_string_equal(e.detail, "empty line");
	/* Not NUL-terminated: never reads past len. */
	char raw[7];
	memcpy(raw, "t1 PING", 7);
	assert_int_equal(proto_parse_line(raw, 7, PROTO_FROM_CLIENT, NULL, &m, &e), PROTO_OK);
	proto_msg_clear(&m);
}

static void test_error_positions(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		enum proto_err code;
		size_t offset;
		const char *tag;
	} cases[] = {
	    {"t1 PING {\"a\":\"\xc3\"}", PROTO_ERR_BAD_UTF8, 14, "t1"},
	    {"t1 PING {\"a\":\"\xe2\x82\xac\xed\xa0\x80\"}", PROTO_ERR_BAD_UTF8, 17, "t1"},
	    {"\xc3\xa9 PING", PROTO_ERR_SYNTAX, 0, "*"},
	    {"ab\xc3\xa9 PING", PROTO_ERR_SYNTAX, 2, "*"},
	    {"t1 PING {\"a\":01}", PROTO_ERR_BAD_JSON, 13, "t1"},
	    {"t1 PING {\"a\":1} ", PROTO_ERR_BAD_JSON, 15, "t1"},
	    {"t1  PING", PROTO_ERR_SYNTAX, 3, "t1"},
	    {"t1 PING ", PROTO_ERR_SYNTAX, 7, "t1"},
	    {"t1", PROTO_ERR_SYNTAX, 2, "t1"},
	    {"t1 ping", PROTO_ERR_SYNTAX, 3, "t1"},
	    {"t12345678901234567890123456789012 PING", PROTO_ERR_SYNTAX, 32, "*"},
	    {"t1 ABCDEFGHIJKLMNOPQRSTUVWXYZ_ABCDEF", PROTO_ERR_SYNTAX, 35, "t1"},
	    {" t1 PING", PROTO_ERR_SYNTAX, 0, "*"},
	    {"t1,PING", PROTO_ERR_SYNTAX, 2, "*"},
	    {"t1 SHOW {\"ticket_id\":1,\"ticket_id\":2}", PROTO_ERR_INVALID_FIELD, 23, "t1"},
	    {"t1 X {\"a\":{\"b\":1,\"c\":{},\"\\u0062\":2}}", PROTO_ERR_INVALID_FIELD, 24, "t1"},
	    {"t1 X {\"a\":\"\\u12", PROTO_ERR_BAD_JSON, 11, "t1"},
	    {"t1 X {\"a\":\"\\", PROTO_ERR_BAD_JSON, 11, "t1"},
	    {"t1 X {\"a\":\"\\uD83D\\uDE0", PROTO_ERR_BAD_JSON, 11, "t1"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proto_msg m;
		struct proto_error e;
		enum proto_err rc = parse_c(cases[i].line, &m, &e);
		if (rc != cases[i].code || e.offset != cases[i].offset)
			fail_msg("%s: got %s at %zu (%s), want %s at %zu", cases[i].line,
			         proto_err_name(rc), e.offset, e.detail,
			         proto_err_name(cases[i].code), cases[i].offset);
		assert_string_equal(e.tag, cases[i].tag);
		assert_int_equal(e.code, rc);
	}
}

static void test_duplicate_keys(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		const char *detail; /* NULL: accepted */
	} cases[] = {
	    {"t X {\"a\":1,\"a\":1}", "duplicate key \"a\""},
	    {"t X {\"a\":{\"b\":1},\"c\":[{\"d\":1},{\"d\":2,\"e\":3,\"d\":4}]}",
	     "duplicate key \"d\""},
	    {"t X {\"a\":{\"x\":1,\"x\":2},\"a\":{\"y\":1}}", "duplicate key \"a\""},
	    {"t X {\"k\\u00e9\":1,\"ké\":2}", "duplicate key \"ké\""},
	    {"t X {\"a:{\":1,\"a\":{\"a:{\":2,\"}\":[\"{\",\"\\\"\"]},\"b\":{\"a\":1,\"a\":2}}",
	     "duplicate key \"a\""},
	    {"t X {\"a\":{\"b\":{\"c\":{\"d\":1,\"e\":2,\"d\":3}}}}", "duplicate key \"d\""},
	    /* The same key at different levels or in sibling objects is fine. */
	    {"t X {\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":1},{\"a\":2}],\"A\":1}", NULL},
	    {"t X {\"a\\\\\":1,\"a\":2,\"a\\\"\":3,\"\":4}", NULL},
	    {"t X {\"a\" :1,\"b\":2,\"a\"\t:3}", "duplicate key \"a\""},
	    {"t X {\"\\u00C9\":1,\"\\u00c9\":2}", "duplicate key \"\xc3\x89\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proto_msg m;
		struct proto_error e;
		enum proto_err rc = parse_c(cases[i].line, &m, &e);
		if (cases[i].detail == NULL) {
			if (rc != PROTO_OK)
				fail_msg("%s: %s %s", cases[i].line, proto_err_name(rc), e.detail);
			proto_msg_clear(&m);
			continue;
		}
		if (rc != PROTO_ERR_INVALID_FIELD || strcmp(e.detail, cases[i].detail) != 0)
			fail_msg("%s: got %s \"%s\"", cases[i].line, proto_err_name(rc), e.detail);
		assert_null(m.body);
	}
}

/* `{"a":` nested n times around 1. */
static char *nested(const char *prefix, int n)
{
	size_t p = strlen(prefix);
	char *s = malloc(p + (size_t)n * 6 + 2);
	assert_non_null(s);
	memcpy(s, prefix, p);
	for (int i = 0; i < n; i++) {
		memcpy(s + p, "{\"a\":", 5);
		p += 5;
	}
	s[p++] = '1';
	for (int i = 0; i < n; i++)
		s[p++] = '}';
	s[p] = '\0';
	return s;
}

static void test_limits(void **state)
{
	(void)state;
	struct proto_msg m;
	struct proto_error e;
	char *s = nested("t1 X ", PROTO_MAX_JSON_DEPTH);
	assert_int_equal(parse_c(s, &m, &e), PROTO_OK);
	roundtrip(&m);
	proto_msg_clear(&m);
	free(s);
	s = nested("t1 X ", PROTO_MAX_JSON_DEPTH + 1);
	assert_int_equal(parse_c(s, &m, &e), PROTO_ERR_JSON_TOO_DEEP);
	assert_int_equal(e.offset, 5 + 5 * PROTO_MAX_JSON_DEPTH);
	free(s);

	struct proto_limits small = {16, 2};
	assert_int_equal(
	    proto_parse_line("t1 X {\"a\":[1]}", 14, PROTO_FROM_CLIENT, &small, &m, &e), PROTO_OK);
	proto_msg_clear(&m);
	assert_int_equal(
	    proto_parse_line("t1 X {\"a\":[[]]}", 15, PROTO_FROM_CLIENT, &small, &m, &e),
	    PROTO_ERR_JSON_TOO_DEEP);
	assert_int_equal(
	    proto_parse_line("t1 X {\"a\":[1,2]}", 16, PROTO_FROM_CLIENT, &small, &m, &e),
	    PROTO_OK);
	proto_msg_clear(&m);
	/* 17 bytes, or 16 and a CR: the CR is not counted. */
	assert_int_equal(
	    proto_parse_line("t1 X {\"a\":[1,22]}", 17, PROTO_FROM_CLIENT, &small, &m, &e),
	    PROTO_ERR_LINE_TOO_LONG);
	assert_string_equal(e.tag, "t1");
	assert_int_equal(e.offset, 16);
	assert_int_equal(
	    proto_parse_line("t1 X {\"a\":[1,2]}\r", 17, PROTO_FROM_CLIENT, &small, &m, &e),
	    PROTO_OK);
	proto_msg_clear(&m);
	/* Zero means the default; the depth has a ceiling of 256. */
	struct proto_limits zero = {0, 0};
	s = nested("t1 X ", 17);
	assert_int_equal(proto_parse_line(s, strlen(s), PROTO_FROM_CLIENT, &zero, &m, &e),
	                 PROTO_ERR_JSON_TOO_DEEP);
	free(s);
	struct proto_limits huge = {1 << 20, 100000};
	s = nested("t1 X ", 256);
	assert_int_equal(proto_parse_line(s, strlen(s), PROTO_FROM_CLIENT, &huge, &m, &e),
	                 PROTO_OK);
	proto_msg_clear(&m);
	free(s);
	s = nested("t1 X ", 257);
	assert_int_equal(proto_parse_line(s, strlen(s), PROTO_FROM_CLIENT, &huge, &m, &e),
	                 PROTO_ERR_JSON_TOO_DEEP);
	free(s);
	/* The default cap, exactly. */
	size_t n = PROTO_MAX_LINE_DEFAULT;
	char *big = malloc(n + 2);
	assert_non_null(big);
	memcpy(big, "t1 NOTE {\"text\":\"", 17);
	memset(big + 17, 'x', n - 19);
	memcpy(big + n - 2, "\"}", 2);
	assert_int_equal(proto_parse_line(big, n, PROTO_FROM_CLIENT, NULL, &m, &e), PROTO_OK);
	proto_msg_clear(&m);
	big[n] = '\r';
	assert_int_equal(proto_parse_line(big, n + 1, PROTO_FROM_CLIENT, NULL, &m, &e), PROTO_OK);
	proto_msg_clear(&m);
	big[n] = ' ';
	assert_int_equal(proto_parse_line(big, n + 1, PROTO_FROM_CLIENT, NULL, &m, &e),
	                 PROTO_ERR_LINE_TOO_LONG);
	free(big);
}

static void test_parse_server_lines(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		enum proto_err code;
		enum proto_msg_kind kind;
	} cases[] = {
	    {"t1 OK {}", PROTO_OK, PROTO_MSG_OK},
	    {"t1 ERR NOT_FOUND no ticket 5", PROTO_OK, PROTO_MSG_ERR},
	    {"* ERR SYNTAX line must start with a tag", PROTO_OK, PROTO_MSG_ERR},
	    {"* ESCALATION 1 {\"ticket_id\":1}", PROTO_OK, PROTO_MSG_PUSH},
	    {"* NEW_EVENT 0 {}", PROTO_OK, PROTO_MSG_PUSH},
	    {"t1 ERR BAD_JSON \t", PROTO_OK, PROTO_MSG_ERR},
	    {"t1 OK", PROTO_ERR_SYNTAX, 0},
	    {"t1 OK ", PROTO_ERR_SYNTAX, 0},
	    {"t1 OK []", PROTO_ERR_BAD_JSON, 0},
	    {"t1 FOO {}", PROTO_ERR_SYNTAX, 0},
	    {"t1 ok {}", PROTO_ERR_SYNTAX, 0},
	    {"t1", PROTO_ERR_SYNTAX, 0},
	    {"*", PROTO_ERR_SYNTAX, 0},
	    {"* ", PROTO_ERR_SYNTAX, 0},
	    {"*x OK {}", PROTO_ERR_SYNTAX, 0},
	    {"* OK {}", PROTO_ERR_SYNTAX, 0},
	    {"* ERR NOPE x", PROTO_ERR_SYNTAX, 0},
	    {"* ERR OK x", PROTO_ERR_SYNTAX, 0},
	    {"t1 ERR SYNTAX", PROTO_ERR_SYNTAX, 0},
	    {"t1 ERR SYNTAX ", PROTO_ERR_SYNTAX, 0},
	    {"t1 ERR", PROTO_ERR_SYNTAX, 0},
	    {"t1 ERR syntax x", PROTO_ERR_SYNTAX, 0},
	    {"t1 ERR SYNTAX a\rb", PROTO_ERR_SYNTAX, 0},
	    {"t1 ERR SYNTAX a\x7f", PROTO_ERR_SYNTAX, 0},
	    {"t1 ERR SYNTAX a\xc3", PROTO_ERR_BAD_UTF8, 0},
	    {"* ESCALATION", PROTO_ERR_SYNTAX, 0},
	    {"* ESCALATION 1", PROTO_ERR_SYNTAX, 0},
	    {"* ESCALATION 1 ", PROTO_ERR_SYNTAX, 0},
	    {"* ESCALATION 01 {}", PROTO_ERR_SYNTAX, 0},
	    {"* ESCALATION -1 {}", PROTO_ERR_SYNTAX, 0},
	    {"* ESCALATION +1 {}", PROTO_ERR_SYNTAX, 0},
	    {"* ESCALATION 1x {}", PROTO_ERR_SYNTAX, 0},
	    {"* ESCALATION 18446744073709551616 {}", PROTO_ERR_SYNTAX, 0},
	    {"* ESCALATION 99999999999999999999 {}", PROTO_ERR_SYNTAX, 0},
	    {"* ESCALATION 1 x", PROTO_ERR_BAD_JSON, 0},
	    {"* escalation 1 {}", PROTO_ERR_SYNTAX, 0},
	    {"* ESCALATION  1 {}", PROTO_ERR_SYNTAX, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proto_msg m;
		struct proto_error e;
		enum proto_err rc = parse_s(cases[i].line, &m, &e);
		if (rc != cases[i].code)
			fail_msg("%s: got %s (%s)", cases[i].line, proto_err_name(rc), e.detail);
		if (rc == PROTO_OK) {
			assert_int_equal(m.kind, cases[i].kind);
			roundtrip(&m);
			proto_msg_clear(&m);
		}
	}
	struct proto_msg m;
	struct proto_error e;
	assert_int_equal(parse_s("t1 ERR NOT_FOUND no ticket 5", &m, &e), PROTO_OK);
	assert_int_equal(m.code, PROTO_ERR_NOT_FOUND);
	assert_string_equal(m.message, "no ticket 5");
	assert_string_equal(m.tag, "t1");
	proto_msg_clear(&m);
	assert_int_equal(parse_s("* ESCALATION 18446744073709551615 {}", &m, &e), PROTO_OK);
	assert_true(m.seq == UINT64_MAX);
	assert_string_equal(m.tag, "*");
	assert_string_equal(m.verb, "ESCALATION");
	proto_msg_clear(&m);
	/* A request line read as a server line, and the reverse. */
	assert_int_equal(parse_s("t1 PING", &m, &e), PROTO_ERR_SYNTAX);
	assert_int_equal(parse_c("* ESCALATION 1 {}", &m, &e), PROTO_ERR_SYNTAX);
}

/* ---- framing ---- */

static void test_frame(void **state)
{
	(void)state;
	size_t n, used;
	const char *buf = "t1 PING\r\nt2 QUIT\n\n\r\nt3";
	size_t len = strlen(buf);
	assert_int_equal(proto_frame_next(buf, len, 64, &n, &used), PROTO_FRAME_LINE);
	assert_int_equal(n, 7);
	assert_int_equal(used, 9);
	assert_int_equal(proto_frame_next(buf + 9, len - 9, 64, &n, &used), PROTO_FRAME_LINE);
	assert_int_equal(n, 7);
	assert_int_equal(used, 8);
	/* Empty lines come back empty; servers skip them. */
	assert_int_equal(proto_frame_next(buf + 17, len - 17, 64, &n, &used), PROTO_FRAME_LINE);
	assert_int_equal(n, 0);
	assert_int_equal(used, 1);
	assert_int_equal(proto_frame_next(buf + 18, len - 18, 64, &n, &used), PROTO_FRAME_LINE);
	assert_int_equal(n, 0);
	assert_int_equal(used, 2);
	assert_int_equal(proto_frame_next(buf + 20, len - 20, 64, &n, &used),
	                 PROTO_FRAME_NEED_MORE);
	assert_int_equal(used, 0);
	assert_int_equal(proto_frame_next("", 0, 64, &n, &used), PROTO_FRAME_NEED_MORE);

	/* Cap 4: "abcd\n" fits, "abcd\r\n" fits, "abcde" cannot. */
	assert_int_equal(proto_frame_next("abcd\n", 5, 4, &n, &used), PROTO_FRAME_LINE);
	assert_int_equal(n, 4);
	assert_int_equal(proto_frame_next("abcd\r\n", 6, 4, &n, &used), PROTO_FRAME_LINE);
	assert_int_equal(n, 4);
	assert_int_equal(used, 6);
	assert_int_equal(proto_frame_next("abcd", 4, 4, &n, &used), PROTO_FRAME_NEED_MORE);
	assert_int_equal(proto_frame_next("abcd\r", 5, 4, &n, &used), PROTO_FRAME_NEED_MORE);
	assert_int_equal(proto_frame_next("abcde", 5, 4, &n, &used), PROTO_FRAME_TOO_LONG);
	assert_int_equal(used, 5);
	assert_int_equal(proto_frame_next("abcd\rx", 6, 4, &n, &used), PROTO_FRAME_TOO_LONG);
	assert_int_equal(used, 6);
	/* Too long with the LF in sight: everything before it may go. */
	assert_int_equal(proto_frame_next("abcde\nnext\n", 11, 4, &n, &used), PROTO_FRAME_TOO_LONG);
	assert_int_equal(used, 5);
	assert_int_equal(proto_frame_next("abcdefgh\nnext\n", 14, 4, &n, &used),
	                 PROTO_FRAME_TOO_LONG);
	assert_int_equal(used, 8);
	assert_int_equal(proto_frame_next("abcdefghij", 10, 4, &n, &used), PROTO_FRAME_TOO_LONG);
	assert_int_equal(used, 10);
	/* The rest of a long line, then the next one. */
	assert_int_equal(proto_frame_next("\nnext\n", 6, 4, &n, &used), PROTO_FRAME_LINE);
	assert_int_equal(n, 0);
	/* A cap as large as memory. */
	assert_int_equal(proto_frame_next("ab", 2, SIZE_MAX, &n, &used), PROTO_FRAME_NEED_MORE);
	assert_int_equal(proto_frame_next("ab\n", 3, SIZE_MAX - 1, &n, &used), PROTO_FRAME_LINE);
	assert_int_equal(n, 2);
	assert_int_equal(proto_frame_next("\n", 1, 0, &n, &used), PROTO_FRAME_LINE);
	assert_int_equal(proto_frame_next("a", 1, 0, &n, &used), PROTO_FRAME_TOO_LONG);
}

/* ---- the malformed-line table ---- */

/* Decode \xNN \n \r \t \\ into out; returns the length. */
static size_t unescape(const char *s, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\') {
			out[o++] = s[i];
			continue;
		}
		assert_true(i + 1 < n);
		char c = s[++i];
		if (c == 'x') {
			assert_true(i + 2 < n);
			char hex[3] = {s[i + 1], s[i + 2], 0};
			out[o++] = (char)strtol(hex, NULL, 16);
			i += 2;
		} else if (c == 'n') {
			out[o++] = '\n';
		} else if (c == 'r') {
			out[o++] = '\r';
		} else if (c == 't') {
			out[o++] = '\t';
		} else {
			assert_int_equal(c, '\\');
			out[o++] = '\\';
		}
	}
	return o;
}

static void test_malformed_table(void **state)
{
	(void)state;
	size_t len;
	char *text = slurp("data/malformed_lines.tsv", &len);
	int cases = 0;
	char *line = text;
	while (line < text + len) {
		char *nl = memchr(line, '\n', (size_t)(text + len - line));
		size_t n = nl ? (size_t)(nl - line) : (size_t)(text + len - line);
		char *next = line + n + 1;
		if (n == 0 || line[0] == '#') {
			line = next;
			continue;
		}
		char *t1 = memchr(line, '\t', n);
		assert_non_null(t1);
		char *t2 = memchr(t1 + 1, '\t', n - (size_t)(t1 + 1 - line));
		assert_non_null(t2);
		*t1 = *t2 = '\0';
		enum proto_err want = proto_err_parse(line);
		if (want == PROTO_ERR_COUNT || want == PROTO_OK)
			fail_msg("bad code %s", line);
		bool keeps = strcmp(t1 + 1, "yes") == 0;
		assert_true(keeps || strcmp(t1 + 1, "no") == 0);
		assert_int_equal(keeps, proto_err_keeps_connection(want));
		const char *esc = t2 + 1;
		size_t elen = (size_t)(line + n - esc);

		/* As on the wire: the line and its LF through the framer. */
		char *wire = malloc(elen + 2);
		assert_non_null(wire);
		size_t w = unescape(esc, elen, wire);
		wire[w++] = '\n';
		size_t ll, used;
		assert_int_equal(proto_frame_next(wire, w, PROTO_MAX_LINE_DEFAULT, &ll, &used),
		                 PROTO_FRAME_LINE);
		assert_int_equal(used, w);
		struct proto_msg m;
		struct proto_error e;
		enum proto_err got = proto_parse_line(wire, ll, PROTO_FROM_CLIENT, NULL, &m, &e);
		if (got == PROTO_OK) {
			got = proto_validate_request(&m, &e);
			proto_msg_clear(&m);
		}
		if (got != want)
			fail_msg("%s: got %s (%s at %zu), want %s", esc, proto_err_name(got),
			         e.detail, e.offset, proto_err_name(want));
		assert_int_equal(e.code, got);
		assert_true(e.detail[0] != '\0');
		/* The answer goes under the client's tag when it was readable. */
		if (ll >= 2 && memcmp(wire, "t1", 2) == 0 && (ll == 2 || wire[2] == ' '))
			assert_string_equal(e.tag, "t1");
		else
			assert_string_equal(e.tag, "*");
		char *answer = proto_format_err(e.tag, got, e.detail, NULL);
		assert_non_null(answer);
		free(answer);
		free(wire);
		cases++;
		line = next;
	}
	free(text);
	assert_true(cases >= 40);
}

/* ---- PROTOCOL.md agrees with the code ---- */

/* Split a Markdown table row into trimmed cells without backticks. */
static int split_row(char *row, char **cells, int max)
{
	int n = 0;
	if (row[0] != '|')
		return 0;
	char *p = row + 1;
	while (n < max) {
		char *bar = strchr(p, '|');
		if (bar == NULL)
			break;
		*bar = '\0';
		while (*p == ' ' || *p == '`')
			p++;
		char *end = bar;
		while (end > p && (end[-1] == ' ' || end[-1] == '`'))
			*--end = '\0';
		cells[n++] = p;
		p = bar + 1;
	}
	return n;
}

static char *next_line(char **cursor)
{
	char *line = *cursor;
	if (*line == '\0')
		return NULL;
	char *nl = strchr(line, '\n');
	if (nl != NULL) {
		*nl = '\0';
		*cursor = nl + 1;
	} else {
		*cursor = line + strlen(line);
	}
	return line;
}

static const char *field_type_word(enum proto_field_type t)
{
	static const char *const words[] = {"string", "int", "bool", "time", "object", "array"};
	return words[t];
}

static void test_protocol_md(void **state)
{
	(void)state;
	char *doc = slurp("../proto/PROTOCOL.md", NULL);
	char *cursor = doc, *line, *cells[8];
	const struct proto_verb *section = NULL;
	size_t fields_seen = 0;
	int in_roles = 0, in_errors = 0, in_code = 0, role_rows = 0, error_rows = 0;
	bool example[64] = {false}, table_done[64] = {false};
	char tag_of_c[PROTO_TAG_MAX + 1] = "";
	enum proto_err c_result = PROTO_OK;
	assert_true(verb_count() <= 64);

	while ((line = next_line(&cursor)) != NULL) {
		if (strncmp(line, "```", 3) == 0) {
			in_code = !in_code;
			continue;
		}
		if (in_code && (strncmp(line, "C: ", 3) == 0 || strncmp(line, "S: ", 3) == 0)) {
			struct proto_msg m;
			struct proto_error e;
			const char *l = line + 3;
			if (line[0] == 'C') {
				/* A request the next S: line answers. */
				enum proto_err rc = parse_c(l, &m, &e);
				if (rc == PROTO_OK) {
					const struct proto_verb *v = proto_verb_find(m.verb);
					if (v != NULL)
						example[v - proto_verbs] = true;
					rc = proto_validate_request(&m, &e);
					if (rc == PROTO_OK)
						roundtrip(&m);
					proto_msg_clear(&m);
				}
				c_result = rc;
				snprintf(tag_of_c, sizeof(tag_of_c), "%s", e.tag);
				if (rc == PROTO_OK)
					sscanf(l, "%32s", tag_of_c);
				continue;
			}
			enum proto_err rc = parse_s(l, &m, &e);
			if (rc != PROTO_OK)
				fail_msg("PROTOCOL.md: %s: %s %s", l, proto_err_name(rc), e.detail);
			roundtrip(&m);
			/* A request the codec refuses must be answered with that code;
			 * an accepted one with anything but a codec error. */
			if (strcmp(m.tag, tag_of_c) == 0 && c_result != PROTO_OK &&
			    (m.kind != PROTO_MSG_ERR || m.code != c_result))
				fail_msg(
				    "PROTOCOL.md: %s answers a request the codec refuses with %s",
				    l, proto_err_name(c_result));
			if (strcmp(m.tag, tag_of_c) == 0 && c_result == PROTO_OK &&
			    m.kind == PROTO_MSG_ERR && m.code <= PROTO_ERR_UNKNOWN_VERB)
				fail_msg("PROTOCOL.md: %s answers a valid request", l);
			proto_msg_clear(&m);
			continue;
		}
		if (in_code)
			continue;
		if (strncmp(line, "## ", 3) == 0) {
			in_roles = strcmp(line, "## Role table") == 0;
			in_errors = strcmp(line, "## Error codes") == 0;
			section = NULL;
			continue;
		}
		if (strncmp(line, "### ", 4) == 0) {
			section = proto_verb_find(line + 4);
			fields_seen = 0;
			continue;
		}
		int nc = split_row(line, cells, 8);
		if (nc == 0 || strncmp(cells[0], "---", 3) == 0 || strncmp(cells[0], ":--", 3) == 0)
			continue;
		if (in_roles && nc == 5 && strcmp(cells[0], "verb") != 0) {
			const struct proto_verb *v = proto_verb_find(cells[0]);
			if (v == NULL)
				fail_msg("role table: unknown verb %s", cells[0]);
			static const unsigned bits[] = {PROTO_ROLE_HOTLINE, PROTO_ROLE_ENGINEER,
			                                PROTO_ROLE_MONITOR, PROTO_ROLE_ADMIN};
			for (int r = 0; r < 4; r++) {
				bool yes = strcmp(cells[r + 1], "yes") == 0;
				assert_true(yes || strcmp(cells[r + 1], "no") == 0);
				if (yes != ((v->roles & bits[r]) != 0))
					fail_msg("role table: %s %s", v->name,
					         proto_role_name((enum proto_role)bits[r]));
			}
			role_rows++;
		} else if (in_roles && nc == 5) {
			assert_string_equal(cells[1], "hotline");
			assert_string_equal(cells[2], "engineer");
			assert_string_equal(cells[3], "monitor");
			assert_string_equal(cells[4], "admin");
		} else if (in_errors && nc >= 3 && strcmp(cells[0], "code") != 0) {
			enum proto_err c = proto_err_parse(cells[0]);
			if (c == PROTO_ERR_COUNT || c == PROTO_OK)
				fail_msg("error table: unknown code %s", cells[0]);
			assert_int_equal(strcmp(cells[1], "yes") == 0,
			                 proto_err_keeps_connection(c));
			error_rows++;
		} else if (section != NULL && nc == 4 && strcmp(cells[0], "field") != 0) {
			const struct proto_field *f = &section->fields[fields_seen];
			if (f->name == NULL || strcmp(f->name, cells[0]) != 0)
				fail_msg("%s: field %s out of order or unknown", section->name,
				         cells[0]);
			assert_string_equal(cells[1], field_type_word(f->type));
			assert_string_equal(cells[2], f->required ? "yes" : "no");
			fields_seen++;
			if (section->fields[fields_seen].name == NULL)
				table_done[section - proto_verbs] = true;
		}
	}
	assert_false(in_code);
	assert_int_equal(role_rows, (int)verb_count());
	assert_int_equal(error_rows, PROTO_ERR_COUNT - 1);
	for (const struct proto_verb *v = proto_verbs; v->name != NULL; v++) {
		if (!example[v - proto_verbs])
			fail_msg("PROTOCOL.md: no example request for %s", v->name);
		if (v->fields[0].name != NULL && !table_done[v - proto_verbs])
			fail_msg("PROTOCOL.md: field table of %s incomplete", v->name);
	}
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_err_names),
	    cmocka_unit_test(test_role_names),
	    cmocka_unit_test(test_verb_table),
	    cmocka_unit_test(test_every_verb_roundtrips),
	    cmocka_unit_test(test_every_field_checked),
	    cmocka_unit_test(test_names_agree_with_libsla),
	    cmocka_unit_test(test_value_rules),
	    cmocka_unit_test(test_times),
	    cmocka_unit_test(test_cross_rules),
	    cmocka_unit_test(test_validate_odd_messages),
	    cmocka_unit_test(test_pushes_roundtrip),
	    cmocka_unit_test(test_answers_roundtrip),
	    cmocka_unit_test(test_format_refuses),
	    cmocka_unit_test(test_parse_requests),
	    cmocka_unit_test(test_error_positions),
	    cmocka_unit_test(test_duplicate_keys),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_parse_server_lines),
	    cmocka_unit_test(test_frame),
	    cmocka_unit_test(test_malformed_table),
	    cmocka_unit_test(test_protocol_md),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
