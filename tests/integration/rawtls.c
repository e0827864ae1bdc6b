/*
 * rawtls.c - the integration tests' raw TLS client (rawtls.h).
 */
#include "rawtls.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>

#include "harness.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for what OpenSSL asked for; false on timeout. */
static bool wait_io(int fd, int ssl_err, int64_t end)
{
	struct pollfd p = {fd, ssl_err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, 0};
	int left = (int)(end - now_ms());
	return left > 0 && poll(&p, 1, left) > 0;
}

int rawtls_tcp_connect(int *port)
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
	*port = ntohs(me.sin_port);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* Append OpenSSL's error queue to r->tls_error, emptying the queue. */
static void drain_ssl_errors(struct rawtls *r)
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
	ERR_clear_error(); /* whatever did not fit */
}

int rawtls_open(struct rawtls *r, const char *cert, int max_version, bool check_host)
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
	r->fd = rawtls_tcp_connect(&r->port);
	r->ssl = SSL_new(r->ctx);
	assert_non_null(r->ssl);
	SSL_set_fd(r->ssl, r->fd);
	SSL_set_tlsext_host_name(r->ssl, "localhost");
	if (check_host)
		assert_int_equal(SSL_set1_host(r->ssl, "localhost"), 1);
	int64_t end = now_ms() + RAWTLS_WAIT_MS;
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

void rawtls_close(struct rawtls *r)
{
	SSL_free(r->ssl);
	SSL_CTX_free(r->ctx);
	if (r->fd > 0)
		close(r->fd);
	r->ssl = NULL;
	r->ctx = NULL;
	r->fd = -1;
}

int rawtls_write(struct rawtls *r, const char *data, size_t len)
{
	int64_t end = now_ms() + RAWTLS_WAIT_MS;
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
		ERR_clear_error();
		return -1;
	}
	return 0;
}

int rawtls_puts(struct rawtls *r, const char *s)
{
	return rawtls_write(r, s, strlen(s));
}

int rawtls_read_line(struct rawtls *r, char *out, size_t cap, int wait_ms)
{
	size_t used = 0;
	int64_t end = now_ms() + wait_ms;
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
			out[used] = '\0';
			return RAWTLS_TIMEOUT;
		}
		drain_ssl_errors(r);
		out[used] = '\0';
		return RAWTLS_CLOSED;
	}
	out[used] = '\0';
	return (int)used;
}
