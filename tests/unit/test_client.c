/*
 * test_client.c - the client library (proto/client.h).
 *
 * The session layer is driven over byte buffers: pipelined answers matched
 * out of order, ERR answers, duplicate pushes dropped and receipted once,
 * replay after a reconnect, partial and over-long lines.  Then the
 * transport over real TLS: a small OpenSSL server thread in this file, with
 * a CA and certificates generated when the test runs (no key is committed),
 * proves the handshake, the client certificate and request/answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "client.h"

/* ---------------------------------------------------------------------- */
/* helpers for the session layer                                           */
/* ---------------------------------------------------------------------- */

struct rec {
	int calls;
	struct slac_error err;
	char body[512];
};

static void rec_done(void *arg, const struct slac_answer *a)
{
	struct rec *r = arg;

	r->calls++;
	r->err = a->err;
	snprintf(r->body, sizeof r->body, "%s",
	         a->body ? json_object_to_json_string_ext(a->body, JSON_C_TO_STRING_PLAIN) : "");
}

struct pushes {
	int n;
	uint64_t seq[16];
	char event[16][PROTO_VERB_MAX + 1];
	struct slac_session *s; /* to submit from the callback */
	bool ack;
};

static void rec_push(void *arg, const char *event, uint64_t seq, json_object *body)
{
	struct pushes *p = arg;

	(void)body;
	if (p->n < 16) {
		p->seq[p->n] = seq;
		snprintf(p->event[p->n], sizeof p->event[0], "%s", event);
	}
	p->n++;
	if (p->ack) {
		/* a callback may submit: the engineer acknowledges at once */
		json_object *b = json_object_new_object();

		json_object_object_add(b, "ticket", json_object_new_int(1042));
		assert_true(slac_session_submit(p->s, "ACKNOWLEDGE", b, NULL, NULL) != 0);
		json_object_put(b);
	}
}

/* What the transport would write now; consumes it all. */
static char *drain(struct slac_session *s)
{
	size_t len;
	const char *out = slac_session_output(s, &len);
	char *copy = strndup(out ? out : "", len);

	assert_non_null(copy);
	slac_session_consume(s, len);
	return copy;
}

static int feed(struct slac_session *s, const char *text)
{
	return slac_session_input(s, text, strlen(text));
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static json_object *obj(const char *json)
{
	json_object *o = json_tokener_parse(json);

	assert_non_null(o);
	return o;
}

/* A session past HELLO (tag 1), output drained. */
static struct slac_session *ready_session(size_t max_line)
{
	struct slac_session *s = slac_session_new(max_line, "test");
	char *out;

	assert_non_null(s);
	assert_int_equal(slac_session_connected(s, NULL, NULL), 0);
	out = drain(s);
	assert_true(strncmp(out, "1 HELLO {", 9) == 0);
	assert_non_null(strstr(out, "\"version\":1"));
	free(out);
	assert_int_equal(feed(s, "1 OK {\"server\":\"slad\",\"principal\":\"alice\"}\n"), 0);
	assert_true(slac_session_ready(s));
	return s;
}

static uint64_t submit_json(struct slac_session *s, const char *verb, const char *json,
                            struct rec *r)
{
	json_object *b = json ? obj(json) : NULL;
	uint64_t id = slac_session_submit(s, verb, b, r ? rec_done : NULL, r);

	json_object_put(b);
	return id;
}

/* ---------------------------------------------------------------------- */
/* session tests                                                           */
/* ---------------------------------------------------------------------- */

static void hello_goes_first(void **state)
{
	struct slac_session *s = slac_session_new(0, NULL);
	struct rec hello = {0}, ping = {0};
	char *out;

	(void)state;
	/* offline: queued, nothing to write */
	assert_int_equal(submit_json(s, "PING", NULL, &ping), 1);
	out = drain(s);
	assert_string_equal(out, "");
	free(out);
	assert_false(slac_session_ready(s));
	assert_null(slac_session_hello(s));

	assert_int_equal(slac_session_connected(s, rec_done, &hello), 0);
	out = drain(s);
	assert_true(strncmp(out, "2 HELLO {", 9) == 0);
	assert_non_null(strstr(out, "\"client\":\"libslac\""));
	assert_non_null(strstr(out, "\"capabilities\":[\"pipelining\",\"push\",\"idempotency\"]"));
	/* PROTOCOL.md "HELLO first": the rest waits for its answer */
	assert_null(strstr(out, "PING"));
	free(out);
	assert_int_equal(submit_json(s, "PING", NULL, &ping), 3);
	out = drain(s);
	assert_string_equal(out, "");
	free(out);

	assert_int_equal(feed(s, "2 OK {\"server\":\"slad\",\"max_line\":65536}\n"), 0);
	assert_int_equal(hello.calls, 1);
	assert_int_equal(hello.err.status, SLAC_OK);
	assert_true(slac_session_ready(s));
	assert_non_null(slac_session_hello(s));
	out = drain(s);
	assert_string_equal(out, "1 PING\n3 PING\n");
	free(out);
	assert_int_equal(feed(s, "1 OK {}\n3 OK {}\n"), 0);
	assert_int_equal(ping.calls, 2);
	assert_string_equal(ping.body, "{}");
	assert_int_equal(slac_session_pending(s), 0);
	slac_session_free(s);
}

static void pipelined_answers_out_of_order(void **state)
{
	struct slac_session *s = ready_session(0);
	struct rec r[4] = {{0}};
	static const char *const verbs[] = {"SHOW", "LIST", "PING", "SHOW"};
	static const char *const bodies[] = {"{\"ticket\":1}", "{}", NULL, "{\"ticket\":2}"};
	char *out;

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(submit_json(s, verbs[i], bodies[i], &r[i]), (uint64_t)i + 2);
	out = drain(s);
	assert_int_equal(count(out, "\n"), 4);
	assert_non_null(strstr(out, "2 SHOW {\"ticket\":1}\n3 LIST {}\n4 PING\n5 SHOW"));
	free(out);
	assert_int_equal(slac_session_pending(s), 4);

	/* answers in any order, several in one read */
	assert_int_equal(feed(s, "5 OK {\"n\":5}\n3 OK {\"n\":3}\n"), 0);
	assert_int_equal(r[3].calls, 1);
	assert_string_equal(r[3].body, "{\"n\":5}");
	assert_int_equal(r[1].calls, 1);
	assert_string_equal(r[1].body, "{\"n\":3}");
	assert_int_equal(r[0].calls + r[2].calls, 0);
	assert_int_equal(feed(s, "4 OK {\"n\":4}\r\n2 OK {\"n\":2}\n"), 0);
	assert_string_equal(r[0].body, "{\"n\":2}");
	assert_string_equal(r[2].body, "{\"n\":4}");
	for (int i = 0; i < 4; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_int_equal(r[i].err.status, SLAC_OK);
	}
	assert_int_equal(slac_session_pending(s), 0);
	assert_int_equal(slac_session_stats(s).answers, 5);
	slac_session_free(s);
}

static void err_answers_carry_code_and_message(void **state)
{
	static const struct {
		const char *line;
		enum proto_err code;
		const char *message;
	} cases[] = {
	    {"ERR NOT_FOUND ticket 9 does not exist", PROTO_ERR_NOT_FOUND,
	     "ticket 9 does not exist"},
	    {"ERR FORBIDDEN hotline may not close tickets", PROTO_ERR_FORBIDDEN,
	     "hotline may not close tickets"},
	    {"ERR INVALID_TRANSITION closed tickets cannot be paused", PROTO_ERR_INVALID_TRANSITION,
	     "closed tickets cannot be paused"},
	    {"ERR UNAVAILABLE store unreachable", PROTO_ERR_UNAVAILABLE, "store unreachable"},
	};
	struct slac_session *s = ready_session(0);

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct rec r = {0};
		char line[128];
		uint64_t id = submit_json(s, "SHOW", "{\"ticket\":9}", &r);

		free(drain(s));
		snprintf(line, sizeof line, "%llu %s\n", (unsigned long long)id, cases[i].line);
		assert_int_equal(feed(s, line), 0);
		assert_int_equal(r.calls, 1);
		assert_int_equal(r.err.status, SLAC_ERR_SERVER);
		assert_int_equal(r.err.code, cases[i].code);
		assert_string_equal(r.err.message, cases[i].message);
		assert_string_equal(r.body, "");
	}
	slac_session_free(s);
}

static void duplicate_pushes_dropped_and_receipted_once(void **state)
{
	struct slac_session *s = ready_session(0);
	struct pushes p = {0};
	char *out;

	(void)state;
	slac_session_set_push_cb(s, rec_push, &p);
	assert_int_equal(feed(s, "* ESCALATION 1 {\"ticket\":1042}\n"
	                         "* ESCALATION 2 {\"ticket\":1043}\n"
	                         "* ESCALATION 2 {\"ticket\":1043}\n"
	                         "* ESCALATION 1 {\"ticket\":1042}\n"
	                         "* TASK 3 {\"task\":7}\n"),
	                 0);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.seq[0], 1);
	assert_int_equal(p.seq[1], 2);
	assert_int_equal(p.seq[2], 3);
	assert_string_equal(p.event[2], "TASK");
	assert_int_equal(slac_session_last_seq(s), 3);
	out = drain(s);
	assert_int_equal(count(out, "RECEIPT"), 3);
	assert_int_equal(count(out, "RECEIPT {\"seq\":1}"), 1);
	assert_int_equal(count(out, "RECEIPT {\"seq\":2}"), 1);
	assert_int_equal(count(out, "RECEIPT {\"seq\":3}"), 1);
	free(out);
	assert_int_equal(slac_session_stats(s).duplicates, 2);
	assert_int_equal(slac_session_stats(s).receipts, 3);
	/* receipts are answered like any request */
	assert_int_equal(feed(s, "2 OK {}\n3 OK {}\n4 OK {}\n"), 0);
	assert_int_equal(slac_session_pending(s), 0);
	slac_session_free(s);
}

