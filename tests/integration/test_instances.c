/*
 * test_instances.c - two slad processes on one PostgreSQL (issue:
 * escalations, "Several instances"; DESIGN.md "Delivery"): each firing
 * happens once, and a subscriber connected to either instance receives
 * every push addressed to it, whichever instance fired it -- also while
 * the LISTEN connection of one instance is killed again and again as 50
 * escalations fire.
 *
 * Subscribers: two different engineers, both on duty for team north,
 * engineer on instance 0 and engineer2 on instance 1.  Every step goes to
 * both, so each step fired by either instance must cross to the other
 * one -- and each subscriber's count must be exact.  (The same principal
 * on both instances proves less: a receipt from one session ends the
 * resending for every session of the principal (PROTOCOL.md "Pushes"), so
 * only the union of its sessions is promised; that case has its own test,
 * which checks the union and that both sessions see the same numbers.)
 *
 * slad's wall clock is moved by libfaketime, the same frozen instant for
 * both instances (they share the timestamp file); the scheduler cap is
 * 100 ms of real time.  Waits are bounded polls, never sleeps that move
 * time.
 */
#include <dirent.h>
#include <inttypes.h>
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
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "pushes.h"

/* 2026-11-28T10:00:00Z, inside the duty rota below. */
#define T0     ((int64_t)1795860000)
#define MINUTE 60
#define HOUR   3600
#define DAY    (24 * HOUR)
#define CAP_MS 100
/* Both instances fire, five clock rows per claim, so a burst takes several
 * claims and the two schedulers meet in FOR UPDATE SKIP LOCKED. */
#define CONF "sched_cap_ms = 100\nsched_late_s = 5\nsched_batch = 5"
/* An instance whose scheduler only wakes when poked: with a frozen clock
 * its timer waits an hour of real time. */
#define CONF_QUIET "sched_cap_ms = 3600000\nsched_late_s = 5\nsched_batch = 5"
/* How long a push may take to reach a subscriber on either instance once
 * it is committed: the cap (100 ms) plus the LISTEN reconnect's back-off
 * (50 ms after a healthy connection, db_reconnect_max_ms = 500 at worst)
 * plus slack for a sanitizer build.  A push that depends on nothing but a
 * later, unrelated event misses it by far. */
#define DELIVERY_BOUND_MS 2000

#define BURST 50

/* Each subscriber takes its backlog first: one failure does not cascade.
 * No slad restarts here: a dropped connection is a failure. */
