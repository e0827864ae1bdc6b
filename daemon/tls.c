/*
 * tls.c - OpenSSL server context for the line protocol and HTTPS ingest.
 */
#include "tls.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

static void drain_errors(char *buf, size_t len)
{
	size_t used = strlen(buf);
	unsigned long e;
	while ((e = ERR_get_error()) != 0) {
		char one[256];
		ERR_error_string_n(e, one, sizeof(one));
		int n = snprintf(buf + used, len - used, "%s%s", used ? "; " : "", one);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	ERR_clear_error();
}

SSL_CTX *tls_server_ctx_new(const char *cert_file, const char *key_file, const char *ca_file,
                            char *err, size_t errlen)
{
	err[0] = '\0';
	ERR_clear_error();
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL)
		goto fail;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
		goto fail;
	/* No renegotiation, no compression; a peer closing without close_notify
	 * is an ordinary EOF, not an error (libevent 2.1 + OpenSSL 3 trap). */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
	                             SSL_OP_IGNORE_UNEXPECTED_EOF |
	                             SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
	/* TLS 1.2: forward-secret AEAD suites only.  TLS 1.3 keeps its defaults. */
	if (!SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20"))
		goto fail;
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	/* No resumption: every session proves its certificate afresh (and
	 * SSL_OP_NO_TICKET alone does not stop TLS 1.3 tickets). */
	SSL_CTX_set_num_tickets(ctx, 0);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		snprintf(err, errlen, "tls_cert %s: ", cert_file);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		snprintf(err, errlen, "tls_key: ");
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "tls_key does not match tls_cert: ");
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
		snprintf(err, errlen, "tls_ca %s: ", ca_file);
		goto fail;
	}
	STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca_file);
	if (names != NULL)
		SSL_CTX_set_client_CA_list(ctx, names);
	/* Mutual TLS: the client certificate names the principal. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(ctx, 4);
	static const unsigned char sid_ctx[] = "slad";
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	return ctx;
fail:
	drain_errors(err, errlen);
	if (err[0] == '\0')
		snprintf(err, errlen, "TLS context setup failed");
	SSL_CTX_free(ctx);
	return NULL;
}

int tls_peer_principal(SSL *ssl, char *out, size_t len)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	if (cert == NULL || SSL_get_verify_result(ssl) != X509_V_OK)
		return -1;
	X509_NAME *subject = X509_get_subject_name(cert);
	int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
	if (idx < 0)
		return -1;
	ASN1_STRING *cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
	const unsigned char *data = ASN1_STRING_get0_data(cn);
	int n = ASN1_STRING_length(cn);
	/* A CN with an embedded NUL or control byte names nobody. */
	if (n <= 0 || (size_t)n >= len)
		return -1;
	for (int i = 0; i < n; i++)
		if (data[i] < 0x21 || data[i] == 0x7f)
			return -1;
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	return 0;
}

const char *tls_error_reason(SSL *ssl, char *buf, size_t len)
{
	buf[0] = '\0';
	if (ssl != NULL) {
		long v = SSL_get_verify_result(ssl);
		if (v != X509_V_OK)
			snprintf(buf, len, "verify: %s", X509_verify_cert_error_string(v));
	}
	drain_errors(buf, len);
	return buf;
}