static void receipts_survive_reconnect(void **state)
{
	struct slac_session *s = ready_session(0);
	struct pushes p = {0};
	char *out;

	(void)state;
	slac_session_set_push_cb(s, rec_push, &p);
	assert_int_equal(feed(s, "* ESCALATION 1 {}\n* ESCALATION 2 {}\n"), 0);
	out = drain(s); /* both receipts written: tags 2 and 3 */
	assert_string_equal(out, "2 RECEIPT {\"seq\":1}\n3 RECEIPT {\"seq\":2}\n");
	free(out);
	assert_int_equal(feed(s, "2 OK {\"seq\":1}\n"), 0); /* the first one landed */
	slac_session_disconnected(s, "reset by peer");
	assert_false(slac_session_ready(s));

	assert_int_equal(slac_session_connected(s, NULL, NULL), 0);
	out = drain(s);
	assert_true(strncmp(out, "4 HELLO", 7) == 0);
	assert_null(strstr(out, "RECEIPT"));
	free(out);
	/* after HELLO, the unanswered receipt again -- once, same tag */
	assert_int_equal(feed(s, "4 OK {}\n"), 0);
	out = drain(s);
	assert_string_equal(out, "3 RECEIPT {\"seq\":2}\n");
	free(out);
	assert_int_equal(slac_session_stats(s).replayed, 1);
	/* the server resends 2 while its receipt is in flight: nothing */
	assert_int_equal(feed(s, "* ESCALATION 2 {}\n"), 0);
	out = drain(s);
	assert_string_equal(out, "");
	free(out);
	/* that receipt fails; when 2 comes again it is receipted again, as
	 * PROTOCOL.md asks, or the server would resend it forever */
	assert_int_equal(feed(s, "3 ERR UNAVAILABLE store unreachable\n* ESCALATION 2 {}\n"), 0);
	assert_int_equal(slac_session_error(s)->code, PROTO_ERR_UNAVAILABLE);
	out = drain(s);
	assert_string_equal(out, "5 RECEIPT {\"seq\":2}\n");
	free(out);
	assert_int_equal(feed(s, "* ESCALATION 3 {}\n"), 0);
	out = drain(s);
	assert_string_equal(out, "6 RECEIPT {\"seq\":3}\n");
	free(out);
	/* the application saw each push once */
	assert_int_equal(p.n, 3);
	assert_int_equal(slac_session_last_seq(s), 3);
	assert_int_equal(slac_session_stats(s).duplicates, 2);
	assert_int_equal(slac_session_stats(s).receipts, 4);
	slac_session_free(s);
}

static void unanswered_requests_on_reconnect(void **state)
{
	struct slac_session *s = ready_session(0);
	struct rec rep = {0}, arrive = {0}, ack = {0}, show = {0}, pause = {0}, sub = {0};
	char *out, *first;
	const char *rid;

	(void)state;
	/* written: a creating verb, a changing verb that a replay could
	 * hurt, an idempotent one, a query, a SUBSCRIBE; not yet written: a
	 * PAUSE */
	assert_int_equal(
	    submit_json(s, "REPORT", "{\"type\":\"fault\",\"symptoms\":\"down\"}", &rep), 2);
	assert_int_equal(submit_json(s, "ARRIVE", "{\"ticket_id\":7}", &arrive), 3);
	assert_int_equal(submit_json(s, "ACKNOWLEDGE", "{\"ticket_id\":7}", &ack), 4);
	assert_int_equal(submit_json(s, "SHOW", "{\"ticket_id\":7}", &show), 5);
	assert_int_equal(submit_json(s, "SUBSCRIBE", "{\"team\":\"north\"}", &sub), 6);
	first = drain(s);
	rid = strstr(first, "\"request_id\":\"");
	assert_non_null(rid); /* the library gave the REPORT an id */
	assert_int_equal(
	    submit_json(s, "PAUSE", "{\"ticket_id\":7,\"reason\":\"customer away\"}", &pause), 7);

	slac_session_disconnected(s, "read: connection reset");
	/* only the ARRIVE fails, at once, as UNAVAILABLE */
	assert_int_equal(arrive.calls, 1);
	assert_int_equal(arrive.err.status, SLAC_ERR_CONN);
	assert_int_equal(arrive.err.code, PROTO_ERR_UNAVAILABLE);
	assert_non_null(strstr(arrive.err.message, "connection reset"));
	assert_non_null(strstr(arrive.err.message, "ARRIVE is not re-sent"));
	assert_int_equal(rep.calls + ack.calls + show.calls + pause.calls + sub.calls, 0);
	assert_int_equal(slac_session_pending(s), 5);
	assert_int_equal(slac_session_stats(s).lost, 1);

	assert_int_equal(slac_session_connected(s, NULL, NULL), 0);
	out = drain(s);
	assert_true(strncmp(out, "8 HELLO", 7) == 0);
	free(out);
	assert_int_equal(feed(s, "8 OK {}\n"), 0);
	out = drain(s);
	/* the rest in submission order, same tags and the same request_id:
	 * the server answers the replay with the original answer */
	assert_true(strncmp(out, "2 REPORT {", 10) == 0);
	assert_int_equal(strncmp(strstr(out, "\"request_id\":\""), rid, 51), 0);
	assert_null(strstr(out, "ARRIVE"));
	assert_non_null(strstr(out, "\n4 ACKNOWLEDGE {\"ticket_id\":7}\n5 SHOW {\"ticket_id\":7}\n"
	                            "6 SUBSCRIBE {\"team\":\"north\"}\n7 PAUSE"));
	assert_int_equal(count(out, "SUBSCRIBE"), 1);
	free(out);
	free(first);
	assert_int_equal(slac_session_stats(s).replayed, 4); /* PAUSE was never written */
	assert_int_equal(feed(s, "2 OK {\"ticket_id\":99}\n4 OK {}\n5 OK {}\n6 OK {}\n7 OK {}\n"),
	                 0);
	assert_int_equal(rep.calls, 1);
	assert_string_equal(rep.body, "{\"ticket_id\":99}");
	assert_int_equal(ack.calls + show.calls + pause.calls + sub.calls, 4);
	slac_session_free(s);
}

static void subscription_reestablished(void **state)
{
	struct slac_session *s = ready_session(0);
	struct rec sub = {0}, sub2 = {0};
	char *out;

	(void)state;
	assert_int_equal(submit_json(s, "SUBSCRIBE", "{\"team\":\"north\"}", &sub), 2);
	free(drain(s));
	assert_int_equal(feed(s, "2 OK {}\n"), 0);
	assert_int_equal(sub.calls, 1);

	/* answered: the subscription is re-sent by the library itself, once
	 * HELLO is through */
	slac_session_disconnected(s, NULL);
	assert_int_equal(slac_session_connected(s, NULL, NULL), 0);
	out = drain(s);
	assert_true(strncmp(out, "3 HELLO", 7) == 0);
	assert_null(strstr(out, "SUBSCRIBE"));
	free(out);
	assert_int_equal(feed(s, "3 OK {}\n"), 0);
	out = drain(s);
	assert_string_equal(out, "4 SUBSCRIBE {\"team\":\"north\"}\n");
	free(out);
	/* a refusal of the internal replay is remembered, not re-sent */
	assert_int_equal(feed(s, "4 ERR FORBIDDEN not on team north\n"), 0);
	assert_int_equal(slac_session_error(s)->code, PROTO_ERR_FORBIDDEN);
	assert_int_equal(slac_session_stats(s).internal_errors, 1);
	assert_int_equal(sub.calls, 1);
	slac_session_disconnected(s, NULL);
	assert_int_equal(slac_session_connected(s, NULL, NULL), 0);
	free(drain(s));
	assert_int_equal(feed(s, "5 OK {}\n"), 0);
	out = drain(s);
	assert_string_equal(out, "");
	free(out);

	/* UNSUBSCRIBE ends the replays */
	assert_int_equal(submit_json(s, "SUBSCRIBE", "{\"max_level\":1}", &sub2), 6);
	assert_int_equal(submit_json(s, "UNSUBSCRIBE", NULL, NULL), 7);
	free(drain(s));
	assert_int_equal(feed(s, "6 OK {}\n7 OK {}\n"), 0);
	slac_session_disconnected(s, NULL);
	assert_int_equal(slac_session_connected(s, NULL, NULL), 0);
	free(drain(s));
	assert_int_equal(feed(s, "8 OK {}\n"), 0);
	out = drain(s);
	assert_string_equal(out, "");
	free(out);
	slac_session_free(s);
}

