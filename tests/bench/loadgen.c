/*
 * loadgen.c - the slad load generator (issue 8, tests/bench/README.md).
 *
 * Speaks through the client library's non-blocking mode (proto/client.h):
 * one slac_tls shared by N slac_clients, all driven from one epoll loop in
 * one thread.  Three modes:
 *
 *   ingest      pipelined REPORT (and, with --alert, ALERT trigger) requests
 *               with unique request ids, either closed loop (--window W
 *               outstanding per connection, as fast as slad answers) or open
 *               loop (--rate R per second in all, sent on a fixed schedule
 *               whatever the answers do).  Prints throughput and the
 *               ack-latency distribution, then (--db) checks in PostgreSQL
 *               that every acknowledged request id names exactly one ticket.
 *   --idle N    opens N sessions, holds them and prints slad's resident
 *               memory per session (--rss-pid).
 *   --wait-ready MS  connects until HELLO is answered; prints when.
 *
 * Latency is measured from the moment a request was meant to leave: in the
 * open loop that is its slot in the schedule, not the moment the loop got
 * round to sending it, so a stalled loop or server counts against the
 * figure (no coordinated omission).  Percentiles come from the sorted list of
 * every measured sample, not from buckets: exact, and a few MB at most.
 *
 * Output, all on stdout: human lines starting "loadgen:", then `name=value`
 * lines that run.sh and other tools read.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "client.h"

#define REC_CHUNK_BITS 16
#define REC_CHUNK      (1u << REC_CHUNK_BITS)
#define NS_PER_S       1000000000LL
#define NS_PER_MS      1000000LL
/* Open loop: the send timer never fires closer than this to the previous
 * firing; what falls due meanwhile goes out together (and is measured from
 * its own slot, so the batching is paid for in the figures). */
#define OPEN_LOOP_TICK_NS 200000LL
#define DRAIN_TIMEOUT_S   60
#define MISMATCH_SHOW     20

static const char usage_text[] =
    "usage: slad_loadgen [options]\n"
    "\n"
    "Connection (mutual TLS; every session uses the same certificate):\n"
    "  --host ADDR          slad's address (default 127.0.0.1; use an address, not a name)\n"
    "  --port PORT          slad's port (default " SLAC_PORT_DEFAULT ")\n"
    "  --cert FILE          client certificate (required)\n"
    "  --key FILE           its key (default: in --cert)\n"
    "  --ca FILE            CA for the server certificate (required)\n"
    "  --server-name NAME   name the server certificate must carry (default localhost)\n"
    "  -c, --connections N  sessions (default 16)\n"
    "  --connect-parallel P handshakes under way at once (default 64)\n"
    "\n"
    "Ingest (the default mode):\n"
    "  --window W           closed loop: W requests outstanding per session (default 32)\n"
    "  --rate R             open loop: R requests per second in all, on a fixed schedule\n"
    "  --duration S         send for S seconds (default 10), then wait for the answers\n"
    "  --count N            or send N requests in all\n"
    "  --warmup S           leave the first S seconds out of the figures (default 0)\n"
    "  --alert PCT          PCT % of the requests are ALERT triggers with a fresh dedup\n"
    "                       key each (the certificate's role must allow ALERT; both\n"
    "                       REPORT and ALERT: admin)\n"
    "  --customer ID        customer of every ticket (default 1)\n"
    "  --level L            fault level of every report, 1..4 (default 1)\n"
    "  --db CONNINFO        afterwards, check in PostgreSQL that every acknowledged\n"
    "                       request id names exactly one ticket\n"
    "\n"
    "Other modes:\n"
    "  --idle N             open N sessions, wait until all answered HELLO, read slad's\n"
    "                       VmRSS before and after (--rss-pid), close them\n"
    "  --hold S             --idle: keep the sessions open S more seconds (default 0)\n"
    "  --wait-ready MS      connect every 10 ms until HELLO is answered or MS have\n"
    "                       passed; prints ready_unix_ns (CLOCK_REALTIME)\n"
    "\n"
    "  --escalations N      subscribe (the certificate must be an engineer on duty) and\n"
    "                       collect N ESCALATION pushes whose summary starts with\n"
    "                       --summary-prefix; prints their lag (arrival - the clock's\n"
    "                       due_at, a breach's own instant) and last_recv_unix_ns\n"
    "  --summary-prefix P   count only pushes whose summary starts with P\n"
    "  --timeout-ms MS      --escalations: give up after MS (default 120000)\n"
    "\n"
    "  --rss-pid PID        slad's process id, for VmRSS/VmHWM figures\n"
    "  -h, --help           this text\n"
    "\n"
    "Ends with name=value lines: sent ok errors lost throughput_per_s latency_p50_ms\n"
    "latency_p99_ms latency_p999_ms latency_max_ms verify_acked verify_mismatches\n"
    "(ingest); sessions sessions_failed rss_kib_before rss_kib_after\n"
    "rss_kib_per_session (idle); ready_unix_ns (wait-ready).  Exit status 0 when\n"
    "every request was acknowledged and the check found nothing wrong, 1 otherwise,\n"
    "2 for a usage error.\n";

struct opts {
	struct slac_profile prof;
	int connections;
	int connect_parallel;
	int window;
	double rate;
	double duration_s;
	long long count;
	double warmup_s;
	int alert_pct;
	long long customer;
	int level;
	const char *db;
	int idle;
	double hold_s;
	int wait_ready_ms;
	long rss_pid;
	long escalations;
	const char *summary_prefix;
	int timeout_ms;
};

enum rec_state { REC_PENDING, REC_OK, REC_ERR, REC_LOST };

/* One request: when it was meant to leave, when its answer came, what it
 * said.  Kept in chunks that never move, so a pointer to one can ride along
 * as the library callback's argument. */
