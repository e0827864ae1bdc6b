/*
 * test_records.c - the after-sales records end to end (issue 6, first
 * part): the customer archive (S12), contracts and the hotline-contact
 * notice (S7, S8), equipment (S13), the warranty ledger with its downtime
 * extensions and revisions (S8-S10), charges (S16) and feedback (S14,
 * S15).  slad's wall clock is moved with libfaketime (h_set_time), so
 * outages last exactly as long as the known answers say; PostgreSQL keeps
 * its own clock, which nothing here depends on.
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
#include <time.h>

#include <cmocka.h>

#include "harness.h"

#define HOUR   ((int64_t)3600)
#define MINUTE ((int64_t)60)

static struct slac_client *hotline, *admin, *monitor, *engineer2;

/* ---- small helpers ---- */

static bool jbool(json_object *o, const char *key)
{
	return json_object_get_boolean(h_jget(o, key));
}

static int64_t add_customer(const char *name, const char *zone)
{
	json_object *a =
	    h_okf(admin, "CUSTOMER_ADD",
	          "{\"request_id\":\"%s\",\"name\":\"%s\",\"phone\":\"+86 10 5555 %04d\","
	          "\"timezone\":\"%s\",\"team\":\"north\",\"region\":\"east\"}",
	          h_request_id(), name, (int)(strlen(name) * 37 % 10000), zone);
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

/* A fault with service interrupted, reported at `at` (S9: the outage
 * starts then). */
static int64_t report_outage(int64_t customer, const char *symptoms, int64_t at)
{
	h_set_time(at);
	json_object *a = h_okf(hotline, "REPORT",
	                       "{\"request_id\":\"%s\",\"customer_id\":%lld,\"symptoms\":\"%s\","
	                       "\"contact_name\":\"Wang Fang\",\"contact_phone\":\"138\","
	                       "\"impact\":\"interrupted\",\"level\":1}",
	                       h_request_id(), (long long)customer, symptoms);
	int64_t id = h_jint(a, "ticket_id");
	json_object_put(a);
	return id;
}

static int64_t report_type(int64_t customer, const char *type, int64_t at)
{
	h_set_time(at);
	json_object *a = h_okf(hotline, "REPORT",
	                       "{\"request_id\":\"%s\",\"customer_id\":%lld,\"type\":\"%s\","
	                       "\"symptoms\":\"%s request\",\"contact_name\":\"Zhao\","
	                       "\"contact_phone\":\"139\"}",
	                       h_request_id(), (long long)customer, type, type);
	int64_t id = h_jint(a, "ticket_id");
	json_object_put(a);
	return id;
}

static json_object *ticket_verb(const char *verb, int64_t id, int64_t at, const char *more)
{
	h_set_time(at);
	return h_okf(admin, verb, "{\"ticket_id\":%lld%s%s}", (long long)id, more ? "," : "",
	             more ? more : "");
}

static void restore(int64_t id, int64_t at, const char *cause)
{
	char more[64];
	snprintf(more, sizeof(more), "\"cause\":\"%s\"", cause);
	json_object_put(ticket_verb("RESTORE", id, at, more));
}

static json_object *warranty(int64_t contract, const char *on_date)
{
	if (on_date == NULL)
		return h_okf(admin, "WARRANTY", "{\"contract_id\":%lld}", (long long)contract);
	return h_okf(admin, "WARRANTY", "{\"contract_id\":%lld,\"on_date\":\"%s\"}",
	             (long long)contract, on_date);
}

static json_object *charge_of(int64_t ticket)
{
	json_object *a =
	    h_okf(hotline, "SHOW", "{\"ticket_id\":%lld,\"history\":false}", (long long)ticket);
	json_object *charge = json_object_get(h_jget(h_jget(a, "ticket"), "charge"));
	json_object_put(a);
	return charge;
}

static json_object *extension(json_object *w, size_t i)
{
	json_object *ext = h_jget(w, "extensions");
	assert_true(i < json_object_array_length(ext));
	return json_object_array_get_idx(ext, i);
}

static void assert_hours(json_object *line, double hours)
{
	double got = json_object_get_double(h_jget(line, "hours"));
	if (fabs(got - hours) > 1e-6)
		fail_msg("hours %.6f, expected %.6f", got, hours);
}

/* ---- the archive (S12, S13) ---- */

static void archive_and_equipment(void **state)
{
	(void)state;
	h_set_time(h_utc(2027, 1, 4, 2, 0));
	const char *add = "{\"request_id\":\"cust-acme\",\"name\":\"Acme Water\","
	                  "\"phone\":\"+86 10 5555 0100\",\"address\":\"1 River Road, Beijing\","
	                  "\"region\":\"north\",\"team\":\"north\",\"tracking_agent\":\"engineer\","
	                  "\"contacts\":[{\"name\":\"Wang Fang\",\"phone\":\"+86 10 5555 0101\","
	                  "\"role\":\"operations\"}],\"sites\":[{\"name\":\"Pump station 3\","
	                  "\"address\":\"3 River Road\"}],\"maintenance_cycle_months\":3,"
	                  "\"next_maintenance_date\":\"2027-04-15\","
	                  "\"wanted_service\":\"quarterly inspection and 24h hotline\"}";
	json_object *a = h_ok(admin, "CUSTOMER_ADD", add);
	int64_t id = h_jint(a, "customer_id");
	/* S12: everything but the equipment. */
	assert_false(jbool(a, "archive_complete"));
	json_object_put(a);
	/* A replay answers the first answer; another body under the id is refused. */
	a = h_ok(admin, "CUSTOMER_ADD", add);
	assert_int_equal(h_jint(a, "customer_id"), id);
	json_object_put(a);
	h_errf(admin, "CUSTOMER_ADD", "IDEMPOTENCY_MISMATCH",
	       "{\"request_id\":\"cust-acme\",\"name\":\"Other\",\"phone\":\"1\"}");
	h_errf(admin, "CUSTOMER_ADD", "INVALID_FIELD",
	       "{\"request_id\":\"c-tz\",\"name\":\"X\",\"phone\":\"1\",\"timezone\":\"Mars/"
	       "Olympus\"}");
	h_errf(admin, "CUSTOMER_ADD", "INVALID_FIELD",
	       "{\"request_id\":\"c-ct\",\"name\":\"X\",\"phone\":\"1\",\"contacts\":[{\"age\":"
	       "\"3\"}]}");
	h_errf(admin, "CUSTOMER_ADD", "INVALID_FIELD",
	       "{\"request_id\":\"c-ct2\",\"name\":\"X\",\"phone\":\"1\",\"contacts\":[\"Li\"]}");
	h_errf(admin, "CUSTOMER_ADD", "INVALID_FIELD",
	       "{\"request_id\":\"c-st\",\"name\":\"X\",\"phone\":\"1\","
	       "\"sites\":[{\"address\":\"no name\"}]}");
	h_errf(admin, "CUSTOMER_ADD", "INVALID_FIELD",
	       "{\"request_id\":\"c-st2\",\"name\":\"X\",\"phone\":\"1\","
	       "\"sites\":[{\"name\":\"\"}]}");
	h_errf(admin, "CUSTOMER_ADD", "NOT_FOUND",
	       "{\"request_id\":\"c-ag\",\"name\":\"X\",\"phone\":\"1\",\"tracking_agent\":"
	       "\"nobody\"}");
	assert_int_equal(h_sql_int("SELECT count(*) FROM customers WHERE name = 'X'"), 0);

	/* S13: equipment completes the archive. */
	h_errf(admin, "EQUIPMENT_ADD", "NOT_FOUND",
	       "{\"request_id\":\"eq-0\",\"equipment_no\":\"PS-0\",\"customer_id\":999999,"
	       "\"model\":\"PLC-200\"}");
	a = h_okf(admin, "EQUIPMENT_ADD",
	          "{\"request_id\":\"eq-1\",\"equipment_no\":\"PS-3-CTRL\",\"customer_id\":%lld,"
	          "\"model\":\"PLC-200\",\"quantity\":2,\"purpose\":\"pump station 3 control\","
	          "\"manufacture_date\":\"2023-06-01\",\"purchase_date\":\"2023-09-15\","
	          "\"site\":\"Pump station 3\"}",
	          (long long)id);
	assert_string_equal(h_jstr(a, "equipment_no"), "PS-3-CTRL");
	json_object_put(a);
	h_errf(admin, "EQUIPMENT_ADD", "CONFLICT",
	       "{\"request_id\":\"eq-2\",\"equipment_no\":\"PS-3-CTRL\",\"customer_id\":%lld,"
	       "\"model\":\"PLC-300\"}",
	       (long long)id);
	/* The refused id stored nothing: fixed, it goes through. */
	a = h_okf(admin, "EQUIPMENT_ADD",
	          "{\"request_id\":\"eq-2\",\"equipment_no\":\"PS-4-CTRL\",\"customer_id\":%lld,"
	          "\"model\":\"PLC-300\"}",
	          (long long)id);
	json_object_put(a);
	a = h_okf(admin, "EQUIPMENT_UPDATE",
	          "{\"equipment_no\":\"PS-3-CTRL\",\"site\":\"Pump station 3, cabinet B\"}");
	json_object_put(a);
	h_errf(admin, "EQUIPMENT_UPDATE", "NOT_FOUND",
	       "{\"equipment_no\":\"nope\",\"site\":\"x\"}");
	h_errf(admin, "EQUIPMENT_UPDATE", "INVALID_FIELD",
	       "{\"equipment_no\":\"PS-3-CTRL\",\"model\":null}");
	h_errf(admin, "EQUIPMENT_UPDATE", "MISSING_FIELD", "{\"equipment_no\":\"PS-3-CTRL\"}");

	a = h_okf(admin, "CUSTOMER_SHOW", "{\"customer_id\":%lld}", (long long)id);
	json_object *c = h_jget(a, "customer");
	assert_true(jbool(c, "archive_complete"));
	assert_false(jbool(c, "provisional"));
	assert_string_equal(h_jstr(c, "timezone"), "Asia/Shanghai");
	assert_string_equal(h_jstr(c, "tracking_agent"), "engineer");
	assert_string_equal(h_jstr(c, "next_maintenance_date"), "2027-04-15");
	assert_int_equal(h_jint(c, "maintenance_cycle_months"), 3);
	assert_int_equal(json_object_array_length(h_jget(c, "contacts")), 1);
	json_object *eq = h_jget(c, "equipment");
	assert_int_equal(json_object_array_length(eq), 2);
	json_object *ps3 = json_object_array_get_idx(eq, 0);
	assert_string_equal(h_jstr(ps3, "equipment_no"), "PS-3-CTRL");
	assert_int_equal(h_jint(ps3, "quantity"), 2);
	assert_string_equal(h_jstr(ps3, "site"), "Pump station 3, cabinet B");
	assert_string_equal(h_jstr(ps3, "purchase_date"), "2023-09-15");
	assert_int_equal(h_jint(h_jget(c, "tickets"), "total"), 0);
	json_object_put(a);
	h_errf(admin, "CUSTOMER_SHOW", "NOT_FOUND", "{\"customer_id\":999999}");

	/* Clearing an S12 field makes the archive incomplete again; a name
	 * cannot be cleared. */
	a = h_okf(admin, "CUSTOMER_UPDATE", "{\"customer_id\":%lld,\"wanted_service\":null}",
	          (long long)id);
	assert_false(jbool(a, "archive_complete"));
	json_object_put(a);
	h_errf(admin, "CUSTOMER_UPDATE", "INVALID_FIELD", "{\"customer_id\":%lld,\"name\":null}",
	       (long long)id);
	h_errf(admin, "CUSTOMER_UPDATE", "NOT_FOUND", "{\"customer_id\":999999,\"address\":\"x\"}");
	h_errf(admin, "CUSTOMER_UPDATE", "MISSING_FIELD", "{\"customer_id\":%lld}", (long long)id);
	assert_true(h_sql_int("SELECT count(*) FROM audit WHERE verb = 'CUSTOMER_UPDATE'") >= 1);
}

/* A caller the hotline created is provisional until an administrator
 * completes the S12 fields (the equipment included). */
static void provisional_completed(void **state)
{
	(void)state;
	h_set_time(h_utc(2027, 1, 5, 2, 0));
	json_object *a = h_okf(hotline, "REPORT",
	                       "{\"request_id\":\"%s\",\"type\":\"consulting\","
	                       "\"symptoms\":\"asks how to export logs\",\"contact_name\":\"Zhao\","
	                       "\"contact_phone\":\"139\",\"customer_name\":\"Lakeside Clinic\","
	                       "\"customer_phone\":\"+86 21 5555 0177\"}",
	                       h_request_id());
	assert_true(jbool(a, "provisional_customer"));
	int64_t id = h_jint(a, "customer_id"), ticket = h_jint(a, "ticket_id");
	json_object_put(a);
	a = h_okf(admin, "CUSTOMER_UPDATE",
	          "{\"customer_id\":%lld,\"address\":\"8 Lake Street, Shanghai\","
	          "\"timezone\":\"Asia/Shanghai\",\"team\":\"east\",\"maintenance_cycle_months\":6,"
	          "\"next_maintenance_date\":\"2027-06-01\",\"wanted_service\":\"hotline\"}",
	          (long long)id);
	assert_true(jbool(a, "provisional")); /* no equipment yet */
	assert_false(jbool(a, "archive_complete"));
	json_object_put(a);
	json_object_put(h_okf(admin, "EQUIPMENT_ADD",
	                      "{\"request_id\":\"%s\",\"equipment_no\":\"LC-XR-1\","
	                      "\"customer_id\":%lld,\"model\":\"XR-9\"}",
	                      h_request_id(), (long long)id));
	a = h_okf(admin, "CUSTOMER_SHOW", "{\"customer_id\":%lld}", (long long)id);
	assert_false(jbool(h_jget(a, "customer"), "provisional"));
	assert_true(jbool(h_jget(a, "customer"), "archive_complete"));
	assert_int_equal(h_jint(h_jget(h_jget(a, "customer"), "tickets"), "open"), 1);
	json_object_put(a);
	a = h_okf(hotline, "SHOW", "{\"ticket_id\":%lld,\"history\":false}", (long long)ticket);
	assert_false(jbool(h_jget(h_jget(a, "ticket"), "customer"), "provisional"));
	json_object_put(a);
}

/* ---- contracts (S7, S8) ---- */

static void contracts_and_contact_notice(void **state)
{
	(void)state;
	int64_t now = h_utc(2027, 1, 6, 20, 0); /* 2027-01-07 04:00 in Shanghai */
	h_set_time(now);
	int64_t cust = add_customer("Harbour Lights", "Asia/Shanghai");
	json_object *a =
	    h_okf(admin, "CONTRACT_ADD",
	          "{\"request_id\":\"k-hl\",\"customer_id\":%lld,\"number\":\"HL-2024-01\","
	          "\"accepted_date\":\"2024-03-01\",\"free_months\":48,\"policy\":\"default\","
	          "\"hotline_contact\":\"+86 400 555 0000\"}",
	          (long long)cust);
	int64_t k = h_jint(a, "contract_id");
	/* S8: four years from 2024-03-01: the last free day is 2028-02-29. */
	assert_string_equal(h_jstr(a, "base_end_date"), "2028-03-01");
	assert_string_equal(h_jstr(a, "current_end_date"), "2028-03-01");
	json_object_put(a);
	h_errf(admin, "CONTRACT_ADD", "INVALID_FIELD",
	       "{\"request_id\":\"k-near\",\"customer_id\":%lld,\"accepted_date\":\"2024-03-01\","
	       "\"free_months\":12,\"rounding\":\"nearest_day\"}",
	       (long long)cust);
	h_errf(admin, "CONTRACT_ADD", "NOT_FOUND",
	       "{\"request_id\":\"k-pol\",\"customer_id\":%lld,\"accepted_date\":\"2024-03-01\","
	       "\"free_months\":12,\"policy\":\"gold\"}",
	       (long long)cust);
	h_errf(admin, "CONTRACT_ADD", "NOT_FOUND",
	       "{\"request_id\":\"k-cust\",\"customer_id\":999999,\"accepted_date\":\"2024-03-01\","
	       "\"free_months\":12}");
	h_errf(admin, "CONTRACT_ADD", "INVALID_FIELD",
	       "{\"request_id\":\"k-far\",\"customer_id\":%lld,\"accepted_date\":\"9900-01-01\","
	       "\"free_months\":1200}",
	       (long long)cust);

	/* S7: a new hotline contact is a notice task, due when the third day
	 * from the change (the change day first) ends in the customer's zone:
	 * changed on 2027-01-07 (Shanghai), due 2027-01-10T00:00+08:00. */
	a = h_okf(admin, "CONTRACT_UPDATE",
	          "{\"contract_id\":%lld,\"hotline_contact\":\"+86 400 555 0001\","
	          "\"rounding\":\"full_day\"}",
	          (long long)k);
	assert_int_equal(h_jint(a, "contract_id"), k);
	assert_string_equal(h_jstr(a, "current_end_date"), "2028-03-01");
	int64_t task = h_jint(a, "task_id");
	assert_true(task > 0);
	json_object_put(a);
	char sql[256];
	snprintf(sql, sizeof(sql),
	         "SELECT extract(epoch FROM due_at)::bigint FROM tasks WHERE id = %lld"
	         " AND kind = 'contact_notice' AND status = 'open'",
	         (long long)task);
	assert_int_equal(h_sql_int(sql), h_utc(2027, 1, 9, 16, 0));
	snprintf(
	    sql, sizeof(sql),
	    "SELECT count(*) FROM audit WHERE verb = 'CONTRACT_UPDATE'"
	    " AND (detail->>'contract_id')::bigint = %lld AND (detail->>'task_id')::bigint = %lld",
	    (long long)k, (long long)task);
	assert_int_equal(h_sql_int(sql), 1);
	/* The same contact again is no change: no second notice. */
	a = h_okf(admin, "CONTRACT_UPDATE",
	          "{\"contract_id\":%lld,\"hotline_contact\":\"+86 400 555 0001\"}", (long long)k);
	assert_null(h_jget(a, "task_id"));
	json_object_put(a);
	/* A later acceptance moves the end; the open notice shows with the customer. */
	a = h_okf(admin, "CONTRACT_UPDATE",
	          "{\"contract_id\":%lld,\"accepted_date\":\"2024-04-15\"}", (long long)k);
	assert_string_equal(h_jstr(a, "current_end_date"), "2028-04-15");
	json_object_put(a);
	h_errf(admin, "CONTRACT_UPDATE", "INVALID_FIELD",
	       "{\"contract_id\":%lld,\"rounding\":\"nearest_day\"}", (long long)k);
	h_errf(admin, "CONTRACT_UPDATE", "NOT_FOUND", "{\"contract_id\":999999,\"number\":\"x\"}");
	/* A period must end before the calendar does (the table's check). */
	h_errf(admin, "CONTRACT_UPDATE", "INVALID_FIELD",
	       "{\"contract_id\":%lld,\"accepted_date\":\"9950-01-01\",\"free_months\":1200}",
	       (long long)k);
	h_errf(admin, "CONTRACT_UPDATE", "INVALID_FIELD",
	       "{\"contract_id\":%lld,\"free_months\":null}", (long long)k);
	h_errf(admin, "CONTRACT_UPDATE", "NOT_FOUND", "{\"contract_id\":%lld,\"policy\":\"gold\"}",
	       (long long)k);
	a = h_okf(admin, "CUSTOMER_SHOW", "{\"customer_id\":%lld}", (long long)cust);
	json_object *c = h_jget(a, "customer");
	json_object *kk = json_object_array_get_idx(h_jget(c, "contracts"), 0);
	assert_string_equal(h_jstr(kk, "number"), "HL-2024-01");
	assert_string_equal(h_jstr(kk, "current_end_date"), "2028-04-15");
	assert_string_equal(h_jstr(kk, "rounding"), "full_day");
	/* The open tasks include the notice (the archive and the contract's
	 * inspections are the scheduler's, test_tasks). */
	json_object *tasks = h_jget(c, "tasks");
	int notices = 0;
	for (size_t i = 0; i < json_object_array_length(tasks); i++)
		notices += strcmp(h_jstr(json_object_array_get_idx(tasks, i), "kind"),
		                  "contact_notice") == 0;
	assert_int_equal(notices, 1);
	json_object_put(a);
	h_errf(admin, "WARRANTY", "NOT_FOUND", "{\"contract_id\":999999}");
	/* Equipment is covered by a contract of its own customer only. */
	json_object_put(h_okf(admin, "EQUIPMENT_ADD",
	                      "{\"request_id\":\"%s\",\"equipment_no\":\"HL-1\","
	                      "\"customer_id\":%lld,\"model\":\"Lamp\",\"contract_id\":%lld}",
	                      h_request_id(), (long long)cust, (long long)k));
	h_errf(admin, "EQUIPMENT_UPDATE", "CONFLICT",
	       "{\"equipment_no\":\"PS-3-CTRL\",\"contract_id\":%lld}", (long long)k);
	h_errf(admin, "EQUIPMENT_UPDATE", "NOT_FOUND",
	       "{\"equipment_no\":\"HL-1\",\"contract_id\":999999}");
}

/* ---- the warranty ledger (S8-S10) ---- */

/* The known answer: a 30-hour software outage in March extends the
 * period by 2 days (S9: each started 24 h counts). */
static void thirty_hours_in_march(void **state)
{
	(void)state;
	int64_t cust = add_customer("Riverside Mill", "Asia/Shanghai");
	int64_t k = add_contract(cust, "2026-06-01", 24);
	int64_t t0 = h_utc(2027, 3, 10, 1, 0); /* 09:00 in Shanghai */
	int64_t id = report_outage(cust, "mill control offline", t0);
	json_object *a =
	    ticket_verb("RESTORE", id, t0 + 30 * HOUR, "\"cause\":\"software_quality\"");
	assert_hours(h_jget(a, "outage"), 30.0);
	/* RESTORE says so at once. */
	assert_int_equal(h_jint(h_jget(a, "outage"), "extension_days"), 2);
	json_object_put(a);

	json_object *w = warranty(k, "2027-03-11");
	assert_string_equal(h_jstr(w, "timezone"), "Asia/Shanghai");
	assert_string_equal(h_jstr(w, "base_end_date"), "2028-06-01");
	assert_int_equal(h_jint(w, "extension_days"), 2);
	assert_string_equal(h_jstr(w, "current_end_date"), "2028-06-03");
	assert_int_equal(json_object_array_length(h_jget(w, "extensions")), 1);
	json_object *line = extension(w, 0);
	assert_int_equal(h_jint(line, "ticket_id"), id);
	assert_string_equal(h_jstr(line, "cause"), "software_quality");
	assert_string_equal(h_jstr(line, "outage_start"), "2027-03-10T01:00:00Z");
	assert_string_equal(h_jstr(line, "outage_end"), "2027-03-11T07:00:00Z");
	assert_hours(line, 30.0);
	assert_int_equal(h_jint(line, "days"), 2);
	assert_true(jbool(line, "counted"));
	assert_false(jbool(line, "revised"));
	assert_string_equal(h_jstr(w, "on_date"), "2027-03-11");
	assert_int_equal(h_jint(w, "days_left"), 450); /* 2027-03-11 .. 2028-06-02 */
	assert_true(jbool(w, "free"));
	json_object_put(w);
	w = warranty(k, "2028-06-02"); /* the last free day, earned by the outage */
	assert_true(jbool(w, "free"));
	assert_int_equal(h_jint(w, "days_left"), 1);
	json_object_put(w);
	w = warranty(k, "2028-06-03");
	assert_false(jbool(w, "free"));
	assert_int_equal(h_jint(w, "days_left"), 0);
	json_object_put(w);
	/* Default on_date: today in the customer's zone. */
	h_set_time(h_utc(2027, 3, 11, 17, 0)); /* 2027-03-12 01:00 in Shanghai */
	w = warranty(k, NULL);
	assert_string_equal(h_jstr(w, "on_date"), "2027-03-12");
	json_object_put(w);

	a = h_okf(admin, "CUSTOMER_SHOW", "{\"customer_id\":%lld}", (long long)cust);
	json_object *kk = json_object_array_get_idx(h_jget(h_jget(a, "customer"), "contracts"), 0);
	assert_string_equal(h_jstr(kk, "current_end_date"), "2028-06-03");
	json_object_put(a);
	json_object *charge = charge_of(id);
	assert_false(jbool(charge, "billable")); /* S10: a quality fault in the period */
	json_object_put(charge);
}

/* The same in a zone with DST: the outage spans New York's switch to
 * summer time (2027-03-14), the period's dates are New York dates. */
static void thirty_hours_across_dst(void **state)
{
	(void)state;
	int64_t cust = add_customer("Hudson Labs", "America/New_York");
	int64_t k = add_contract(cust, "2026-06-01", 24);
	int64_t t0 = h_utc(2027, 3, 13, 17, 0); /* 12:00 EST */
	int64_t id = report_outage(cust, "lab network down", t0);
	restore(id, t0 + 30 * HOUR, "vendor_service"); /* 2027-03-14 19:00 EDT */
	json_object *w = warranty(k, "2027-03-14");
	assert_string_equal(h_jstr(w, "timezone"), "America/New_York");
	assert_string_equal(h_jstr(w, "base_end_date"), "2028-06-01");
	assert_string_equal(h_jstr(w, "current_end_date"), "2028-06-03");
	assert_int_equal(h_jint(w, "days_left"), 447);
	assert_hours(extension(w, 0), 30.0);
	json_object_put(w);
	/* 2028-06-02 New York time is the last free day; 2028-06-03 is not. */
	w = warranty(k, "2028-06-02");
	assert_true(jbool(w, "free"));
	json_object_put(w);
	w = warranty(k, "2028-06-03");
	assert_false(jbool(w, "free"));
	json_object_put(w);
}

/* A customer-caused outage extends nothing (S9), so a fault just after
 * the base period is billable (S10, S16); the same outage caused by the
 * software makes that fault free. */
static void customer_cause_billable_after_period(void **state)
{
	(void)state;
	int64_t t0 = h_utc(2027, 3, 12, 1, 0);
	int64_t after = h_utc(2027, 3, 21, 2, 0); /* 2027-03-21 10:00 in Shanghai */
	int64_t mine = add_customer("Customer Cause Ltd", "Asia/Shanghai");
	int64_t k1 = add_contract(mine, "2025-03-21", 24); /* base end 2027-03-21 */
	int64_t theirs = add_customer("Vendor Cause Ltd", "Asia/Shanghai");
	int64_t k2 = add_contract(theirs, "2025-03-21", 24);

	int64_t o1 = report_outage(mine, "power cut by site works", t0);
	json_object *r = ticket_verb("RESTORE", o1, t0 + 30 * HOUR, "\"cause\":\"customer\"");
	assert_int_equal(h_jint(h_jget(r, "outage"), "extension_days"), 0);
	json_object_put(r);
	int64_t o2 = report_outage(theirs, "database crash", t0);
	restore(o2, t0 + 30 * HOUR, "software_quality");

	json_object *w = warranty(k1, "2027-03-12");
	assert_int_equal(h_jint(w, "extension_days"), 0);
	assert_string_equal(h_jstr(w, "current_end_date"), "2027-03-21");
	json_object *line = extension(w, 0);
	assert_int_equal(h_jint(line, "ticket_id"), o1);
	assert_int_equal(h_jint(line, "days"), 0);
	assert_false(jbool(line, "counted"));
	assert_string_equal(h_jstr(line, "verdict"), "excluded_cause");
	json_object_put(w);
	w = warranty(k2, "2027-03-12");
	assert_string_equal(h_jstr(w, "current_end_date"), "2027-03-23");
	json_object_put(w);

	/* The customer's own outage is billable inside the period too. */
	json_object *charge = charge_of(o1);
	assert_true(jbool(charge, "billable"));
	json_object_put(charge);
	/* A new fault on 2027-03-21: after the period for the first, inside
	 * the extended one for the second. */
	int64_t late1 = report_type(mine, "fault", after);
	int64_t late2 = report_type(theirs, "fault", after);
	charge = charge_of(late1);
	assert_true(jbool(charge, "billable"));
	assert_false(jbool(charge, "provisional"));
	json_object_put(charge);
	charge = charge_of(late2);
	assert_false(jbool(charge, "billable"));
	json_object_put(charge);
}

/* S9: a ticket reopened days later adds its second outage's own days;
 * flaps within the merge window are one outage -- a ticket reopened
 * minutes after its restore, and a monitoring alert that resolved and
 * fired again (two tickets of one dedup key). */
static void reopened_and_flapping(void **state)
{
	(void)state;
	int64_t cust = add_customer("Flapping Corp", "Asia/Shanghai");
	int64_t k = add_contract(cust, "2026-06-01", 24);

	int64_t a0 = h_utc(2027, 4, 1, 0, 0);
	int64_t a = report_outage(cust, "billing down", a0);
	restore(a, a0 + 10 * HOUR, "software_quality");                   /* 10 h: 1 day */
	json_object_put(ticket_verb("REOPEN", a, h_utc(2027, 4, 5, 0, 0), /* days later */
	                            "\"reason\":\"billing down again\""));
	restore(a, h_utc(2027, 4, 5, 12, 0), "software_quality"); /* 12 h: 1 day */

	int64_t b0 = h_utc(2027, 5, 1, 0, 0);
	int64_t b = report_outage(cust, "portal down", b0);
	restore(b, b0 + 5 * HOUR, "software_quality");
	json_object_put(ticket_verb("REOPEN", b, b0 + 5 * HOUR + 10 * MINUTE,
	                            "\"reason\":\"portal down again\""));
	/* One outage of 7 h: 1 day, not 2 -- and the restore that ends it
	 * names that one day. */
	json_object *rs =
	    ticket_verb("RESTORE", b, b0 + 7 * HOUR, "\"cause\":\"software_quality\"");
	assert_int_equal(h_jint(h_jget(rs, "outage"), "extension_days"), 1);
	json_object_put(rs);

	/* Monitoring: down 00:00-01:00, down again 01:20-02:00 (past the flap
	 * window that reopens a ticket, inside the merge window). */
	int64_t m0 = h_utc(2027, 6, 1, 0, 0);
	int64_t ids[2];
	for (int i = 0; i < 2; i++) {
		int64_t s = i == 0 ? m0 : m0 + 80 * MINUTE, e = i == 0 ? m0 + HOUR : m0 + 2 * HOUR;
		char start[32], end[32];
		strftime(start, sizeof(start), "%Y-%m-%dT%H:%M:%SZ", gmtime(&(time_t){(time_t)s}));
		strftime(end, sizeof(end), "%Y-%m-%dT%H:%M:%SZ", gmtime(&(time_t){(time_t)e}));
		h_set_time(s);
		json_object *r = h_okf(monitor, "ALERT",
		                       "{\"request_id\":\"%s\",\"action\":\"trigger\","
		                       "\"dedup_key\":\"fp-flap\",\"customer_id\":%lld,"
		                       "\"severity\":\"critical\",\"summary\":\"gateway down\","
		                       "\"starts_at\":\"%s\"}",
		                       h_request_id(), (long long)cust, start);
		ids[i] = h_jint(r, "ticket_id");
		json_object_put(r);
		h_set_time(e);
		json_object_put(h_okf(monitor, "ALERT",
		                      "{\"request_id\":\"%s\",\"action\":\"resolve\","
		                      "\"dedup_key\":\"fp-flap\",\"customer_id\":%lld,"
		                      "\"ends_at\":\"%s\"}",
		                      h_request_id(), (long long)cust, end));
	}
	assert_true(ids[1] != ids[0]);
	/* Until a cause is recorded, monitoring's outage extends nothing. */
	json_object *w = warranty(k, "2027-06-02");
	assert_int_equal(h_jint(w, "extension_days"), 3);
	json_object_put(w);
	for (int i = 0; i < 2; i++)
		json_object_put(
		    ticket_verb("CLOSE", ids[i], m0 + 3 * HOUR, "\"cause\":\"software_quality\""));

	w = warranty(k, "2027-06-02");
	assert_int_equal(h_jint(w, "extension_days"), 4);
	assert_string_equal(h_jstr(w, "current_end_date"), "2028-06-05");
	json_object *ext = h_jget(w, "extensions");
	assert_int_equal(json_object_array_length(ext), 4);
	json_object *l0 = extension(w, 0), *l1 = extension(w, 1), *l2 = extension(w, 2),
	            *l3 = extension(w, 3);
	assert_int_equal(h_jint(l0, "ticket_id"), a);
	assert_hours(l0, 10.0);
	assert_int_equal(h_jint(l0, "days"), 1);
	assert_int_equal(h_jint(l1, "ticket_id"), a);
	assert_string_equal(h_jstr(l1, "outage_start"), "2027-04-05T00:00:00Z");
	assert_hours(l1, 12.0);
	assert_int_equal(h_jint(l1, "days"), 1);
	assert_int_equal(h_jint(l2, "ticket_id"), b);
	assert_hours(l2, 7.0); /* the 10-minute gap counts: a flapping service is down */
	assert_int_equal(h_jint(l2, "days"), 1);
	assert_int_equal(h_jint(l3, "ticket_id"), ids[0]);
	assert_int_equal(json_object_array_length(h_jget(l3, "tickets")), 2);
	assert_hours(l3, 2.0);
	assert_int_equal(h_jint(l3, "days"), 1);
	json_object_put(w);
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM outages WHERE ticket_id = %lld",
	         (long long)a);
	assert_int_equal(h_sql_int(sql), 2);
}