static void partial_lines_across_reads(void **state)
{
	static const char answer[] = "2 OK {\"ticket\":{\"id\":1042,\"state\":\"REPORTED\"}}\r\n";
	struct slac_session *s = ready_session(0);
	struct rec r = {0};
	struct pushes p = {0};

	(void)state;
	slac_session_set_push_cb(s, rec_push, &p);
	assert_int_equal(submit_json(s, "SHOW", "{\"ticket\":1042}", &r), 2);
	free(drain(s));
	/* byte by byte: nothing happens before the LF */
	for (size_t i = 0; i + 1 < sizeof answer - 1; i++) {
		assert_int_equal(slac_session_input(s, answer + i, 1), 0);
		assert_int_equal(r.calls, 0);
	}
	assert_int_equal(slac_session_input(s, "\n* ESCAL", 8), 0);
	assert_int_equal(r.calls, 1);
	assert_string_equal(r.body, "{\"ticket\":{\"id\":1042,\"state\":\"REPORTED\"}}");
	assert_int_equal(p.n, 0);
	assert_int_equal(feed(s, "ATION 9 {}"), 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(feed(s, "\n"), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.seq[0], 9);
	slac_session_free(s);
}

static void overlong_server_lines(void **state)
{
	struct slac_session *s = ready_session(64);
	struct rec r1 = {0}, r2 = {0};
	char big[200];

	(void)state;
	assert_int_equal(submit_json(s, "LIST", "{}", &r1), 2);
	assert_int_equal(submit_json(s, "PING", NULL, &r2), 3);
	free(drain(s));
	/* an answer over the cap fails its own request; the session goes on,
	 * even when the tail of the long line comes in later reads */
	snprintf(big, sizeof big, "2 OK {\"items\":\"%0120d", 0);
	assert_int_equal(feed(s, big), 0);
	assert_int_equal(r1.calls, 1);
	assert_int_equal(r1.err.status, SLAC_ERR_PROTOCOL);
	assert_int_equal(r1.err.code, PROTO_ERR_LINE_TOO_LONG);
	assert_int_equal(feed(s, "0000000000"), 0);
	assert_int_equal(feed(s, "\"}\n3 OK {\"pong\":true}\n"), 0);
	assert_int_equal(r2.calls, 1);
	assert_int_equal(r2.err.status, SLAC_OK);
	assert_int_equal(r1.calls, 1);

	/* a push over the cap cannot be blamed on a request: fatal */
	snprintf(big, sizeof big, "* ESCALATION 5 {\"x\":\"%0100d\"}\n", 0);
	assert_int_equal(feed(s, big), -1);
	assert_int_equal(slac_session_error(s)->status, SLAC_ERR_PROTOCOL);
	assert_int_equal(slac_session_error(s)->code, PROTO_ERR_LINE_TOO_LONG);
	slac_session_free(s);
}

static void unreadable_server_lines(void **state)
{
	static const struct {
		const char *line;
		int rc;              /* of slac_session_input */
		bool blames_request; /* the pending request 2 fails */
		enum slac_status status;
		enum proto_err code;
	} cases[] = {
	    {"2 OK {\"a\":\n", 0, true, SLAC_ERR_PROTOCOL, PROTO_ERR_BAD_JSON},
	    {"2 OK {\"a\":1,\"a\":2}\n", 0, true, SLAC_ERR_PROTOCOL, PROTO_ERR_INVALID_FIELD},
	    {"2 MAYBE {}\n", 0, true, SLAC_ERR_PROTOCOL, PROTO_ERR_SYNTAX},
	    {"99 OK {}\n", -1, false, SLAC_ERR_PROTOCOL, PROTO_ERR_SYNTAX},
	    {"02 OK {}\n", -1, false, SLAC_ERR_PROTOCOL, PROTO_ERR_SYNTAX},
	    {"99999999999999999999999 OK {}\n", -1, false, SLAC_ERR_PROTOCOL, PROTO_ERR_SYNTAX},
	    {"abc OK {}\n", -1, false, SLAC_ERR_PROTOCOL, PROTO_ERR_SYNTAX},
	    {"hello there\n", -1, false, SLAC_ERR_PROTOCOL, PROTO_ERR_SYNTAX},
	    {"* ESCALATION x {}\n", -1, false, SLAC_ERR_PROTOCOL, PROTO_ERR_SYNTAX},
	    {"* ESCALATION 1 [1]\n", -1, false, SLAC_ERR_PROTOCOL, PROTO_ERR_BAD_JSON},
	    {"* OK {}\n", -1, false, SLAC_ERR_PROTOCOL, PROTO_ERR_SYNTAX},
	    {"* ERR SHUTTING_DOWN draining, reconnect elsewhere\n", 0, false, SLAC_ERR_SERVER,
	     PROTO_ERR_SHUTTING_DOWN},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct slac_session *s = ready_session(0);
		struct rec r = {0};

		assert_int_equal(submit_json(s, "PING", NULL, &r), 2);
		free(drain(s));
		assert_int_equal(feed(s, cases[i].line), cases[i].rc);
		if (cases[i].blames_request) {
			assert_int_equal(r.calls, 1);
			assert_int_equal(r.err.status, cases[i].status);
			assert_int_equal(r.err.code, cases[i].code);
		} else {
			assert_int_equal(r.calls, 0);
			assert_int_equal(slac_session_error(s)->status, cases[i].status);
			assert_int_equal(slac_session_error(s)->code, cases[i].code);
		}
		slac_session_free(s); /* fails what is left */
		if (!cases[i].blames_request) {
			assert_int_equal(r.calls, 1);
			assert_int_equal(r.err.status, SLAC_ERR_CONN);
		}
	}
}

static void submit_refusals(void **state)
{
	struct slac_session *s = slac_session_new(0, "t");
	json_object *arr = json_object_new_array();
	char *big = malloc(200);

	(void)state;
	assert_int_equal(slac_session_submit(s, "FROBNICATE", NULL, NULL, NULL), 0);
	assert_int_equal(slac_session_error(s)->status, SLAC_ERR_LOCAL);
	assert_int_equal(slac_session_error(s)->code, PROTO_ERR_UNKNOWN_VERB);
	assert_int_equal(slac_session_submit(s, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(slac_session_submit(s, "PING", arr, NULL, NULL), 0);
	assert_int_equal(slac_session_error(s)->code, PROTO_ERR_BAD_JSON);
	json_object_put(arr);
	/* a string that is not UTF-8 cannot go on the wire */
	{
		json_object *b = json_object_new_object();

		json_object_object_add(b, "text", json_object_new_string("caf\xe9"));
		assert_int_equal(slac_session_submit(s, "PING", b, NULL, NULL), 0);
		assert_int_equal(slac_session_error(s)->code, PROTO_ERR_BAD_JSON);
		json_object_put(b);
	}

	/* the server said its cap in HELLO: a longer line is refused here */
	assert_int_equal(slac_session_connected(s, NULL, NULL), 0);
	free(drain(s));
	assert_int_equal(feed(s, "1 OK {\"max_line\":100}\n"), 0);
	memset(big, 'x', 199);
	big[199] = '\0';
	{
		json_object *b = json_object_new_object();

		json_object_object_add(b, "text", json_object_new_string(big));
		assert_int_equal(slac_session_submit(s, "NOTE", b, NULL, NULL), 0);
		assert_int_equal(slac_session_error(s)->code, PROTO_ERR_LINE_TOO_LONG);
		json_object_put(b);
	}
	free(big);
	assert_int_equal(slac_session_pending(s), 0);
	slac_session_free(s);
}

static void request_ids_for_creating_verbs(void **state)
{
	struct slac_session *s = ready_session(0);
	char rid[SLAC_REQUEST_ID_LEN + 1], rid2[SLAC_REQUEST_ID_LEN + 1], *out;

	(void)state;
	assert_int_equal(slac_request_id_new(rid), 0);
	assert_int_equal(slac_request_id_new(rid2), 0);
	assert_int_equal(strlen(rid), SLAC_REQUEST_ID_LEN);
	assert_string_not_equal(rid, rid2);
	assert_int_equal(rid[14], '4');

	/* given: kept as it is */
	{
		char body[128];

		snprintf(body, sizeof body, "{\"request_id\":\"%s\",\"type\":\"fault\"}", rid);
		assert_int_equal(submit_json(s, "REPORT", body, NULL), 2);
	}
	/* absent: added; no body at all: a body with only the id */
	assert_int_equal(submit_json(s, "REPORT", "{\"type\":\"fault\"}", NULL), 3);
	assert_int_equal(submit_json(s, "REPORT", NULL, NULL), 4);
	out = drain(s);
	assert_int_equal(count(out, rid), 1);
	assert_int_equal(count(out, "\"request_id\":"), 3);
	assert_non_null(strstr(out, "\n4 REPORT {\"request_id\":\""));
	free(out);
	slac_session_free(s);
}

static void cancel_swallows_the_answer(void **state)
{
	struct slac_session *s = ready_session(0);
	struct rec r = {0};
	uint64_t id;
	char *out;

	(void)state;
	id = submit_json(s, "SHOW", "{\"ticket\":1}", &r);
	slac_session_cancel(s, id);
	slac_session_cancel(s, 12345); /* unknown: nothing */
	free(drain(s));
	assert_int_equal(feed(s, "2 OK {}\n"), 0);
	assert_int_equal(r.calls, 0);
	assert_int_equal(slac_session_pending(s), 0);

	/* offline and never written: it is never sent */
	slac_session_disconnected(s, NULL);
	id = submit_json(s, "SHOW", "{\"ticket\":2}", &r);
	slac_session_cancel(s, id);
	assert_int_equal(slac_session_pending(s), 0);
	assert_int_equal(slac_session_connected(s, NULL, NULL), 0);
	out = drain(s);
	assert_null(strstr(out, "SHOW"));
	free(out);
	slac_session_free(s);
	assert_int_equal(r.calls, 0);
}

static void hello_refused(void **state)
{
	struct slac_session *s = slac_session_new(0, NULL);
	struct rec hello = {0};

	(void)state;
	assert_int_equal(slac_session_connected(s, rec_done, &hello), 0);
	/* connected twice: the first HELLO is dropped, not doubled */
	assert_int_equal(slac_session_connected(s, rec_done, &hello), 0);
	assert_int_equal(slac_session_pending(s), 1);
	free(drain(s));
	assert_int_equal(feed(s, "2 ERR UNAUTHENTICATED no principal for CN=mallory\n"), 0);
	assert_int_equal(hello.calls, 1);
	assert_int_equal(hello.err.code, PROTO_ERR_UNAUTHENTICATED);
	assert_false(slac_session_ready(s));
	assert_int_equal(slac_session_error(s)->code, PROTO_ERR_UNAUTHENTICATED);
	slac_session_free(s);
}

static void callbacks_may_submit(void **state)
{
	struct slac_session *s = ready_session(0);
	struct pushes p = {.s = NULL, .ack = true};
	char *out;

	(void)state;
	p.s = s;
	slac_session_set_push_cb(s, rec_push, &p);
	assert_int_equal(feed(s, "* ESCALATION 4 {\"ticket\":1042}\n"), 0);
	out = drain(s);
	/* the person's acknowledgement and the delivery receipt are two
	 * different requests */
	assert_non_null(strstr(out, "2 ACKNOWLEDGE {\"ticket\":1042}\n3 RECEIPT {\"seq\":4}\n"));
	free(out);
	slac_session_set_last_seq(s, 100);
	assert_int_equal(feed(s, "* ESCALATION 50 {}\n"), 0);
	assert_int_equal(p.n, 1);
	slac_session_free(s);
}

struct drop_ctx {
	struct slac_session *s;
	int calls;
};

static void drop_in_callback(void *arg, const struct slac_answer *a)
{
	struct drop_ctx *d = arg;

	(void)a;
	d->calls++;
	slac_session_disconnected(d->s, "given up");
}

static void disconnect_from_a_callback(void **state)
{
	struct slac_session *s = ready_session(0);
	struct drop_ctx d = {.s = s, .calls = 0};
	struct rec r = {0};

	(void)state;
	assert_int_equal(slac_session_submit(s, "PING", NULL, drop_in_callback, &d), 2);
	assert_int_equal(submit_json(s, "SHOW", "{\"ticket\":3}", &r), 3);
	free(drain(s));
	/* the rest of the read belongs to a dead connection */
	assert_int_equal(feed(s, "2 OK {}\n3 OK {}\n4 OK {}\npartial"), 0);
	assert_int_equal(d.calls, 1);
	assert_int_equal(r.calls, 0);
	assert_int_equal(slac_session_pending(s), 1);
	assert_int_equal(feed(s, "3 OK {}\n"), 0); /* offline: ignored */
	assert_int_equal(r.calls, 0);
	/* the same from the carried-over buffer */
	assert_int_equal(slac_session_connected(s, NULL, NULL), 0);
	free(drain(s));
	assert_int_equal(slac_session_submit(s, "PING", NULL, drop_in_callback, &d), 5);
	free(drain(s));
	assert_int_equal(feed(s, "4 OK {}\n5 O"), 0);
	assert_int_equal(feed(s, "K {}\n3 OK {}\n"), 0);
	assert_int_equal(d.calls, 2);
	assert_int_equal(r.calls, 0);
	slac_session_free(s);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err.status, SLAC_ERR_CONN);
}

static void buffers_shrink_when_idle(void **state)
{
	struct slac_session *s = ready_session(0);
	struct rec r[20] = {{0}};
	char *big = malloc(10000), line[32];
	size_t len;

	(void)state;
	/* a long answer split across reads is carried in a buffer that is
	 * released once the line is done */
	assert_int_equal(submit_json(s, "LIST", "{}", &r[0]), 2);
	free(drain(s));
	memset(big, 'x', 9999);
	big[9999] = '\0';
	memcpy(big, "2 OK {\"a\":\"", 11);
	assert_int_equal(slac_session_input(s, big, 9000), 0);
	assert_int_equal(slac_session_input(s, big + 9000, 999), 0);
	assert_int_equal(feed(s, "\"}\n"), 0);
	assert_int_equal(r[0].calls, 1);
	assert_int_equal(r[0].err.status, SLAC_OK);
	free(big);

	/* twenty in flight, then none: the pending table goes too */
	for (int i = 0; i < 20; i++)
		assert_int_equal(submit_json(s, "PING", NULL, &r[i]), (uint64_t)i + 3);
	assert_int_equal(slac_session_pending(s), 20);
	/* a transport may report more written than was there: clamp */
	(void)slac_session_output(s, &len);
	slac_session_consume(s, len + 100);
	assert_null(slac_session_output(s, &len));
	assert_int_equal(len, 0);
	for (int i = 22; i >= 3; i--) {
		snprintf(line, sizeof line, "%d OK {}\n", i);
		assert_int_equal(feed(s, line), 0);
	}
	assert_int_equal(slac_session_pending(s), 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(r[i].calls, i == 0 ? 2 : 1);
	slac_session_free(s);
}

static void names_and_answers(void **state)
{
	struct slac_answer a = {.body = json_object_new_object()};

	(void)state;
	assert_string_equal(slac_status_name(SLAC_OK), "OK");
	assert_string_equal(slac_status_name(SLAC_ERR_SERVER), "server error");
	assert_string_equal(slac_status_name(SLAC_ERR_CONN), "connection failure");
	assert_string_equal(slac_status_name(SLAC_ERR_PROTOCOL), "protocol error");
	assert_string_equal(slac_status_name(SLAC_ERR_TIMEOUT), "timeout");
	assert_string_equal(slac_status_name(SLAC_ERR_LOCAL), "local error");
	assert_string_equal(slac_status_name((enum slac_status)99), "unknown");
	slac_answer_clear(&a);
	assert_null(a.body);
	slac_answer_clear(NULL);
	slac_session_free(NULL);
	slac_client_free(NULL);
	slac_tls_free(NULL);
}

/* ---------------------------------------------------------------------- */
/* TLS material, generated here                                            */
/* ---------------------------------------------------------------------- */

struct pki {
	char dir[64];
	char ca[128], other_ca[128];
	char server_cert[128], server_key[128];
	char client_cert[128], client_key[128];
	char mallory_cert[128], mallory_key[128]; /* signed by the other CA */
};

static struct pki pki;

static void add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);

	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                       const char *san, long serial)
{
	X509 *x = X509_new();
	X509_NAME *name;
	X509V3_CTX v3;

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	if (!issuer) {
		add_ext(x, &v3, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE");
	}
	add_ext(x, &v3, NID_subject_key_identifier, "hash");
	if (san)
		add_ext(x, &v3, NID_subject_alt_name, san);
	assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
	return x;
}

static void write_pem(const char *path, X509 *x, EVP_PKEY *k)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	if (x)
		assert_int_equal(PEM_write_X509(f, x), 1);
	if (k)
		assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
}

static int pki_setup(void **state)
{
	EVP_PKEY *cak = EVP_EC_gen("P-256"), *sk = EVP_EC_gen("P-256"), *ck = EVP_EC_gen("P-256");
	EVP_PKEY *ok = EVP_EC_gen("P-256"), *mk = EVP_EC_gen("P-256");
	X509 *ca, *srv, *cli, *other, *mal;

	(void)state;
	snprintf(pki.dir, sizeof pki.dir, "/tmp/test_client.XXXXXX");
	if (!mkdtemp(pki.dir))
		return -1;
	snprintf(pki.ca, sizeof pki.ca, "%s/ca.pem", pki.dir);
	snprintf(pki.other_ca, sizeof pki.other_ca, "%s/other-ca.pem", pki.dir);
	snprintf(pki.server_cert, sizeof pki.server_cert, "%s/server.pem", pki.dir);
	snprintf(pki.server_key, sizeof pki.server_key, "%s/server.key", pki.dir);
	snprintf(pki.client_cert, sizeof pki.client_cert, "%s/alice.pem", pki.dir);
	snprintf(pki.client_key, sizeof pki.client_key, "%s/alice.key", pki.dir);
	snprintf(pki.mallory_cert, sizeof pki.mallory_cert, "%s/mallory.pem", pki.dir);
	snprintf(pki.mallory_key, sizeof pki.mallory_key, "%s/mallory.key", pki.dir);
	ca = make_cert(cak, "test CA", NULL, NULL, NULL, 1);
	other = make_cert(ok, "some other CA", NULL, NULL, NULL, 1);
	srv = make_cert(sk, "slad", ca, cak, "DNS:localhost,IP:127.0.0.1", 2);
	cli = make_cert(ck, "alice", ca, cak, NULL, 3);
	mal = make_cert(mk, "mallory", other, ok, NULL, 4);
	write_pem(pki.ca, ca, NULL);
	write_pem(pki.other_ca, other, NULL);
	write_pem(pki.server_cert, srv, NULL);
	write_pem(pki.server_key, NULL, sk);
	write_pem(pki.client_cert, cli, NULL);
	write_pem(pki.client_key, NULL, ck);
	write_pem(pki.mallory_cert, mal, NULL);
	write_pem(pki.mallory_key, NULL, mk);
	X509_free(mal);
	EVP_PKEY_free(mk);
	X509_free(ca);
	X509_free(other);
	X509_free(srv);
	X509_free(cli);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(sk);
	EVP_PKEY_free(ck);
	EVP_PKEY_free(ok);
	return 0;
}

static int pki_teardown(void **state)
{
	const char *files[] = {pki.ca,          pki.other_ca,   pki.server_cert,  pki.server_key,
	                       pki.client_cert, pki.client_key, pki.mallory_cert, pki.mallory_key};

	(void)state;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		unlink(files[i]);
	rmdir(pki.dir);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* a minimal slad stand-in: blocking OpenSSL server in a thread            */
/* ---------------------------------------------------------------------- */

struct server {
	int listen_fd;        /* accept connections on it, or ... */
	int fd;               /* ... serve this one socket */
	int conns;            /* connections to serve */
	bool drop_after_push; /* close the first connection after the pushes */
	bool refuse_hello;    /* answer HELLO with UNAUTHENTICATED */
	pthread_t thread;
	/* what it saw */
	char peer_cn[64];
	int handshakes;
	int receipts[16];
	int nreceipts;
	int hellos;
	int subscribes;
	char version[32];
};

/* Lines hold no NUL, so strlen() gives the length (the serializers' own
 * length argument would be read before the call fills it). */
static void srv_send(SSL *ssl, char *line)
{
	assert_non_null(line);
	assert_int_equal(SSL_write(ssl, line, (int)strlen(line)), (int)strlen(line));
	free(line);
}

static void srv_answer(struct server *sv, SSL *ssl, const struct proto_msg *m, bool *quit,
                       bool *drop)
{
	json_object *a = json_object_new_object(), *v;

	if (strcmp(m->verb, "HELLO") == 0 && sv->refuse_hello) {
		srv_send(ssl, proto_format_err(m->tag, PROTO_ERR_UNAUTHENTICATED,
		                               "no principal alice", NULL));
		*drop = true;
	} else if (strcmp(m->verb, "HELLO") == 0) {
		sv->hellos++;
		json_object_object_add(a, "server", json_object_new_string("test-slad"));
		json_object_object_add(a, "principal", json_object_new_string(sv->peer_cn));
		json_object_object_add(a, "max_line", json_object_new_int(65536));
		srv_send(ssl, proto_format_ok(m->tag, a, NULL));
	} else if (strcmp(m->verb, "RECEIPT") == 0) {
		if (json_object_object_get_ex(m->body, "seq", &v) && sv->nreceipts < 16)
			sv->receipts[sv->nreceipts++] = json_object_get_int(v);
		srv_send(ssl, proto_format_ok(m->tag, a, NULL));
	} else if (strcmp(m->verb, "SUBSCRIBE") == 0) {
		json_object *p = json_object_new_object();

		sv->subscribes++;
		srv_send(ssl, proto_format_ok(m->tag, a, NULL));
		/* Three pushes wait in the "database".  The first session gets
		 * 1, 1 again (at-least-once on the wire) and 2; later ones get
		 * every push without a receipt, in order (PROTOCOL.md). */
		json_object_object_add(p, "ticket_id", json_object_new_int(1042));
		json_object_object_add(p, "customer_name", json_object_new_string("ACME"));
		if (sv->subscribes == 1) {
			srv_send(ssl, proto_format_push("ESCALATION", 1, p, NULL));
			srv_send(ssl, proto_format_push("ESCALATION", 1, p, NULL));
			srv_send(ssl, proto_format_push("ESCALATION", 2, p, NULL));
		} else {
			for (int seq = 1; seq <= 3; seq++) {
				bool done = false;

				for (int i = 0; i < sv->nreceipts; i++)
					done = done || sv->receipts[i] == seq;
				if (!done)
					srv_send(ssl, proto_format_push("ESCALATION", (uint64_t)seq,
					                                p, NULL));
			}
		}
		json_object_put(p);
		if (sv->drop_after_push && sv->subscribes == 1)
			*drop = true;
	} else if (strcmp(m->verb, "CLOSE") == 0) {
		/* draining: say so untagged, then go */
		srv_send(ssl, proto_format_err("*", PROTO_ERR_SHUTTING_DOWN, "draining", NULL));
		*quit = true;
	} else if (strcmp(m->verb, "ARRIVE") == 0) {
		srv_send(ssl, strdup("this is not the protocol\n"));
	} else if (strcmp(m->verb, "RULES_SHOW") == 0) {
		/* never answered */
	} else if (strcmp(m->verb, "QUIT") == 0) {
		srv_send(ssl, proto_format_ok(m->tag, a, NULL));
		*quit = true;
	} else if (strcmp(m->verb, "PING") == 0) {
		json_object_object_add(a, "pong", json_object_new_boolean(1));
		srv_send(ssl, proto_format_ok(m->tag, a, NULL));
	} else {
		srv_send(ssl, proto_format_err(m->tag, PROTO_ERR_NOT_FOUND, "no such thing", NULL));
	}
	json_object_put(a);
}

static void serve_one(struct server *sv, SSL_CTX *ctx, int fd)
{
	SSL *ssl = SSL_new(ctx);
	size_t size = 2 * PROTO_MAX_LINE_DEFAULT, have = 0;
	char *buf = malloc(size);
	bool quit = false, drop = false;
	X509 *peer;

	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) != 1) {
		ERR_clear_error();
		goto done;
	}
	sv->handshakes++;
	snprintf(sv->version, sizeof sv->version, "%s", SSL_get_version(ssl));
	peer = SSL_get1_peer_certificate(ssl);
	if (peer) {
		X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, sv->peer_cn,
		                          sizeof sv->peer_cn);
		X509_free(peer);
	}
	while (!quit && !drop) {
		int n = SSL_read(ssl, buf + have, (int)(size - have));
		char *lf;

		if (n <= 0)
			break;
		have += (size_t)n;
		while (!drop && (lf = memchr(buf, '\n', have)) != NULL) {
			size_t ll = (size_t)(lf - buf);
			struct proto_msg m;
			struct proto_error e;
			struct proto_limits lim = proto_limits_default();

			if (proto_parse_line(buf, ll, PROTO_FROM_CLIENT, &lim, &m, &e) ==
			    PROTO_OK) {
				srv_answer(sv, ssl, &m, &quit, &drop);
				proto_msg_clear(&m);
			}
			memmove(buf, lf + 1, have - ll - 1);
			have -= ll + 1;
		}
	}
	if (!drop)
		SSL_shutdown(ssl);
