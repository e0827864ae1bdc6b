/*
 * test_wire.c - bad input and unkind clients over a real TLS connection
 * (issue 4, "Tests": every malformed line from the codec's table, a 64 MiB
 * line without a newline, a client that trickles, a client that never
 * reads; plus the session's deadlines and caps from PROTOCOL.md
 * "Transport").
 *
 * The client library will not send a malformed line, so this file speaks
 * the protocol itself over OpenSSL.  Deadlines are made short through
 * slad's configuration and waited for with bounded polls; no sleep moves
 * time.  The only pauses are the trickling clients' own pace, which is the
 * behaviour under test.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "harness.h"
#include "rawtls.h"

#define WAIT_MS 10000 /* upper bound of every wait: a failure, never a pace */

/* ---- time, the log, the database ---- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Whether one line of slad's log holds both needles. */
static bool log_has(const char *a, const char *b)
{
	FILE *f = fopen(h_log_path(), "r");
	if (f == NULL)
		return false;
	char line[8192];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, a) != NULL && strstr(line, b) != NULL;
	fclose(f);
	return found;
}

/* Wait (bounded) until slad logs `what` about the client at local port. */
static void expect_logged(int port, const char *what)
{
	char peer[64];
	snprintf(peer, sizeof(peer), "peer=127.0.0.1:%d ", port);
	int64_t end = now_ms() + WAIT_MS;
	while (!log_has(peer, what)) {
		if (now_ms() > end)
			fail_msg("slad logged no line with '%s' and '%s'", peer, what);
		pause_ms(20);
	}
}

/* What the tests must not change: rows of tickets, events and requests. */
static void db_counts(int64_t out[3])
{
	out[0] = h_sql_int("SELECT count(*) FROM tickets");
	out[1] = h_sql_int("SELECT count(*) FROM ticket_events");
	out[2] = h_sql_int("SELECT count(*) FROM requests");
}

/* ---- a raw TLS client (rawtls.h) ---- */

/* The server closes: no further line, the end of the connection. */
static void expect_closed(struct rawtls *r)
{
	char line[1024];
	int n = rawtls_read_line(r, line, sizeof(line), RAWTLS_WAIT_MS);
	if (n != RAWTLS_CLOSED)
		fail_msg("expected the server to close, got %s '%s'",
		         n == RAWTLS_TIMEOUT ? "nothing" : "a line", line);
}

static void expect_line_prefix(struct rawtls *r, const char *prefix)
{
	char line[4096];
	int n = rawtls_read_line(r, line, sizeof(line), RAWTLS_WAIT_MS);
	if (n < 0)
		fail_msg("expected '%s...', got %s", prefix,
		         n == RAWTLS_CLOSED ? "a close" : "nothing");
	if (strncmp(line, prefix, strlen(prefix)) != 0)
		fail_msg("expected '%s...', got '%s'", prefix, line);
}

/* A session as admin (who may call every verb) past HELLO. */
static void raw_session(struct rawtls *r)
{
	assert_int_equal(rawtls_open(r, "admin", 0, false), 0);
	assert_int_equal(rawtls_puts(r, "h0 HELLO {\"version\":1}\n"), 0);
	expect_line_prefix(r, "h0 OK {");
}

static void expect_ping(struct rawtls *r, const char *tag)
{
	char req[64], ok[64];
	snprintf(req, sizeof(req), "%s PING\n", tag);
	snprintf(ok, sizeof(ok), "%s OK {", tag);
	assert_int_equal(rawtls_puts(r, req), 0);
	expect_line_prefix(r, ok);
}

/* ---- the codec's table of malformed lines ---- */

/* Undo the C-style escapes of malformed_lines.tsv in place; the length. */
static size_t unescape(char *s)
{
	size_t o = 0;
	for (size_t i = 0; s[i] != '\0'; i++) {
		if (s[i] != '\\') {
			s[o++] = s[i];
			continue;
		}
		char c = s[++i];
		if (c == 'n') {
			s[o++] = '\n';
		} else if (c == 'r') {
			s[o++] = '\r';
		} else if (c == 't') {
			s[o++] = '\t';
		} else if (c == '\\') {
			s[o++] = '\\';
		} else if (c == 'x' && s[i + 1] != '\0' && s[i + 2] != '\0') {
			char hex[3] = {s[i + 1], s[i + 2], '\0'};
			s[o++] = (char)strtol(hex, NULL, 16);
			i += 2;
		} else {
			fail_msg("malformed_lines.tsv: unknown escape \\%c", c);
		}
	}
	return o;
}

/* The code of an ERR answer ("t1 ERR BAD_JSON message"), or "" if the line
 * is not one. */