struct rec {
	int64_t t_start, t_done;
	int64_t ticket_id;
	struct conn *conn;
	uint8_t state;
	uint8_t alert;
	uint16_t err_code;
};

struct conn {
	struct run *run;
	struct slac_client *c;
	int fd;          /* as registered with epoll; -1: not registered */
	uint32_t events; /* as registered */
	bool ready, failed;
	size_t outstanding;
};

enum phase { PH_CONNECT, PH_LOAD, PH_DRAIN, PH_DONE };

struct run {
	struct opts o;
	struct slac_tls *tls;
	int ep, tfd;
	struct conn *conns;
	int nconns, started, connecting, ready, failed;
	struct rec **chunks;
	size_t nchunks;
	uint64_t seq; /* requests created so far */
	enum phase phase;
	int64_t t0, t_measure, t_stop, t_last_done;
	int64_t next_open_slot; /* open loop: index of the next slot to send */
	uint64_t ok, errors, lost, sent;
	uint64_t err_codes[PROTO_ERR_COUNT + 1];
	char first_error[SLAC_MESSAGE_MAX + 64];
	char runid[32];
	json_object *report_body, *alert_body;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested++;
	if (stop_requested > 1)
		_exit(130);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("loadgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static int64_t real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts = {(time_t)(ns / NS_PER_S), (long)(ns % NS_PER_S)};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !stop_requested)
		;
}

/* ---- options ---- */

static double parse_num(const char *opt, const char *s, double min, double max)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "loadgen: %s wants a number in %g..%g, not '%s'\n", opt, min, max,
		        s);
		exit(2);
	}
	return v;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	enum {
		O_HOST = 256,
		O_PORT,
		O_CERT,
		O_KEY,
		O_CA,
		O_SNI,
		O_PAR,
		O_WINDOW,
		O_RATE,
		O_DURATION,
		O_COUNT,
		O_WARMUP,
		O_ALERT,
		O_CUSTOMER,
		O_LEVEL,
		O_DB,
		O_IDLE,
		O_HOLD,
		O_WAIT,
		O_RSS,
		O_ESC,
		O_PREFIX,
		O_TIMEOUT,
	};
	static const struct option longopts[] = {
	    {"host", required_argument, NULL, O_HOST},
	    {"port", required_argument, NULL, O_PORT},
	    {"cert", required_argument, NULL, O_CERT},
	    {"key", required_argument, NULL, O_KEY},
	    {"ca", required_argument, NULL, O_CA},
	    {"server-name", required_argument, NULL, O_SNI},
	    {"connections", required_argument, NULL, 'c'},
	    {"connect-parallel", required_argument, NULL, O_PAR},
	    {"window", required_argument, NULL, O_WINDOW},
	    {"rate", required_argument, NULL, O_RATE},
	    {"duration", required_argument, NULL, O_DURATION},
	    {"count", required_argument, NULL, O_COUNT},
	    {"warmup", required_argument, NULL, O_WARMUP},
	    {"alert", required_argument, NULL, O_ALERT},
	    {"customer", required_argument, NULL, O_CUSTOMER},
	    {"level", required_argument, NULL, O_LEVEL},
	    {"db", required_argument, NULL, O_DB},
	    {"idle", required_argument, NULL, O_IDLE},
	    {"hold", required_argument, NULL, O_HOLD},
	    {"wait-ready", required_argument, NULL, O_WAIT},
	    {"rss-pid", required_argument, NULL, O_RSS},
	    {"escalations", required_argument, NULL, O_ESC},
	    {"summary-prefix", required_argument, NULL, O_PREFIX},
	    {"timeout-ms", required_argument, NULL, O_TIMEOUT},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	*o = (struct opts){
	    .prof = {.host = "127.0.0.1",
	             .port = SLAC_PORT_DEFAULT,
	             .server_name = "localhost",
	             .timeout_ms = 20000,
	             .client_name = "slad_loadgen"},
	    .connections = 16,
	    .connect_parallel = 64,
	    .window = 32,
	    .duration_s = 10,
	    .customer = 1,
	    .level = 1,
	    .summary_prefix = "",
	    .timeout_ms = 120000,
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case O_HOST:
			o->prof.host = optarg;
			break;
		case O_PORT:
			o->prof.port = optarg;
			break;
		case O_CERT:
			o->prof.cert = optarg;
			break;
		case O_KEY:
			o->prof.key = optarg;
			break;
		case O_CA:
			o->prof.ca = optarg;
			break;
		case O_SNI:
			o->prof.server_name = optarg;
			break;
		case 'c':
			o->connections = (int)parse_num("--connections", optarg, 1, 1000000);
			break;
		case O_PAR:
			o->connect_parallel =
			    (int)parse_num("--connect-parallel", optarg, 1, 100000);
			break;
		case O_WINDOW:
			o->window = (int)parse_num("--window", optarg, 1, 1000000);
			break;
		case O_RATE:
			o->rate = parse_num("--rate", optarg, 0.001, 1e9);
			break;
		case O_DURATION:
			o->duration_s = parse_num("--duration", optarg, 0.001, 1e6);
			break;
		case O_COUNT:
			o->count = (long long)parse_num("--count", optarg, 1, 1e12);
			break;
		case O_WARMUP:
			o->warmup_s = parse_num("--warmup", optarg, 0, 1e6);
			break;
		case O_ALERT:
			o->alert_pct = (int)parse_num("--alert", optarg, 0, 100);
			break;
		case O_CUSTOMER:
			o->customer = (long long)parse_num("--customer", optarg, 1, 1e15);
			break;
		case O_LEVEL:
			o->level = (int)parse_num("--level", optarg, 1, 4);
			break;
		case O_DB:
			o->db = optarg;
			break;
		case O_IDLE:
			o->idle = (int)parse_num("--idle", optarg, 1, 1000000);
			break;
		case O_HOLD:
			o->hold_s = parse_num("--hold", optarg, 0, 1e6);
			break;
		case O_WAIT:
			o->wait_ready_ms = (int)parse_num("--wait-ready", optarg, 1, 1e9);
			break;
		case O_RSS:
			o->rss_pid = (long)parse_num("--rss-pid", optarg, 1, 1e9);
			break;
		case O_ESC:
			o->escalations = (long)parse_num("--escalations", optarg, 1, 10000000);
			break;
		case O_PREFIX:
			o->summary_prefix = optarg;
			break;
		case O_TIMEOUT:
			o->timeout_ms = (int)parse_num("--timeout-ms", optarg, 1, 3600000);
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		default:
			fputs(usage_text, stderr);
			exit(2);
		}
	}
	if (optind != argc || o->prof.cert == NULL || o->prof.ca == NULL) {
		fputs(optind != argc ? "loadgen: unexpected argument\n"
		                     : "loadgen: --cert and --ca are required\n",
		      stderr);
		fputs(usage_text, stderr);
		exit(2);
	}
	if (o->warmup_s >= o->duration_s && o->count == 0) {
		fputs("loadgen: --warmup must be shorter than --duration\n", stderr);
		exit(2);
	}
}

