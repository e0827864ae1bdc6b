/*
 * harness.c - see harness.h.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* One slad process: instance 0 is the one the h_slad_* calls manage. */
struct instance {
	char port[16];
	char log_path[1024];
	char conf_path[1024];
	pid_t pid;
};

static struct {
	const char *top, *work, *certs, *pgdata, *bin, *conninfo;
	struct instance inst[H_INSTANCES];
	PGconn *db;
	char prof_cert[1024], prof_key[1024], prof_ca[1024];
	unsigned request_seq;
} h;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "harness: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static const char *env_or_die(const char *name)
{
	const char *v = getenv(name);
	if (v == NULL || *v == '\0')
		die("%s is not set: run integration tests through tests/integration/run_with_pg.sh",
		    name);
	return v;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static struct instance *inst(int i)
{
	if (i < 0 || i >= H_INSTANCES)
		die("no slad instance %d", i);
	return &h.inst[i];
}

/* Bound, so the kernel hands out no other socket the same port until the
 * caller closes it (after every instance has its own). */
static int pick_port(struct instance *in)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		die("cannot pick a port: %s", strerror(errno));
	snprintf(in->port, sizeof(in->port), "%d", ntohs(sa.sin_port));
	return fd;
}

/* A test that dies (die(), a failed assertion that ends the process)
 * leaves no slad behind retrying a database that run_with_pg.sh is about
 * to delete. */
static void kill_leftovers(void)
{
	for (int i = 0; i < H_INSTANCES; i++)
		if (h.inst[i].pid > 0) {
			kill(h.inst[i].pid, SIGKILL);
			waitpid(h.inst[i].pid, NULL, 0);
			h.inst[i].pid = 0;
		}
}

void h_init(void)
{
	h.top = env_or_die("SLAD_TEST_TOP");
	h.work = env_or_die("SLAD_TEST_WORK");
	h.certs = env_or_die("SLAD_TEST_CERTS");
	h.pgdata = env_or_die("SLAD_TEST_PGDATA");
	h.bin = env_or_die("SLAD_TEST_BIN");
	h.conninfo = env_or_die("SLAD_TEST_CONNINFO");
	int fds[H_INSTANCES];
	for (int i = 0; i < H_INSTANCES; i++) {
		struct instance *in = &h.inst[i];
		/* Instance 0 keeps the names run_with_pg.sh shows on failure. */
		if (i == 0) {
			snprintf(in->log_path, sizeof(in->log_path), "%s/slad.log", h.work);
			snprintf(in->conf_path, sizeof(in->conf_path), "%s/slad.conf", h.work);
		} else {
			snprintf(in->log_path, sizeof(in->log_path), "%s/slad-%d.log", h.work, i);
			snprintf(in->conf_path, sizeof(in->conf_path), "%s/slad-%d.conf", h.work,
			         i);
		}
		fds[i] = pick_port(in);
	}
	for (int i = 0; i < H_INSTANCES; i++)
		close(fds[i]);
	signal(SIGPIPE, SIG_IGN);
	atexit(kill_leftovers);
}

const char *h_inst_port(int i)
{
	return inst(i)->port;
}

const char *h_inst_log_path(int i)
{
	return inst(i)->log_path;
}

pid_t h_inst_pid(int i)
{
	return inst(i)->pid;
}

const char *h_port(void)
{
	return h_inst_port(0);
}

const char *h_log_path(void)
{
	return h_inst_log_path(0);
}

pid_t h_slad_pid(void)
{
	return h_inst_pid(0);
}

const char *h_inst_write_conf(int i, const char *extra)
{
	struct instance *in = inst(i);
	FILE *f = fopen(in->conf_path, "w");
	if (f == NULL)
		die("%s: %s", in->conf_path, strerror(errno));
	fprintf(f,
	        "listen = 127.0.0.1:%s\n"
	        "tls_cert = %s/server.crt\n"
	        "tls_key = %s/server.key\n"
	        "tls_ca = %s/ca.crt\n"
	        "database = %s\n"
	        "log_level = debug\n"
	        "db_reconnect_min_ms = 50\n"
	        "db_reconnect_max_ms = 500\n"
	        "drain_timeout_ms = 3000\n"
	        "seed_demo = true\n"
	        "seed_principal = hotline role=hotline\n"
	        "seed_principal = engineer role=engineer team=north region=east tier=engineer\n"
	        "seed_principal = engineer2 role=engineer team=south region=west tier=engineer\n"
	        "seed_principal = engineer3 role=engineer team=north region=east tier=team_lead\n"
	        "seed_principal = monitor role=monitor\n"
	        "seed_principal = admin role=admin\n",
	        in->port, h.certs, h.certs, h.certs, h.conninfo);
	if (extra)
		fprintf(f, "%s\n", extra);
	fclose(f);
	return in->conf_path;
}

const char *h_write_conf(const char *extra)
{
	return h_inst_write_conf(0, extra);
}