static void answer_code(const char *line, char *code, size_t cap)
{
	code[0] = '\0';
	const char *p = strchr(line, ' ');
	if (p == NULL || strncmp(p, " ERR ", 5) != 0)
		return;
	p += 5;
	size_t n = strcspn(p, " ");
	if (n >= cap)
		n = cap - 1;
	memcpy(code, p, n);
	code[n] = '\0';
}

static void test_malformed_lines(void **state)
{
	(void)state;
	char path[2048];
	snprintf(path, sizeof(path), "%s/tests/data/malformed_lines.tsv", getenv("SLAD_TEST_TOP"));
	FILE *f = fopen(path, "r");
	if (f == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	struct rawtls r;
	raw_session(&r);
	int64_t before[3], after[3];
	db_counts(before);
	char buf[8192], answer[8192], code[64];
	int lineno = 0, cases = 0;
	while (fgets(buf, sizeof(buf), f)) {
		lineno++;
		size_t len = strlen(buf);
		if (len > 0 && buf[len - 1] == '\n')
			buf[--len] = '\0';
		if (buf[0] == '#' || buf[0] == '\0')
			continue;
		/* <CODE> TAB <keeps> TAB <line>: the line may hold anything. */
		char *tab1 = strchr(buf, '\t');
		char *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
		if (tab2 == NULL)
			fail_msg("%s:%d: not CODE<TAB>keeps<TAB>line", path, lineno);
		*tab1 = *tab2 = '\0';
		const char *want = buf, *keeps = tab1 + 1;
		char *line = tab2 + 1;
		if (proto_err_parse(want) == PROTO_ERR_COUNT)
			fail_msg("%s:%d: unknown code %s", path, lineno, want);
		bool keep = strcmp(keeps, "yes") == 0;
		if (!keep && strcmp(keeps, "no") != 0)
			fail_msg("%s:%d: keeps is '%s'", path, lineno, keeps);
		size_t n = unescape(line);
		if (memchr(line, '\n', n) != NULL)
			fail_msg("%s:%d: a case may not hold a LF", path, lineno);
		line[n++] = '\n';

		assert_int_equal(rawtls_write(&r, line, n), 0);
		int got = rawtls_read_line(&r, answer, sizeof(answer), RAWTLS_WAIT_MS);
		if (got < 0)
			fail_msg("%s:%d: no answer (%s)", path, lineno,
			         got == RAWTLS_CLOSED ? "closed" : "timeout");
		answer_code(answer, code, sizeof(code));
		if (strcmp(code, want) != 0)
			fail_msg("%s:%d: expected %s, got '%s'", path, lineno, want, answer);
		if (keep) {
			expect_ping(&r, "x");
		} else {
			expect_closed(&r);
			rawtls_close(&r);
			raw_session(&r);
		}
		db_counts(after);
		for (int i = 0; i < 3; i++)
			if (after[i] != before[i])
				fail_msg("%s:%d: the database changed (table %d: %lld -> %lld)",
				         path, lineno, i, (long long)before[i],
				         (long long)after[i]);
		cases++;
	}
	fclose(f);
	rawtls_close(&r);
	assert_true(cases >= 100); /* the table was read, not skipped */
}

/* One line a little over the cap, with its LF: LINE_TOO_LONG, and the
 * session goes on. */
static void test_long_line_with_newline(void **state)
{
	(void)state;
	struct rawtls r;
	raw_session(&r);
	size_t len = PROTO_MAX_LINE_DEFAULT + 100;
	char *line = malloc(len + 1);
	assert_non_null(line);
	memcpy(line, "t1 PING {\"a\":\"", 14);
	memset(line + 14, 'a', len - 14);
	line[len] = '\n';
	assert_int_equal(rawtls_write(&r, line, len + 1), 0);
	free(line);
	char answer[1024], code[64];
	assert_true(rawtls_read_line(&r, answer, sizeof(answer), RAWTLS_WAIT_MS) > 0);
	answer_code(answer, code, sizeof(code));
	assert_string_equal(code, "LINE_TOO_LONG");
	expect_ping(&r, "x");
	rawtls_close(&r);
}

/* ---- memory ---- */

/* A field of /proc/PID/status in KiB, or -1. */
static long proc_kib(pid_t pid, const char *field)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	long v = -1;
	size_t n = strlen(field);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

/* Reset the peak resident size so VmHWM says what happens from now on. */
static bool reset_peak(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)pid);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return false;
	bool ok = fputs("5", f) >= 0;
	return fclose(f) == 0 && ok;
}