done:
	free(buf);
	SSL_free(ssl);
	close(fd);
}

static void *server_main(void *arg)
{
	struct server *sv = arg;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	SSL_CTX_use_certificate_chain_file(ctx, pki.server_cert);
	SSL_CTX_use_PrivateKey_file(ctx, pki.server_key, SSL_FILETYPE_PEM);
	SSL_CTX_load_verify_locations(ctx, pki.ca, NULL);
	/* mutual TLS: no client certificate, no session */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	if (sv->fd >= 0) {
		serve_one(sv, ctx, sv->fd);
	} else {
		for (int i = 0; i < sv->conns; i++) {
			int fd = accept(sv->listen_fd, NULL, NULL);

			if (fd < 0)
				break;
			serve_one(sv, ctx, fd);
		}
	}
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

static void server_start(struct server *sv)
{
	assert_int_equal(pthread_create(&sv->thread, NULL, server_main, sv), 0);
}

/* A loopback listener on a free port. */
static int listen_any(char port[8])
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	snprintf(port, 8, "%u", ntohs(a.sin_port));
	return fd;
}

static struct slac_profile profile(const char *port)
{
	struct slac_profile p = {
	    .host = "127.0.0.1",
	    .port = port,
	    .cert = pki.client_cert,
	    .key = pki.client_key,
	    .ca = pki.ca,
	    .server_name = "localhost",
	    .timeout_ms = 20000,
	    .client_name = "test_client",
	};
	return p;
}

