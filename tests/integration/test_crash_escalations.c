/*
 * test_crash_escalations.c - "SIGKILL before the claim commits, after it
 * commits but before the push, and after the push but before the client's
 * delivery receipt: no firing lost, none doubled, every delivery received"
 * (issue: escalations, "Tests"; DESIGN.md "Time", "Delivery").
 *
 * Each test has 3 level-4 tickets (response and restore clocks: 6 clock
 * rows, 24 steps -- warnings at 50/75/90 % and the breach) and lets slad
 * kill itself with SIGKILL at one failpoint, exactly there rather than by
 * luck of timing, while many steps are due at once.  sched_batch = 2
 * claims two clock rows per statement, and the claims after a commit run
 * back to back, so a skip count picks the claim after which slad dies.
 * slad is started again (same faked clock, no failpoint); the engineer's
 * client reconnects and re-subscribes through the client library, as any
 * client does.  Then, in every test:
 *   - every (ticket, clock, step, cycle) has exactly one escalation row,
 *     and all 24 exist;
 *   - each escalation has exactly one delivery to the engineer;
 *   - the client's push callback (after the library's seq dedup) saw each
 *     of those deliveries exactly once, in increasing seq order;
 *   - every delivery ends receipted.
 *
 * The crash points:
 *   sched_before_fire   nothing of the 18 due steps claimed;
 *   sched_after_commit  after the first claim (6 of 18 committed, 12 to
 *                       fire after the restart), and after the last one
 *                       (all 18 committed, none pushed, nothing left to
 *                       fire: only the resending on SUBSCRIBE delivers);
 *   receipt_before_commit  the 4th receipt (mid-burst, same client session
 *                       reconnecting), and the 21st (all fired; the client
 *                       process restarts with its saved seq, so the resent
 *                       pushes certainly meet the library's dedup).
 *
 * The scheduler failpoints are reached on every scheduler pass, also the
 * idle ones every sched_cap_ms, so with a client connected a skip count
 * would land by luck of timing.  Deterministic is a slad started while
 * the steps are due (its first pass, its first or last claim): the test
 * kills the running slad (the client has six live pushes and receipts
 * behind it), moves the clock, and starts slad with the failpoint.  The
 * client reconnects to the slad started after that.  The receipt
 * failpoint is reached only by RECEIPTs, so there the client is connected
 * to the slad that dies, with pushes in flight.
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
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"
#include "pushes.h"

/* 2026-11-28T10:00:00Z: after the test certificates' notBefore, inside
 * the duty rota below. */
#define T0   ((int64_t)1795860000)
#define HOUR 3600
#define DAY  (24 * HOUR)
/* Two clock rows per claim: a crash after a commit lands between steps. */
#define CONF "sched_cap_ms = 100\nsched_late_s = 5\nsched_batch = 2"

#define TICKETS 3
#define ROWS    (TICKETS * 2) /* response and restore clocks */
#define STEPS   (ROWS * 4)    /* warnings at 50/75/90 %, breach at 100 % */

/* What the deliveries were, printed when a count is wrong. */
#define DUMP_SQL                                                                                   \
	"SELECT p.name, d.seq, d.body->>'ticket_id', d.body->>'clock', d.body->>'step',"           \
	" d.receipted_at IS NOT NULL FROM deliveries d"                                            \
	" JOIN principals p ON p.id = d.principal_id ORDER BY 1, 2"

/* The engineer's client, across slad restarts. */
static void subscribe(struct push_watcher *w, const char *who)
{
	pushes_subscribe(w, who, 0, PUSHES_DRAIN | PUSHES_RECONNECT);
}

/* Wait (bounded) for `want` pushes, then watch three scheduler caps more
 * so that one too many would be seen as well. */
static void expect_pushes(struct push_watcher *w, int want)
{
	pushes_expect(w, want, 200, DUMP_SQL);
}

struct scenario {
	int64_t t;               /* the report instant */
	int64_t ids[TICKETS];    /* the tickets */
	char id_list[128];       /* "1,2,3" for SQL */
	struct push_watcher w;   /* the engineer on duty */
	struct slac_client *hot; /* the hotline */
};