/* A monitoring alert that resolves and fires again within minutes is one
 * outage, from its first start to its last resolve (S9) -- whether slad
 * reopens the alert's ticket or opens another one for the key. */
static void alert_flap_is_one_outage(void **state)
{
	(void)state;
	int64_t cust = add_customer("Quick Flap Ltd", "Asia/Shanghai");
	int64_t k = add_contract(cust, "2026-06-01", 24);
	static const char *const steps[][3] = {
	    {"trigger", "starts_at", "2027-06-10T00:00:00Z"},
	    {"resolve", "ends_at", "2027-06-10T00:30:00Z"},
	    {"trigger", "starts_at", "2027-06-10T00:40:00Z"},
	    {"resolve", "ends_at", "2027-06-10T01:00:00Z"},
	};
	int64_t at[] = {h_utc(2027, 6, 10, 0, 0), h_utc(2027, 6, 10, 0, 30),
	                h_utc(2027, 6, 10, 0, 40), h_utc(2027, 6, 10, 1, 0)};
	for (size_t i = 0; i < 4; i++) {
		h_set_time(at[i]);
		bool trigger = strcmp(steps[i][0], "trigger") == 0;
		json_object_put(
		    h_okf(monitor, "ALERT",
		          "{\"request_id\":\"%s\",\"action\":\"%s\","
		          "\"dedup_key\":\"fp-quick\",\"customer_id\":%lld,%s\"%s\":\"%s\"}",
		          h_request_id(), steps[i][0], (long long)cust,
		          trigger ? "\"severity\":\"critical\",\"summary\":\"vpn down\"," : "",
		          steps[i][1], steps[i][2]));
	}
	PGresult *res = PQexec(h_db(), "SELECT id FROM tickets WHERE dedup_key = 'fp-quick'");
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	for (int i = 0; i < PQntuples(res); i++)
		json_object_put(ticket_verb("CLOSE", strtoll(PQgetvalue(res, i, 0), NULL, 10),
		                            h_utc(2027, 6, 10, 2, 0),
		                            "\"cause\":\"software_quality\""));
	PQclear(res);
	json_object *w = warranty(k, "2027-06-10");
	assert_int_equal(json_object_array_length(h_jget(w, "extensions")), 1);
	json_object *line = extension(w, 0);
	assert_string_equal(h_jstr(line, "outage_start"), "2027-06-10T00:00:00Z");
	assert_string_equal(h_jstr(line, "outage_end"), "2027-06-10T01:00:00Z");
	assert_hours(line, 1.0);
	assert_int_equal(h_jint(line, "days"), 1);
	assert_int_equal(h_jint(w, "extension_days"), 1);
	json_object_put(w);
}