/* Enough descriptors for every session, epoll, the timer and libpq. */
static void raise_nofile(int sessions)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)sessions + 64;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur >= want)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
		die("%d sessions need %llu descriptors; the hard limit is %llu (ulimit -Hn)",
		    sessions, (unsigned long long)want, (unsigned long long)rl.rlim_max);
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		die("setrlimit(RLIMIT_NOFILE, %llu): %s", (unsigned long long)want,
		    strerror(errno));
}

/* VmRSS or VmHWM of a process, KiB; -1 if unreadable. */
static long proc_kib(long pid, const char *field)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	long v = -1;
	size_t flen = strlen(field);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, flen) == 0 && line[flen] == ':')
			v = strtol(line + flen + 1, NULL, 10);
	fclose(f);
	return v;
}

/* ---- records ---- */

static struct rec *rec_new(struct run *r)
{
	uint64_t i = r->seq++;
	size_t chunk = (size_t)(i >> REC_CHUNK_BITS);
	if (chunk == r->nchunks) {
		struct rec **c = realloc(r->chunks, (r->nchunks + 1) * sizeof(*c));
		if (c == NULL)
			die("out of memory");
		r->chunks = c;
		r->chunks[chunk] = calloc(REC_CHUNK, sizeof(struct rec));
		if (r->chunks[chunk] == NULL)
			die("out of memory");
		r->nchunks++;
	}
	return &r->chunks[chunk][i & (REC_CHUNK - 1)];
}

static struct rec *rec_at(const struct run *r, uint64_t i)
{
	return &r->chunks[i >> REC_CHUNK_BITS][i & (REC_CHUNK - 1)];
}

static void request_id(const struct run *r, uint64_t i, char *out, size_t len)
{
	snprintf(out, len, "lg-%s-%" PRIu64, r->runid, i);
}

/* ---- sessions and the event loop ---- */

static void conn_sync_epoll(struct conn *k)
{
	struct run *r = k->run;
	int fd = slac_client_fd(k->c);
	uint32_t want = 0;
	short ev = slac_client_events(k->c);
	if (ev & POLLIN)
		want |= EPOLLIN;
	if (ev & POLLOUT)
		want |= EPOLLOUT;
	if (fd != k->fd) {
		/* The library closed the old descriptor, which left the set with it. */
		k->fd = -1;
		if (fd < 0)
			return;
		struct epoll_event e = {.events = want, .data.ptr = k};
		if (epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &e) != 0)
			die("epoll_ctl(ADD): %s", strerror(errno));
		k->fd = fd;
		k->events = want;
	} else if (fd >= 0 && want != k->events) {
		struct epoll_event e = {.events = want, .data.ptr = k};
		if (epoll_ctl(r->ep, EPOLL_CTL_MOD, fd, &e) != 0)
			die("epoll_ctl(MOD): %s", strerror(errno));
		k->events = want;
	}
}

static void conn_failed(struct conn *k)
{
	struct run *r = k->run;
	if (k->failed)
		return;
	k->failed = true;
	if (!k->ready)
		r->connecting--;
	r->failed++;
	if (r->first_error[0] == '\0')
		snprintf(r->first_error, sizeof(r->first_error), "%s: %s",
		         slac_status_name(slac_client_error(k->c)->status),
		         slac_client_error(k->c)->message);
	if (k->fd >= 0)
		epoll_ctl(r->ep, EPOLL_CTL_DEL, k->fd, NULL);
	k->fd = -1;
	/* We do not reconnect: what this session still owes is lost now (the
	 * callbacks see k->failed and send nothing more). */
	slac_session_fail_pending(slac_client_session(k->c), slac_client_error(k->c));
}

static void submit_one(struct conn *k, int64_t t_start);

static void conn_step(struct conn *k, short revents)
{
	if (k->failed)
		return;
	if (slac_client_step(k->c, revents) != 0) {
		conn_failed(k);
		return;
	}
	if (!k->ready && slac_client_state(k->c) == SLAC_READY) {
		k->ready = true;
		k->run->connecting--;
		k->run->ready++;
	}
	conn_sync_epoll(k);
}

static void start_more_connections(struct run *r)
{
	while (r->started < r->nconns && r->connecting < r->o.connect_parallel) {
		struct conn *k = &r->conns[r->started++];
		r->connecting++;
		if (slac_client_start(k->c) != 0) {
			conn_failed(k);
			continue;
		}
		conn_sync_epoll(k);
	}
}