/* ---------------------------------------------------------------------- */
/* transport tests                                                         */
/* ---------------------------------------------------------------------- */

static void tls_socketpair_mutual_auth(void **state)
{
	struct server sv = {.listen_fd = -1, .fd = -1};
	struct slac_profile p = profile(NULL);
	struct slac_error err;
	struct slac_tls *tls;
	struct slac_client *c;
	struct slac_answer ans;
	json_object *v;
	int sp[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	sv.fd = sp[1];
	server_start(&sv);
	tls = slac_tls_new(&p, &err);
	assert_non_null(tls);
	c = slac_client_new(tls, &p);
	slac_tls_free(tls); /* the client keeps its reference */
	assert_non_null(c);
	assert_int_equal(slac_client_state(c), SLAC_CLOSED);
	assert_int_equal(slac_client_fd(c), -1);
	assert_int_equal(slac_client_events(c), 0);
	assert_int_equal(slac_client_timeout_ms(c), -1);
	assert_int_equal(slac_client_step(c, 0), -1);

	/* the non-blocking loop a caller with thousands of sessions runs */
	assert_int_equal(slac_client_attach_fd(c, sp[0]), 0);
	assert_int_equal(slac_client_state(c), SLAC_HANDSHAKE);
	while (slac_client_state(c) != SLAC_READY) {
		struct pollfd pfd = {.fd = slac_client_fd(c), .events = slac_client_events(c)};

		assert_true(pfd.events != 0);
		assert_true(slac_client_timeout_ms(c) >= 0);
		assert_true(poll(&pfd, 1, slac_client_timeout_ms(c)) >= 0);
		if (slac_client_step(c, pfd.revents) != 0)
			fail_msg("step: %s", slac_client_error(c)->message);
	}
	assert_int_equal(slac_client_timeout_ms(c), -1);
	/* the server saw our certificate and told us who we are */
	assert_string_equal(sv.peer_cn, "alice");
	assert_true(
	    json_object_object_get_ex(slac_session_hello(slac_client_session(c)), "principal", &v));
	assert_string_equal(json_object_get_string(v), "alice");

	assert_int_equal(slac_call(c, "PING", NULL, &ans, 0), SLAC_OK);
	assert_true(json_object_object_get_ex(ans.body, "pong", &v));
	assert_true(json_object_get_boolean(v));
	slac_answer_clear(&ans);
	v = obj("{\"ticket_id\":1}");
	assert_int_equal(slac_call(c, "SHOW", v, &ans, 0), SLAC_ERR_SERVER);
	json_object_put(v);
	assert_int_equal(ans.err.code, PROTO_ERR_NOT_FOUND);
	assert_string_equal(ans.err.message, "no such thing");
	slac_answer_clear(&ans);
	assert_int_equal(slac_call(c, "QUIT", NULL, &ans, 0), SLAC_OK);
	slac_answer_clear(&ans);
	pthread_join(sv.thread, NULL);
	/* TLS 1.2 at least; this pair negotiates 1.3 */
	assert_string_equal(sv.version, "TLSv1.3");
	slac_client_free(c);
}

struct watcher {
	struct pushes got;
	volatile sig_atomic_t stop;
	int downs, ups;
	int extra_reads;
	int pipe_rd;
};

static void watch_push(void *arg, const char *event, uint64_t seq, json_object *body)
{
	struct watcher *w = arg;

	rec_push(&w->got, event, seq, body);
	if (w->got.n == 3)
		w->stop = 1;
}

static void watch_link(void *arg, bool up, const struct slac_error *why)
{
	struct watcher *w = arg;

	if (up) {
		w->ups++;
	} else {
		w->downs++;
		assert_int_equal(why->status, SLAC_ERR_CONN);
	}
}

static int watch_extra(void *arg)
{
	struct watcher *w = arg;
	char b[8];
	ssize_t n = read(w->pipe_rd, b, sizeof b);

	w->extra_reads++;
	return n > 0 ? 0 : -1;
}

static void tls_tcp_watch_with_reconnect(void **state)
{
	struct server sv = {.fd = -1, .conns = 3, .drop_after_push = true};
	char port[8];
	struct slac_profile p;
	struct slac_error err;
	struct slac_client *c;
	struct slac_answer ans;
	struct watcher w = {.stop = 0};
	json_object *sub = obj("{\"team\":\"north\"}");
	int pfd[2];
	int seen[4] = {0};

	(void)state;
	sv.listen_fd = listen_any(port);
	p = profile(port);
	server_start(&sv);
	c = slac_connect(&p, &err);
	if (!c)
		fail_msg("connect: %s", err.message);
	assert_int_equal(slac_client_state(c), SLAC_READY);
	slac_session_set_push_cb(slac_client_session(c), watch_push, &w);
	assert_int_equal(slac_call(c, "SUBSCRIBE", sub, &ans, 0), SLAC_OK);
	slac_answer_clear(&ans);
	json_object_put(sub);

	/* Connection 1 pushes 1, 1, 2 and drops us before reading a receipt.
	 * The watch reconnects; the library re-sends HELLO, the SUBSCRIBE and
	 * the two receipts; connection 2 resends 1 and 2 (dropped: their
	 * receipts are in flight) and pushes 3. */
	assert_int_equal(pipe(pfd), 0);
	w.pipe_rd = pfd[0];
	assert_int_equal(write(pfd[1], "a 1042\n", 7), 7);
	close(pfd[1]); /* then end of file: the watch stops polling it */
	{
		struct slac_watch_opts o = {
		    .on_push = watch_push,
		    .arg = &w,
		    .extra_fd = pfd[0],
		    .on_extra = watch_extra,
		    .on_link = watch_link,
		    .reconnect_max_ms = 1000,
		    .stop = &w.stop,
		};

		assert_int_equal(slac_watch(c, &o, &err), SLAC_OK);
	}
	close(pfd[0]);
	assert_int_equal(w.got.n, 3);
	assert_int_equal(w.got.seq[0], 1);
	assert_int_equal(w.got.seq[1], 2);
	assert_int_equal(w.got.seq[2], 3);
	assert_int_equal(w.downs, 1);
	assert_int_equal(w.ups, 1);
	assert_true(w.extra_reads >= 1);

	/* QUIT: the server answers and closes.  The next call reconnects by
	 * itself (connection 3): everything is receipted, nothing comes. */
	assert_int_equal(slac_call(c, "QUIT", NULL, &ans, 0), SLAC_OK);
	slac_answer_clear(&ans);
	assert_int_equal(slac_call(c, "PING", NULL, &ans, 0), SLAC_OK);
	slac_answer_clear(&ans);
	assert_int_equal(slac_call(c, "QUIT", NULL, &ans, 0), SLAC_OK);
	slac_answer_clear(&ans);
	pthread_join(sv.thread, NULL);
	assert_int_equal(w.got.n, 3);
	assert_int_equal(sv.hellos, 3);
	assert_int_equal(sv.subscribes, 3);
	assert_int_equal(slac_session_stats(slac_client_session(c)).duplicates, 3);
	/* every push receipted, none twice (connection 1 read none) */
	for (int i = 0; i < sv.nreceipts; i++) {
		assert_true(sv.receipts[i] >= 1 && sv.receipts[i] <= 3);
		seen[sv.receipts[i]]++;
	}
	assert_int_equal(seen[1], 1);
	assert_int_equal(seen[2], 1);
	assert_int_equal(seen[3], 1);
	assert_int_equal(slac_session_pending(slac_client_session(c)), 0);
	slac_client_free(c);
	close(sv.listen_fd);
}

static void drive_until_ready(struct slac_client *c)
{
	while (slac_client_state(c) != SLAC_READY) {
		struct pollfd pfd = {.fd = slac_client_fd(c), .events = slac_client_events(c)};

		assert_true(poll(&pfd, 1, slac_client_timeout_ms(c)) >= 0);
		if (slac_client_step(c, pfd.revents) != 0)
			fail_msg("step: %s", slac_client_error(c)->message);
	}
}

struct close_ctx {
	struct slac_client *c;
	int answers;
};

static void count_done(void *arg, const struct slac_answer *a)
{
	struct close_ctx *x = arg;

	assert_int_equal(a->err.status, SLAC_ERR_SERVER);
	assert_int_equal(a->err.code, PROTO_ERR_NOT_FOUND);
	x->answers++;
}

static void close_in_callback(void *arg, const struct slac_answer *a)
{
	struct close_ctx *x = arg;

	(void)a;
	x->answers++;
	slac_client_close(x->c); /* deferred until the step returns */
}

static void tls_pipelined_volume_and_close(void **state)
{
	struct server sv = {.listen_fd = -1, .fd = -1};
	struct slac_profile p = profile(NULL);
	struct slac_tls *tls = slac_tls_new(&p, NULL);
	struct slac_client *c = slac_client_new(tls, &p);
	struct close_ctx x = {.c = c, .answers = 0};
	json_object *b = json_object_new_object();
	char *text = malloc(30001);
	int sp[2];

	(void)state;
	slac_tls_free(tls);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	sv.fd = sp[1];
	server_start(&sv);
	assert_int_equal(slac_client_attach_fd(c, sp[0]), 0);
	drive_until_ready(c);
	/* 1.2 MB in 40 pipelined lines: more than the socket takes at once,
	 * so writes come back "try again" and resume where they stopped */
	memset(text, 'n', 30000);
	text[30000] = '\0';
	json_object_object_add(b, "ticket_id", json_object_new_int(1));
	json_object_object_add(b, "text", json_object_new_string(text));
	free(text);
	for (int i = 0; i < 40; i++)
		assert_true(slac_client_submit(c, "SHOW", b, count_done, &x) != 0);
	json_object_put(b);
	while (x.answers < 40) {
		struct pollfd pfd = {.fd = slac_client_fd(c), .events = slac_client_events(c)};

		assert_true(poll(&pfd, 1, -1) > 0);
		assert_int_equal(slac_client_step(c, pfd.revents), 0);
	}
	assert_int_equal(slac_session_pending(slac_client_session(c)), 0);

	/* a callback closes the client: done after the step */
	x.answers = 0;
	assert_true(slac_client_submit(c, "PING", NULL, close_in_callback, &x) != 0);
	while (slac_client_state(c) != SLAC_CLOSED) {
		struct pollfd pfd = {.fd = slac_client_fd(c), .events = slac_client_events(c)};

		assert_true(poll(&pfd, 1, -1) > 0);
		if (slac_client_step(c, pfd.revents) < 0)
			break;
	}
	assert_int_equal(x.answers, 1);
	assert_non_null(strstr(slac_client_error(c)->message, "closed by the client"));
	assert_int_equal(slac_client_fd(c), -1);
	pthread_join(sv.thread, NULL);
	slac_client_free(c);
}

static void tls_server_misbehaves(void **state)
{
	struct server sv = {.fd = -1, .conns = 4};
	struct server refuse = {.fd = -1, .conns = 1, .refuse_hello = true};
	char port[8], port2[8];
	struct slac_profile p;
	struct slac_error err;
	struct slac_client *c;
	struct slac_answer ans;
	struct slac_tls *tls;
	json_object *tb;

	(void)state;
	sv.listen_fd = listen_any(port);
	p = profile(port);
	server_start(&sv);

	/* connection 1: no error wanted */
	c = slac_connect(&p, NULL);
	assert_non_null(c);
	slac_client_free(c);
	/* connection 2: a verb it never answers, an unknown verb */
	c = slac_connect(&p, &err);
	assert_non_null(c);
	assert_int_equal(slac_call(c, "RULES_SHOW", NULL, &ans, 50), SLAC_ERR_TIMEOUT);
	assert_non_null(strstr(ans.err.message, "no answer to RULES_SHOW"));
	slac_answer_clear(&ans);
	assert_int_equal(slac_call(c, "NO_SUCH_VERB", NULL, &ans, 0), SLAC_ERR_LOCAL);
	slac_answer_clear(&ans);
	/* reconnecting an open client: connection 3, with its own deadline */
	assert_int_equal(slac_client_connect(c, 5000, &err), SLAC_OK);
	/* an untagged ERR before the server goes: cited in the error; a
	 * CLOSE is not replayed, so it fails as UNAVAILABLE */
	tb = obj("{\"ticket_id\":5}");
	assert_int_equal(slac_call(c, "CLOSE", tb, &ans, 0), SLAC_ERR_CONN);
	assert_int_equal(ans.err.code, PROTO_ERR_UNAVAILABLE);
	assert_non_null(strstr(ans.err.message, "SHUTTING_DOWN draining"));
	assert_non_null(strstr(ans.err.message, "CLOSE is not re-sent"));
	slac_answer_clear(&ans);
	assert_int_equal(slac_client_state(c), SLAC_CLOSED);
	/* connection 4 (slac_call reconnects): a line that is not the
	 * protocol drops the connection */
	assert_int_equal(slac_call(c, "ARRIVE", tb, &ans, 0), SLAC_ERR_CONN);
	json_object_put(tb);
	assert_int_equal(slac_client_state(c), SLAC_CLOSED);
	assert_int_equal(slac_client_error(c)->status, SLAC_ERR_PROTOCOL);
	assert_non_null(strstr(slac_client_error(c)->message, "unreadable line"));
	slac_answer_clear(&ans);
	slac_client_free(c);

	pthread_join(sv.thread, NULL);

	/* the server is gone: a call tries once to reconnect, then fails */
	tls = slac_tls_new(&p, NULL);
	c = slac_client_new(tls, &p);
	slac_tls_free(tls);
	close(sv.listen_fd);
	assert_int_equal(slac_call(c, "PING", NULL, &ans, 0), SLAC_ERR_CONN);
	assert_non_null(strstr(ans.err.message, "cannot connect"));
	slac_answer_clear(&ans);
	slac_client_close(c);
	slac_client_free(c);

	/* another server refuses our HELLO */
	refuse.listen_fd = listen_any(port2);
	p = profile(port2);
	server_start(&refuse);
	assert_null(slac_connect(&p, &err));
	assert_int_equal(err.status, SLAC_ERR_SERVER);
	assert_int_equal(err.code, PROTO_ERR_UNAUTHENTICATED);
	assert_string_equal(err.message, "no principal alice");
	pthread_join(refuse.thread, NULL);
	close(refuse.listen_fd);
}

struct edge {
	int downs, ups, pushes;
	volatile sig_atomic_t stop;
	int stop_after_downs;
	int fd;
};

static void edge_push(void *arg, const char *event, uint64_t seq, json_object *body)
{
	struct edge *e = arg;

	(void)event;
	(void)body;
	e->pushes++;
	if (seq == 3)
		e->stop = 1;
}

static void edge_link(void *arg, bool up, const struct slac_error *why)
{
	struct edge *e = arg;

	(void)why;
	if (up)
		e->ups++;
	else if (++e->downs == e->stop_after_downs)
		e->stop = 1;
}

static int edge_extra(void *arg)
{
	struct edge *e = arg;
	char b[8];

	return read(e->fd, b, sizeof b) > 0 ? 1 : -1;
}

static pthread_t watcher_thread;
static volatile sig_atomic_t usr1_stop;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_stop = 1;
}