static void subscribe(struct push_watcher *w, const char *who, int instance)
{
	pushes_subscribe(w, who, instance, PUSHES_DRAIN);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t sqlf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int64_t sqlf(const char *fmt, ...)
{
	char sql[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	return h_sql_int(sql);
}

static void dump(struct push_watcher *const *ws, int n)
{
	for (int k = 0; k < n; k++)
		for (int i = 0; i < ws[k]->in.count; i++)
			fprintf(stderr, "  %s@%d push %llu: %s\n", ws[k]->who, ws[k]->instance,
			        (unsigned long long)ws[k]->in.seqs[i], ws[k]->in.keys[i]);
	pushes_dump_db(
	    "db unreceipted",
	    "SELECT p.name, d.seq, d.body->>'ticket_id', d.body->>'clock', d.body->>'step'"
	    " FROM deliveries d JOIN principals p ON p.id = d.principal_id"
	    " WHERE d.receipted_at IS NULL ORDER BY 1, 2");
}

/* Pump until every watcher holds want[k] pushes or bound_ms passed; the
 * milliseconds it took, or -1. */
static int64_t wait_pushes(struct push_watcher *const *ws, int n, const int *want, int bound_ms)
{
	int64_t start = now_ms();
	for (;;) {
		bool all = true;
		for (int k = 0; k < n; k++)
			all = all && ws[k]->in.count >= want[k];
		if (all)
			return now_ms() - start;
		if (now_ms() - start > bound_ms)
			return -1;
		pushes_pump(ws, n, 10);
	}
}

/* Then three caps more, so that one push too many would be seen. */
static void expect_exact(struct push_watcher *const *ws, int n, const int *want)
{
	int64_t until = now_ms() + 3 * CAP_MS;
	while (now_ms() < until)
		pushes_pump(ws, n, 10);
	for (int k = 0; k < n; k++) {
		if (ws[k]->in.count != want[k]) {
			dump(ws, n);
			fail_msg("%s@%d: expected %d pushes, got %d", ws[k]->who, ws[k]->instance,
			         want[k], ws[k]->in.count);
		}
	}
}

/* n tickets of `level` reported at the current faked instant, through
 * the given instance; their ids as an SQL list in `list`. */
static void report_many(int instance, int n, int level, int64_t *ids, char *list, size_t len)
{
	struct slac_client *hot = h_inst_must_connect(instance, "hotline");
	size_t used = 0;
	for (int i = 0; i < n; i++) {
		ids[i] = pushes_report_level(hot, level, "instances");
		used += (size_t)snprintf(list + used, len - used, "%s%lld", i ? "," : "",
		                         (long long)ids[i]);
		assert_true(used < len);
	}
	slac_client_free(hot);
}

/* Steps fired by instance i so far, from its log ("event=sched_fired
 * steps=N"): which instance fired what. */
static int64_t fired_by(int i)
{
	FILE *f = fopen(h_inst_log_path(i), "r");
	if (f == NULL)
		return 0;
	char line[8192];
	int64_t sum = 0;
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "event=sched_fired steps=");
		if (p != NULL)
			sum += strtoll(p + strlen("event=sched_fired steps="), NULL, 10);
	}
	fclose(f);
	return sum;
}

/*
 * The backend of instance i's LISTEN connection, 0 if there is none (yet).
 * Both instances call themselves application_name 'slad', so the backend
 * is told by its client port: one of the TCP ports slad's own sockets are
 * bound to (/proc/<pid>/fd and /proc/<pid>/net/tcp).
 */
static int listen_backend(int i)
{
	char path[128], link[128];
	unsigned long inodes[512];
	int n_inodes = 0;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)h_inst_pid(i));
	DIR *d = opendir(path);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL && n_inodes < 512) {
		char fd_path[384];
		snprintf(fd_path, sizeof(fd_path), "%s/%s", path, e->d_name);
		ssize_t k = readlink(fd_path, link, sizeof(link) - 1);
		if (k <= 0)
			continue;
		link[k] = '\0';
		if (sscanf(link, "socket:[%lu]", &inodes[n_inodes]) == 1)
			n_inodes++;
	}
	closedir(d);
	snprintf(path, sizeof(path), "/proc/%d/net/tcp", (int)h_inst_pid(i));
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[512], ports[2048] = "";
	size_t used = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned port;
		unsigned long inode;
		if (sscanf(line, "%*s %*[0-9A-Fa-f]:%x %*s %*s %*s %*s %*s %*s %*s %lu", &port,
		           &inode) != 2)
			continue; /* the header */
		for (int k = 0; k < n_inodes; k++)
			if (inodes[k] == inode && used + 16 < sizeof(ports))
				used += (size_t)snprintf(ports + used, sizeof(ports) - used, "%s%u",
				                         used ? "," : "", port);
	}
	fclose(f);
	if (used == 0)
		return 0;
	int64_t pid = sqlf("SELECT pid FROM pg_stat_activity WHERE application_name = 'slad'"
	                   " AND backend_type = 'client backend' AND query LIKE 'LISTEN%%'"
	                   " AND client_port IN (%s)",
	                   ports);
	return pid > 0 ? (int)pid : 0;
}

/* Exactly once, as the database sees it: `want` escalations of the
 * tickets, each (ticket, clock, step, cycle) once, each delivered once to
 * each of the principals named, and all of them receipted. */
