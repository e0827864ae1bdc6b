/*
 * rawtls.h - a raw TLS client for the integration tests, written directly
 * against OpenSSL: the client library would refuse to misbehave (no
 * certificate, TLS 1.1, half a line).  Connect to slad's port, handshake,
 * write bytes, read a line; every wait is bounded.
 */
#ifndef SLAD_TEST_RAWTLS_H
#define SLAD_TEST_RAWTLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

/* Upper bound of every wait: a failure, never a pace. */
#define RAWTLS_WAIT_MS 10000

/* What rawtls_read_line returns when there is no line. */
#define RAWTLS_CLOSED  -1 /* the server closed (or broke) the connection */
#define RAWTLS_TIMEOUT -2 /* nothing within the wait */

struct rawtls {
	int fd;
	int port; /* our local port: slad logs it as peer=127.0.0.1:PORT */
	SSL_CTX *ctx;
	SSL *ssl;
	char tls_error[512]; /* why the handshake (or a read) failed */
};

/* A plain TCP connection to slad (non-blocking, no TLS yet); our local
 * port in *port. */
int rawtls_tcp_connect(int *port);

/*
 * Connect to slad (instance 0) as `cert` (a name in the test CA dir; NULL:
 * no certificate) with TLS versions up to max_version (0: any, at the
 * default security level).  check_host: also verify that the server's
 * certificate names localhost.  Returns 0 when the client side of the
 * handshake completed, -1 when it failed (r->tls_error says why).  Under
 * TLS 1.3 the client finishes before the server has judged its
 * certificate, so "completed" does not mean "accepted".
 */
int rawtls_open(struct rawtls *r, const char *cert, int max_version, bool check_host);
/* Close and free; the local port stays readable for the log checks. */
void rawtls_close(struct rawtls *r);
/* Write all of it; -1 if the connection failed. */
int rawtls_write(struct rawtls *r, const char *data, size_t len);
/* rawtls_write of a C string. */
int rawtls_puts(struct rawtls *r, const char *s);
/* One line, LF dropped, into out (always terminated): its length;
 * RAWTLS_CLOSED, or RAWTLS_TIMEOUT after wait_ms. */
int rawtls_read_line(struct rawtls *r, char *out, size_t cap, int wait_ms);

#endif /* SLAD_TEST_RAWTLS_H */
