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

/* ---- a raw client ---- */

struct raw {
	int fd;
	int local_port;
	SSL_CTX *ctx;
	SSL *ssl;
	char tls_error[512];
};

static int tcp_connect(int *local_port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)atoi(h_port())),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&me, &len), 0);
	*local_port = ntohs(me.sin_port);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* Wait for what OpenSSL asked for; false on timeout. */
static bool wait_io(int fd, int ssl_err, int64_t end)
{
	struct pollfd p = {fd, ssl_err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, 0};
	int left = (int)(end - now_ms());
	return left > 0 && poll(&p, 1, left) > 0;
}

static void drain_ssl_errors(struct raw *r)
{
	unsigned long e;
	size_t used = strlen(r->tls_error);
	while ((e = ERR_get_error()) != 0 && used + 2 < sizeof(r->tls_error)) {
		char one[256];
		ERR_error_string_n(e, one, sizeof(one));
		int n = snprintf(r->tls_error + used, sizeof(r->tls_error) - used, "%s%s",
		                 used ? "; " : "", one);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/*
 * Connect as `cert` (a name in the test CA dir; NULL: no certificate) with
 * TLS versions up to max_version (0: any).  Returns 0 when the client side
 * of the handshake completed, -1 when it failed (r->tls_error says why).
 * Under TLS 1.3 the client finishes before the server has judged its
 * certificate, so "completed" does not mean "accepted".
 */
static int raw_open(struct raw *r, const char *cert, int max_version)
{
	memset(r, 0, sizeof(*r));
	const char *certs = getenv("SLAD_TEST_CERTS");
	char path[1024];
	r->ctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(r->ctx);
	snprintf(path, sizeof(path), "%s/ca.crt", certs);
	assert_int_equal(SSL_CTX_load_verify_locations(r->ctx, path, NULL), 1);
	SSL_CTX_set_verify(r->ctx, SSL_VERIFY_PEER, NULL);
	if (max_version != 0) {
		/* Level 0, or this client would refuse TLS 1.1 itself and the
		 * server would never be asked. */
		SSL_CTX_set_security_level(r->ctx, 0);
		assert_int_equal(SSL_CTX_set_cipher_list(r->ctx, "DEFAULT:@SECLEVEL=0"), 1);
		assert_int_equal(SSL_CTX_set_min_proto_version(r->ctx, 0), 1);
		assert_int_equal(SSL_CTX_set_max_proto_version(r->ctx, max_version), 1);
	}
	if (cert != NULL) {
		snprintf(path, sizeof(path), "%s/%s.crt", certs, cert);
		assert_int_equal(SSL_CTX_use_certificate_chain_file(r->ctx, path), 1);
		snprintf(path, sizeof(path), "%s/%s.key", certs, cert);
		assert_int_equal(SSL_CTX_use_PrivateKey_file(r->ctx, path, SSL_FILETYPE_PEM), 1);
	}
	r->fd = tcp_connect(&r->local_port);
	r->ssl = SSL_new(r->ctx);
	assert_non_null(r->ssl);
	SSL_set_fd(r->ssl, r->fd);
	SSL_set_tlsext_host_name(r->ssl, "localhost");
	assert_int_equal(SSL_set1_host(r->ssl, "localhost"), 1);
	int64_t end = now_ms() + WAIT_MS;
	ERR_clear_error();
	for (;;) {
		int rc = SSL_connect(r->ssl);
		if (rc == 1)
			return 0;
		int e = SSL_get_error(r->ssl, rc);
		if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
		    wait_io(r->fd, e, end))
			continue;
		snprintf(r->tls_error, sizeof(r->tls_error), "SSL_connect: ssl_error=%d ", e);
		drain_ssl_errors(r);
		return -1;
	}
}

static void raw_close(struct raw *r)
{
	SSL_free(r->ssl);
	SSL_CTX_free(r->ctx);
	if (r->fd > 0)
		close(r->fd);
	memset(r, 0, sizeof(*r));
}

/* Write all of it; -1 if the connection failed. */
static int raw_write(struct raw *r, const char *data, size_t len)
{
	int64_t end = now_ms() + WAIT_MS;
	while (len > 0) {
		size_t n = 0;
		int rc = SSL_write_ex(r->ssl, data, len, &n);
		if (rc == 1) {
			data += n;
			len -= n;
			continue;
		}
		int e = SSL_get_error(r->ssl, rc);
		if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
		    wait_io(r->fd, e, end))
			continue;
		return -1;
	}
	return 0;
}