static void check_db(const char *ids, int want, const char *const *who, int n_who,
                     struct push_watcher *const *ws, int n_ws)
{
	assert_int_equal(sqlf("SELECT count(*) FROM escalations WHERE ticket_id IN (%s)", ids),
	                 want);
	assert_int_equal(sqlf("SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n"
	                      " FROM escalations WHERE ticket_id IN (%s)"
	                      " GROUP BY ticket_id, clock, step, cycle) g",
	                      ids),
	                 1);
	for (int k = 0; k < n_who; k++) {
		char q[1024];
		snprintf(q, sizeof(q),
		         " FROM deliveries d JOIN escalations e ON e.id = d.escalation_id"
		         " JOIN principals p ON p.id = d.principal_id"
		         " WHERE p.name = '%s' AND e.ticket_id IN (%s)",
		         who[k], ids);
		assert_int_equal(sqlf("SELECT count(*) %s", q), want);
		assert_int_equal(sqlf("SELECT count(DISTINCT d.escalation_id) %s", q), want);
		/* Receipts follow the pushes; give them a bounded moment. */
		for (int i = 0; i < 200 && sqlf("SELECT count(*) %s AND d.receipted_at IS NULL", q);
		     i++)
			pushes_pump(ws, n_ws, 10);
		assert_int_equal(sqlf("SELECT count(*) %s AND d.receipted_at IS NULL", q), 0);
	}
}

/* Each of the watcher's pushes once, in seq order, each one of its
 * principal's deliveries of the tickets. */
static void check_inbox(const struct push_watcher *w, const char *ids, int want)
{
	assert_int_equal(w->in.count, want);
	char seqs[8192];
	size_t used = 0;
	for (int i = 0; i < w->in.count; i++) {
		if (i > 0)
			assert_true(w->in.seqs[i] > w->in.seqs[i - 1]);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(w->in.keys[i], w->in.keys[j]);
		used += (size_t)snprintf(seqs + used, sizeof(seqs) - used, "%s%llu", i ? "," : "",
		                         (unsigned long long)w->in.seqs[i]);
	}
	assert_int_equal(
	    sqlf("SELECT count(*) FROM deliveries d JOIN escalations e ON e.id = d.escalation_id"
	         " JOIN principals p ON p.id = d.principal_id"
	         " WHERE p.name = '%s' AND e.ticket_id IN (%s) AND d.seq IN (%s)",
	         w->who, ids, seqs),
	    want);
}

static int setup(void **state)
{
	(void)state;
	h_init();
	h_set_time(T0);
	h_inst_start(0, CONF, h_fake_time_env());
	/* The second after the first: migrations and seeding ran once. */
	h_inst_start(1, CONF, h_fake_time_env());
	pushes_put_on_duty("engineer");
	pushes_put_on_duty("engineer2");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	int s0 = h_inst_stop(0, SIGTERM);
	int s1 = h_inst_stop(1, SIGTERM);
	return WIFEXITED(s0) && WEXITSTATUS(s0) == 0 && WIFEXITED(s1) && WEXITSTATUS(s1) == 0 ? 0
	                                                                                      : -1;
}

static const char *const both[] = {"engineer", "engineer2"};

/* 10 level-4 tickets: at 24 h the warnings at 50/75/90 % and the breach
 * of both clocks come due at once, 80 steps in 20 clock rows, claimed
 * five rows at a time by whichever scheduler gets there. */
static void each_firing_once_either_instance(void **state)
{
	(void)state;
	enum { N = 10, STEPS = N * 2 * 4 };
	const int64_t t = T0;
	h_set_time(t);
	static struct push_watcher w0, w1;
	subscribe(&w0, "engineer", 0);
	subscribe(&w1, "engineer2", 1);
	struct push_watcher *ws[] = {&w0, &w1};
	int64_t ids[N];
	char list[512];
	report_many(0, N, 4, ids, list, sizeof(list));
	int64_t before0 = fired_by(0), before1 = fired_by(1);

	h_set_time(t + DAY);
	const int want[] = {STEPS, STEPS};
	int64_t ms = wait_pushes(ws, 2, want, 10000);
	expect_exact(ws, 2, want);
	check_db(list, STEPS, both, 2, ws, 2);
	check_inbox(&w0, list, STEPS);
	check_inbox(&w1, list, STEPS);
	/* Every firing was done by one instance: the logs add up. */
	int64_t by0 = fired_by(0) - before0, by1 = fired_by(1) - before1;
	fprintf(stderr,
	        "  %d steps: instance 0 fired %lld, instance 1 fired %lld; all pushed in %lld ms\n",
	        STEPS, (long long)by0, (long long)by1, (long long)ms);
	assert_int_equal(by0 + by1, STEPS);

	pushes_cancel_all(ids, N);
	slac_client_free(w0.c);
	slac_client_free(w1.c);
}