/* S9: a corrected cause revises the ledger without erasing what it said:
 * the earlier lines stay, marked revised. */
static void corrected_cause(void **state)
{
	(void)state;
	int64_t cust = add_customer("Corrections Inc", "Asia/Shanghai");
	int64_t k = add_contract(cust, "2026-06-01", 24);
	int64_t t0 = h_utc(2027, 3, 20, 1, 0);
	int64_t id = report_outage(cust, "scanner offline", t0);
	restore(id, t0 + 30 * HOUR, "software_quality");
	json_object *w = warranty(k, "2027-03-22");
	assert_int_equal(h_jint(w, "extension_days"), 2);
	json_object_put(w);

	json_object *a = ticket_verb("SET_CAUSE", id, t0 + 40 * HOUR,
	                             "\"cause\":\"customer\",\"reason\":\"site power work\"");
	assert_string_equal(h_jstr(a, "previous_cause"), "software_quality");
	assert_true(jbool(a, "warranty_revised"));
	json_object_put(a);
	w = warranty(k, "2027-03-22");
	assert_int_equal(h_jint(w, "extension_days"), 0);
	assert_string_equal(h_jstr(w, "current_end_date"), "2028-06-01");
	assert_int_equal(json_object_array_length(h_jget(w, "extensions")), 2);
	json_object *old = extension(w, 0), *now = extension(w, 1);
	assert_true(jbool(old, "revised"));
	assert_int_equal(h_jint(old, "days"), 2);
	assert_string_equal(h_jstr(old, "cause"), "software_quality");
	assert_string_equal(h_jstr(old, "revision_reason"), "site power work");
	assert_string_equal(h_jstr(old, "revised_at"), "2027-03-21T17:00:00Z");
	assert_false(jbool(now, "revised"));
	assert_int_equal(h_jint(now, "days"), 0);
	assert_string_equal(h_jstr(now, "cause"), "customer");
	json_object_put(w);

	/* Back to a vendor cause: revised again; one vendor cause for the
	 * other grants the same, so the ledger does not change. */
	a = ticket_verb("SET_CAUSE", id, t0 + 50 * HOUR,
	                "\"cause\":\"vendor_service\",\"reason\":\"our field team cut the power\"");
	assert_true(jbool(a, "warranty_revised"));
	json_object_put(a);
	a = ticket_verb("SET_CAUSE", id, t0 + 60 * HOUR,
	                "\"cause\":\"software_quality\",\"reason\":\"firmware after all\"");
	assert_false(jbool(a, "warranty_revised"));
	json_object_put(a);
	w = warranty(k, "2027-03-22");
	assert_int_equal(h_jint(w, "extension_days"), 2);
	json_object *ext = h_jget(w, "extensions");
	assert_int_equal(json_object_array_length(ext), 4);
	int revised = 0;
	for (size_t i = 0; i < 4; i++)
		revised += jbool(json_object_array_get_idx(ext, i), "revised");
	assert_int_equal(revised, 3);
	assert_string_equal(h_jstr(extension(w, 3), "cause"), "software_quality");
	json_object_put(w);
	char sql[160];
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM outage_revisions WHERE ticket_id = %lld AND correction",
	         (long long)id);
	assert_int_equal(h_sql_int(sql), 3);
	/* A reopened ticket's cause is its latest outage's: correcting it
	 * revises that outage and leaves the earlier one as it was. */
	int64_t r0 = h_utc(2027, 4, 10, 0, 0);
	int64_t twice = report_outage(cust, "printer spooler down", r0);
	restore(twice, r0 + 6 * HOUR, "software_quality");
	json_object_put(ticket_verb("REOPEN", twice, r0 + 48 * HOUR, "\"reason\":\"down again\""));
	restore(twice, r0 + 54 * HOUR, "software_quality");
	w = warranty(k, "2027-04-12");
	assert_int_equal(h_jint(w, "extension_days"), 4);
	json_object_put(w);
	a = ticket_verb("SET_CAUSE", twice, r0 + 55 * HOUR,
	                "\"cause\":\"customer\",\"reason\":\"unplugged by staff\"");
	assert_true(jbool(a, "warranty_revised"));
	json_object_put(a);
	w = warranty(k, "2027-04-12");
	assert_int_equal(h_jint(w, "extension_days"), 3);
	json_object_put(w);
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM outages WHERE ticket_id = %lld AND ((outage_no = 1 AND"
	         " cause = 'software_quality') OR (outage_no = 2 AND cause = 'customer'))",
	         (long long)twice);
	assert_int_equal(h_sql_int(sql), 2);
	/* Without an outage there is nothing to revise. */
	int64_t plain = report_type(cust, "fault", t0 + 70 * HOUR);
	restore(plain, t0 + 71 * HOUR, "software_quality");
	a = ticket_verb("SET_CAUSE", plain, t0 + 72 * HOUR,
	                "\"cause\":\"customer\",\"reason\":\"x\"");
	assert_false(jbool(a, "warranty_revised"));
	json_object_put(a);
}