static void *send_usr1(void *arg)
{
	(void)arg;
	pthread_kill(watcher_thread, SIGUSR1);
	return NULL;
}

static void signal_link(void *arg, bool up, const struct slac_error *why)
{
	pthread_t t;

	(void)arg;
	(void)why;
	/* the first "down" comes just before the long wait: interrupt it */
	if (!up && pthread_create(&t, NULL, send_usr1, NULL) == 0)
		pthread_detach(t);
}

static void watch_unreachable_and_signals(void **state)
{
	struct slac_profile p = profile("7443");
	struct slac_tls *tls;
	struct slac_client *c;
	struct edge e = {.stop = 0, .fd = -1, .stop_after_downs = 3};
	struct slac_watch_opts o = {.arg = &e,
	                            .extra_fd = -1,
	                            .on_link = edge_link,
	                            .reconnect_max_ms = 5,
	                            .stop = &e.stop};
	struct sigaction sa = {.sa_handler = on_usr1}, old;
	int pfd[2];

	(void)state;
	/* every attempt fails at once (no route): reported, retried */
	p.host = "255.255.255.255";
	tls = slac_tls_new(&p, NULL);
	c = slac_client_new(tls, &p);
	slac_tls_free(tls);
	assert_int_equal(slac_watch(c, &o, NULL), SLAC_OK);
	assert_int_equal(e.downs, 3);

	/* a signal handler's flag ends a long wait; a closed extra
	 * descriptor is dropped from the poll set */
	assert_int_equal(pipe(pfd), 0);
	close(pfd[0]);
	close(pfd[1]);
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0); /* no SA_RESTART */
	watcher_thread = pthread_self();
	o.on_link = signal_link;
	o.extra_fd = pfd[0];
	o.on_extra = edge_extra;
	o.reconnect_max_ms = 60000;
	o.stop = &usr1_stop;
	assert_int_equal(slac_watch(c, &o, NULL), SLAC_OK);
	assert_int_equal(usr1_stop, 1);
	sigaction(SIGUSR1, &old, NULL);
	slac_client_free(c);
}

