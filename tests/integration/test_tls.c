/*
 * test_tls.c - who may open a session (issue 4, "Tests": connections with no
 * certificate, a certificate from another CA, an expired one: refused, and
 * the refusal is logged with its reason).
 *
 * The refused clients are written directly against OpenSSL: the client
 * library would refuse to misbehave (no certificate, TLS 1.1).  Every case
 * is tied to its own log line through the client's local port, which slad
 * logs as peer=127.0.0.1:PORT.  One slad serves the whole file, with a short
 * handshake deadline so the stalled-handshake case ends quickly.
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

/* ---- time and the log ---- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first line of slad's log holding every needle (NULL-terminated), or
 * NULL; the line is copied into out. */
static bool log_line_with(char *out, size_t outlen, const char *needle, ...)
{
	const char *needles[8];
	size_t n = 0;
	va_list ap;
	va_start(ap, needle);
	for (const char *s = needle; s != NULL && n < 8; s = va_arg(ap, const char *))
		needles[n++] = s;
	va_end(ap);
	FILE *f = fopen(h_log_path(), "r");
	if (f == NULL)
		return false;
	char line[8192];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		found = true;
		for (size_t i = 0; i < n && found; i++)
			found = strstr(line, needles[i]) != NULL;
	}
	fclose(f);
	if (found && out != NULL)
		snprintf(out, outlen, "%s", line);
	return found;
}

/* Wait (bounded) for slad to log a line about peer `port` holding `event`
 * and `reason`; fail the test with what was logged otherwise. */
