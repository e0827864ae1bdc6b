/*
 * harness.h - what the integration tests share: a slad process they can
 * start, kill and restart against the private PostgreSQL that
 * run_with_pg.sh prepared; clients for each test principal through the
 * client library; and direct SQL for checking what was committed.
 */
#ifndef SLAD_TEST_HARNESS_H
#define SLAD_TEST_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "client.h"

/* Read the environment run_with_pg.sh exports; abort with a message if a
 * test is run without it. */
void h_init(void);

/*
 * Write the configuration (test defaults plus `extra`, lines of key =
 * value, may be NULL) and start slad; wait until it answers HELLO.  The
 * child's environment gets `env` (NULL-terminated "K=V" list, may be NULL)
 * on top of ours.  Returns the pid; aborts the test on failure.
 */
pid_t h_slad_start(const char *extra, const char *const *env);
/* Rewrite the configuration file (for SIGHUP tests); its path. */
const char *h_write_conf(const char *extra);
/* Run slad expecting it to exit by itself (a refused start); its wait
 * status, or -1 if it was still running after timeout_ms (then killed). */
int h_slad_run_expect_exit(const char *extra, const char *const *env, int timeout_ms);
/* Send sig to slad and reap it; returns its wait status. */
int h_slad_stop(int sig);
/* Wait up to timeout_ms for slad to exit by itself; wait status, or -1. */
int h_slad_wait(int timeout_ms);
pid_t h_slad_pid(void);
const char *h_port(void);
/* The file slad logs to. */
const char *h_log_path(void);
/* Whether slad's log contains `needle`. */
bool h_log_contains(const char *needle);

/*
 * More slad processes on the same PostgreSQL (DESIGN.md: any number of
 * instances).  Instance 0 is the one the calls above manage; each instance
 * has its own port, configuration file and log (slad.log for 0,
 * slad-<i>.log for the others), the same test defaults and certificates.
 * Each call is its instance-0 namesake for instance i.
 */
#define H_INSTANCES 2
pid_t h_inst_start(int i, const char *extra, const char *const *env);
const char *h_inst_write_conf(int i, const char *extra);
int h_inst_run_expect_exit(int i, const char *extra, const char *const *env, int timeout_ms);
int h_inst_stop(int i, int sig);
int h_inst_wait(int i, int timeout_ms);
pid_t h_inst_pid(int i);
const char *h_inst_port(int i);
const char *h_inst_log_path(int i);
bool h_inst_log_contains(int i, const char *needle);
struct slac_profile h_inst_profile(int i, const char *cert_name);
struct slac_client *h_inst_connect(int i, const char *cert_name, struct slac_error *err);
struct slac_client *h_inst_must_connect(int i, const char *cert_name);

/* A profile for a certificate in the test CA dir ("admin", "engineer2",
 * "foreign-client", ...).  Strings live until the next call. */
struct slac_profile h_profile(const char *cert_name);
/* Connected past HELLO, or NULL (with err) if refused. */
struct slac_client *h_connect(const char *cert_name, struct slac_error *err);
/* Connected, or the test fails. */
struct slac_client *h_must_connect(const char *cert_name);

/* One call with a JSON text body (NULL: none); the answer in *ans. */
enum slac_status h_call(struct slac_client *c, const char *verb, const char *json,
                        struct slac_answer *ans);
/* As h_call, but the test fails unless the answer is OK; returns the body
 * (a new reference; json_object_put it). */
json_object *h_ok(struct slac_client *c, const char *verb, const char *json);
/* As h_call, expecting ERR with `code` ("FORBIDDEN"). */
void h_err(struct slac_client *c, const char *verb, const char *json, const char *code);
/* h_ok and h_err with the body made by printf. */
json_object *h_okf(struct slac_client *c, const char *verb, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void h_errf(struct slac_client *c, const char *verb, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Direct SQL (blocking libpq), for checks and fixtures. */
PGconn *h_db(void);
/* The first column of the first row as an integer (-1 for no row/NULL). */
int64_t h_sql_int(const char *sql);
void h_sql_exec(const char *sql);

/* The private PostgreSQL: stop (smart|fast|immediate) and start again. */
void h_pg_stop(const char *mode);
void h_pg_start(void);

/*
 * Time for slad, moved by libfaketime (DESIGN.md: never by sleeping): the
 * environment list to start slad with, whose wall clock then stands still
 * at whatever h_set_time() last wrote; the monotonic clock (libevent's
 * timers) keeps running for real.
 */
const char *const *h_fake_time_env(void);
void h_set_time(int64_t epoch);

/* A fresh request_id. */
const char *h_request_id(void);

/* An instant given in UTC, as epoch seconds. */
int64_t h_utc(int y, int mo, int d, int hour, int mi);

/* Members of an answer; a missing member fails the test. */
json_object *h_jget(json_object *o, const char *key);
int64_t h_jint(json_object *o, const char *key);
const char *h_jstr(json_object *o, const char *key); /* NULL for a JSON null */

#endif /* SLAD_TEST_HARNESS_H */