/* 50 level-1 tickets: their 50 % response warnings (15 min of 30) come due
 * at one faked instant.  Instance 1's LISTEN connection is killed just
 * before, and again each time it is back, until all 50 have fired; every
 * notification meant for it in that time is lost.  Both subscribers still
 * get all 50, exactly once, within the delivery bound once the last one
 * is committed. */
static void listen_killed_while_50_fire(void **state)
{
	(void)state;
	const int64_t t = T0 + 3 * DAY;
	h_set_time(t);
	static struct push_watcher w0, w1;
	subscribe(&w0, "engineer", 0);
	subscribe(&w1, "engineer2", 1);
	struct push_watcher *ws[] = {&w0, &w1};
	int64_t ids[BURST];
	char list[1024];
	report_many(0, BURST, 1, ids, list, sizeof(list));
	char fired_sql[1200];
	snprintf(fired_sql, sizeof(fired_sql),
	         "SELECT count(*) FROM escalations WHERE ticket_id IN (%s)", list);
	int64_t before0 = fired_by(0), before1 = fired_by(1);

	int b = 0;
	for (int i = 0; i < 100 && (b = listen_backend(1)) == 0; i++)
		pushes_pump(ws, 2, 10);
	assert_true(b > 0);
	int kills = 0;
	int64_t start = now_ms();
	h_sql_int("SELECT 1"); /* the test's own connection is up */
	char kill_sql[128];
	snprintf(kill_sql, sizeof(kill_sql), "SELECT pg_terminate_backend(%d)::int", b);
	assert_int_equal(h_sql_int(kill_sql), 1);
	kills++;
	h_set_time(t + 15 * MINUTE);
	while (h_sql_int(fired_sql) < BURST && now_ms() - start < 10000) {
		pushes_pump(ws, 2, 5);
		if ((b = listen_backend(1)) > 0) {
			snprintf(kill_sql, sizeof(kill_sql), "SELECT pg_terminate_backend(%d)::int",
			         b);
			kills += (int)h_sql_int(kill_sql);
		}
	}
	int64_t fired_ms = now_ms() - start;
	assert_int_equal(h_sql_int(fired_sql), BURST);

	const int want[] = {BURST, BURST};
	int64_t ms = wait_pushes(ws, 2, want, DELIVERY_BOUND_MS);
	if (ms < 0) {
		dump(ws, 2);
		fail_msg("after the last firing, %d and %d of %d pushes arrived in %d ms",
		         w0.in.count, w1.in.count, BURST, DELIVERY_BOUND_MS);
	}
	expect_exact(ws, 2, want);
	check_db(list, BURST, both, 2, ws, 2);
	check_inbox(&w0, list, BURST);
	check_inbox(&w1, list, BURST);
	assert_true(h_inst_log_contains(1, "event=db_down conn=-1"));
	int64_t by0 = fired_by(0) - before0, by1 = fired_by(1) - before1;
	fprintf(stderr,
	        "  LISTEN of instance 1 killed %d times; %d fired in %lld ms (instance 0: %lld,"
	        " instance 1: %lld); all delivered %lld ms after the last firing\n",
	        kills, BURST, (long long)fired_ms, (long long)by0, (long long)by1, (long long)ms);
	assert_int_equal(by0 + by1, BURST);

	pushes_cancel_all(ids, BURST);
	slac_client_free(w0.c);
	slac_client_free(w1.c);
}

