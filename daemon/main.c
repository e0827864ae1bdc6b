/*
 * main.c - slad: flags, configuration, start-up checks, the event loop, and
 * the signals that drive it (SIGTERM/SIGINT drain, SIGHUP reload).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "config.h"
#include "domain.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "migrate.h"
#include "push.h"
#include "scheduler.h"
#include "session.h"
#include "store.h"
#include "tickets.h"
#include "tls.h"
#include "verbs.h"

struct daemon_state {
	struct event_base *base;
	const char *config_path;
	struct slad_config *cfg; /* current; replaced whole on SIGHUP */
	SSL_CTX *ctx;
	struct store *store;
	struct server *server;
	struct http *http; /* HTTPS ingest, /healthz, /metrics (issue 7) */
	struct app app;
	struct event *drain_deadline;
	/* configurations and contexts replaced by reloads, freed at exit:
	 * events already armed may still read the old ones */
	struct slad_config *retired_cfgs[64];
	int n_retired;
};

/* systemd Type=notify without linking libsystemd: one datagram. */
static void sd_notify_send(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	size_t len = strlen(path);
	if (len >= sizeof(sa.sun_path)) {
		close(fd);
		return;
	}
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen) < 0)
		log_warn("event=sd_notify_failed reason=%s", strerror(errno));
	close(fd);
}

static void drained(void *arg)
{
	struct daemon_state *d = arg;
	log_info("event=drained");
	event_base_loopexit(d->base, NULL);
}

static void drain_deadline_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	struct daemon_state *d = arg;
	log_warn("event=drain_deadline sessions=%zu pending=%zu", server_session_count(d->server),
	         store_pending(d->store));
	event_base_loopexit(d->base, NULL);
}

static void on_terminate(evutil_socket_t sig, short ev, void *arg)
{
	(void)ev;
	struct daemon_state *d = arg;
	if (d->drain_deadline != NULL) {
		log_warn("event=second_signal action=exit_now");
		event_base_loopexit(d->base, NULL);
		return;
	}
	log_info("event=shutdown signal=%s", sig == SIGINT ? "SIGINT" : "SIGTERM");
	sd_notify_send("STOPPING=1");
	int ms = d->cfg->drain_timeout_ms;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	d->drain_deadline = evtimer_new(d->base, drain_deadline_cb, d);
	evtimer_add(d->drain_deadline, &tv);
	http_drain(d->http);
	server_drain(d->server, drained, d);
}

/* SIGHUP: reload the file and the TLS material; keep the old ones if either
 * fails, so a typo in production never takes the service down. */