static int64_t sqlf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int64_t sqlf(const char *fmt, ...)
{
	char sql[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	return h_sql_int(sql);
}

/* Escalations of the scenario's tickets. */
static int64_t fired(const struct scenario *s)
{
	return sqlf("SELECT count(*) FROM escalations WHERE ticket_id IN (%s)", s->id_list);
}

/* The engineer's deliveries of the scenario's escalations without a
 * receipt. */
static int64_t unreceipted(const struct scenario *s)
{
	return sqlf("SELECT count(*) FROM deliveries d JOIN escalations e ON e.id = d.escalation_id"
	            " JOIN principals p ON p.id = d.principal_id"
	            " WHERE p.name = 'engineer' AND e.ticket_id IN (%s)"
	            " AND d.receipted_at IS NULL",
	            s->id_list);
}

/* slad running with `env`, the engineer subscribed, three level-4
 * tickets reported at s->t (24 h windows: steps at 12, 18, 21.6, 24 h). */
static void begin(struct scenario *s, int64_t t, const char *const *env)
{
	memset(s, 0, sizeof(*s));
	s->t = t;
	h_set_time(t);
	if (h_slad_pid() > 0) /* left running by an earlier, failed test */
		h_slad_stop(SIGKILL);
	h_slad_start(CONF, env);
	pushes_put_on_duty("engineer");
	subscribe(&s->w, "engineer");
	s->hot = h_must_connect("hotline");
	size_t used = 0;
	for (int i = 0; i < TICKETS; i++) {
		s->ids[i] = pushes_report_level(s->hot, 4, "crash scenario");
		used += (size_t)snprintf(s->id_list + used, sizeof(s->id_list) - used, "%s%lld",
		                         i ? "," : "", (long long)s->ids[i]);
	}
}

/* No firing lost, none doubled, every delivery received once and
 * receipted. */
static void check_exactly_once(struct scenario *s)
{
	/* Every step of every clock row, each exactly once. */
	assert_int_equal(fired(s), STEPS);
	assert_int_equal(sqlf("SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n"
	                      " FROM escalations WHERE ticket_id IN (%s)"
	                      " GROUP BY ticket_id, clock, step, cycle) g",
	                      s->id_list),
	                 1);
	assert_int_equal(sqlf("SELECT count(*) FROM (SELECT DISTINCT ticket_id, clock, step, cycle"
	                      " FROM escalations WHERE ticket_id IN (%s)) g",
	                      s->id_list),
	                 STEPS);
	/* One delivery to the engineer per escalation. */
	assert_int_equal(
	    sqlf("SELECT count(*) FROM deliveries d JOIN escalations e ON e.id = d.escalation_id"
	         " JOIN principals p ON p.id = d.principal_id"
	         " WHERE p.name = 'engineer' AND e.ticket_id IN (%s)",
	         s->id_list),
	    STEPS);
	assert_int_equal(sqlf("SELECT count(DISTINCT d.escalation_id) FROM deliveries d"
	                      " JOIN escalations e ON e.id = d.escalation_id"
	                      " JOIN principals p ON p.id = d.principal_id"
	                      " WHERE p.name = 'engineer' AND e.ticket_id IN (%s)",
	                      s->id_list),
	                 STEPS);

	/* The client: each push once, in seq order, and the pushes are
	 * exactly those deliveries. */
	assert_int_equal(s->w.in.count, STEPS);
	char seqs[4096];
	size_t used = 0;
	for (int i = 0; i < s->w.in.count; i++) {
		if (i > 0)
			assert_true(s->w.in.seqs[i] > s->w.in.seqs[i - 1]);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(s->w.in.keys[i], s->w.in.keys[j]);
		used += (size_t)snprintf(seqs + used, sizeof(seqs) - used, "%s%llu", i ? "," : "",
		                         (unsigned long long)s->w.in.seqs[i]);
	}
	assert_int_equal(
	    sqlf("SELECT count(*) FROM deliveries d JOIN escalations e ON e.id = d.escalation_id"
	         " JOIN principals p ON p.id = d.principal_id"
	         " WHERE p.name = 'engineer' AND e.ticket_id IN (%s) AND d.seq IN (%s)",
	         s->id_list, seqs),
	    STEPS);

	/* Every delivery ends receipted (the library receipts each push). */
	for (int i = 0; i < 200 && unreceipted(s) > 0; i++)
		if (!pushes_try_pump(&s->w, 20))
			pushes_reconnect(&s->w);
	assert_int_equal(unreceipted(s), 0);
	struct slac_session_stats st = slac_session_stats(slac_client_session(s->w.c));
	fprintf(stderr, "  client: pushes=%llu duplicates dropped=%llu receipts=%llu\n",
	        (unsigned long long)st.pushes, (unsigned long long)st.duplicates,
	        (unsigned long long)st.receipts);
}

static void end(struct scenario *s)
{
	for (int i = 0; i < TICKETS; i++)
		pushes_cancel_all(&s->ids[i], 1);
	slac_client_free(s->hot);
	slac_client_free(s->w.c);
	assert_int_equal(h_slad_stop(SIGTERM), 0);
}

/* The scheduler failpoints: the first six steps fire live and are
 * receipted; slad is killed; the other 18 come due; slad started with the
 * failpoint kills itself in its first pass that reaches it; slad started
 * again fires/pushes the rest. `after_crash` is how many escalations of
 * the scenario the crash must leave committed. */
static void scheduler_crash(int64_t t, const char *failpoint, int skip_hits, int64_t after_crash)
{
	static struct scenario s;
	begin(&s, t, h_fake_time_env());
	h_set_time(t + 12 * HOUR); /* 50 %: six warnings, live */
	expect_pushes(&s.w, ROWS);
	for (int i = 0; i < 200 && unreceipted(&s) > 0; i++)
		pushes_try_pump(&s.w, 20);
	assert_int_equal(unreceipted(&s), 0);

	/* A crash of the running slad (the client is connected). */
	h_slad_stop(SIGKILL);
	h_set_time(t + 24 * HOUR); /* 75 %, 90 % and breach of all six rows */

	char fp[64], skip[64];
	snprintf(fp, sizeof(fp), "SLAD_FAILPOINT=%s", failpoint);
	snprintf(skip, sizeof(skip), "SLAD_FAILPOINT_SKIP=%d", skip_hits);
	const char *env[12];
	int n = 0;
	for (const char *const *e = h_fake_time_env(); *e; e++)
		env[n++] = *e;
	env[n++] = fp;
	env[n++] = skip;
	env[n] = NULL;
	int status = h_slad_run_expect_exit(CONF, env, 10000);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	char logged[96];
	snprintf(logged, sizeof(logged), "event=failpoint name=%s", failpoint);
	assert_true(h_log_contains(logged));
	/* Where it landed: how much of the 18 the dead slad committed. */
	assert_int_equal(fired(&s), after_crash);
	assert_int_equal(unreceipted(&s), after_crash - ROWS);

	h_slad_start(CONF, h_fake_time_env());
	pushes_reconnect(&s.w);
	expect_pushes(&s.w, STEPS);
	check_exactly_once(&s);
	end(&s);
}

/* Killed before the claim commits: nothing of the 18 was claimed; the
 * next slad fires each once (late, since they were due while it was
 * down). */
static void sigkill_before_claim(void **state)
{
	(void)state;
	scheduler_crash(T0, "sched_before_fire", 0, ROWS);
	char sql[256];
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM escalations WHERE late AND fired_at = to_timestamp(%lld)",
	         (long long)(T0 + 24 * HOUR));
	/* 75 % and 90 % of six rows were more than sched_late_s overdue. */
	assert_int_equal(h_sql_int(sql), 2 * ROWS);
}