static void test_64mib_line_without_newline(void **state)
{
	(void)state;
	struct rawtls r;
	raw_session(&r);
	int64_t db_before[3], db_after[3];
	db_counts(db_before);
	pid_t pid = h_slad_pid();
	bool peak = reset_peak(pid);
	long before = proc_kib(pid, "VmRSS");
	assert_true(before > 0);

	enum { CHUNK = 64 * 1024, TOTAL = 64 * 1024 * 1024 };
	char *chunk = malloc(CHUNK);
	assert_non_null(chunk);
	memset(chunk, 'a', CHUNK);
	memcpy(chunk, "t1 PING {\"a\":\"", 14);
	for (size_t sent = 0; sent < TOTAL; sent += CHUNK) {
		if (rawtls_write(&r, chunk, CHUNK) != 0)
			fail_msg("the server stopped reading after %zu bytes", sent);
		if (sent == 0)
			memset(chunk, 'a', 14);
	}
	free(chunk);
	char answer[1024], code[64];
	assert_true(rawtls_read_line(&r, answer, sizeof(answer), RAWTLS_WAIT_MS) > 0);
	answer_code(answer, code, sizeof(code));
	assert_string_equal(code, "LINE_TOO_LONG");

	long after = proc_kib(pid, peak ? "VmHWM" : "VmRSS");
	long grown = after - before;
	print_message("slad %s grew by %ld KiB while 64 MiB went by\n", peak ? "peak RSS" : "RSS",
	              grown);
	assert_true(grown < 32 * 1024);

	/* PROTOCOL.md "Framing": the rest up to the LF is discarded and the
	 * connection stays open. */
	assert_int_equal(rawtls_puts(&r, "\n"), 0);
	expect_ping(&r, "x");
	rawtls_close(&r);
	db_counts(db_after);
	assert_memory_equal(db_before, db_after, sizeof(db_before));
}

/* ---- session order ---- */

/* PROTOCOL.md "The session": QUIT is answered after every earlier request
 * of the session, then the server closes. */
static void test_quit_waits_for_earlier_requests(void **state)
{
	(void)state;
	struct rawtls r;
	raw_session(&r);
	int64_t tickets = h_sql_int("SELECT count(*) FROM tickets");
	char lines[1024];
	snprintf(lines, sizeof(lines),
	         "r1 REPORT {\"request_id\":\"%s\",\"symptoms\":\"pump station offline\","
	         "\"contact_name\":\"Wang Fang\",\"contact_phone\":\"138\",\"customer_id\":1}\n"
	         "q1 QUIT\n"
	         "p1 PING\n",
	         h_request_id());
	assert_int_equal(rawtls_puts(&r, lines), 0);
	expect_line_prefix(&r, "r1 OK {");
	expect_line_prefix(&r, "q1 OK {");
	expect_closed(&r); /* and the PING after QUIT is not answered */
	rawtls_close(&r);
	assert_int_equal(h_sql_int("SELECT count(*) FROM tickets"), tickets + 1);
	expect_logged(r.port, "reason=quit");
}

/* PROTOCOL.md "The session": before HELLO only HELLO, PING and QUIT; a
 * second HELLO is a CONFLICT; the connection stays open. */
static void test_hello_first(void **state)
{
	(void)state;
	struct rawtls r;
	assert_int_equal(rawtls_open(&r, "admin", 0, false), 0);
	assert_int_equal(rawtls_puts(&r, "s1 SHOW {\"ticket_id\":1}\n"), 0);
	expect_line_prefix(&r, "s1 ERR CONFLICT ");
	expect_ping(&r, "p1");
	assert_int_equal(rawtls_puts(&r, "h1 HELLO {\"version\":1}\n"), 0);
	expect_line_prefix(&r, "h1 OK {");
	assert_int_equal(rawtls_puts(&r, "h2 HELLO {\"version\":1}\n"), 0);
	expect_line_prefix(&r, "h2 ERR CONFLICT ");
	expect_ping(&r, "p2");
	rawtls_close(&r);
}

/* ---- deadlines (slad with line_timeout_ms = 500, idle 1500 ms) ---- */

/* One byte every 150 ms, well inside the deadline each time: the line's
 * deadline runs from its first byte, so the trickle is cut off with TIMEOUT
 * long before the line could end. */