static pid_t spawn(int i, const char *extra, const char *const *env)
{
	struct instance *in = inst(i);
	if (in->pid > 0)
		die("slad instance %d already running", i);
	h_inst_write_conf(i, extra);
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(in->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 2);
			dup2(fd, 1);
			close(fd);
		}
		for (const char *const *e = env; e && *e; e++)
			putenv((char *)*e);
		execl(h.bin, h.bin, "-c", in->conf_path, (char *)NULL);
		_exit(127);
	}
	in->pid = pid;
	return pid;
}

int h_inst_run_expect_exit(int i, const char *extra, const char *const *env, int timeout_ms)
{
	spawn(i, extra, env);
	int status = h_inst_wait(i, timeout_ms);
	if (status == -1)
		h_inst_stop(i, SIGKILL);
	return status;
}

int h_slad_run_expect_exit(const char *extra, const char *const *env, int timeout_ms)
{
	return h_inst_run_expect_exit(0, extra, env, timeout_ms);
}

pid_t h_inst_start(int i, const char *extra, const char *const *env)
{
	pid_t pid = spawn(i, extra, env);
	struct instance *in = inst(i);
	/* Ready when an administrator gets an answer to HELLO. */
	for (int k = 0; k < 300; k++) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			in->pid = 0;
			die("slad exited during start-up (status %d); see %s", status,
			    in->log_path);
		}
		struct slac_error err;
		struct slac_client *c = h_inst_connect(i, "admin", &err);
		if (c != NULL) {
			slac_client_free(c);
			return pid;
		}
		sleep_ms(50);
	}
	die("slad did not become ready; see %s", in->log_path);
}

pid_t h_slad_start(const char *extra, const char *const *env)
{
	return h_inst_start(0, extra, env);
}

int h_inst_stop(int i, int sig)
{
	struct instance *in = inst(i);
	if (in->pid <= 0)
		return -1;
	kill(in->pid, sig);
	int status = 0;
	waitpid(in->pid, &status, 0);
	in->pid = 0;
	return status;
}

int h_slad_stop(int sig)
{
	return h_inst_stop(0, sig);
}

int h_inst_wait(int i, int timeout_ms)
{
	struct instance *in = inst(i);
	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		int status;
		if (waitpid(in->pid, &status, WNOHANG) == in->pid) {
			in->pid = 0;
			return status;
		}
		sleep_ms(10);
	}
	return -1;
}

int h_slad_wait(int timeout_ms)
{
	return h_inst_wait(0, timeout_ms);
}