/* ---- charges (S16) ---- */

static void charges_by_type(void **state)
{
	(void)state;
	int64_t cust = add_customer("Training Academy", "Asia/Shanghai");
	(void)add_contract(cust, "2026-06-01", 24);
	int64_t when = h_utc(2027, 7, 1, 2, 0);
	json_object *c = charge_of(report_type(cust, "consulting", when));
	assert_false(jbool(c, "billable")); /* technical advice is free */
	json_object_put(c);
	c = charge_of(report_type(cust, "training", when));
	assert_true(jbool(c, "billable")); /* training is billable, in the period too */
	json_object_put(c);
}

/* ---- feedback (S14, S15) ---- */

static void feedback(void **state)
{
	(void)state;
	int64_t cust = add_customer("Feedback Farm", "Asia/Shanghai");
	int64_t k = add_contract(cust, "2026-06-01", 24);
	int64_t t0 = h_utc(2027, 8, 1, 1, 0);
	int64_t id = report_outage(cust, "irrigation stopped", t0);
	h_errf(admin, "FEEDBACK", "INVALID_TRANSITION",
	       "{\"request_id\":\"fb-early\",\"ticket_id\":%lld,\"score\":4}", (long long)id);
	restore(id, t0 + 2 * HOUR, "software_quality");
	/* A task of this customer (the S7 notice here) is closed by the call. */
	json_object *a =
	    h_okf(admin, "CONTRACT_UPDATE", "{\"contract_id\":%lld,\"hotline_contact\":\"400-1\"}",
	          (long long)k);
	int64_t task = h_jint(a, "task_id");
	json_object_put(a);
	h_errf(admin, "FEEDBACK", "NOT_FOUND",
	       "{\"request_id\":\"fb-task\",\"ticket_id\":%lld,\"score\":4,\"task_id\":999999}",
	       (long long)id);
	h_errf(admin, "FEEDBACK", "NOT_FOUND",
	       "{\"request_id\":\"fb-none\",\"ticket_id\":999999,\"score\":4}");
	h_errf(engineer2, "FEEDBACK", "FORBIDDEN", /* team south, ticket of north */
	       "{\"request_id\":\"fb-team\",\"ticket_id\":%lld,\"score\":4}", (long long)id);
	h_errf(admin, "FEEDBACK", "INVALID_FIELD",
	       "{\"request_id\":\"fb-6\",\"ticket_id\":%lld,\"score\":6}", (long long)id);
	h_set_time(t0 + 48 * HOUR);
	char body[256];
	snprintf(body, sizeof(body),
	         "{\"request_id\":\"fb-1\",\"ticket_id\":%lld,\"score\":4,"
	         "\"comment\":\"fast, but nobody called back\",\"task_id\":%lld}",
	         (long long)id, (long long)task);
	a = h_ok(hotline, "FEEDBACK", body);
	assert_int_equal(h_jint(a, "score"), 4);
	assert_string_equal(h_jstr(a, "recorded_at"), "2027-08-03T01:00:00Z");
	json_object_put(a);
	a = h_ok(hotline, "FEEDBACK", body); /* a replay: the first answer */
	assert_string_equal(h_jstr(a, "recorded_at"), "2027-08-03T01:00:00Z");
	json_object_put(a);
	char sql[160];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM feedback WHERE ticket_id = %lld",
	         (long long)id);
	assert_int_equal(h_sql_int(sql), 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM tasks WHERE id = %lld AND status = 'done'",
	         (long long)task);
	assert_int_equal(h_sql_int(sql), 1);
	a = h_okf(hotline, "SHOW", "{\"ticket_id\":%lld}", (long long)id);
	json_object *hist = h_jget(h_jget(a, "ticket"), "history");
	int scored = 0;
	for (size_t i = 0; i < json_object_array_length(hist); i++) {
		json_object *e = json_object_array_get_idx(hist, i), *v = NULL;
		if (json_object_object_get_ex(e, "score", &v)) {
			assert_string_equal(h_jstr(e, "kind"), "note");
			assert_int_equal(json_object_get_int(v), 4);
			scored++;
		}
	}
	assert_int_equal(scored, 1);
	json_object_put(a);
}