static void test_trickle_cut_off(void **state)
{
	(void)state;
	struct rawtls r;
	raw_session(&r);
	static const char line[] =
	    "t1 PING {\"slow\":\"0123456789012345678901234567890123456789\"}\n";
	char answer[1024];
	size_t sent = 0;
	int got = RAWTLS_TIMEOUT;
	while (sent < sizeof(line) - 1 && got == RAWTLS_TIMEOUT) {
		if (rawtls_write(&r, line + sent, 1) != 0)
			break; /* closed under us: read what it said */
		sent++;
		got = rawtls_read_line(&r, answer, sizeof(answer), 150);
	}
	if (got == RAWTLS_TIMEOUT)
		got = rawtls_read_line(&r, answer, sizeof(answer), RAWTLS_WAIT_MS);
	if (got < 0)
		fail_msg("expected TIMEOUT after %zu bytes, got %s", sent,
		         got == RAWTLS_CLOSED ? "a close" : "nothing");
	assert_true(strncmp(answer, "* ERR TIMEOUT ", 14) == 0);
	assert_true(sent < sizeof(line) - 1); /* cut off before the LF */
	expect_closed(&r);
	rawtls_close(&r);
	expect_logged(r.port, "reason=line_timeout");
}

/* The other side of the same rule: a busy client whose writes always end
 * inside a line (a steady stream of pipelined requests) completes a line
 * every 150 ms and must never run into the line deadline. */
static void test_steady_stream_not_cut_off(void **state)
{
	(void)state;
	struct rawtls r;
	raw_session(&r);
	char piece[64], answer[1024];
	assert_int_equal(rawtls_puts(&r, "p0 PI"), 0);
	for (int i = 1; i <= 12; i++) { /* 12 x 150 ms: over three deadlines */
		pause_ms(150);
		snprintf(piece, sizeof(piece), "NG\np%d PI", i);
		assert_int_equal(rawtls_puts(&r, piece), 0);
		int got = rawtls_read_line(&r, answer, sizeof(answer), RAWTLS_WAIT_MS);
		if (got < 0 || strncmp(answer, "p", 1) != 0 || strstr(answer, " OK {") == NULL)
			fail_msg("line %d: expected a PING answer, got %s '%s'", i,
			         got == RAWTLS_CLOSED    ? "a close"
			         : got == RAWTLS_TIMEOUT ? "nothing"
			                                 : "a line",
			         answer);
	}
	assert_int_equal(rawtls_puts(&r, "NG\n"), 0);
	expect_line_prefix(&r, "p12 OK {");
	rawtls_close(&r);
}

static void test_idle_timeout(void **state)
{
	(void)state;
	struct rawtls r;
	raw_session(&r);
	char answer[1024];
	int got = rawtls_read_line(&r, answer, sizeof(answer), RAWTLS_WAIT_MS); /* waits, bounded */
	if (got < 0)
		fail_msg("expected TIMEOUT, got %s", got == RAWTLS_CLOSED ? "a close" : "nothing");
	assert_true(strncmp(answer, "* ERR TIMEOUT ", 14) == 0);
	expect_closed(&r);
	rawtls_close(&r);
	expect_logged(r.port, "reason=idle_timeout");
}

/* A client that sends PINGs and never reads its answers: slad stops
 * reading it, then cuts it off, and serves everyone else meanwhile. */
static void test_client_that_never_reads(void **state)
{
	(void)state;
	struct slac_client *other = h_must_connect("engineer");
	struct rawtls r;
	raw_session(&r);

	enum { BATCH = 64 * 1024 };
	char *batch = malloc(BATCH);
	assert_non_null(batch);
	size_t used = 0;
	for (int i = 0; used + 16 < BATCH; i++)
		used += (size_t)snprintf(batch + used, BATCH - used, "p%d PING\n", i % 100000);
	size_t sent = 0, off = 0;
	bool stalled = false, closed = false;
	int64_t end = now_ms() + 3 * WAIT_MS;
	while (!closed && now_ms() < end) {
		size_t n = 0;
		int rc = SSL_write_ex(r.ssl, batch + off, used - off, &n);
		if (rc == 1) {
			sent += n;
			off = (off + n) % used;
			continue;
		}
		int e = SSL_get_error(r.ssl, rc);
		if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ) {
			closed = true;
			break;
		}
		struct pollfd p = {r.fd, POLLOUT, 0};
		int ready = poll(&p, 1, 100);
		if (ready == 1 && (p.revents & (POLLERR | POLLHUP))) {
			closed = true;
		} else if (ready == 0 && !stalled) {
			/* slad no longer reads us: the others are still served. */
			stalled = true;
			json_object_put(h_ok(other, "PING", NULL));
		}
	}
	free(batch);
	ERR_clear_error();
	print_message("sent %zu bytes of PINGs before the cut-off\n", sent);
	assert_true(stalled);
	assert_true(closed);
	rawtls_close(&r);
	expect_logged(r.port, "reason=output_cap");
	json_object_put(h_ok(other, "PING", NULL));
	slac_client_free(other);
}