static void tls_watch_edges(void **state)
{
	struct server sv = {.fd = -1, .conns = 2, .drop_after_push = true};
	char port[8];
	struct slac_profile p;
	struct slac_error err;
	struct slac_client *c;
	struct slac_answer ans;
	struct edge e = {.stop = 0, .fd = -1};
	struct slac_watch_opts o = {
	    .on_push = edge_push,
	    .arg = &e,
	    .extra_fd = -1,
	    .on_link = edge_link,
	    .reconnect_max_ms = -1,
	    .stop = &e.stop,
	};
	int pfd[2];

	(void)state;
	sv.listen_fd = listen_any(port);
	p = profile(port);
	server_start(&sv);
	c = slac_connect(&p, &err);
	assert_non_null(c);
	slac_session_set_push_cb(slac_client_session(c), edge_push, &e);
	assert_int_equal(slac_call(c, "SUBSCRIBE", NULL, &ans, 0), SLAC_OK);
	slac_answer_clear(&ans);
	/* no reconnecting: the drop ends the watch */
	assert_int_equal(slac_watch(c, &o, NULL), SLAC_ERR_CONN);
	assert_int_equal(e.downs, 1);
	/* reconnecting with a short backoff: connection 2 brings seq 3 */
	o.reconnect_max_ms = 20;
	assert_int_equal(slac_watch(c, &o, &err), SLAC_OK);
	assert_int_equal(e.ups, 1);
	assert_int_equal(slac_call(c, "QUIT", NULL, &ans, 0), SLAC_OK);
	slac_answer_clear(&ans);
	pthread_join(sv.thread, NULL);
	close(sv.listen_fd);
	/* the server is gone for good: attempts fail, the watch goes on
	 * trying until told to stop */
	e.stop = 0;
	e.downs = 0;
	e.stop_after_downs = 3;
	assert_int_equal(slac_watch(c, &o, &err), SLAC_OK);
	assert_int_equal(e.downs, 3);
	/* input on the extra descriptor can end it */
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(write(pfd[1], "q\n", 2), 2);
	e.fd = pfd[0];
	e.stop = 0;
	e.stop_after_downs = 0;
	o.extra_fd = pfd[0];
	o.on_extra = edge_extra;
	assert_int_equal(slac_watch(c, &o, &err), SLAC_OK);
	close(pfd[0]);
	close(pfd[1]);
	slac_client_free(c);
}