/* Killed after the first claim committed (two clock rows, three steps
 * each) and before anything was pushed: those six wait in the outbox and
 * are pushed once after the restart; the other twelve fire then. */
static void sigkill_after_first_commit_before_push(void **state)
{
	(void)state;
	scheduler_crash(T0 + 3 * DAY, "sched_after_commit", 0, ROWS + 2 * 3);
}

/* Killed after the last claim committed (the three claims run back to
 * back, so the third hit is the last batch): all 18 wait in the outbox and
 * nothing is left to fire after the restart -- only the resending of
 * unreceipted pushes on SUBSCRIBE can bring them. */
static void sigkill_after_last_commit_before_push(void **state)
{
	(void)state;
	scheduler_crash(T0 + 6 * DAY, "sched_after_commit", 2, STEPS);
}

/* Killed with pushes on the wire and a RECEIPT (the one after the first
 * `skip_hits`) not yet recorded: whatever lacks a receipt is sent again
 * after the reconnect and the library drops what it already handled.
 * `restart_client`: the client process itself starts over too, with the
 * last seq it saved (client.h), so no receipt of the old session is
 * replayed and the resent pushes certainly reach the library's dedup. */
static void receipt_crash(int64_t t, int skip_hits, bool restart_client)
{
	static struct scenario s;
	char skip[64];
	snprintf(skip, sizeof(skip), "SLAD_FAILPOINT_SKIP=%d", skip_hits);
	const char *env[12];
	int n = 0;
	for (const char *const *e = h_fake_time_env(); *e; e++)
		env[n++] = *e;
	env[n++] = "SLAD_FAILPOINT=receipt_before_commit";
	env[n++] = skip;
	env[n] = NULL;
	begin(&s, t, env);
	h_set_time(t + 24 * HOUR); /* all 24 steps due at once */
	int i = 0;
	while (i < 400 && pushes_try_pump(&s.w, 50))
		i++;
	assert_true(i < 400); /* the connection went down: slad died */
	int status = h_slad_wait(5000);
	assert_true(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_true(h_log_contains("event=failpoint name=receipt_before_commit"));
	/* The receipt that killed slad was never recorded. */
	int64_t seen = s.w.in.count;
	int64_t recorded =
	    sqlf("SELECT count(*) FROM deliveries d JOIN escalations e ON e.id = d.escalation_id"
	         " WHERE e.ticket_id IN (%s) AND d.receipted_at IS NOT NULL",
	         s.id_list);
	fprintf(stderr, "  at the crash: %lld of %d fired, the client saw %lld, %lld receipted\n",
	        (long long)fired(&s), STEPS, (long long)seen, (long long)recorded);
	assert_true(seen >= skip_hits + 1);
	assert_true(recorded <= skip_hits);

	h_slad_start(CONF, h_fake_time_env());
	if (restart_client) {
		uint64_t last = slac_session_last_seq(slac_client_session(s.w.c));
		slac_client_free(s.w.c);
		s.w.c = h_must_connect("engineer");
		struct slac_session *ss = slac_client_session(s.w.c);
		slac_session_set_push_cb(ss, pushes_on_push, &s.w); /* the same inbox */
		slac_session_set_last_seq(ss, last);
		struct slac_answer ans;
		json_object *body = json_object_new_object();
		assert_int_equal(slac_call(s.w.c, "SUBSCRIBE", body, &ans, 10000), SLAC_OK);
		json_object_put(body);
		slac_answer_clear(&ans);
	} else {
		pushes_reconnect(&s.w);
	}
	expect_pushes(&s.w, STEPS);
	check_exactly_once(&s);
	if (restart_client) {
		/* At least the push whose receipt died with slad came again and
		 * was dropped (and receipted) by the library. */
		struct slac_session_stats st = slac_session_stats(slac_client_session(s.w.c));
		assert_true(st.duplicates >= 1);
	}
	end(&s);
}

/* The fourth receipt kills slad: mid-burst, with one claim of eight steps
 * committed and pushed and the rest still to fire.  The same client
 * session reconnects (its unanswered receipts are replayed). */
static void sigkill_after_push_before_receipt(void **state)
{
	(void)state;
	receipt_crash(T0 + 9 * DAY, 3, false);
}

/* The 21st receipt kills slad: all 24 steps fired (21 pushes came from
 * the third claim), so nothing new fires after the restart.  The client
 * starts over with its saved seq: the pushes without a receipt must come
 * again on SUBSCRIBE, reach the dedup, and be receipted. */
static void sigkill_before_receipt_client_restarts(void **state)
{
	(void)state;
	receipt_crash(T0 + 12 * DAY, 20, true);
}

int main(void)
{
	h_init();
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sigkill_before_claim),
	    cmocka_unit_test(sigkill_after_first_commit_before_push),
	    cmocka_unit_test(sigkill_after_last_commit_before_push),
	    cmocka_unit_test(sigkill_after_push_before_receipt),
	    cmocka_unit_test(sigkill_before_receipt_client_restarts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