/* The contract's terms apply to its new tickets: the SLA policy it names
 * and where its on-site clock starts (S2, S4, S5; 010_contract_terms.sql). */
static void contract_terms(void **state)
{
	(void)state;
	int64_t t0 = h_utc(2027, 9, 1, 2, 0);
	h_set_time(t0);
	json_object *cur = h_ok(admin, "POLICY_SHOW", "{}");
	json_object *doc = json_object_get(h_jget(cur, "policy"));
	json_object_put(cur);
	/* Gold: a level-3 fault is answered within two hours, not eight. */
	json_object *resp =
	    h_jget(h_jget(h_jget(h_jget(doc, "types"), "fault"), "clocks"), "response");
	json_object_object_add(resp, "3", json_object_new_string("2h"));
	json_object *set = json_object_new_object();
	json_object_object_add(set, "name", json_object_new_string("gold"));
	json_object_object_add(set, "policy", doc);
	json_object_put(h_ok(admin, "POLICY_SET", json_object_to_json_string(set)));
	json_object_put(set);

	int64_t plain = add_customer("Plain Terms Co", "Asia/Shanghai");
	add_contract(plain, "2027-01-01", 24);
	int64_t gold = add_customer("Gold Terms Co", "Asia/Shanghai");
	json_object_put(h_okf(admin, "CONTRACT_ADD",
	                      "{\"request_id\":\"%s\",\"customer_id\":%lld,"
	                      "\"accepted_date\":\"2027-01-01\",\"free_months\":24,"
	                      "\"policy\":\"gold\",\"onsite_from\":\"dispatch\"}",
	                      h_request_id(), (long long)gold));
	int64_t ids[2];
	const int64_t custs[2] = {plain, gold};
	const char *const response_due[2] = {"2027-09-01T10:00:00Z", "2027-09-01T04:00:00Z"};
	for (int i = 0; i < 2; i++) {
		json_object *a =
		    h_okf(hotline, "REPORT",
		          "{\"request_id\":\"%s\",\"customer_id\":%lld,\"level\":3,"
		          "\"symptoms\":\"report printing slow\",\"contact_name\":\"Qian\","
		          "\"contact_phone\":\"137\"}",
		          h_request_id(), (long long)custs[i]);
		ids[i] = h_jint(a, "ticket_id");
		json_object *due = h_jget(a, "due");
		assert_string_equal(h_jstr(due, "response"), response_due[i]);
		assert_null(h_jget(due, "onsite")); /* S5: only once dispatched */
		json_object_put(a);
	}
	/* Later changes replay the ticket under the same terms. */
	h_set_time(t0 + 3 * HOUR);
	json_object *a = h_okf(admin, "ACKNOWLEDGE", "{\"ticket_id\":%lld}", (long long)ids[1]);
	assert_false(jbool(a, "response_met")); /* gold: due at 04:00 */
	json_object_put(a);
	a = h_okf(admin, "ACKNOWLEDGE", "{\"ticket_id\":%lld}", (long long)ids[0]);
	assert_true(jbool(a, "response_met"));
	json_object_put(a);
	/* 24 h for a level-3 visit: counted from the report, or -- the gold
	 * contract's term -- from the dispatch. */
	const char *const onsite_due[2] = {"2027-09-02T02:00:00Z", "2027-09-02T05:00:00Z"};
	for (int i = 0; i < 2; i++) {
		a = h_okf(admin, "DISPATCH",
		          "{\"ticket_id\":%lld,\"remote_outcome\":\"failed\",\"agreed_by\":"
		          "\"Qian\",\"engineer\":\"engineer\"}",
		          (long long)ids[i]);
		assert_string_equal(h_jstr(a, "onsite_due_at"), onsite_due[i]);
		json_object_put(a);
	}
	char sql[200];
	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM tickets t JOIN policies p ON p.id = t.policy_id"
	         " WHERE t.id = %lld AND p.name = 'gold (on-site from dispatch)'",
	         (long long)ids[1]);
	assert_int_equal(h_sql_int(sql), 1);
}

