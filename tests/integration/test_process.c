/*
 * test_process.c - slad as a process (issue 4 "Process"): its flags, the
 * refusal of a database without fsync, systemd readiness, SIGHUP reloads
 * that keep the old configuration when the new one fails, and SIGTERM
 * draining.
 */
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static int run_cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run_cmd(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void flags(void **state)
{
	(void)state;
	const char *bin = getenv("SLAD_TEST_BIN");
	const char *work = getenv("SLAD_TEST_WORK");
	assert_int_equal(run_cmd("%s --version | grep -q '^slad '", bin), 0);
	assert_int_equal(run_cmd("%s >/dev/null 2>&1", bin), 2); /* no -c: usage */
	const char *conf = h_write_conf(NULL);
	assert_int_equal(run_cmd("%s -c %s --check-config >/dev/null", bin, conf), 0);
	/* A bad file is named with its line and what is wrong. */
	conf = h_write_conf("max_line_bytes = lots");
	assert_int_equal(run_cmd("%s -c %s --check-config 2>%s/check.err", bin, conf, work), 1);
	assert_int_equal(run_cmd("grep -q 'max_line_bytes' %s/check.err", work), 0);
	conf = h_write_conf("no_such_key = 1");
	assert_int_equal(run_cmd("%s -c %s --check-config 2>%s/check.err", bin, conf, work), 1);
	assert_int_equal(run_cmd("grep -q \"unknown key 'no_such_key'\" %s/check.err", work), 0);
	/* TLS material is checked too. */
	conf = h_write_conf("tls_key = /nonexistent/key.pem");
	assert_int_equal(run_cmd("%s -c %s --check-config 2>/dev/null", bin, conf), 1);
}

/* Acknowledged means committed: slad refuses fsync=off unless told the
 * database is a throw-away one. */
static void refuses_fsync_off(void **state)
{
	(void)state;
	h_pg_stop("fast");
	setenv("SLAD_PG_EXTRA_CONF", "fsync = off", 1);
	h_pg_start();
	int status = h_slad_run_expect_exit(NULL, NULL, 10000);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	assert_true(h_log_contains("fsync=off; refusing"));
	h_slad_start("dev_database = true", NULL);
	assert_true(h_log_contains("event=dev_database fsync=off"));
	h_slad_stop(SIGTERM);
	h_pg_stop("fast");
	unsetenv("SLAD_PG_EXTRA_CONF");
	h_pg_start();
}

/* Type=notify: READY=1 once serving, RELOADING=1 then READY=1 on SIGHUP,
 * STOPPING=1 on SIGTERM. */
static void systemd_notify(void **state)
{
	(void)state;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char path[sizeof(sa.sun_path)];
	int plen = snprintf(path, sizeof(path), "%s/notify.sock", getenv("SLAD_TEST_WORK"));
	assert_true(plen > 0 && (size_t)plen < sizeof(path));
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	memcpy(sa.sun_path, path, (size_t)plen + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	char env_notify[600];
	snprintf(env_notify, sizeof(env_notify), "NOTIFY_SOCKET=%s", path);
	const char *env[2] = {env_notify, NULL};
	h_slad_start(NULL, env);
	static const char *const expected[] = {"READY=1", "RELOADING=1", "READY=1", "STOPPING=1"};
	for (size_t i = 0; i < 4; i++) {
		if (i == 1)
			kill(h_slad_pid(), SIGHUP);
		if (i == 3)
			kill(h_slad_pid(), SIGTERM);
		struct pollfd p = {fd, POLLIN, 0};
		assert_int_equal(poll(&p, 1, 10000), 1);
		char msg[256];
		ssize_t n = recv(fd, msg, sizeof(msg) - 1, 0);
		assert_true(n > 0);
		msg[n] = '\0';
		assert_string_equal(msg, expected[i]);
	}
	int status = h_slad_wait(10000);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fd);
}

/* SIGHUP: a broken file or broken TLS material keeps the old ones in force
 * and the sessions alive; a good file takes effect for open sessions. */
static void sighup_reload(void **state)
{
	(void)state;
	h_slad_start(NULL, NULL);
	struct slac_client *c = h_must_connect("engineer");
	json_object *pong = h_ok(c, "PING", NULL);
	json_object_put(pong);

	h_write_conf("max_line_bytes = banana");
	kill(h_slad_pid(), SIGHUP);
	for (int i = 0; i < 200 && !h_log_contains("what=config"); i++)
		usleep(10000);
	assert_true(h_log_contains("event=reload_failed what=config"));
	pong = h_ok(c, "PING", NULL);
	json_object_put(pong);

	h_write_conf("tls_cert = /nonexistent/server.crt");
	kill(h_slad_pid(), SIGHUP);
	for (int i = 0; i < 200 && !h_log_contains("what=tls"); i++)
		usleep(10000);
	assert_true(h_log_contains("event=reload_failed what=tls"));
	pong = h_ok(c, "PING", NULL);
	json_object_put(pong);
	struct slac_client *fresh = h_must_connect("hotline"); /* old TLS still serves */
	slac_client_free(fresh);

	/* A good file: a smaller line cap applies to the open session. */
	h_write_conf("max_line_bytes = 300");
	kill(h_slad_pid(), SIGHUP);
	for (int i = 0; i < 200 && !h_log_contains("event=reloaded"); i++)
		usleep(10000);
	assert_true(h_log_contains("event=reloaded"));
	char big[1024];
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	char body[1200];
	snprintf(body, sizeof(body), "{\"ticket_id\":1,\"text\":\"%s\",\"request_id\":\"n1\"}",
	         big);
	struct slac_answer ans;
	enum slac_status st = h_call(c, "NOTE", body, &ans);
	/* The server refuses the line; the client may also refuse to send a
	 * line over the cap HELLO announced.  Either way: not OK. */
	assert_int_not_equal(st, SLAC_OK);
	slac_answer_clear(&ans);
	slac_client_free(c);
	h_slad_stop(SIGTERM);
}

/* SIGTERM: stop accepting, finish in-flight work, tell sessions, exit 0. */
static void sigterm_drains(void **state)
{
	(void)state;
	h_slad_start(NULL, NULL);
	struct slac_client *c = h_must_connect("hotline");
	json_object *a =
	    h_ok(c, "REPORT",
	         "{\"request_id\":\"drain-1\",\"contact_name\":\"a\",\"contact_phone\":"
	         "\"1\",\"customer_id\":1,\"symptoms\":\"before shutdown\"}");
	json_object_put(a);
	kill(h_slad_pid(), SIGTERM);
	int status = h_slad_wait(10000);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(h_log_contains("event=drained"));
	assert_true(h_log_contains("event=exit"));
	assert_int_equal(
	    h_sql_int("SELECT count(*) FROM tickets WHERE symptoms = 'before shutdown'"), 1);
	slac_client_free(c);
}

int main(void)
{
	h_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(flags),          cmocka_unit_test(refuses_fsync_off),
	    cmocka_unit_test(systemd_notify), cmocka_unit_test(sighup_reload),
	    cmocka_unit_test(sigterm_drains),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
