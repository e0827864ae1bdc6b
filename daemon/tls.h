/*
 * tls.h - the server's TLS context: TLS >= 1.2, mutual TLS, modern ciphers,
 * no renegotiation, no compression (issue 4, DESIGN.md "Identity and roles").
 */
#ifndef SLAD_TLS_H
#define SLAD_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

/*
 * Build a context from PEM files.  Returns NULL with the reason in err (the
 * OpenSSL error queue drained into it).  SIGHUP builds a new one and keeps
 * the old context if this fails (as PgBouncer does).
 */
SSL_CTX *tls_server_ctx_new(const char *cert_file, const char *key_file, const char *ca_file,
                            char *err, size_t errlen);

/* The principal a verified peer certificate names: its subject CN.  Returns
 * 0, or -1 when there is no certificate or no usable CN. */
__attribute__((warn_unused_result)) int tls_peer_principal(SSL *ssl, char *out, size_t len);

/* Drain the OpenSSL error queue into buf ("" if empty): why a handshake
 * failed, for the log line.  Also names a failed certificate verification. */
const char *tls_error_reason(SSL *ssl, char *buf, size_t len);

#endif /* SLAD_TLS_H */
