/*
 * pushes.h - what the escalation tests share: a subscriber ("watcher")
 * that collects the ESCALATION pushes slad sends to one principal, the
 * event loop that feeds it, bounded waits for an exact number of pushes,
 * and the fixtures they stand on (someone on duty, a reported ticket).
 * Waits are bounded polls, never sleeps that move time.
 */
#ifndef SLAD_TEST_PUSHES_H
#define SLAD_TEST_PUSHES_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "client.h"

#define PUSHES_MAX 256

/* How a watcher behaves; flags for pushes_subscribe. */
enum pushes_flags {
	/* Key each push "clock step tier[ late]" and drop pushes past
	 * PUSHES_MAX; without it the key is "ticket clock step fraction" and a
	 * push past PUSHES_MAX fails the test. */
	PUSHES_STEP_KEYS = 1 << 0,
	/* On subscribing, take the backlog of unreceipted deliveries left by
	 * an earlier, failed test, so that one failure does not cascade; the
	 * inbox then starts empty. */
	PUSHES_DRAIN = 1 << 1,
	/* The watcher outlives slad restarts: a dropped connection is not a
	 * failure, pushes_expect reconnects through the client library. */
	PUSHES_RECONNECT = 1 << 2,
	/* Collect TASK pushes instead of ESCALATION ones, keyed
	 * "task_id kind reminder|lapse[ late]". */
	PUSHES_TASKS = 1 << 3,
};

struct push_inbox {
	int count;
	uint64_t seqs[PUSHES_MAX];
	char keys[PUSHES_MAX][96]; /* see PUSHES_STEP_KEYS, PUSHES_TASKS; in arrival order */
};

struct push_watcher {
	const char *who;
	int instance;
	unsigned flags;
	struct slac_client *c;
	struct push_inbox in;
};

/* The push callback (slac_session_set_push_cb) of a watcher, which is arg:
 * records ESCALATION (or, with PUSHES_TASKS, TASK) pushes in arg's inbox. */
void pushes_on_push(void *arg, const char *event, uint64_t seq, json_object *body);

/* Connect as `who` to slad instance `instance`, SUBSCRIBE, and collect
 * its pushes in w->in (empty to begin with). */
void pushes_subscribe(struct push_watcher *w, const char *who, int instance, unsigned flags);

/* One round of the watchers' event loop, up to ms; a dropped connection
 * fails the test. */
void pushes_pump(struct push_watcher *const *ws, int n, int ms);
/* pushes_pump of one watcher. */
void pushes_pump_one(struct push_watcher *w, int ms);
/* One round of the watcher's event loop, up to ms (or the library's own
 * timer); false once the connection is gone. */
bool pushes_try_pump(struct push_watcher *w, int ms);
/* The client library's own reconnect: same session, so the last seq seen
 * is kept and the SUBSCRIBE is re-sent after HELLO. */
void pushes_reconnect(struct push_watcher *w);

/* Wait (up to `rounds` rounds of 50 ms) until the inbox holds `want`
 * pushes; then watch three scheduler caps (of 100 ms) more so that an
 * extra, unwanted push would be seen too.  On a mismatch the test fails
 * after printing the inbox and the rows of dump_sql. */
void pushes_expect(struct push_watcher *w, int want, int rounds, const char *dump_sql);

/* Print every row of `sql` to stderr, one line "  label: col col ...". */
void pushes_dump_db(const char *label, const char *sql);

/* Put `who` on duty for team north, November 2026 to January 2027 (the
 * same request_id each time: a replay after the first). */
void pushes_put_on_duty(const char *who);
/* REPORT a ticket of `level` for customer 1 through hotline; its id. */
int64_t pushes_report_level(struct slac_client *hotline, int level, const char *what);
/* CANCEL the tickets as the engineer, so that their later steps do not
 * fire into the next test. */
void pushes_cancel_all(const int64_t *ids, int n);

#endif /* SLAD_TEST_PUSHES_H */
