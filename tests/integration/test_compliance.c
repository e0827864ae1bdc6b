/*
 * test_compliance.c - COMPLIANCE end to end (issue 6, "Compliance
 * reports"): tickets driven through slad with slad's wall clock moved by
 * libfaketime (h_set_time), then the report checked against figures
 * computed by hand from the events sent.  The default policy (libsla's
 * sla_policy_default) is in force: level 1 responds in 30 min, is on site
 * in 4 h and restores in 8 h; level 2 in 2 h, 8 h and 24 h.
 */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "harness.h"

#define HOUR   ((int64_t)3600)
#define MINUTE ((int64_t)60)

static struct slac_client *hotline, *admin, *engineer;

/* ---- small helpers ---- */

/* ERR `code` whose message names `needle` (a field, an id). */
static void call_err(struct slac_client *c, const char *verb, const char *code, const char *needle,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void call_err(struct slac_client *c, const char *verb, const char *code, const char *needle,
                     const char *fmt, ...)
{
	char body[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	struct slac_answer ans;
	enum slac_status st = h_call(c, verb, body, &ans);
	if (st != SLAC_ERR_SERVER)
		fail_msg("%s %s: expected ERR %s, got %s", verb, body, code, slac_status_name(st));
	if (strcmp(proto_err_name(ans.err.code), code) != 0 ||
	    (needle != NULL && strstr(ans.err.message, needle) == NULL))
		fail_msg("%s %s: expected ERR %s naming '%s', got %s %s", verb, body, code,
		         needle ? needle : "", proto_err_name(ans.err.code), ans.err.message);
	slac_answer_clear(&ans);
}

static int64_t add_customer(const char *name, const char *zone)
{
	json_object *a =
	    h_okf(admin, "CUSTOMER_ADD",
	          "{\"request_id\":\"%s\",\"name\":\"%s\",\"phone\":\"+86 10 5555 %04d\","
	          "\"timezone\":\"%s\",\"team\":\"north\",\"region\":\"east\"}",
	          h_request_id(), name, (int)(strlen(name) * 41 % 10000), zone);
	int64_t id = h_jint(a, "customer_id");
	json_object_put(a);
	return id;
}

static int64_t add_contract(int64_t customer, const char *accepted, int months)
{
	json_object *a =
	    h_okf(admin, "CONTRACT_ADD",
	          "{\"request_id\":\"%s\",\"customer_id\":%lld,\"accepted_date\":\"%s\","
	          "\"free_months\":%d}",
	          h_request_id(), (long long)customer, accepted, months);
	int64_t id = h_jint(a, "contract_id");
	json_object_put(a);
	return id;
}

/* A fault of `level` reported at `at`; interrupted: an outage starts. */
static int64_t report(int64_t customer, int level, bool interrupted, int64_t at)
{
	h_set_time(at);
	json_object *a = h_okf(hotline, "REPORT",
	                       "{\"request_id\":\"%s\",\"customer_id\":%lld,\"symptoms\":\"line "
	                       "%d down\",\"contact_name\":\"Wang Fang\",\"contact_phone\":\"138\","
	                       "\"level\":%d%s}",
	                       h_request_id(), (long long)customer, level, level,
	                       interrupted ? ",\"impact\":\"interrupted\"" : "");
	assert_int_equal(h_jint(a, "level"), level);
	int64_t id = h_jint(a, "ticket_id");
	json_object_put(a);
	return id;
}

static void act(const char *verb, int64_t id, int64_t at, const char *more)
{
	h_set_time(at);
	json_object_put(h_okf(admin, verb, "{\"ticket_id\":%lld%s%s}", (long long)id,
	                      more ? "," : "", more ? more : ""));
}

static void dispatch(int64_t id, int64_t at)
{
	act("DISPATCH", id, at,
	    "\"remote_outcome\":\"failed\",\"agreed_by\":\"Wang Fang\",\"engineer\":\"engineer\"");
}

/* COMPLIANCE's rows for `body` at instant `now`. */
static json_object *compliance(int64_t now, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static json_object *compliance(int64_t now, const char *fmt, ...)
{
	char body[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	h_set_time(now);
	json_object *a = h_ok(admin, "COMPLIANCE", body);
	json_object *rows = json_object_get(h_jget(a, "rows"));
	json_object_put(a);
	return rows;
}

static json_object *row(json_object *rows, size_t i)
{
	if (i >= json_object_array_length(rows))
		fail_msg("no row %zu in %s", i, json_object_to_json_string(rows));
	return json_object_array_get_idx(rows, i);
}

static void assert_minutes(json_object *clock, const char *key, int64_t minutes)
{
	json_object *v = h_jget(clock, key);
	if (minutes < 0) {
		if (v != NULL)
			fail_msg("%s: %s, expected null", key, json_object_to_json_string(v));
		return;
	}
	if (v == NULL || !json_object_is_type(v, json_type_int))
		fail_msg("%s: %s, expected %lld", key, v ? json_object_to_json_string(v) : "null",
		         (long long)minutes);
	assert_int_equal(json_object_get_int64(v), minutes);
}

/* One clock of a row: met, breached, median and p90 minutes (-1: null). */
static void assert_clock(json_object *r, const char *clock, int64_t met, int64_t breached,
                         int64_t median, int64_t p90)
{
	json_object *c = h_jget(r, clock);
	if (h_jint(c, "met") != met || h_jint(c, "breached") != breached)
		fail_msg("%s: %s, expected met %lld breached %lld", clock,
		         json_object_to_json_string(c), (long long)met, (long long)breached);
	assert_minutes(c, "median_minutes", median);
	assert_minutes(c, "p90_minutes", p90);
}

static void assert_row(json_object *r, int64_t customer, const char *month, int level,
                       int64_t tickets)
{
	if (h_jint(r, "customer_id") != customer || strcmp(h_jstr(r, "month"), month) != 0 ||
	    h_jint(r, "level") != level || h_jint(r, "tickets") != tickets)
		fail_msg("row %s, expected customer %lld month %s level %d tickets %lld",
		         json_object_to_json_string(r), (long long)customer, month, level,
		         (long long)tickets);
}

static void assert_downtime(json_object *r, const char *text, int64_t days)
{
	json_object *v = h_jget(r, "downtime_hours");
	/* one decimal, as written on the wire */
	if (strcmp(json_object_to_json_string(v), text) != 0)
		fail_msg("downtime_hours %s, expected %s", json_object_to_json_string(v), text);
	assert_int_equal(h_jint(r, "extension_days"), days);
}

/* ---- the known answer ---- */

/* A customer whose contract was accepted before March; a level-1 fault
 * reported in March, service down 30 hours, software quality: WARRANTY
 * grants 2 days (S9: each started 24 h) and the March row says so, with
 * the clocks as they ran: acknowledged after 12 min (met, 30 min window),
 * on site after 200 min (met, 4 h), restored after 30 h (breached, 8 h). */
static void thirty_hours_in_march(void **state)
{
	(void)state;
	int64_t cust = add_customer("Riverside Works", "Asia/Shanghai");
	int64_t k = add_contract(cust, "2026-06-01", 24);
	int64_t t0 = h_utc(2027, 3, 10, 1, 0); /* 09:00 in Shanghai */
	int64_t id = report(cust, 1, true, t0);
	act("ACKNOWLEDGE", id, t0 + 12 * MINUTE, NULL);
	dispatch(id, t0 + 30 * MINUTE);
	act("ARRIVE", id, t0 + 200 * MINUTE, NULL);
	act("RESTORE", id, t0 + 30 * HOUR, "\"cause\":\"software_quality\"");

	h_set_time(t0 + 31 * HOUR);
	json_object *w = h_okf(admin, "WARRANTY", "{\"contract_id\":%lld}", (long long)k);
	assert_int_equal(h_jint(w, "extension_days"), 2);
	json_object_put(w);

	json_object *rows = compliance(t0 + 31 * HOUR,
	                               "{\"customer_id\":%lld,\"from_month\":\"2027-03\","
	                               "\"to_month\":\"2027-03\"}",
	                               (long long)cust);
	assert_int_equal(json_object_array_length(rows), 1);
	json_object *r = row(rows, 0);
	assert_row(r, cust, "2027-03", 1, 1);
	assert_string_equal(h_jstr(r, "customer_name"), "Riverside Works");
	assert_clock(r, "response", 1, 0, 12, 12);
	assert_clock(r, "onsite", 1, 0, 200, 200);
	assert_clock(r, "restore", 0, 1, 1800, 1800);
	assert_downtime(r, "30.0", 2);
	json_object_put(rows);

	/* SHOW tells the same story per clock. */
	json_object *a =
	    h_okf(admin, "SHOW", "{\"ticket_id\":%lld,\"history\":false}", (long long)id);
	json_object *clocks = h_jget(h_jget(a, "ticket"), "clocks");
	const char *want[] = {"met", "met", "breached"};
	for (size_t i = 0; i < json_object_array_length(clocks) && i < 3; i++)
		assert_string_equal(h_jstr(json_object_array_get_idx(clocks, i), "state"), want[i]);
	json_object_put(a);

	/* Another month, or no month filter at all: the same row or none. */
	rows = compliance(t0 + 31 * HOUR, "{\"customer_id\":%lld,\"from_month\":\"2027-04\"}",
	                  (long long)cust);
	assert_int_equal(json_object_array_length(rows), 0);
	json_object_put(rows);
	rows = compliance(t0 + 31 * HOUR, "{\"customer_id\":%lld}", (long long)cust);
	assert_int_equal(json_object_array_length(rows), 1);
	assert_row(row(rows, 0), cust, "2027-03", 1, 1);
	json_object_put(rows);
}

/* ---- clocks ---- */

/* A met and a breached response in one group: of two times the median is
 * the smaller, p90 the larger (nearest rank).  A third ticket, still
 * within its windows, counts as a ticket but in no clock; nobody went on
 * site, so the on-site clock counts in neither. */
static void met_and_breached_in_one_group(void **state)
{
	(void)state;
	int64_t cust = add_customer("Hillside Dairy", "Asia/Shanghai");
	int64_t t0 = h_utc(2027, 5, 10, 2, 0);
	int64_t a = report(cust, 2, false, t0);
	int64_t b = report(cust, 2, false, t0 + 10 * MINUTE);
	act("ACKNOWLEDGE", a, t0 + 20 * MINUTE, NULL);              /* 20 min: met */
	act("ACKNOWLEDGE", b, t0 + 10 * MINUTE + 3 * HOUR, NULL);   /* 180 min: breached */
	act("RESTORE", a, t0 + 5 * HOUR, "\"cause\":\"customer\""); /* 300 min: met */
	int64_t c = report(cust, 2, false, t0 + 6 * HOUR);
	(void)c;

	json_object *rows = compliance(t0 + 6 * HOUR + 30 * MINUTE,
	                               "{\"customer_id\":%lld,\"from_month\":\"2027-05\","
	                               "\"to_month\":\"2027-05\",\"level\":2}",
	                               (long long)cust);
	assert_int_equal(json_object_array_length(rows), 1);
	json_object *r = row(rows, 0);
	assert_row(r, cust, "2027-05", 2, 3);
	assert_clock(r, "response", 1, 1, 20, 180);
	assert_clock(r, "onsite", 0, 0, -1, -1);
	assert_clock(r, "restore", 1, 0, 300, 300);
	assert_downtime(r, "0.0", 0);
	json_object_put(rows);

	/* Later b's restore has run past its 24 h: breached, no time; c is
	 * unacknowledged past its 2 h: breached, no time; its restore (23 h)
	 * is not late yet. */
	rows = compliance(t0 + 29 * HOUR, "{\"customer_id\":%lld,\"from_month\":\"2027-05\"}",
	                  (long long)cust);
	r = row(rows, 0);
	assert_clock(r, "response", 1, 2, 20, 180);
	assert_clock(r, "restore", 1, 1, 300, 300);
	json_object_put(rows);
}

/* S5: waiting for the customer is left out of the time.  Acknowledged 80
 * min after the report, 60 of them paused: 20 min, met. */
static void paused_span_left_out(void **state)
{
	(void)state;
	int64_t cust = add_customer("Lakeside Hotel", "Asia/Shanghai");
	int64_t t0 = h_utc(2027, 6, 3, 1, 0);
	int64_t id = report(cust, 1, false, t0);
	act("PAUSE", id, t0 + 5 * MINUTE, "\"reason\":\"customer away until 10:05\"");
	act("RESUME", id, t0 + 65 * MINUTE, "\"reason\":\"customer back\"");
	act("ACKNOWLEDGE", id, t0 + 80 * MINUTE, NULL);
	json_object *rows = compliance(t0 + 2 * HOUR, "{\"customer_id\":%lld}", (long long)cust);
	assert_int_equal(json_object_array_length(rows), 1);
	json_object *r = row(rows, 0);
	assert_row(r, cust, "2027-06", 1, 1);
	assert_clock(r, "response", 1, 0, 20, 20);
	json_object_put(rows);
}

/* ---- months, downtime, order and filters ---- */

/* 2027-03-31T17:00Z is April 1st, 01:00 in Shanghai and still March 31st
 * in London: the month is the customer's. */
static void month_in_the_customers_zone(void **state)
{
	(void)state;
	int64_t sh = add_customer("Pearl Tower", "Asia/Shanghai");
	int64_t ldn = add_customer("Thames Works", "Europe/London");
	int64_t at = h_utc(2027, 3, 31, 17, 0);
	report(sh, 3, false, at);
	report(ldn, 3, false, at);
	json_object *rows = compliance(at + HOUR, "{\"customer_id\":%lld}", (long long)sh);
	assert_int_equal(json_object_array_length(rows), 1);
	assert_row(row(rows, 0), sh, "2027-04", 3, 1);
	json_object_put(rows);
	rows =
	    compliance(at + HOUR, "{\"customer_id\":%lld,\"to_month\":\"2027-03\"}", (long long)sh);
	assert_int_equal(json_object_array_length(rows), 0);
	json_object_put(rows);
	rows = compliance(at + HOUR, "{\"customer_id\":%lld,\"from_month\":\"2027-04\"}",
	                  (long long)sh);
	assert_int_equal(json_object_array_length(rows), 1);
	json_object_put(rows);
	rows = compliance(at + HOUR, "{\"customer_id\":%lld}", (long long)ldn);
	assert_int_equal(json_object_array_length(rows), 1);
	assert_row(row(rows, 0), ldn, "2027-03", 3, 1);
	json_object_put(rows);
	rows = compliance(
	    at + HOUR, "{\"customer_id\":%lld,\"from_month\":\"2027-04\",\"to_month\":\"2027-04\"}",
	    (long long)ldn);
	assert_int_equal(json_object_array_length(rows), 0);
	json_object_put(rows);
}

/* Rows by customer, month, level; the level and customer filters; a
 * cancelled ticket is not counted; an outage still going on counts up to
 * now; a customer-caused outage extends nothing. */
static void order_filters_and_downtime(void **state)
{
	(void)state;
	int64_t first = add_customer("August One", "Asia/Shanghai");
	int64_t second = add_customer("August Two", "Asia/Shanghai");
	add_contract(second, "2027-01-01", 12);
	int64_t t0 = h_utc(2027, 8, 5, 2, 0);
	/* second: September level 3, August level 4 and level 1 */
	report(second, 3, false, h_utc(2027, 9, 2, 2, 0));
	report(second, 4, false, t0);
	int64_t down = report(second, 1, true, t0 + HOUR);
	int64_t gone = report(second, 1, true, t0 + 2 * HOUR);
	act("CANCEL", gone, t0 + 3 * HOUR, "\"reason\":\"reported twice\"");
	int64_t mine = report(second, 1, true, t0 + 4 * HOUR);
	act("RESTORE", mine, t0 + 11 * HOUR + 30 * MINUTE, "\"cause\":\"customer\"");
	/* first: August level 2 */
	report(first, 2, false, t0 + 5 * HOUR);

	/* All customers, August to September; `down` is still down at the
	 * report's now (t0 + 26 h): 25 h, plus `mine` 7.5 h. */
	int64_t now = h_utc(2027, 9, 3, 4, 0);
	json_object *rows =
	    compliance(now, "{\"from_month\":\"2027-08\",\"to_month\":\"2027-09\"}");
	size_t n = json_object_array_length(rows);
	assert_int_equal(n, 4);
	assert_row(row(rows, 0), first, "2027-08", 2, 1);
	assert_row(row(rows, 1), second, "2027-08", 1, 2); /* the cancelled one left out */
	assert_row(row(rows, 2), second, "2027-08", 4, 1);
	assert_row(row(rows, 3), second, "2027-09", 3, 1);
	/* now - (t0 + 1 h) is 697 h; `mine` 7.5 h; no vendor cause: no days */
	assert_downtime(row(rows, 1), "704.5", 0);
	assert_downtime(row(rows, 2), "0.0", 0);
	assert_string_equal(h_jstr(row(rows, 0), "customer_name"), "August One");
	json_object_put(rows);
	(void)down;

	rows = compliance(now, "{\"from_month\":\"2027-08\",\"to_month\":\"2027-09\",\"level\":1}");
	assert_int_equal(json_object_array_length(rows), 1);
	assert_row(row(rows, 0), second, "2027-08", 1, 2);
	json_object_put(rows);
	rows = compliance(now, "{\"customer_id\":%lld,\"level\":4}", (long long)second);
	assert_int_equal(json_object_array_length(rows), 1);
	assert_row(row(rows, 0), second, "2027-08", 4, 1);
	json_object_put(rows);
	rows = compliance(now, "{\"customer_id\":%lld,\"level\":1}", (long long)first);
	assert_int_equal(json_object_array_length(rows), 0);
	json_object_put(rows);
	/* A customer without tickets: no rows, not an error. */
	int64_t quiet = add_customer("Quiet Customer", "Asia/Shanghai");
	rows = compliance(now, "{\"customer_id\":%lld}", (long long)quiet);
	assert_int_equal(json_object_array_length(rows), 0);
	json_object_put(rows);
}

/* A customer with more tickets than one statement reads (the daemon reads
 * 500 at a time): 1000 tickets, an exact multiple, are all counted once,
 * and the times of every page meet in one median.  Every third ticket is
 * acknowledged, after 1..334 minutes in turn (level 4: 24 h, all met). */
static void many_pages(void **state)
{
	(void)state;
	int64_t cust = add_customer("Harbour Logistics", "Asia/Shanghai");
	int64_t t0 = h_utc(2027, 10, 4, 1, 0);
	size_t acked = 0;
	for (int i = 0; i < 1000; i++) {
		int64_t id = report(cust, 4, false, t0 + i * MINUTE);
		if (i % 3 == 0) {
			acked++;
			act("ACKNOWLEDGE", id, t0 + i * MINUTE + (int64_t)acked * MINUTE, NULL);
		}
	}
	assert_int_equal(acked, 334);
	json_object *rows = compliance(t0 + 23 * HOUR, "{\"customer_id\":%lld}", (long long)cust);
	assert_int_equal(json_object_array_length(rows), 1);
	json_object *r = row(rows, 0);
	assert_row(r, cust, "2027-10", 4, 1000);
	/* 334 times of 1..334 min: rank ceil(167) = 167, rank ceil(300.6) = 301. */
	assert_clock(r, "response", 334, 0, 167, 301);
	assert_clock(r, "restore", 0, 0, -1, -1);
	json_object_put(rows);
}

/* ---- slactl ---- */

/* slactl's output for `args` (run through the shell), in buf. */
static void slactl_run(const char *args, char *buf, size_t len)
{
	const char *bin = getenv("SLAD_TEST_BIN"), *certs = getenv("SLAD_TEST_CERTS");
	char slactl[1024], cmd[4096];
	/* built beside slad: BUILD/daemon/slad, BUILD/proto/slactl */
	snprintf(slactl, sizeof(slactl), "%s", bin ? bin : "");
	char *cut = strstr(slactl, "/daemon/slad");
	if (cut == NULL || certs == NULL)
		skip();
	snprintf(cut, sizeof(slactl) - (size_t)(cut - slactl), "/proto/slactl");
	snprintf(cmd, sizeof(cmd),
	         "'%s' --host 127.0.0.1 --port %s --cert '%s/admin.crt' --key '%s/admin.key' "
	         "--ca '%s/ca.crt' --server-name localhost %s 2>/dev/null",
	         slactl, h_port(), certs, certs, certs, args);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(buf, 1, len - 1, p);
	buf[n] = '\0';
	assert_int_equal(pclose(p), 0);
}

/* `slactl compliance --csv`: a header, one CRLF line per row, nested
 * clocks flattened, RFC 4180 quoting; the table shows the same row. */
static void slactl_csv_and_table(void **state)
{
	(void)state;
	int64_t cust = add_customer("Quay \\\"North\\\", Ltd.", "Asia/Shanghai");
	int64_t t0 = h_utc(2027, 11, 8, 1, 0);
	int64_t id = report(cust, 1, true, t0);
	act("ACKNOWLEDGE", id, t0 + 12 * MINUTE, NULL);
	act("RESTORE", id, t0 + 3 * HOUR, "\"cause\":\"vendor_service\"");
	h_set_time(t0 + 4 * HOUR);
	char args[128], out[8192], want[2048];
	snprintf(args, sizeof(args), "compliance --customer-id %lld --csv", (long long)cust);
	slactl_run(args, out, sizeof(out));
	snprintf(
	    want, sizeof(want),
	    "customer_id,customer_name,level,month,tickets,response_met,response_breached,"
	    "response_median_minutes,response_p90_minutes,onsite_met,onsite_breached,"
	    "onsite_median_minutes,onsite_p90_minutes,restore_met,restore_breached,"
	    "restore_median_minutes,restore_p90_minutes,downtime_hours,extension_days\r\n"
	    "%lld,\"Quay \"\"North\"\", Ltd.\",1,2027-11,1,1,0,12,12,0,0,,,1,0,180,180,3.0,0\r\n",
	    (long long)cust);
	assert_string_equal(out, want);
	snprintf(args, sizeof(args), "compliance --customer-id %lld", (long long)cust);
	slactl_run(args, out, sizeof(out));
	if (strstr(out, "RESPONSE") == NULL || strstr(out, "1/0/12/12") == NULL ||
	    strstr(out, "1/0/180/180") == NULL || strstr(out, "(1 row)") == NULL ||
	    strstr(out, "RESPONSE: met/breached/median_minutes/p90_minutes") == NULL)
		fail_msg("table:\n%s", out);
}

/* ---- bad input ---- */

static void bad_input(void **state)
{
	(void)state;
	static const char *const months[] = {"2027-3",     "2027-13", "2027-00", "0000-01",
	                                     "2027-03-01", "March",   "2027/03"};
	for (size_t i = 0; i < sizeof(months) / sizeof(months[0]); i++) {
		call_err(admin, "COMPLIANCE", "INVALID_FIELD", "from_month",
		         "{\"from_month\":\"%s\"}", months[i]);
		call_err(admin, "COMPLIANCE", "INVALID_FIELD", "to_month", "{\"to_month\":\"%s\"}",
		         months[i]);
	}
	call_err(admin, "COMPLIANCE", "INVALID_FIELD", "from_month", "{\"from_month\":202703}");
	call_err(admin, "COMPLIANCE", "INVALID_FIELD", "to_month",
	         "{\"from_month\":\"2027-04\",\"to_month\":\"2027-03\"}");
	call_err(admin, "COMPLIANCE", "INVALID_FIELD", "to_month",
	         "{\"from_month\":\"2028-01\",\"to_month\":\"2027-12\"}");
	call_err(admin, "COMPLIANCE", "INVALID_FIELD", "level", "{\"level\":0}");
	call_err(admin, "COMPLIANCE", "INVALID_FIELD", "level", "{\"level\":5}");
	call_err(admin, "COMPLIANCE", "INVALID_FIELD", "level", "{\"level\":\"1\"}");
	call_err(admin, "COMPLIANCE", "INVALID_FIELD", "level", "{\"level\":1.0}");
	call_err(admin, "COMPLIANCE", "INVALID_FIELD", "customer_id", "{\"customer_id\":0}");
	call_err(admin, "COMPLIANCE", "INVALID_FIELD", "customer_id", "{\"customer_id\":\"7\"}");
	call_err(admin, "COMPLIANCE", "INVALID_FIELD", "month", "{\"month\":\"2027-03\"}");
	call_err(admin, "COMPLIANCE", "NOT_FOUND", "999999", "{\"customer_id\":999999}");
	call_err(admin, "COMPLIANCE", "NOT_FOUND", "999999",
	         "{\"customer_id\":999999,\"from_month\":\"2027-01\"}");
	/* Administrators only (test_roles checks every role and the audit
	 * row of each refusal). */
	call_err(hotline, "COMPLIANCE", "FORBIDDEN", NULL, "{}");
	call_err(engineer, "COMPLIANCE", "FORBIDDEN", NULL, "{}");
	/* The boundaries of the calendar are months like any other. */
	json_object *rows = compliance(h_utc(2027, 9, 10, 0, 0),
	                               "{\"from_month\":\"0001-01\",\"to_month\":\"9999-12\"}");
	assert_true(json_object_array_length(rows) >= 8);
	json_object_put(rows);
	/* Reading changes nothing: the report wrote no row.  (The scheduler
	 * may be firing the steps the moved clock made due meanwhile: its
	 * 'escalated' events are not the report's.) */
	static const char count_sql[] =
	    "SELECT count(*) FROM ticket_events WHERE kind <> 'escalated'";
	int64_t events = h_sql_int(count_sql);
	json_object_put(compliance(h_utc(2027, 9, 10, 0, 0), "{}"));
	assert_int_equal(h_sql_int(count_sql), events);
}

static int setup(void **state)
{
	(void)state;
	h_init();
	h_set_time(h_utc(2027, 1, 4, 0, 0));
	h_slad_start(NULL, h_fake_time_env());
	hotline = h_must_connect("hotline");
	admin = h_must_connect("admin");
	engineer = h_must_connect("engineer");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	slac_client_free(hotline);
	slac_client_free(admin);
	slac_client_free(engineer);
	int status = h_slad_stop(SIGTERM);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(thirty_hours_in_march),
	    cmocka_unit_test(met_and_breached_in_one_group),
	    cmocka_unit_test(paused_span_left_out),
	    cmocka_unit_test(month_in_the_customers_zone),
	    cmocka_unit_test(order_filters_and_downtime),
	    cmocka_unit_test(many_pages),
	    cmocka_unit_test(slactl_csv_and_table),
	    cmocka_unit_test(bad_input),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