/* Deadlines of handshakes under way: the library wants a step when one passes. */
static int connect_timeout_ms(struct run *r)
{
	int best = -1;
	for (int i = 0; i < r->started; i++) {
		struct conn *k = &r->conns[i];
		if (k->ready || k->failed)
			continue;
		int t = slac_client_timeout_ms(k->c);
		if (t == 0)
			conn_step(k, 0);
		else if (t > 0 && (best < 0 || t < best))
			best = t;
	}
	return best;
}

/* One pass of the loop: wait up to timeout_ms, step what is ready. */
static void loop_once(struct run *r, int timeout_ms, void (*on_timer)(struct run *))
{
	struct epoll_event evs[256];
	int n = epoll_wait(r->ep, evs, 256, timeout_ms);
	if (n < 0) {
		if (errno == EINTR)
			return;
		die("epoll_wait: %s", strerror(errno));
	}
	for (int i = 0; i < n; i++) {
		if (evs[i].data.ptr == NULL) {
			uint64_t ticks;
			if (read(r->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
				die("timerfd read: %s", strerror(errno));
			if (on_timer)
				on_timer(r);
			continue;
		}
		short rev = 0;
		if (evs[i].events & EPOLLIN)
			rev |= POLLIN;
		if (evs[i].events & EPOLLOUT)
			rev |= POLLOUT;
		if (evs[i].events & EPOLLERR)
			rev |= POLLERR;
		if (evs[i].events & EPOLLHUP)
			rev |= POLLHUP;
		conn_step(evs[i].data.ptr, rev);
	}
}

/* Open every session (parallel handshakes capped); true when all are up. */
static bool connect_all(struct run *r)
{
	int64_t t = mono_ns();
	while (r->ready + r->failed < r->nconns && !stop_requested) {
		start_more_connections(r);
		int to = connect_timeout_ms(r);
		loop_once(r, to < 0 || to > 100 ? 100 : to, NULL);
	}
	double s = (double)(mono_ns() - t) / NS_PER_S;
	printf("loadgen: %d of %d sessions up in %.2f s (%.0f handshakes/s)%s%s\n", r->ready,
	       r->nconns, s, s > 0 ? r->ready / s : 0.0, r->failed ? "; first failure: " : "",
	       r->failed ? r->first_error : "");
	return r->failed == 0 && !stop_requested;
}

static struct run *run_new(const struct opts *o, int nconns)
{
	struct run *r = calloc(1, sizeof(*r));
	if (r == NULL)
		die("out of memory");
	r->o = *o;
	struct slac_error err;
	r->tls = slac_tls_new(&r->o.prof, &err);
	if (r->tls == NULL)
		die("TLS: %s %s", slac_status_name(err.status), err.message);
	r->ep = epoll_create1(EPOLL_CLOEXEC);
	r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (r->ep < 0 || r->tfd < 0)
		die("epoll/timerfd: %s", strerror(errno));
	struct epoll_event e = {.events = EPOLLIN, .data.ptr = NULL};
	if (epoll_ctl(r->ep, EPOLL_CTL_ADD, r->tfd, &e) != 0)
		die("epoll_ctl: %s", strerror(errno));
	r->nconns = nconns;
	r->conns = calloc((size_t)nconns, sizeof(*r->conns));
	if (r->conns == NULL)
		die("out of memory");
	for (int i = 0; i < nconns; i++) {
		r->conns[i] = (struct conn){.run = r, .fd = -1};
		r->conns[i].c = slac_client_new(r->tls, &r->o.prof);
		if (r->conns[i].c == NULL)
			die("out of memory");
	}
	/* Unique across runs against the same database: time and pid. */
	snprintf(r->runid, sizeof(r->runid), "%llx-%x", (unsigned long long)(real_ns() / 1000),
	         (unsigned)getpid());
	return r;
}

static void run_free(struct run *r)
{
	for (int i = 0; i < r->nconns; i++)
		slac_client_free(r->conns[i].c); /* fails what is pending: counted as lost */
	free(r->conns);
	for (size_t c = 0; c < r->nchunks; c++)
		free(r->chunks[c]);
	free(r->chunks);
	json_object_put(r->report_body);
	json_object_put(r->alert_body);
	slac_tls_free(r->tls);
	close(r->ep);
	close(r->tfd);
	free(r);
}

/* ---- ingest ---- */

static bool may_send(const struct run *r, int64_t now)
{
	if (r->phase != PH_LOAD || stop_requested)
		return false;
	if (r->o.count > 0)
		return r->seq < (uint64_t)r->o.count;
	return now < r->t_stop;
}

static void on_answer(void *arg, const struct slac_answer *ans)
{
	struct rec *x = arg;
	struct conn *k = x->conn;
	struct run *r = k->run;
	int64_t now = mono_ns();
	x->t_done = now;
	r->t_last_done = now;
	k->outstanding--;
	if (ans->err.status == SLAC_OK) {
		json_object *v = NULL;
		x->state = REC_OK;
		r->ok++;
		if (json_object_object_get_ex(ans->body, "ticket_id", &v))
			x->ticket_id = json_object_get_int64(v);
	} else {
		/* A request lost with its connection is counted apart from the
		 * server's ERR answers: it may or may not have been committed. */
		bool lost = ans->err.status == SLAC_ERR_CONN;
		x->state = lost ? REC_LOST : REC_ERR;
		x->err_code =
		    (uint16_t)(ans->err.code <= PROTO_ERR_COUNT ? ans->err.code : PROTO_ERR_COUNT);
		if (lost) {
			r->lost++;
		} else {
			r->errors++;
			r->err_codes[x->err_code]++;
		}
		if (r->first_error[0] == '\0')
			snprintf(r->first_error, sizeof(r->first_error), "%s %s %s",
			         slac_status_name(ans->err.status), proto_err_name(ans->err.code),
			         ans->err.message);
	}
	/* Closed loop: an answer makes room for the next request. */
	if (r->o.rate == 0 && !k->failed && may_send(r, now))
		submit_one(k, now);
}

static void submit_one(struct conn *k, int64_t t_start)
{
	struct run *r = k->run;
	uint64_t i = r->seq;
	struct rec *x = rec_new(r);
	char rid[64];
	request_id(r, i, rid, sizeof(rid));
	/* Spread alerts evenly: request i is an alert when the running share
	 * of alerts falls behind PCT. */
	x->alert = r->o.alert_pct > 0 &&
	           (i + 1) * (uint64_t)r->o.alert_pct / 100 > i * (uint64_t)r->o.alert_pct / 100;
	json_object *body = x->alert ? r->alert_body : r->report_body;
	json_object_object_add(body, "request_id", json_object_new_string(rid));
	if (x->alert) {
		/* A fresh key each time: every alert opens a ticket of its own. */
		json_object_object_add(body, "dedup_key", json_object_new_string(rid));
	}
	x->conn = k;
	x->t_start = t_start;
	x->state = REC_PENDING;
	if (slac_client_submit(k->c, x->alert ? "ALERT" : "REPORT", body, on_answer, x) == 0)
		die("submit refused: %s", slac_session_error(slac_client_session(k->c))->message);
	k->outstanding++;
	r->sent++;
}

static void build_bodies(struct run *r)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);

	r->report_body = json_object_new_object();
	json_object_object_add(r->report_body, "customer_id", json_object_new_int64(r->o.customer));
	json_object_object_add(r->report_body, "level", json_object_new_int(r->o.level));
	json_object_object_add(r->report_body, "symptoms",
	                       json_object_new_string("loadgen: link down on the core switch, "
	                                              "port 3 dark, users cut off"));
	json_object_object_add(r->report_body, "contact_name",
	                       json_object_new_string("Load Generator"));
	json_object_object_add(r->report_body, "contact_phone",
	                       json_object_new_string("+86-21-5555-0199"));

	r->alert_body = json_object_new_object();
	json_object_object_add(r->alert_body, "action", json_object_new_string("trigger"));
	json_object_object_add(r->alert_body, "starts_at", json_object_new_string(ts));
	json_object_object_add(r->alert_body, "severity", json_object_new_string("critical"));
	json_object_object_add(r->alert_body, "summary",
	                       json_object_new_string("loadgen: core switch unreachable"));
	json_object_object_add(r->alert_body, "source", json_object_new_string("slad_loadgen"));
	json_object_object_add(r->alert_body, "customer_id", json_object_new_int64(r->o.customer));
}