static void expect_logged(int port, const char *event, const char *reason)
{
	char peer[64], line[8192];
	snprintf(peer, sizeof(peer), "peer=127.0.0.1:%d ", port);
	int64_t end = now_ms() + WAIT_MS;
	while (!log_line_with(line, sizeof(line), peer, event, reason, NULL)) {
		if (now_ms() > end) {
			if (!log_line_with(line, sizeof(line), peer, NULL))
				snprintf(line, sizeof(line), "(nothing)\n");
			fail_msg("no log line with '%s' '%s' '%s'; logged for this peer: %s", peer,
			         event, reason, line);
		}
		struct timespec ts = {0, 20 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

/* ---- a raw client (rawtls.h) ---- */

/*
 * The session must not open: either the handshake fails on our side, or it
 * seems to complete (TLS 1.3) and the server closes the connection without
 * answering HELLO.  Returns the client's local port for the log check.
 */
static int expect_refused_handshake(const char *cert, int max_version)
{
	struct rawtls r;
	int hs = rawtls_open(&r, cert, max_version, true);
	int port = r.port;
	if (hs == 0) {
		static const char hello[] = "h1 HELLO {\"version\":1}\n";
		char line[1024];
		int n = -1;
		if (rawtls_write(&r, hello, sizeof(hello) - 1) == 0)
			n = rawtls_read_line(&r, line, sizeof(line), RAWTLS_WAIT_MS);
		if (n >= 0)
			fail_msg("cert %s: the server answered '%s' instead of closing",
			         cert ? cert : "(none)", line);
		assert_int_equal(n, -1); /* closed, not merely silent */
	}
	rawtls_close(&r);
	return port;
}

/* ---- the cases ---- */

/* The positive control: the refusals below are not a server that refuses
 * everyone. */
static void test_registered_client_accepted(void **state)
{
	(void)state;
	struct rawtls r;
	assert_int_equal(rawtls_open(&r, "engineer", 0, true), 0);
	static const char hello[] = "h1 HELLO {\"version\":1}\n";
	assert_int_equal(rawtls_write(&r, hello, sizeof(hello) - 1), 0);
	char line[4096];
	assert_true(rawtls_read_line(&r, line, sizeof(line), RAWTLS_WAIT_MS) > 0);
	assert_true(strncmp(line, "h1 OK {", 7) == 0);
	json_object *body = json_tokener_parse(line + 6);
	json_object *who = NULL;
	assert_true(json_object_object_get_ex(body, "principal", &who));
	assert_string_equal(json_object_get_string(who), "engineer");
	json_object_put(body);
	assert_string_equal(SSL_get_version(r.ssl), "TLSv1.3");
	rawtls_close(&r);
}

static void test_no_client_certificate(void **state)
{
	(void)state;
	int port = expect_refused_handshake(NULL, 0);
	expect_logged(port, "event=tls_handshake_failed", "peer did not return a certificate");
}

static void test_foreign_ca(void **state)
{
	(void)state;
	/* CN=engineer, a registered principal: only the chain is wrong. */
	int port = expect_refused_handshake("foreign-client", 0);
	expect_logged(port, "event=tls_handshake_failed", "unable to get local issuer certificate");
}

static void test_expired_certificate(void **state)
{
	(void)state;
	/* CN=engineer, signed by our CA: only the date is wrong. */
	int port = expect_refused_handshake("expired-client", 0);
	expect_logged(port, "event=tls_handshake_failed", "certificate has expired");
}

static void test_tls11_refused(void **state)
{
	(void)state;
	struct rawtls r;
	/* The server's own refusal, not ours: with TLS 1.1 offered there is no
	 * common version, so the handshake fails on both sides. */
	assert_int_equal(rawtls_open(&r, "engineer", TLS1_1_VERSION, true), -1);
	int port = r.port;
	rawtls_close(&r);
	expect_logged(port, "event=tls_handshake_failed", "unsupported protocol");
}

static void test_tls12_accepted(void **state)
{
	(void)state;
	struct rawtls r;
	assert_int_equal(rawtls_open(&r, "engineer", TLS1_2_VERSION, true), 0);
	assert_string_equal(SSL_get_version(r.ssl), "TLSv1.2");
	static const char ping[] = "p1 PING\n";
	assert_int_equal(rawtls_write(&r, ping, sizeof(ping) - 1), 0);
	char line[1024];
	assert_true(rawtls_read_line(&r, line, sizeof(line), RAWTLS_WAIT_MS) > 0);
	assert_true(strncmp(line, "p1 OK {", 7) == 0);
	rawtls_close(&r);
}

/* A client that speaks no TLS at all. */
static void test_not_tls(void **state)
{
	(void)state;
	int port;
	int fd = rawtls_tcp_connect(&port);
	static const char junk[] = "GET / HTTP/1.0\r\n\r\n";
	assert_int_equal(write(fd, junk, sizeof(junk) - 1), (ssize_t)(sizeof(junk) - 1));
	struct pollfd p = {fd, POLLIN, 0};
	assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	char buf[256];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0) /* an alert, perhaps */
		assert_int_equal(poll(&p, 1, WAIT_MS), 1);
	assert_true(n == 0 || errno == ECONNRESET);
	close(fd);
	expect_logged(port, "event=tls_handshake_failed", "reason=");
}

static void test_unregistered_principal(void **state)
{
	(void)state;
	/* A certificate from our own CA, valid, for a name PostgreSQL does not
	 * know: the chain is fine, the principal is not. */
	const char *certs = getenv("SLAD_TEST_CERTS");
	char cmd[4096];
	snprintf(
	    cmd, sizeof(cmd),
	    "set -e; cd '%s'; "
	    "printf 'basicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature\\n"
	    "extendedKeyUsage=clientAuth\\n' > stranger.ext; "
	    "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out stranger.key "
	    "2>/dev/null; "
	    "openssl req -new -key stranger.key -subj /CN=stranger -out stranger.csr; "
	    "openssl x509 -req -sha256 -days 2 -CA ca.crt -CAkey ca.key -set_serial 0x5eed "
	    "-extfile stranger.ext -in stranger.csr -out stranger.crt 2>/dev/null",
	    certs);
	assert_int_equal(system(cmd), 0);

	struct rawtls r;
	assert_int_equal(rawtls_open(&r, "stranger", 0, true), 0);
	int port = r.port;
	static const char hello[] = "h1 HELLO {\"version\":1}\n";
	(void)rawtls_write(&r, hello, sizeof(hello) - 1); /* may race the close */
	char line[1024];
	int n = rawtls_read_line(&r, line, sizeof(line), RAWTLS_WAIT_MS);
	if (n < 0)
		fail_msg("expected an ERR UNAUTHENTICATED line, got %s",
		         n == -1 ? "a close" : "nothing");
	assert_true(strncmp(line, "* ERR UNAUTHENTICATED ", 22) == 0);
	assert_int_equal(rawtls_read_line(&r, line, sizeof(line), RAWTLS_WAIT_MS),
	                 -1); /* then closed */
	rawtls_close(&r);
	expect_logged(port, "event=auth_refused", "principal=stranger");

	/* The same through the client library: refused, and the caller is told
	 * why (the answer is untagged -- it answers no request -- so the
	 * library reports it as the reason the connection ended). */
	struct slac_error err;
	struct slac_client *c = h_connect("stranger", &err);
	assert_null(c);
	if (err.code != PROTO_ERR_UNAUTHENTICATED && !strstr(err.message, "UNAUTHENTICATED"))
		fail_msg("client library: %s %s %s", slac_status_name(err.status),
		         proto_err_name(err.code), err.message);
}

/* A connection that never starts its handshake is closed at the deadline. */
static void test_handshake_timeout(void **state)
{
	(void)state;
	int port;
	int fd = rawtls_tcp_connect(&port);
	struct pollfd p = {fd, POLLIN, 0};
	assert_int_equal(poll(&p, 1, WAIT_MS), 1); /* closed by the server, not by us */
	char buf[64];
	ssize_t n = read(fd, buf, sizeof(buf));
	assert_true(n == 0 || (n < 0 && errno == ECONNRESET));
	close(fd);
	expect_logged(port, "event=session_close", "reason=handshake_timeout");
}

/* ---- the fixture ---- */

static int setup(void **state)
{
	(void)state;
	h_init();
	h_slad_start("handshake_timeout_ms = 300", NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	int status = h_slad_stop(SIGTERM);
	/* A clean drain, and (in the sanitizer build) no leak report. */
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "slad exit status %d; see its log\n", status);
		return -1;
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_registered_client_accepted),
	    cmocka_unit_test(test_no_client_certificate),
	    cmocka_unit_test(test_foreign_ca),
	    cmocka_unit_test(test_expired_certificate),
	    cmocka_unit_test(test_tls11_refused),
	    cmocka_unit_test(test_tls12_accepted),
	    cmocka_unit_test(test_not_tls),
	    cmocka_unit_test(test_unregistered_principal),
	    cmocka_unit_test(test_handshake_timeout),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