/* The same principal subscribed on both instances: the sessions see the
 * same numbers for the same pushes, each session in increasing order and
 * nothing twice, and between them every push (a receipt from either ends
 * the resending for both, PROTOCOL.md "Pushes"). */
static void same_principal_on_both(void **state)
{
	(void)state;
	enum { N = 10, STEPS = N * 2 * 4 };
	const int64_t t = T0 + 6 * DAY;
	h_set_time(t);
	static struct push_watcher a, b, c;
	subscribe(&a, "engineer", 0);
	subscribe(&b, "engineer", 1);
	subscribe(&c, "engineer2", 0); /* on duty too: its pushes are taken */
	struct push_watcher *ws[] = {&a, &b, &c};
	int64_t ids[N];
	char list[512];
	report_many(1, N, 4, ids, list, sizeof(list));
	h_set_time(t + DAY);
	char unreceipted[1024];
	snprintf(unreceipted, sizeof(unreceipted),
	         "SELECT count(*) FROM escalations e WHERE e.ticket_id IN (%s) AND NOT EXISTS"
	         " (SELECT 1 FROM deliveries d JOIN principals p ON p.id = d.principal_id"
	         "  WHERE d.escalation_id = e.id AND p.name = 'engineer'"
	         "  AND d.receipted_at IS NOT NULL)",
	         list);
	int64_t start = now_ms();
	while ((h_sql_int(unreceipted) > 0 || sqlf("SELECT count(*) FROM escalations WHERE"
	                                           " ticket_id IN (%s)",
	                                           list) < STEPS) &&
	       now_ms() - start < 10000)
		pushes_pump(ws, 3, 10);
	check_db(list, STEPS, both, 2, ws, 3);
	check_inbox(&c, list, STEPS);
	/* Each session: increasing, nothing twice. */
	for (int k = 0; k < 2; k++)
		for (int i = 1; i < ws[k]->in.count; i++)
			assert_true(ws[k]->in.seqs[i] > ws[k]->in.seqs[i - 1]);
	/* The same number means the same push in both sessions, and every
	 * delivery reached at least one of them. */
	int both_saw = 0;
	for (int i = 0; i < a.in.count; i++)
		for (int j = 0; j < b.in.count; j++)
			if (a.in.seqs[i] == b.in.seqs[j]) {
				assert_string_equal(a.in.keys[i], b.in.keys[j]);
				both_saw++;
			}
	assert_int_equal(a.in.count + b.in.count - both_saw, STEPS);
	fprintf(stderr, "  session@0 saw %d, session@1 saw %d, both %d, of %d\n", a.in.count,
	        b.in.count, both_saw, STEPS);
	pushes_cancel_all(ids, N);
	slac_client_free(a.c);
	slac_client_free(b.c);
	slac_client_free(c.c);
}

/*
 * A lost notification (issue: "LISTEN/NOTIFY as a wake-up hint plus a
 * catch-up query, so a lost notification delays nothing beyond the
 * cap"): a push committed with no NOTIFY, as when it commits while an
 * instance's LISTEN is being re-established.  The subscriber on either
 * instance must get it within the delivery bound all the same.
 */