/* The records are the administrators': the hotline may not read them. */
static void admin_only(void **state)
{
	(void)state;
	h_err(hotline, "CUSTOMER_SHOW", "{\"customer_id\":1}", "FORBIDDEN");
	h_err(hotline, "WARRANTY", "{\"contract_id\":1}", "FORBIDDEN");
}

static int setup(void **state)
{
	(void)state;
	h_init();
	h_set_time(h_utc(2027, 1, 4, 0, 0));
	h_slad_start(NULL, h_fake_time_env());
	hotline = h_must_connect("hotline");
	admin = h_must_connect("admin");
	monitor = h_must_connect("monitor");
	engineer2 = h_must_connect("engineer2");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	slac_client_free(hotline);
	slac_client_free(admin);
	slac_client_free(monitor);
	slac_client_free(engineer2);
	int status = h_slad_stop(SIGTERM);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(archive_and_equipment),
	    cmocka_unit_test(provisional_completed),
	    cmocka_unit_test(contracts_and_contact_notice),
	    cmocka_unit_test(thirty_hours_in_march),
	    cmocka_unit_test(thirty_hours_across_dst),
	    cmocka_unit_test(customer_cause_billable_after_period),
	    cmocka_unit_test(reopened_and_flapping),
	    cmocka_unit_test(alert_flap_is_one_outage),
	    cmocka_unit_test(corrected_cause),
	    cmocka_unit_test(charges_by_type),
	    cmocka_unit_test(feedback),
	    cmocka_unit_test(contract_terms),
	    cmocka_unit_test(admin_only),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