/* ---- caps (slad with max_connections_per_addr = 3) ---- */

static void test_connections_per_address(void **state)
{
	(void)state;
	struct slac_client *held[3];
	for (int i = 0; i < 3; i++) {
		/* The start-up probe's session may not be gone yet: retry. */
		struct slac_error err;
		int64_t end = now_ms() + WAIT_MS;
		while ((held[i] = h_connect("admin", &err)) == NULL && now_ms() < end)
			pause_ms(20);
		if (held[i] == NULL)
			fail_msg("connection %d of 3 refused: %s", i + 1, err.message);
	}
	/* The fourth from the same address is refused before TLS. */
	struct rawtls r;
	int hs = rawtls_open(&r, "admin", 0, false);
	if (hs == 0) {
		(void)rawtls_puts(&r, "h0 HELLO {\"version\":1}\n"); /* may meet the close */
		expect_closed(&r);
	}
	rawtls_close(&r);
	expect_logged(r.port, "reason=max_connections_per_addr");
	/* The three are untouched, and a place that frees up can be taken. */
	for (int i = 0; i < 3; i++)
		json_object_put(h_ok(held[i], "PING", NULL));
	slac_client_free(held[0]);
	struct slac_client *again = NULL;
	struct slac_error err;
	int64_t end = now_ms() + WAIT_MS;
	while ((again = h_connect("admin", &err)) == NULL && now_ms() < end)
		pause_ms(20);
	assert_non_null(again);
	json_object_put(h_ok(again, "PING", NULL));
	slac_client_free(again);
	slac_client_free(held[1]);
	slac_client_free(held[2]);
}

/* SIGTERM: every session is told SHUTTING_DOWN on a line of its own before
 * the server closes it, and slad exits cleanly.  (Last of its group: it
 * stops slad itself.) */
static void test_shutdown_tells_sessions(void **state)
{
	(void)state;
	struct rawtls r;
	raw_session(&r);
	int status = h_slad_stop(SIGTERM);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	expect_line_prefix(&r, "* ERR SHUTTING_DOWN ");
	expect_closed(&r);
	rawtls_close(&r);
	expect_logged(r.port, "reason=shutdown");
}

/* ---- fixtures: one slad per configuration ---- */

static int start(const char *conf)
{
	/* Under AddressSanitizer freed memory waits in a quarantine before it
	 * is reused; keep it small so the memory test measures slad, not the
	 * quarantine.  (Ignored by a build without ASan.) */
	static char asan[1024];
	const char *old = getenv("ASAN_OPTIONS");
	snprintf(asan, sizeof(asan), "ASAN_OPTIONS=%s%squarantine_size_mb=4", old ? old : "",
	         old && *old ? ":" : "");
	const char *env[] = {asan, NULL};
	h_slad_start(conf, env);
	return 0;
}

static int stop(void **state)
{
	(void)state;
	if (h_slad_pid() <= 0)
		return 0; /* a test stopped it, and checked how */
	int status = h_slad_stop(SIGTERM);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "slad exit status %d; see its log\n", status);
		return -1;
	}
	return 0;
}

static int setup_defaults(void **state)
{
	(void)state;
	return start(NULL);
}

static int setup_deadlines(void **state)
{
	(void)state;
	return start("line_timeout_ms = 500\n"
	             "idle_timeout_ms = 1500\n"
	             "output_cap_bytes = 65536");
}

static int setup_caps(void **state)
{
	(void)state;
	return start("max_connections_per_addr = 3");
}

int main(void)
{
	h_init();
	const struct CMUnitTest input[] = {
	    cmocka_unit_test(test_malformed_lines),
	    cmocka_unit_test(test_long_line_with_newline),
	    cmocka_unit_test(test_64mib_line_without_newline),
	    cmocka_unit_test(test_quit_waits_for_earlier_requests),
	    cmocka_unit_test(test_hello_first),
	};
	const struct CMUnitTest deadlines[] = {
	    cmocka_unit_test(test_trickle_cut_off),
	    cmocka_unit_test(test_steady_stream_not_cut_off),
	    cmocka_unit_test(test_idle_timeout),
	    cmocka_unit_test(test_client_that_never_reads),
	};
	const struct CMUnitTest caps[] = {
	    cmocka_unit_test(test_connections_per_address),
	    cmocka_unit_test(test_shutdown_tells_sessions),
	};
	int failed = cmocka_run_group_tests_name("input", input, setup_defaults, stop);
	failed += cmocka_run_group_tests_name("deadlines", deadlines, setup_deadlines, stop);
	failed += cmocka_run_group_tests_name("caps", caps, setup_caps, stop);
	return failed;
}