static void lost_notification_caught_within_cap(void **state)
{
	(void)state;
	/* Once per scheduler cap every local subscriber is caught up, and
	 * after a LISTEN reconnect the catch-up waits until LISTEN is in
	 * effect: a push whose NOTIFY was lost arrives within the cap. */
	h_set_time(T0 + 9 * DAY);
	static struct push_watcher w0, w1;
	subscribe(&w0, "engineer", 0);
	subscribe(&w1, "engineer2", 1);
	struct push_watcher *ws[] = {&w0, &w1};
	/* What slad_fire_due() queues, minus its pg_notify. */
	h_sql_exec("SELECT slad_push(p.id, 'ESCALATION', NULL,"
	           " '{\"ticket_id\":0,\"clock\":\"response\",\"step\":\"warning\"}')"
	           " FROM principals p WHERE p.name IN ('engineer', 'engineer2')");
	const int want[] = {1, 1};
	int64_t ms = wait_pushes(ws, 2, want, DELIVERY_BOUND_MS);
	bool in_time = ms >= 0;
	int got0 = w0.in.count, got1 = w1.in.count;
	/* Clean up either way: a wake-up delivers them, so no backlog is
	 * left for later tests. */
	h_sql_exec("SELECT pg_notify('slad_push', string_agg(id::text, ','))"
	           " FROM principals WHERE name IN ('engineer', 'engineer2')");
	assert_true(wait_pushes(ws, 2, want, DELIVERY_BOUND_MS) >= 0);
	expect_exact(ws, 2, want);
	int64_t unreceipted = 0;
	for (int i = 0; i < 200 && (unreceipted = h_sql_int("SELECT count(*) FROM deliveries"
	                                                    " WHERE receipted_at IS NULL"
	                                                    " AND event = 'ESCALATION'")) > 0;
	     i++)
		pushes_pump(ws, 2, 10);
	assert_int_equal(unreceipted, 0);
	slac_client_free(w0.c);
	slac_client_free(w1.c);
	if (!in_time)
		fail_msg("without a notification, %d and %d of 1 push arrived in %d ms", got0, got1,
		         DELIVERY_BOUND_MS);
	fprintf(stderr, "  delivered without a notification in %lld ms\n", (long long)ms);
}

/* Restart instance 1 with a scheduler that wakes only when poked (once). */
static void quiet_instance_1(void)
{
	static bool quiet;
	if (quiet)
		return;
	assert_int_equal(h_inst_stop(1, SIGTERM), 0);
	h_inst_start(1, CONF_QUIET, h_fake_time_env());
	quiet = true;
}

/* New connections to slad's database on or off (existing ones stay).  A
 * database cannot close itself, so this speaks from `postgres`. */
static void allow_connections(bool on)
{
	char conninfo[1200], sql[256];
	snprintf(conninfo, sizeof(conninfo), "%s dbname=postgres", getenv("SLAD_TEST_CONNINFO"));
	PGconn *pg = PQconnectdb(conninfo);
	assert_int_equal(PQstatus(pg), CONNECTION_OK);
	PGresult *db = PQexec(h_db(), "SELECT quote_ident(current_database())");
	assert_int_equal(PQresultStatus(db), PGRES_TUPLES_OK);
	snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS %s", PQgetvalue(db, 0, 0),
	         on ? "true" : "false");
	PQclear(db);
	PGresult *res = PQexec(pg, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQresultErrorMessage(res));
	PQclear(res);
	PQfinish(pg);
}

/* Deterministically across: instance 1 restarted with a scheduler that
 * does not wake, so instance 0 fires every step and engineer2's pushes
 * reach it on instance 1 only through NOTIFY and the catch-up query. */
static void other_instance_fires_everything(void **state)
{
	(void)state;
	enum { N = 10, STEPS = N * 2 };
	const int64_t t = T0 + 12 * DAY;
	h_set_time(t);
	quiet_instance_1();
	static struct push_watcher w0, w1;
	subscribe(&w0, "engineer", 0);
	subscribe(&w1, "engineer2", 1);
	struct push_watcher *ws[] = {&w0, &w1};
	int64_t ids[N];
	char list[512];
	report_many(0, N, 4, ids, list, sizeof(list));
	int64_t before0 = fired_by(0), before1 = fired_by(1);
	h_set_time(t + 12 * HOUR); /* the 50 % warnings of both clocks */
	const int want[] = {STEPS, STEPS};
	int64_t ms = wait_pushes(ws, 2, want, 10000);
	expect_exact(ws, 2, want);
	check_db(list, STEPS, both, 2, ws, 2);
	check_inbox(&w0, list, STEPS);
	check_inbox(&w1, list, STEPS);
	assert_int_equal(fired_by(0) - before0, STEPS);
	assert_int_equal(fired_by(1) - before1, 0);
	fprintf(stderr, "  %d steps fired by instance 0 reached instance 1 in %lld ms\n", STEPS,
	        (long long)ms);
	pushes_cancel_all(ids, N);
	slac_client_free(w0.c);
	slac_client_free(w1.c);
}