/* Open loop: every slot up to now goes out, each stamped with its own time;
 * then the timer is set for the next slot. */
static void open_loop_tick(struct run *r)
{
	int64_t now = mono_ns();
	double period = (double)NS_PER_S / r->o.rate;
	for (;;) {
		int64_t slot = r->t0 + (int64_t)((double)r->next_open_slot * period);
		if (slot > now || !may_send(r, slot))
			break;
		struct conn *k = &r->conns[r->next_open_slot % r->nconns];
		r->next_open_slot++;
		if (k->failed)
			continue;
		submit_one(k, slot);
		conn_step(k, POLLOUT); /* write it now, not at the next wake-up */
	}
	if (!may_send(r, now))
		return;
	int64_t next = r->t0 + (int64_t)((double)r->next_open_slot * period);
	if (next < now + OPEN_LOOP_TICK_NS)
		next = now + OPEN_LOOP_TICK_NS;
	struct itimerspec its = {.it_value = {(time_t)(next / NS_PER_S), (long)(next % NS_PER_S)}};
	if (timerfd_settime(r->tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
		die("timerfd_settime: %s", strerror(errno));
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static double pct_ms(const int64_t *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	/* nearest rank: the smallest sample with at least p of all at or below */
	size_t rank = (size_t)((p / 100.0) * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return (double)v[rank - 1] / NS_PER_MS;
}

struct figures {
	double throughput, window_s;
	uint64_t measured;
	double p50, p90, p99, p999, max;
};

static struct figures compute_figures(struct run *r)
{
	struct figures f = {0};
	int64_t end = r->o.count > 0 ? r->t_last_done : r->t_stop;
	if (end > r->t_last_done)
		end = r->t_last_done;
	f.window_s = (double)(end - r->t_measure) / NS_PER_S;
	uint64_t in_window = 0;
	int64_t *lat = malloc((r->seq ? r->seq : 1) * sizeof(*lat));
	if (lat == NULL)
		die("out of memory");
	for (uint64_t i = 0; i < r->seq; i++) {
		const struct rec *x = rec_at(r, i);
		if (x->state != REC_OK)
			continue;
		if (x->t_done >= r->t_measure && x->t_done <= end)
			in_window++;
		if (x->t_start >= r->t_measure)
			lat[f.measured++] = x->t_done - x->t_start;
	}
	qsort(lat, f.measured, sizeof(*lat), cmp_i64);
	f.throughput = f.window_s > 0 ? (double)in_window / f.window_s : 0;
	f.p50 = pct_ms(lat, f.measured, 50);
	f.p90 = pct_ms(lat, f.measured, 90);
	f.p99 = pct_ms(lat, f.measured, 99);
	f.p999 = pct_ms(lat, f.measured, 99.9);
	f.max = f.measured ? (double)lat[f.measured - 1] / NS_PER_MS : 0;
	free(lat);
	return f;
}

/* ---- the check in PostgreSQL ---- */

static PGresult *must_exec(PGconn *db, const char *sql, ExecStatusType want)
{
	PGresult *res = PQexec(db, sql);
	if (PQresultStatus(res) != want)
		die("SQL failed: %s\n  %s", PQresultErrorMessage(res), sql);
	return res;
}

/*
 * Every acknowledged request id must have exactly one requests row, whose
 * stored answer names the ticket the client was told about; that ticket
 * must exist, carry exactly one 'reported' event, and be named by no other
 * acknowledged request.  Returns the number of request ids that fail.
 */
static long verify(struct run *r, long *acked_out)
{
	PGconn *db = PQconnectdb(r->o.db);
	if (PQstatus(db) != CONNECTION_OK)
		die("--db: %s", PQerrorMessage(db));
	PQclear(must_exec(db,
	                  "CREATE TEMP TABLE lg_acked (request_id text PRIMARY KEY,"
	                  " ticket_id bigint NOT NULL)",
	                  PGRES_COMMAND_OK));
	PQclear(must_exec(db, "COPY lg_acked FROM STDIN", PGRES_COPY_IN));
	char line[128], rid[64];
	long acked = 0;
	for (uint64_t i = 0; i < r->seq; i++) {
		const struct rec *x = rec_at(r, i);
		if (x->state != REC_OK)
			continue;
		request_id(r, i, rid, sizeof(rid));
		int n = snprintf(line, sizeof(line), "%s\t%" PRId64 "\n", rid, x->ticket_id);
		if (PQputCopyData(db, line, n) != 1)
			die("COPY: %s", PQerrorMessage(db));
		acked++;
	}
	if (PQputCopyEnd(db, NULL) != 1)
		die("COPY: %s", PQerrorMessage(db));
	PGresult *res;
	while ((res = PQgetResult(db)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			die("COPY: %s", PQresultErrorMessage(res));
		PQclear(res);
	}
	PQclear(must_exec(db, "ANALYZE lg_acked", PGRES_COMMAND_OK));
	res = must_exec(
	    db,
	    "WITH req AS ("
	    "  SELECT a.request_id, a.ticket_id, count(q.request_id) AS n_requests,"
	    "         min((q.answer->>'ticket_id')::bigint) AS stored_ticket"
	    "    FROM lg_acked a LEFT JOIN requests q ON q.request_id = a.request_id"
	    "   GROUP BY a.request_id, a.ticket_id),"
	    " ev AS ("
	    "  SELECT e.ticket_id, count(*) AS n_reported FROM ticket_events e"
	    "   WHERE e.kind = 'reported' AND e.ticket_id IN (SELECT ticket_id FROM lg_acked)"
	    "   GROUP BY e.ticket_id),"
	    " shared AS ("
	    "  SELECT ticket_id, count(*) AS n_acked FROM lg_acked GROUP BY ticket_id)"
	    " SELECT req.request_id, req.ticket_id, req.n_requests, req.stored_ticket,"
	    "        t.id IS NOT NULL AS ticket_exists, coalesce(ev.n_reported, 0),"
	    "        shared.n_acked"
	    "   FROM req LEFT JOIN tickets t ON t.id = req.ticket_id"
	    "   LEFT JOIN ev ON ev.ticket_id = req.ticket_id"
	    "   JOIN shared ON shared.ticket_id = req.ticket_id"
	    "  WHERE req.n_requests <> 1 OR req.stored_ticket IS DISTINCT FROM req.ticket_id"
	    "     OR t.id IS NULL OR coalesce(ev.n_reported, 0) <> 1 OR shared.n_acked <> 1"
	    "  ORDER BY req.request_id",
	    PGRES_TUPLES_OK);
	long bad = PQntuples(res);
	for (long i = 0; i < bad && i < MISMATCH_SHOW; i++)
		printf(
		    "loadgen: MISMATCH request_id=%s acked_ticket=%s requests_rows=%s "
		    "stored_ticket=%s ticket_exists=%s reported_events=%s acks_naming_ticket=%s\n",
		    PQgetvalue(res, (int)i, 0), PQgetvalue(res, (int)i, 1),
		    PQgetvalue(res, (int)i, 2),
		    PQgetisnull(res, (int)i, 3) ? "none" : PQgetvalue(res, (int)i, 3),
		    PQgetvalue(res, (int)i, 4), PQgetvalue(res, (int)i, 5),
		    PQgetvalue(res, (int)i, 6));
	if (bad > MISMATCH_SHOW)
		printf("loadgen: ... and %ld more mismatches\n", bad - MISMATCH_SHOW);
	PQclear(res);
	PQfinish(db);
	*acked_out = acked;
	return bad;
}

static int run_ingest(const struct opts *o)
{
	raise_nofile(o->connections);
	struct run *r = run_new(o, o->connections);
	build_bodies(r);
	long rss_before = o->rss_pid ? proc_kib(o->rss_pid, "VmRSS") : -1;
	if (!connect_all(r)) {
		run_free(r);
		return 1;
	}
	bool open_loop = o->rate > 0;
	printf("loadgen: %s loop, %d sessions, %s %g, %s %g, warm-up %g s\n",
	       open_loop ? "open" : "closed", r->nconns, open_loop ? "rate/s" : "window",
	       open_loop ? o->rate : (double)o->window, o->count ? "count" : "duration s",
	       o->count ? (double)o->count : o->duration_s, o->warmup_s);
	fflush(stdout);

	r->phase = PH_LOAD;
	r->t0 = mono_ns();
	r->t_measure = r->t0 + (int64_t)(o->warmup_s * NS_PER_S);
	r->t_stop = r->t0 + (int64_t)(o->duration_s * NS_PER_S);
	r->t_last_done = r->t0;
	if (open_loop) {
		open_loop_tick(r);
	} else {
		for (int w = 0; w < o->window; w++)
			for (int i = 0; i < r->nconns && may_send(r, r->t0); i++)
				submit_one(&r->conns[i], mono_ns());
		for (int i = 0; i < r->nconns; i++)
			conn_step(&r->conns[i], POLLOUT);
	}
	while (may_send(r, mono_ns()) && r->failed < r->nconns) {
		int64_t left = o->count ? 100 * NS_PER_MS : r->t_stop - mono_ns();
		int to = (int)(left / NS_PER_MS) + 1;
		loop_once(r, to > 100 ? 100 : to, open_loop ? open_loop_tick : NULL);
	}
	if (o->count > 0 || r->t_stop > mono_ns())
		r->t_stop = mono_ns(); /* count reached, or stopped early */
	long rss_load = o->rss_pid ? proc_kib(o->rss_pid, "VmRSS") : -1;

	/* Drain: every answer still owed, up to a bound. */
	r->phase = PH_DRAIN;
	int64_t drain_end = mono_ns() + DRAIN_TIMEOUT_S * NS_PER_S;
	while (r->ok + r->errors + r->lost < r->sent && mono_ns() < drain_end && stop_requested < 2)
		loop_once(r, 100, NULL);
	r->phase = PH_DONE;
	uint64_t unanswered = r->sent - (r->ok + r->errors + r->lost);

	struct figures f = compute_figures(r);
	printf("loadgen: sent %" PRIu64 ", ok %" PRIu64 ", errors %" PRIu64 ", lost %" PRIu64
	       ", unanswered %" PRIu64 "\n",
	       r->sent, r->ok, r->errors, r->lost, unanswered);
	for (int c = 0; c <= PROTO_ERR_COUNT; c++)
		if (r->err_codes[c])
			printf("loadgen:   %s: %" PRIu64 "\n",
			       c < PROTO_ERR_COUNT ? proto_err_name((enum proto_err)c) : "?",
			       r->err_codes[c]);
	if (r->first_error[0])
		printf("loadgen:   first error: %s\n", r->first_error);
	printf("loadgen: throughput %.1f acknowledged/s over %.2f s\n", f.throughput, f.window_s);
	printf("loadgen: ack latency over %" PRIu64 " requests: p50 %.2f ms, p90 %.2f ms, "
	       "p99 %.2f ms, p99.9 %.2f ms, max %.2f ms\n",
	       f.measured, f.p50, f.p90, f.p99, f.p999, f.max);
	if (rss_before >= 0)
		printf("loadgen: slad VmRSS %ld KiB before, %ld KiB under load, VmHWM %ld KiB\n",
		       rss_before, rss_load, proc_kib(o->rss_pid, "VmHWM"));

	long acked = -1, bad = -1;
	if (o->db) {
		bad = verify(r, &acked);
		printf(
		    "loadgen: check in PostgreSQL: %ld acknowledged request ids, %ld mismatches\n",
		    acked, bad);
	}
	printf("sent=%" PRIu64 "\nok=%" PRIu64 "\nerrors=%" PRIu64 "\nlost=%" PRIu64
	       "\nunanswered=%" PRIu64 "\n",
	       r->sent, r->ok, r->errors, r->lost, unanswered);
	printf("throughput_per_s=%.1f\nlatency_p50_ms=%.3f\nlatency_p90_ms=%.3f\n"
	       "latency_p99_ms=%.3f\nlatency_p999_ms=%.3f\nlatency_max_ms=%.3f\n",
	       f.throughput, f.p50, f.p90, f.p99, f.p999, f.max);
	if (rss_before >= 0)
		printf("rss_kib_before=%ld\nrss_kib_load=%ld\n", rss_before, rss_load);
	if (o->db)
		printf("verify_acked=%ld\nverify_mismatches=%ld\n", acked, bad);
	fflush(stdout);
	int rc = (r->errors || r->lost || unanswered || bad > 0) ? 1 : 0;
	run_free(r);
	return rc;
}

/* ---- idle sessions ---- */

static int run_idle(const struct opts *o)
{
	raise_nofile(o->idle);
	/* One session first, so OpenSSL's one-time set-up in slad is in the
	 * "before" figure and not spread over the sessions. */
	struct slac_error err;
	struct slac_client *warm = slac_connect(&o->prof, &err);
	if (warm == NULL)
		die("connect: %s %s", slac_status_name(err.status), err.message);
	slac_client_free(warm);
	sleep_ns(200 * NS_PER_MS);
	long before = o->rss_pid ? proc_kib(o->rss_pid, "VmRSS") : -1;

	struct run *r = run_new(o, o->idle);
	connect_all(r);
	sleep_ns(200 * NS_PER_MS); /* let slad finish what the last HELLOs started */
	long after = o->rss_pid ? proc_kib(o->rss_pid, "VmRSS") : -1;
	double per = r->ready > 0 && before >= 0 ? (double)(after - before) / r->ready : -1;
	if (before >= 0)
		printf("loadgen: slad VmRSS %ld KiB before, %ld KiB with %d sessions: %.1f KiB per "
		       "session\n",
		       before, after, r->ready, per);
	if (o->hold_s > 0) {
		int64_t end = mono_ns() + (int64_t)(o->hold_s * NS_PER_S);
		while (mono_ns() < end && !stop_requested)
			loop_once(r, 100, NULL); /* answer nothing, but notice closes */
	}
	printf("sessions=%d\nsessions_failed=%d\n", r->ready, r->failed);
	if (before >= 0)
		printf("rss_kib_before=%ld\nrss_kib_after=%ld\nrss_kib_per_session=%.1f\n", before,
		       after, per);
	fflush(stdout);
	int rc = r->failed ? 1 : 0;
	run_free(r);
	return rc;
}

/* ---- readiness ---- */

static int run_wait_ready(const struct opts *o)
{
	struct opts q = *o;
	q.prof.timeout_ms = 2000;
	int64_t end = mono_ns() + (int64_t)o->wait_ready_ms * NS_PER_MS;
	struct slac_error err = {0};
	for (int attempts = 1; mono_ns() < end && !stop_requested; attempts++) {
		struct slac_client *c = slac_connect(&q.prof, &err);
		if (c != NULL) {
			int64_t at = real_ns();
			slac_client_free(c);
			printf("loadgen: ready after %d attempts\nready_unix_ns=%lld\n", attempts,
			       (long long)at);
			return 0;
		}
		sleep_ns(10 * NS_PER_MS);
	}
	printf("loadgen: not ready within %d ms: %s %s\n", o->wait_ready_ms,
	       slac_status_name(err.status), err.message);
	return 1;
}

/* ---- escalations: how late pushes arrive ---- */

struct esc_watch {
	const char *prefix;
	size_t prefix_len;
	long want;
	long got;
	int64_t *lag_ns;
	int64_t last_recv_ns;
	int64_t first_due_ns;
};

static int64_t parse_utc_ns(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (s == NULL || strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL)
		return -1;
	return (int64_t)timegm(&tm) * 1000000000LL;
}

static void esc_push(void *arg, const char *event, uint64_t seq, json_object *body)
{
	(void)seq;
	struct esc_watch *w = arg;
	int64_t now = real_ns();
	json_object *v = NULL;
	if (strcmp(event, "ESCALATION") != 0 || w->got >= w->want)
		return;
	if (!json_object_object_get_ex(body, "summary", &v) || v == NULL ||
	    strncmp(json_object_get_string(v), w->prefix, w->prefix_len) != 0)
		return;
	/* The benchmark seeds breach steps only: the step's instant is the
	 * clock's due_at, which the push carries. */
	int64_t due = json_object_object_get_ex(body, "due_at", &v)
	                  ? parse_utc_ns(json_object_get_string(v))
	                  : -1;
	if (due < 0)
		return;
	if (w->got == 0 || due < w->first_due_ns)
		w->first_due_ns = due;
	w->lag_ns[w->got++] = now - due;
	w->last_recv_ns = now;
}

static int run_escalations(const struct opts *o)
{
	struct esc_watch w = {.prefix = o->summary_prefix,
	                      .prefix_len = strlen(o->summary_prefix),
	                      .want = o->escalations};
	w.lag_ns = calloc((size_t)o->escalations, sizeof(*w.lag_ns));
	if (w.lag_ns == NULL)
		die("out of memory");
	struct slac_error err = {0};
	struct slac_client *c = slac_connect(&o->prof, &err);
	if (c == NULL)
		die("connect: %s %s", slac_status_name(err.status), err.message);
	slac_session_set_push_cb(slac_client_session(c), esc_push, &w);
	json_object *body = json_object_new_object();
	struct slac_answer ans;
	if (slac_call(c, "SUBSCRIBE", body, &ans, 20000) != SLAC_OK)
		die("SUBSCRIBE: %s %s", proto_err_name(ans.err.code), ans.err.message);
	json_object_put(body);
	slac_answer_clear(&ans);
	int64_t end = mono_ns() + (int64_t)o->timeout_ms * NS_PER_MS;
	while (w.got < w.want && mono_ns() < end && !stop_requested) {
		struct pollfd p = {slac_client_fd(c), slac_client_events(c), 0};
		int n = poll(&p, 1, 100);
		if (slac_client_step(c, n > 0 ? p.revents : 0) != 0) {
			/* Reconnect and resubscribe: the backlog comes again. */
			sleep_ns(50 * NS_PER_MS);
			if (slac_client_start(c) != 0)
				continue;
		}
	}
	/* Let the last receipts leave before closing. */
	for (int i = 0; i < 10; i++) {
		struct pollfd p = {slac_client_fd(c), slac_client_events(c), 0};
		int n = poll(&p, 1, 20);
		if (slac_client_step(c, n > 0 ? p.revents : 0) != 0)
			break;
	}
	slac_client_free(c);
	qsort(w.lag_ns, (size_t)w.got, sizeof(*w.lag_ns), cmp_i64);
	printf("loadgen: %ld of %ld escalations received\n", w.got, w.want);
	if (w.got > 0)
		printf(
		    "loadgen: lag p50 %.1f ms, p99 %.1f ms, max %.1f ms; last arrival %.3f s after "
		    "the first due instant\n",
		    pct_ms(w.lag_ns, (size_t)w.got, 50), pct_ms(w.lag_ns, (size_t)w.got, 99),
		    (double)w.lag_ns[w.got - 1] / 1e6,
		    (double)(w.last_recv_ns - w.first_due_ns) / 1e9);
	printf("esc_received=%ld\n", w.got);
	printf("esc_lag_p50_ms=%.1f\n", w.got ? pct_ms(w.lag_ns, (size_t)w.got, 50) : -1.0);
	printf("esc_lag_p99_ms=%.1f\n", w.got ? pct_ms(w.lag_ns, (size_t)w.got, 99) : -1.0);
	printf("last_recv_unix_ns=%lld\n", (long long)w.last_recv_ns);
	printf("first_due_unix_ns=%lld\n", (long long)w.first_due_ns);
	free(w.lag_ns);
	return w.got == w.want ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct opts o;
	parse_opts(argc, argv, &o);
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (o.wait_ready_ms > 0)
		return run_wait_ready(&o);
	if (o.idle > 0)
		return run_idle(&o);
	if (o.escalations > 0)
		return run_escalations(&o);
	return run_ingest(&o);
}