/* A server that accepts and then says nothing. */
static void *mute_main(void *arg)
{
	int lfd = *(int *)arg;
	int fd = accept(lfd, NULL, NULL);
	char b[4096];

	/* hold the connection until the client gives up */
	while (fd >= 0 && read(fd, b, sizeof b) > 0)
		;
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void tls_failures_are_reported(void **state)
{
	static const struct {
		const char *what;
		const char *ca, *server_name;
		const char *expect;
	} cases[] = {
	    {"unknown CA", NULL, "localhost", "certificate verify failed"},
	    {"wrong name", NULL, "wrong.example", "hostname mismatch"},
	    {"by address", NULL, "127.0.0.2", "IP address mismatch"},
	};
	char port[8];
	struct slac_error err;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct server sv = {.fd = -1, .conns = 1};
		struct slac_profile p;

		sv.listen_fd = listen_any(port);
		p = profile(port);
		p.ca = i == 0 ? pki.other_ca : pki.ca;
		p.server_name = cases[i].server_name;
		server_start(&sv);
		assert_null(slac_connect(&p, &err));
		assert_int_equal(err.status, SLAC_ERR_CONN);
		if (!strstr(err.message, cases[i].expect))
			fail_msg("%s: %s", cases[i].what, err.message);
		pthread_join(sv.thread, NULL);
		assert_int_equal(sv.handshakes, 0);
		close(sv.listen_fd);
	}

	/* the server refuses our certificate (signed by a CA it does not
	 * trust): in TLS 1.3 that arrives as an alert after the handshake */
	{
		struct server sv = {.fd = -1, .conns = 1};
		struct slac_profile p;

		sv.listen_fd = listen_any(port);
		p = profile(port);
		p.cert = pki.mallory_cert;
		p.key = pki.mallory_key;
		server_start(&sv);
		assert_null(slac_connect(&p, &err));
		assert_int_equal(err.status, SLAC_ERR_CONN);
		if (!strstr(err.message, "alert"))
			fail_msg("refused certificate: %s", err.message);
		pthread_join(sv.thread, NULL);
		close(sv.listen_fd);
	}

	/* no CA file: the system's store does not know our test CA */
	{
		struct server sv = {.fd = -1, .conns = 1};
		struct slac_profile p;

		sv.listen_fd = listen_any(port);
		p = profile(port);
		p.ca = NULL;
		server_start(&sv);
		assert_null(slac_connect(&p, &err));
		assert_int_equal(err.status, SLAC_ERR_CONN);
		assert_non_null(strstr(err.message, "certificate verify failed"));
		pthread_join(sv.thread, NULL);
		close(sv.listen_fd);
	}

	/* an address no route leads to; a port that is no number */
	{
		struct slac_profile p = profile("7443");

		p.host = "255.255.255.255";
		assert_null(slac_connect(&p, &err));
		assert_int_equal(err.status, SLAC_ERR_CONN);
		assert_non_null(strstr(err.message, "cannot connect to 255.255.255.255:7443"));
		p = profile("notaport");
		assert_null(slac_connect(&p, &err));
		assert_int_equal(err.status, SLAC_ERR_CONN);
		assert_non_null(strstr(err.message, "cannot resolve 127.0.0.1:notaport"));
		p.cert = "/nonexistent.pem";
		assert_null(slac_connect(&p, &err));
		assert_int_equal(err.status, SLAC_ERR_LOCAL);
	}

	/* nobody listening */
	{
		int fd = listen_any(port);
		struct slac_profile p = profile(port);

		close(fd);
		assert_null(slac_connect(&p, &err));
		assert_int_equal(err.status, SLAC_ERR_CONN);
		assert_non_null(strstr(err.message, "cannot connect"));
		assert_non_null(strstr(err.message, "refused"));
	}

	/* a server that never starts TLS: the handshake deadline */
	{
		int lfd = listen_any(port);
		struct slac_profile p = profile(port);
		pthread_t t;

		p.timeout_ms = 100;
		assert_int_equal(pthread_create(&t, NULL, mute_main, &lfd), 0);
		assert_null(slac_connect(&p, &err));
		assert_int_equal(err.status, SLAC_ERR_CONN);
		assert_non_null(strstr(err.message, "TLS handshake"));
		assert_non_null(strstr(err.message, "timed out"));
		pthread_join(t, NULL);
		close(lfd);
	}
}

static void tls_context_errors(void **state)
{
	struct slac_profile p = profile("1");
	struct slac_error err;

	(void)state;
	p.cert = NULL;
	assert_null(slac_tls_new(&p, &err));
	assert_int_equal(err.status, SLAC_ERR_LOCAL);
	assert_non_null(strstr(err.message, "--cert"));

	p = profile("1");
	p.cert = "/nonexistent/alice.pem";
	assert_null(slac_tls_new(&p, &err));
	assert_int_equal(err.status, SLAC_ERR_LOCAL);
	assert_non_null(strstr(err.message, "/nonexistent/alice.pem"));

	p = profile("1");
	p.ca = "/nonexistent/ca.pem";
	assert_null(slac_tls_new(&p, &err));
	assert_non_null(strstr(err.message, "CA file"));

	p = profile("1");
	p.key = "/nonexistent/alice.key";
	assert_null(slac_tls_new(&p, &err));
	assert_non_null(strstr(err.message, "private key"));

	p = profile("1");
	p.key = pki.server_key; /* a key of another certificate */
	assert_null(slac_tls_new(&p, &err));
	if (!strstr(err.message, "mismatch"))
		fail_msg("%s", err.message);

	/* a server name SNI cannot carry (over 255 bytes) is refused before
	 * any byte is sent, on a socket or after a TCP connect */
	{
		struct slac_tls *tls;
		struct slac_client *c;
		char name[300], port[8];
		int sp[2], lfd = listen_any(port);

		memset(name, 'a', sizeof name - 1);
		name[sizeof name - 1] = '\0';
		p = profile(port);
		p.server_name = name;
		tls = slac_tls_new(&p, &err);
		assert_non_null(tls);
		c = slac_client_new(tls, &p);
		slac_tls_free(tls);
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
		close(sp[1]);
		assert_int_equal(slac_client_attach_fd(c, sp[0]), -1);
		assert_int_equal(slac_client_state(c), SLAC_CLOSED);
		assert_int_equal(slac_client_error(c)->status, SLAC_ERR_LOCAL);
		assert_non_null(strstr(slac_client_error(c)->message, "bad server name"));
		assert_int_equal(slac_client_connect(c, 0, &err), SLAC_ERR_LOCAL);
		assert_non_null(strstr(err.message, "bad server name"));
		assert_int_equal(slac_client_attach_fd(c, -1), -1);
		slac_client_close(c);
		slac_client_free(c);
		close(lfd);
	}
}

static const struct CMUnitTest session_tests[] = {
    cmocka_unit_test(hello_goes_first),
    cmocka_unit_test(pipelined_answers_out_of_order),
    cmocka_unit_test(err_answers_carry_code_and_message),
    cmocka_unit_test(duplicate_pushes_dropped_and_receipted_once),
    cmocka_unit_test(receipts_survive_reconnect),
    cmocka_unit_test(unanswered_requests_on_reconnect),
    cmocka_unit_test(subscription_reestablished),
    cmocka_unit_test(partial_lines_across_reads),
    cmocka_unit_test(overlong_server_lines),
    cmocka_unit_test(unreadable_server_lines),
    cmocka_unit_test(submit_refusals),
    cmocka_unit_test(request_ids_for_creating_verbs),
    cmocka_unit_test(cancel_swallows_the_answer),
    cmocka_unit_test(hello_refused),
    cmocka_unit_test(callbacks_may_submit),
    cmocka_unit_test(disconnect_from_a_callback),
    cmocka_unit_test(buffers_shrink_when_idle),
    cmocka_unit_test(names_and_answers),
};

static const struct CMUnitTest tls_tests[] = {
    cmocka_unit_test(tls_socketpair_mutual_auth),
    cmocka_unit_test(tls_tcp_watch_with_reconnect),
    cmocka_unit_test(tls_pipelined_volume_and_close),
    cmocka_unit_test(tls_server_misbehaves),
    cmocka_unit_test(tls_watch_edges),
    cmocka_unit_test(watch_unreachable_and_signals),
    cmocka_unit_test(tls_failures_are_reported),
    cmocka_unit_test(tls_context_errors),
};

int main(void)
{
	int failed;

	/* the test server writes with plain write(): a client that went away
	 * must not kill the test (the library itself sends with MSG_NOSIGNAL) */
	signal(SIGPIPE, SIG_IGN);
	failed = cmocka_run_group_tests_name("session", session_tests, NULL, NULL);

	failed += cmocka_run_group_tests_name("tls", tls_tests, pki_setup, pki_teardown);
	return failed;
}