/*
 * The LISTEN connection of instance 1 down through a whole burst, and
 * deterministically so: instance 1's scheduler does not wake by itself,
 * its LISTEN backend is killed and PostgreSQL refuses new connections to
 * the database (ALLOW_CONNECTIONS false) until instance 0 has fired all
 * 50 steps, so every announcement meant for instance 1 is lost and
 * instance 1 fires nothing itself.  engineer2 on instance 1 can then get
 * its 50 pushes only from the catch-up after the LISTEN reconnect: all of
 * them, exactly once, within the delivery bound of the database taking
 * connections again.
 */
static void listen_down_through_burst_caught_up(void **state)
{
	(void)state;
	const int64_t t = T0 + 15 * DAY;
	h_set_time(t);
	quiet_instance_1();
	static struct push_watcher w0, w1;
	subscribe(&w0, "engineer", 0);
	subscribe(&w1, "engineer2", 1);
	struct push_watcher *ws[] = {&w0, &w1};
	int64_t ids[BURST];
	char list[1024];
	report_many(0, BURST, 1, ids, list, sizeof(list));
	char fired_sql[1200];
	snprintf(fired_sql, sizeof(fired_sql),
	         "SELECT count(*) FROM escalations WHERE ticket_id IN (%s)", list);
	int64_t before0 = fired_by(0), before1 = fired_by(1);
	int b = 0;
	for (int i = 0; i < 100 && (b = listen_backend(1)) == 0; i++)
		pushes_pump(ws, 2, 10);
	assert_true(b > 0);

	allow_connections(false);
	char kill_sql[128];
	snprintf(kill_sql, sizeof(kill_sql), "SELECT pg_terminate_backend(%d)::int", b);
	int64_t killed = h_sql_int(kill_sql);
	h_set_time(t + 15 * MINUTE);
	int64_t start = now_ms();
	while (h_sql_int(fired_sql) < BURST && now_ms() - start < 10000)
		pushes_pump(ws, 2, 10);
	/* Three caps more: whatever would reach instance 1 without its
	 * LISTEN has had its chance. */
	for (int64_t until = now_ms() + 3 * CAP_MS; now_ms() < until;)
		pushes_pump(ws, 2, 10);
	int64_t n_fired = h_sql_int(fired_sql);
	int still_down = listen_backend(1) == 0;
	int early = w1.in.count;
	allow_connections(true);
	assert_int_equal(killed, 1);
	assert_int_equal(n_fired, BURST);
	assert_true(still_down);

	const int want[] = {BURST, BURST};
	int64_t ms = wait_pushes(ws, 2, want, DELIVERY_BOUND_MS);
	if (ms < 0) {
		dump(ws, 2);
		fail_msg("after LISTEN could reconnect, %d and %d of %d pushes arrived in %d ms",
		         w0.in.count, w1.in.count, BURST, DELIVERY_BOUND_MS);
	}
	expect_exact(ws, 2, want);
	check_db(list, BURST, both, 2, ws, 2);
	check_inbox(&w0, list, BURST);
	check_inbox(&w1, list, BURST);
	assert_int_equal(fired_by(0) - before0, BURST);
	assert_int_equal(fired_by(1) - before1, 0);
	fprintf(stderr,
	        "  instance 0 fired %d with instance 1's LISTEN down; instance 1's subscriber had"
	        " %d of them before the reconnect and all %d within %lld ms after\n",
	        BURST, early, BURST, (long long)ms);
	pushes_cancel_all(ids, BURST);
	slac_client_free(w0.c);
	slac_client_free(w1.c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(each_firing_once_either_instance),
	    cmocka_unit_test(listen_killed_while_50_fire),
	    cmocka_unit_test(same_principal_on_both),
	    cmocka_unit_test(lost_notification_caught_within_cap),
	    cmocka_unit_test(other_instance_fires_everything),
	    cmocka_unit_test(listen_down_through_burst_caught_up),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