/* One line (without its LF) into out: its length; -1 when the server
 * closed or broke the connection; -2 on timeout. */
static int raw_read_line(struct raw *r, char *out, size_t cap)
{
	size_t used = 0;
	int64_t end = now_ms() + WAIT_MS;
	while (used + 1 < cap) {
		char c;
		size_t n = 0;
		int rc = SSL_read_ex(r->ssl, &c, 1, &n);
		if (rc == 1) {
			if (c == '\n')
				break;
			out[used++] = c;
			continue;
		}
		int e = SSL_get_error(r->ssl, rc);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (wait_io(r->fd, e, end))
				continue;
			return -2;
		}
		drain_ssl_errors(r);
		return -1;
	}
	out[used] = '\0';
	return (int)used;
}

/*
 * The session must not open: either the handshake fails on our side, or it
 * seems to complete (TLS 1.3) and the server closes the connection without
 * answering HELLO.  Returns the client's local port for the log check.
 */
static int expect_refused_handshake(const char *cert, int max_version)
{
	struct raw r;
	int hs = raw_open(&r, cert, max_version);
	int port = r.local_port;
	if (hs == 0) {
		static const char hello[] = "h1 HELLO {\"version\":1}\n";
		char line[1024];
		int n = -1;
		if (raw_write(&r, hello, sizeof(hello) - 1) == 0)
			n = raw_read_line(&r, line, sizeof(line));
		if (n >= 0)
			fail_msg("cert %s: the server answered '%s' instead of closing",
			         cert ? cert : "(none)", line);
		assert_int_equal(n, -1); /* closed, not merely silent */
	}
	raw_close(&r);
	return port;
}

/* ---- the cases ---- */

/* The positive control: the refusals below are not a server that refuses
 * everyone. */
static void test_registered_client_accepted(void **state)
{
	(void)state;
	struct raw r;
	assert_int_equal(raw_open(&r, "engineer", 0), 0);
	static const char hello[] = "h1 HELLO {\"version\":1}\n";
	assert_int_equal(raw_write(&r, hello, sizeof(hello) - 1), 0);
	char line[4096];
	assert_true(raw_read_line(&r, line, sizeof(line)) > 0);
	assert_true(strncmp(line, "h1 OK {", 7) == 0);
	json_object *body = json_tokener_parse(line + 6);
	json_object *who = NULL;
	assert_true(json_object_object_get_ex(body, "principal", &who));
	assert_string_equal(json_object_get_string(who), "engineer");
	json_object_put(body);
	assert_string_equal(SSL_get_version(r.ssl), "TLSv1.3");
	raw_close(&r);
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
	struct raw r;
	/* The server's own refusal, not ours: with TLS 1.1 offered there is no
	 * common version, so the handshake fails on both sides. */
	assert_int_equal(raw_open(&r, "engineer", TLS1_1_VERSION), -1);
	int port = r.local_port;
	raw_close(&r);
	expect_logged(port, "event=tls_handshake_failed", "unsupported protocol");
}

static void test_tls12_accepted(void **state)
{
	(void)state;
	struct raw r;
	assert_int_equal(raw_open(&r, "engineer", TLS1_2_VERSION), 0);
	assert_string_equal(SSL_get_version(r.ssl), "TLSv1.2");
	static const char ping[] = "p1 PING\n";
	assert_int_equal(raw_write(&r, ping, sizeof(ping) - 1), 0);
	char line[1024];
	assert_true(raw_read_line(&r, line, sizeof(line)) > 0);
	assert_true(strncmp(line, "p1 OK {", 7) == 0);
	raw_close(&r);
}

/* A client that speaks no TLS at all. */
static void test_not_tls(void **state)
{
	(void)state;
	int port;
	int fd = tcp_connect(&port);
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

	struct raw r;
	assert_int_equal(raw_open(&r, "stranger", 0), 0);
	int port = r.local_port;
	static const char hello[] = "h1 HELLO {\"version\":1}\n";
	(void)raw_write(&r, hello, sizeof(hello) - 1); /* may race the close */
	char line[1024];
	int n = raw_read_line(&r, line, sizeof(line));
	if (n < 0)
		fail_msg("expected an ERR UNAUTHENTICATED line, got %s",
		         n == -1 ? "a close" : "nothing");
	assert_true(strncmp(line, "* ERR UNAUTHENTICATED ", 22) == 0);
	assert_int_equal(raw_read_line(&r, line, sizeof(line)), -1); /* then closed */
	raw_close(&r);
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
	int fd = tcp_connect(&port);
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