bool h_inst_log_contains(int i, const char *needle)
{
	FILE *f = fopen(inst(i)->log_path, "r");
	if (f == NULL)
		return false;
	char line[8192];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

bool h_log_contains(const char *needle)
{
	return h_inst_log_contains(0, needle);
}

struct slac_profile h_inst_profile(int i, const char *cert_name)
{
	snprintf(h.prof_cert, sizeof(h.prof_cert), "%s/%s.crt", h.certs, cert_name);
	snprintf(h.prof_key, sizeof(h.prof_key), "%s/%s.key", h.certs, cert_name);
	snprintf(h.prof_ca, sizeof(h.prof_ca), "%s/ca.crt", h.certs);
	struct slac_profile p = {
	    .host = "127.0.0.1",
	    .port = inst(i)->port,
	    .cert = h.prof_cert,
	    .key = h.prof_key,
	    .ca = h.prof_ca,
	    .server_name = "localhost",
	    .timeout_ms = 5000,
	    .client_name = "slad-integration-test",
	};
	return p;
}

struct slac_profile h_profile(const char *cert_name)
{
	return h_inst_profile(0, cert_name);
}

struct slac_client *h_inst_connect(int i, const char *cert_name, struct slac_error *err)
{
	struct slac_profile p = h_inst_profile(i, cert_name);
	return slac_connect(&p, err);
}

struct slac_client *h_connect(const char *cert_name, struct slac_error *err)
{
	return h_inst_connect(0, cert_name, err);
}

struct slac_client *h_inst_must_connect(int i, const char *cert_name)
{
	struct slac_error err;
	struct slac_client *c = h_inst_connect(i, cert_name, &err);
	if (c == NULL)
		die("connect as %s to instance %d: %s %s", cert_name, i,
		    slac_status_name(err.status), err.message);
	return c;
}

struct slac_client *h_must_connect(const char *cert_name)
{
	return h_inst_must_connect(0, cert_name);
}

enum slac_status h_call(struct slac_client *c, const char *verb, const char *json,
                        struct slac_answer *ans)
{
	json_object *body = json ? json_tokener_parse(json) : NULL;
	if (json && body == NULL)
		die("test body is not JSON: %s", json);
	enum slac_status st = slac_call(c, verb, body, ans, 10000);
	json_object_put(body);
	return st;
}

json_object *h_ok(struct slac_client *c, const char *verb, const char *json)
{
	struct slac_answer ans;
	enum slac_status st = h_call(c, verb, json, &ans);
	if (st != SLAC_OK)
		die("%s %s: expected OK, got %s %s %s", verb, json ? json : "",
		    slac_status_name(st), proto_err_name(ans.err.code), ans.err.message);
	json_object *body = json_object_get(ans.body);
	slac_answer_clear(&ans);
	return body;
}

void h_err(struct slac_client *c, const char *verb, const char *json, const char *code)
{
	struct slac_answer ans;
	enum slac_status st = h_call(c, verb, json, &ans);
	const char *got = st == SLAC_ERR_SERVER ? proto_err_name(ans.err.code) : "(not ERR)";
	if (st != SLAC_ERR_SERVER || strcmp(got, code) != 0)
		die("%s %s: expected ERR %s, got %s %s %s", verb, json ? json : "", code,
		    slac_status_name(st), got, ans.err.message);
	slac_answer_clear(&ans);
}

json_object *h_okf(struct slac_client *c, const char *verb, const char *fmt, ...)
{
	char body[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	return h_ok(c, verb, body);
}

void h_errf(struct slac_client *c, const char *verb, const char *code, const char *fmt, ...)
{
	char body[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	h_err(c, verb, body, code);
}

PGconn *h_db(void)
{
	if (h.db == NULL || PQstatus(h.db) != CONNECTION_OK) {
		PQfinish(h.db);
		h.db = PQconnectdb(h.conninfo);
		if (PQstatus(h.db) != CONNECTION_OK)
			die("database: %s", PQerrorMessage(h.db));
	}
	return h.db;
}

int64_t h_sql_int(const char *sql)
{
	PGresult *res = PQexec(h_db(), sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		die("%s: %s", sql, PQresultErrorMessage(res));
	int64_t v = -1;
	if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return v;
}

void h_sql_exec(const char *sql)
{
	PGresult *res = PQexec(h_db(), sql);
	ExecStatusType st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		die("%s: %s", sql, PQresultErrorMessage(res));
	PQclear(res);
}

static void pg_script(const char *call)
{
	PQfinish(h.db);
	h.db = NULL;
	char cmd[4096];
	snprintf(cmd, sizeof(cmd), "bash -c '. \"%s/tests/lib/pg.sh\" && %s' >/dev/null", h.top,
	         call);
	if (system(cmd) != 0)
		die("%s failed", call);
}

void h_pg_stop(const char *mode)
{
	char call[2048];
	snprintf(call, sizeof(call), "pg_private_stop \"%s\" %s", h.pgdata, mode);
	pg_script(call);
}

void h_pg_start(void)
{
	char call[2048];
	snprintf(call, sizeof(call), "pg_private_start \"%s\"", h.pgdata);
	pg_script(call);
}

const char *h_request_id(void)
{
	static char buf[64];
	snprintf(buf, sizeof(buf), "t%d-%u", (int)getpid(), ++h.request_seq);
	return buf;
}

int64_t h_utc(int y, int mo, int d, int hour, int mi)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = hour;
	tm.tm_min = mi;
	return (int64_t)timegm(&tm);
}

json_object *h_jget(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		die("no member '%s' in %s", key, o ? json_object_to_json_string(o) : "(null)");
	return v;
}

int64_t h_jint(json_object *o, const char *key)
{
	return json_object_get_int64(h_jget(o, key));
}

const char *h_jstr(json_object *o, const char *key)
{
	json_object *v = h_jget(o, key);
	return v ? json_object_get_string(v) : NULL;
}

const char *const *h_fake_time_env(void)
{
	static char file_env[1200];
	static const char *env[8];
	snprintf(file_env, sizeof(file_env), "FAKETIME_TIMESTAMP_FILE=%s/faketime", h.work);
	env[0] = "LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
	env[1] = file_env;
	env[2] = "FAKETIME_NO_CACHE=1";
	env[3] = "FAKETIME_DONT_FAKE_MONOTONIC=1";
	/* ASan wants to be first in the link order; libfaketime preloaded
	 * comes before it, which is harmless for what we test. */
	env[4] = "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=1:abort_on_error=1";
	env[5] = "TZ=UTC";
	env[6] = NULL;
	return env;
}

void h_set_time(int64_t epoch)
{
	char path[1200], tmp[1300];
	snprintf(path, sizeof(path), "%s/faketime", h.work);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	time_t t = (time_t)epoch;
	struct tm tm;
	gmtime_r(&t, &tm);
	FILE *f = fopen(tmp, "w");
	if (f == NULL)
		die("%s: %s", tmp, strerror(errno));
	/* Absolute and frozen: slad's wall clock reads exactly this. */
	fprintf(f, "%04d-%02d-%02d %02d:%02d:%02d\n", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	        tm.tm_hour, tm.tm_min, tm.tm_sec);
	fclose(f);
	if (rename(tmp, path) != 0)
		die("rename %s: %s", path, strerror(errno));
}