static void on_reload(evutil_socket_t sig, short ev, void *arg)
{
	(void)sig;
	(void)ev;
	struct daemon_state *d = arg;
	sd_notify_send("RELOADING=1");
	struct slad_config *next = malloc(sizeof(*next));
	char err[1024];
	SSL_CTX *ctx = NULL;
	if (next == NULL || config_load(d->config_path, next, err, sizeof(err)) != 0) {
		log_error("event=reload_failed what=config reason=\"%s\" action=keep_old",
		          next ? err : "out of memory");
		free(next);
		goto out;
	}
	ctx = tls_server_ctx_new(next->tls_cert, next->tls_key, next->tls_ca, err, sizeof(err));
	if (ctx == NULL) {
		char q[1100];
		log_error("event=reload_failed what=tls reason=%s action=keep_old",
		          log_quote(q, sizeof(q), err));
		free(next);
		goto out;
	}
	if (d->n_retired == (int)(sizeof(d->retired_cfgs) / sizeof(d->retired_cfgs[0]))) {
		log_error("event=reload_failed reason=too_many_reloads action=keep_old");
		SSL_CTX_free(ctx);
		free(next);
		goto out;
	}
	/* The store and listener keep settings bound at start (database,
	 * listen address); everything read per event takes the new values. */
	log_set_level(next->log_level);
	d->retired_cfgs[d->n_retired++] = d->cfg;
	SSL_CTX_free(d->ctx); /* live sessions hold their own references */
	d->ctx = ctx;
	d->cfg = next;
	server_reload(d->server, ctx, next);
	http_reload(d->http, ctx, next);
	tickets_reload(d->app.tickets, next);
	sched_reload(d->app.sched, next);
	log_info("event=reloaded");
out:
	sd_notify_send("READY=1");
}

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: slad -c FILE [--check-config]\n"
	        "       slad --version\n"
	        "\n"
	        "  -c, --config FILE   configuration file (see deploy/slad.conf.example)\n"
	        "      --check-config  load and check the file and the TLS material, then exit\n"
	        "      --version       print the version and exit\n"
	        "\n"
	        "Signals: SIGTERM/SIGINT drain and exit; SIGHUP reloads the file and TLS.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check-config", no_argument, NULL, 'C'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	bool check_only = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'C':
			check_only = true;
			break;
		case 'V':
			printf("slad %s (protocol %d)\n", SLAD_VERSION, PROTO_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (config_path == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}

	struct daemon_state d;
	memset(&d, 0, sizeof(d));
	d.config_path = config_path;
	int rc = 1;
	char err[1024];
	char q[1100];
	struct event *sigterm = NULL, *sigint = NULL, *sighup = NULL;
	d.cfg = malloc(sizeof(*d.cfg));
	if (d.cfg == NULL || config_load(config_path, d.cfg, err, sizeof(err)) != 0) {
		log_error("event=config_invalid reason=%s",
		          log_quote(q, sizeof(q), d.cfg ? err : "out of memory"));
		goto out;
	}
	log_set_level(d.cfg->log_level);
	metrics_init();
	d.ctx =
	    tls_server_ctx_new(d.cfg->tls_cert, d.cfg->tls_key, d.cfg->tls_ca, err, sizeof(err));
	if (d.ctx == NULL) {
		log_error("event=tls_invalid reason=%s", log_quote(q, sizeof(q), err));
		goto out;
	}
	if (check_only) {
		printf("configuration ok: %s\n", config_path);
		rc = 0;
		goto out;
	}
	/* Writes to a vanished peer must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);

	if (migrate_startup(d.cfg, err, sizeof(err)) != 0) {
		log_error("event=startup_failed reason=%s", log_quote(q, sizeof(q), err));
		goto out;
	}
	PGconn *pg = store_connect_blocking(d.cfg, err, sizeof(err));
	d.app.domain = pg ? domain_load(pg, err, sizeof(err)) : NULL;
	PQfinish(pg);
	if (d.app.domain == NULL) {
		log_error("event=startup_failed reason=%s", log_quote(q, sizeof(q), err));
		goto out;
	}
	d.base = event_base_new();
	if (d.base == NULL)
		goto out;
	d.store = store_new(d.base, d.cfg);
	d.server = d.store ? server_new(d.base, d.cfg, d.ctx, d.store, err, sizeof(err)) : NULL;
	d.app.tickets = d.store ? tickets_new(d.base, d.store, d.app.domain, d.cfg) : NULL;
	if (d.server == NULL || d.app.tickets == NULL) {
		log_error("event=startup_failed reason=%s",
		          log_quote(q, sizeof(q), d.store ? err : "store"));
		goto out;
	}
	server_set_app(d.server, &d.app);
	d.app.push = push_new(d.store, d.server);
	d.app.sched = d.app.push ? sched_new(d.base, d.store, d.app.push, d.cfg) : NULL;
	if (d.app.sched == NULL) {
		log_error("event=startup_failed reason=scheduler");
		goto out;
	}
	tickets_set_sched(d.app.tickets, d.app.sched);
	d.http = http_new(d.base, d.cfg, d.ctx, d.server, d.store, err, sizeof(err));
	if (d.http == NULL) {
		log_error("event=startup_failed reason=%s", log_quote(q, sizeof(q), err));
		goto out;
	}
	sigterm = evsignal_new(d.base, SIGTERM, on_terminate, &d);
	sigint = evsignal_new(d.base, SIGINT, on_terminate, &d);
	sighup = evsignal_new(d.base, SIGHUP, on_reload, &d);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	evsignal_add(sighup, NULL);

	log_info("event=ready listen=%s version=%s pid=%d", d.cfg->listen, SLAD_VERSION,
	         (int)getpid());
	sd_notify_send("READY=1");
	event_base_dispatch(d.base);
	rc = 0;
out:
	/* Every path releases everything, so LeakSanitizer speaks only of
	 * real leaks.  HTTP first: its requests still waiting are answered
	 * by the modules below, and must find nothing of HTTP left. */
	http_free(d.http);
	server_free(d.server);
	sched_free(d.app.sched);
	push_free(d.app.push);
	tickets_free(d.app.tickets);
	store_free(d.store);
	domain_free(d.app.domain);
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	if (sighup)
		event_free(sighup);
	if (d.drain_deadline)
		event_free(d.drain_deadline);
	if (d.base)
		event_base_free(d.base);
	SSL_CTX_free(d.ctx);
	for (int i = 0; i < d.n_retired; i++)
		free(d.retired_cfgs[i]);
	free(d.cfg);
	if (rc == 0 && !check_only)
		log_info("event=exit");
	return rc;
}
