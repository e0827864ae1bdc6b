/*
 * verbs.c - the verb table of the slad protocol and request validation
 * (proto/PROTOCOL.md, "Verbs").  One source for the server, the client
 * library and slactl: names, roles, fields and their one-line help.
 *
 * Pure: libc and json-c only.  The names of ticket types, causes, states and
 * tiers repeat libsla's sla_types.c spelling on purpose (the codec may not
 * depend on libsla); tests/unit/test_proto_codec.c checks that they agree.
 */
#include "proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define H PROTO_ROLE_HOTLINE
#define E PROTO_ROLE_ENGINEER
#define M PROTO_ROLE_MONITOR
#define A PROTO_ROLE_ADMIN

#define F(name, type, req, help)                                                                   \
	{                                                                                          \
		name, PROTO_FIELD_##type, req, help                                                \
	}
#define REQ true
#define OPT false
#define END                                                                                        \
	{                                                                                          \
		NULL, PROTO_FIELD_STRING, false, NULL                                              \
	}
#define REQUEST_ID                                                                                 \
	F("request_id", STRING, REQ,                                                               \
	  "your id for this request, 1..64 printable ASCII characters; a replay returns the "      \
	  "first answer")
#define TICKET_ID F("ticket_id", INT, REQ, "the ticket")

/* ---- fields of each verb ---- */

static const struct proto_field f_hello[] = {
    F("version", INT, REQ, "highest protocol version the client speaks (>= 1)"),
    F("client", STRING, OPT, "client software and version, for the server's log"),
    F("capabilities", ARRAY, OPT, "capability names the client wants; unknown ones are ignored"),
    END,
};
static const struct proto_field f_none[] = {END};

static const struct proto_field f_report[] = {
    REQUEST_ID,
    F("type", STRING, OPT,
      "fault (default), consulting, training, complaint, inspection or followup (S6)"),
    F("symptoms", STRING, REQ, "the symptoms as the customer observed them (S3)"),
    F("details", STRING, OPT, "further details: what was checked, messages seen (S3)"),
    F("requested_at", TIME, OPT, "when the customer asked for service (S3); default: now"),
    F("contact_name", STRING, REQ, "contact person at the customer (S3)"),
    F("contact_phone", STRING, REQ, "the contact person's phone (S3)"),
    F("customer_id", INT, OPT, "customer in the archive (or customer_name + customer_phone)"),
    F("customer_name", STRING, OPT, "caller not in the archive yet: a provisional customer"),
    F("customer_phone", STRING, OPT, "phone of a caller not in the archive yet"),
    F("equipment_no", STRING, OPT, "number of the equipment at fault (S13)"),
    F("level", INT, OPT, "fault level 1..4 (S1); default: the classification rules decide"),
    F("impact", STRING, OPT,
      "interrupted, at_risk, degraded or intermittent (S1); interrupted records an outage"),
    END,
};
static const struct proto_field f_find_customer[] = {
    F("phone", STRING, OPT, "a customer or contact phone (digits are compared)"),
    F("name", STRING, OPT, "part of the customer's name"),
    F("equipment_no", STRING, OPT, "an equipment number"),
    F("limit", INT, OPT, "at most this many matches, 1..1000 (default 20)"),
    END,
};
static const struct proto_field f_note[] = {
    REQUEST_ID,
    TICKET_ID,
    F("text", STRING, REQ, "the note"),
    END,
};
static const struct proto_field f_show[] = {
    TICKET_ID,
    F("history", BOOL, OPT, "include the event history (default true)"),
    END,
};
static const struct proto_field f_list[] = {
    F("customer_id", INT, OPT, "only this customer's tickets"),
    F("level", INT, OPT, "only this level, 1..4"),
    F("state", STRING, OPT,
      "only this state: reported, acknowledged, remote_support, onsite_dispatched, onsite, "
      "restored, closed or cancelled"),
    F("team", STRING, OPT, "only tickets of this team"),
    F("breached", BOOL, OPT, "true: only tickets with a breached clock; false: only without"),
    F("limit", INT, OPT, "at most this many tickets, 1..1000 (default 100)"),
    F("after_id", INT, OPT, "paging: tickets with a larger ticket_id (from next_after_id)"),
    END,
};
static const struct proto_field f_feedback[] = {
    REQUEST_ID,
    TICKET_ID,
    F("score", INT, REQ, "satisfaction from 1 (very poor) to 5 (very good) (S14, S15)"),
    F("comment", STRING, OPT, "what the customer said"),
    F("task_id", INT, OPT, "the follow-up call task this answers, if any"),
    END,
};
static const struct proto_field f_alert[] = {
    REQUEST_ID,
    F("action", STRING, REQ, "trigger or resolve"),
    F("dedup_key", STRING, REQ, "the alert's identity (Alertmanager fingerprint, dedup_key)"),
    F("starts_at", TIME, OPT, "when the problem started; required for trigger"),
    F("ends_at", TIME, OPT, "resolve only: when it ended; default: now"),
    F("severity", STRING, OPT, "the monitor's severity (classified by rules); trigger: required"),
    F("summary", STRING, OPT, "one-line description; required for trigger"),
    F("source", STRING, OPT, "the monitored system or host"),
    F("customer_id", INT, OPT, "the customer, if the monitor knows it"),
    F("equipment_no", STRING, OPT, "the equipment number, if the monitor knows it"),
    F("labels", OBJECT, OPT, "further labels (string values) for the classification rules"),
    END,
};
static const struct proto_field f_subscribe[] = {
    F("team", STRING, OPT, "only tickets of this team"),
    F("region", STRING, OPT, "only customers in this region"),
    F("customer_id", INT, OPT, "only this customer"),
    F("max_level", INT, OPT, "only levels 1..max_level (1 = most severe)"),
    F("tier", STRING, OPT,
      "only steps for this tier: engineer, team_lead, regional_manager, "
      "director"),
    F("events", ARRAY, OPT, "push events wanted: ESCALATION, TASK (default both)"),
    END,
};
static const struct proto_field f_receipt[] = {
    F("seq", INT, REQ, "sequence number of a push line received"),
    END,
};
static const struct proto_field f_acknowledge[] = {
    TICKET_ID,
    F("note", STRING, OPT, "a note for the history"),
    END,
};
static const struct proto_field f_dispatch[] = {
    TICKET_ID,
    F("remote_outcome", STRING, REQ,
      "why remote support was not enough: failed, partial or not_possible (S5)"),
    F("agreed_by", STRING, REQ, "the customer's person who agreed to the visit (S5)"),
    F("engineer", STRING, OPT, "principal who goes on site (default: you)"),
    F("note", STRING, OPT, "a note for the history"),
    END,
};
static const struct proto_field f_ticket_note[] = {
    TICKET_ID,
    F("note", STRING, OPT, "a note for the history"),
    END,
};
static const struct proto_field f_restore[] = {
    TICKET_ID,
    F("cause", STRING, REQ,
      "unknown, software_quality, vendor_service, customer, third_party, force_majeure or "
      "deliberate_damage (S9)"),
    F("note", STRING, OPT, "a note for the history"),
    END,
};
static const struct proto_field f_reclassify[] = {
    TICKET_ID,
    F("level", INT, REQ, "the new level 1..4 (S1)"),
    F("reason", STRING, REQ, "why the level changes"),
    END,
};
static const struct proto_field f_ticket_reason[] = {
    TICKET_ID,
    F("reason", STRING, REQ, "why (kept in the history)"),
    END,
};
static const struct proto_field f_assign[] = {
    TICKET_ID,
    F("principal", STRING, REQ, "the engineer who takes the ticket"),
    END,
};
static const struct proto_field f_close[] = {
    TICKET_ID,
    F("cause", STRING, OPT, "the cause, if not set at restore (same names as RESTORE)"),
    F("note", STRING, OPT, "a note for the history"),
    END,
};
static const struct proto_field f_set_cause[] = {
    TICKET_ID,
    F("cause", STRING, REQ, "the corrected cause (same names as RESTORE)"),
    F("reason", STRING, REQ, "why the cause is corrected (audited)"),
    END,
};

#define CUSTOMER_FIELDS(req)                                                                       \
	F("name", STRING, req, "customer name (S12)"),                                             \
	    F("phone", STRING, req, "customer phone (S12)"),                                       \
	    F("address", STRING, OPT, "postal address (S12)"),                                     \
	    F("timezone", STRING, OPT,                                                             \
	      "IANA time zone for dates and months (default "                                      \
	      "Asia/Shanghai)"),                                                                   \
	    F("region", STRING, OPT, "region (for the regional manager, S6)"),                     \
	    F("team", STRING, OPT, "team that handles the customer's tickets"),                    \
	    F("tracking_agent", STRING, OPT,                                                       \
	      "engineer who owns the customer and gets its TASK pushes (S14)"),                    \
	    F("contacts", ARRAY, OPT, "contact persons: objects with name, phone, role"),          \
	    F("sites", ARRAY, OPT, "sites: objects with name and address"),                        \
	    F("maintenance_cycle_months", INT, OPT, "maintenance cycle in months, 1..120 (S12)"),  \
	    F("next_maintenance_date", STRING, OPT, "next maintenance, YYYY-MM-DD (S12, S14)"),    \
	    F("wanted_service", STRING, OPT, "the service the customer wants (S12)")

static const struct proto_field f_customer_add[] = {REQUEST_ID, CUSTOMER_FIELDS(REQ), END};
static const struct proto_field f_customer_update[] = {
    F("customer_id", INT, REQ, "the customer"),
    CUSTOMER_FIELDS(OPT),
    END,
};
static const struct proto_field f_customer_show[] = {
    F("customer_id", INT, REQ, "the customer"),
    END,
};

#define CONTRACT_FIELDS(req)                                                                       \
	F("accepted_date", STRING, req, "acceptance or go-live date, YYYY-MM-DD (S8)"),            \
	    F("free_months", INT, req, "free maintenance period in months, 1..1200 (S8)"),         \
	    F("number", STRING, OPT, "the contract's number"),                                     \
	    F("policy", STRING, OPT, "SLA policy name (default: default)"),                        \
	    F("rounding", STRING, OPT,                                                             \
	      "downtime days: started_day (default, S9), full_day or nearest_day"),                \
	    F("onsite_from", STRING, OPT, "on-site clock starts at report (default) or dispatch"), \
	    F("hotline_contact", STRING, OPT,                                                      \
	      "hotline contact; a change creates a notice task (S7)")

static const struct proto_field f_contract_add[] = {
    REQUEST_ID,
    F("customer_id", INT, REQ, "the customer"),
    CONTRACT_FIELDS(REQ),
    END,
};
static const struct proto_field f_contract_update[] = {
    F("contract_id", INT, REQ, "the contract"),
    CONTRACT_FIELDS(OPT),
    END,
};

#define EQUIPMENT_FIELDS(req)                                                                      \
	F("model", STRING, req, "model (S13)"),                                                    \
	    F("quantity", INT, OPT, "how many, 1..1000000 (default 1, S13)"),                      \
	    F("purpose", STRING, OPT, "what it is used for (S13)"),                                \
	    F("manufacture_date", STRING, OPT, "YYYY-MM-DD (S13)"),                                \
	    F("purchase_date", STRING, OPT, "YYYY-MM-DD (S13)"),                                   \
	    F("contract_id", INT, OPT, "the contract that covers it"),                             \
	    F("site", STRING, OPT, "the site where it stands")

static const struct proto_field f_equipment_add[] = {
    REQUEST_ID,
    F("equipment_no", STRING, REQ, "equipment number, unique (S13)"),
    F("customer_id", INT, REQ, "the owner"),
    EQUIPMENT_FIELDS(REQ),
    END,
};
static const struct proto_field f_equipment_update[] = {
    F("equipment_no", STRING, REQ, "the equipment"),
    F("customer_id", INT, OPT, "a new owner"),
    EQUIPMENT_FIELDS(OPT),
    END,
};

#define PRINCIPAL_FIELDS(req)                                                                      \
	F("role", STRING, req, "hotline, engineer, monitor or admin"),                             \
	    F("tier", STRING, OPT,                                                                 \
	      "engineer (default), team_lead, regional_manager or director (S6)"),                 \
	    F("team", STRING, OPT, "team (tickets an engineer may act on; duty rota)"),            \
	    F("region", STRING, OPT, "region (regional managers)"),                                \
	    F("display_name", STRING, OPT, "the person's name"),                                   \
	    F("phone", STRING, OPT, "the person's phone")

static const struct proto_field f_principal_add[] = {
    REQUEST_ID,
    F("name", STRING, REQ, "principal name = the client certificate's CN"),
    PRINCIPAL_FIELDS(REQ),
    END,
};
static const struct proto_field f_principal_update[] = {
    F("name", STRING, REQ, "the principal"),
    PRINCIPAL_FIELDS(OPT),
    F("disabled", BOOL, OPT, "true: refuse the principal's connections"),
    END,
};
static const struct proto_field f_rota_add[] = {
    REQUEST_ID,
    F("team", STRING, REQ, "the team"),
    F("principal", STRING, REQ, "who is on duty"),
    F("from", TIME, REQ, "duty starts"),
    F("to", TIME, REQ, "duty ends (after from)"),
    END,
};
static const struct proto_field f_policy_set[] = {
    F("name", STRING, REQ, "policy name (\"default\" is used when a contract names none)"),
    F("policy", OBJECT, REQ, "the policy document (PROTOCOL.md, POLICY_SET)"),
    END,
};
static const struct proto_field f_policy_show[] = {
    F("name", STRING, OPT, "policy name (default: default)"),
    F("version", INT, OPT, "a past version (default: the current one)"),
    END,
};
static const struct proto_field f_rules_set[] = {
    F("rules", ARRAY, REQ, "classification rules in order; the first match wins"),
    END,
};
static const struct proto_field f_rules_show[] = {
    F("version", INT, OPT, "a past version (default: the current one)"),
    END,
};
static const struct proto_field f_warranty[] = {
    F("contract_id", INT, REQ, "the contract"),
    F("on_date", STRING, OPT, "the day to judge, YYYY-MM-DD (default: today)"),
    END,
};
static const struct proto_field f_compliance[] = {
    F("customer_id", INT, OPT, "only this customer"),
    F("level", INT, OPT, "only this level, 1..4"),
    F("from_month", STRING, OPT, "first month, YYYY-MM (customer's time zone)"),
    F("to_month", STRING, OPT, "last month, YYYY-MM"),
    END,
};
static const struct proto_field f_tasks[] = {
    F("customer_id", INT, OPT, "only this customer"),
    F("kind", STRING, OPT, "archive, inspection, satisfaction_call, maintenance or contact_notice"),
    F("status", STRING, OPT, "open, done or lapsed"),
    F("due_before", TIME, OPT, "only tasks due before this instant"),
    F("limit", INT, OPT, "at most this many tasks, 1..1000 (default 100)"),
    F("after_id", INT, OPT, "paging: tasks with a larger task_id"),
    END,
};
static const struct proto_field f_task_done[] = {
    F("task_id", INT, REQ, "the task"),
    F("note", STRING, OPT, "what was done, or why it could not be"),
    END,
};

/* ---- the table, in PROTOCOL.md order ---- */

const struct proto_verb proto_verbs[] = {
    {"HELLO", H | E | M | A, false, "start a session: versions and capabilities", f_hello},
    {"PING", H | E | M | A, false, "check that the server answers", f_none},
    {"QUIT", H | E | M | A, false, "end the session", f_none},
    {"REPORT", H | E | A, true, "report a fault or another ticket (S3)", f_report},
    {"FIND_CUSTOMER", H | E | A, false, "find a customer by phone, name or equipment number",
     f_find_customer},
    {"NOTE", H | E | A, true, "add a note to a ticket", f_note},
    {"SHOW", H | E | A, false, "a ticket with its clocks and history", f_show},
    {"LIST", H | E | A, false, "tickets matching filters", f_list},
    {"FEEDBACK", H | E | A, true, "record the customer's satisfaction (S14, S15)", f_feedback},
    {"ALERT", M | A, true, "a monitoring alert: trigger or resolve", f_alert},
    {"SUBSCRIBE", E | A, false, "receive escalation and task pushes", f_subscribe},
    {"UNSUBSCRIBE", E | A, false, "stop pushes on this session", f_none},
    {"RECEIPT", E | A, false, "delivery receipt for a push (stops nothing)", f_receipt},
    {"ACKNOWLEDGE", E | A, false, "take the ticket: stops the response clock and the ladder",
     f_acknowledge},
    {"DISPATCH", E | A, false, "go on site after remote support (S5)", f_dispatch},
    {"ARRIVE", E | A, false, "engineer on site: stops the on-site clock", f_ticket_note},
    {"RESTORE", E | A, false, "service restored, with the cause", f_restore},
    {"RECLASSIFY", E | A, false, "change the level, with a reason", f_reclassify},
    {"PAUSE", E | A, false, "stop the clocks while waiting for the customer (S5)", f_ticket_reason},
    {"RESUME", E | A, false, "run the clocks again", f_ticket_reason},
    {"ASSIGN", E | A, false, "give the ticket to an engineer", f_assign},
    {"CLOSE", E | A, false, "close a restored ticket", f_close},
    {"REOPEN", E | A, false, "reopen a restored or closed ticket (new cycle)", f_ticket_reason},
    {"CANCEL", E | A, false, "cancel a ticket opened in error", f_ticket_reason},
    {"SET_CAUSE", E | A, false, "correct a ticket's cause later (audited)", f_set_cause},
    {"CUSTOMER_ADD", A, true, "add a customer (S12)", f_customer_add},
    {"CUSTOMER_UPDATE", A, false, "change or complete a customer", f_customer_update},
    {"CUSTOMER_SHOW", A, false, "a customer with contracts, equipment, tasks", f_customer_show},
    {"CONTRACT_ADD", A, true, "add a contract (S8)", f_contract_add},
    {"CONTRACT_UPDATE", A, false, "change a contract", f_contract_update},
    {"EQUIPMENT_ADD", A, true, "add equipment (S13)", f_equipment_add},
    {"EQUIPMENT_UPDATE", A, false, "change equipment", f_equipment_update},
    {"PRINCIPAL_ADD", A, true, "add a principal (a client certificate's CN)", f_principal_add},
    {"PRINCIPAL_UPDATE", A, false, "change a principal's role, tier, team or region",
     f_principal_update},
    {"ROTA_ADD", A, true, "put a principal on duty for a team", f_rota_add},
    {"POLICY_SET", A, false, "store a new version of an SLA policy", f_policy_set},
    {"POLICY_SHOW", A, false, "an SLA policy", f_policy_show},
    {"RULES_SET", A, false, "store a new version of the classification rules", f_rules_set},
    {"RULES_SHOW", A, false, "the classification rules", f_rules_show},
    {"WARRANTY", A, false, "a contract's warranty ledger (S8-S10)", f_warranty},
    {"COMPLIANCE", A, false, "SLA compliance per customer, level and month", f_compliance},
    {"TASKS", A, false, "follow-up tasks (S11, S12, S14)", f_tasks},
    {"TASK_DONE", E | A, false, "complete a follow-up task (S11, S14, S7)", f_task_done},
    {"STATS", A, false, "the server's figures", f_none},
    {NULL, 0, false, NULL, NULL},
};

const struct proto_verb *proto_verb_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (const struct proto_verb *v = proto_verbs; v->name != NULL; v++)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

/* ---- value rules by field name ---- */

/* Spelled as libsla's sla_types.c spells them (tests compare). */
static const char *const ticket_types[] = {
    "fault", "consulting", "training", "complaint", "inspection", "followup", NULL,
};
static const char *const causes[] = {
    "unknown",     "software_quality", "vendor_service",    "customer",
    "third_party", "force_majeure",    "deliberate_damage", NULL,
};
static const char *const states[] = {
    "reported", "acknowledged", "remote_support", "onsite_dispatched",
    "onsite",   "restored",     "closed",         "cancelled",
    NULL,
};
static const char *const tiers[] = {
    "engineer", "team_lead", "regional_manager", "director", NULL,
};
static const char *const roles[] = {"hotline", "engineer", "monitor", "admin", NULL};
static const char *const impacts[] = {
    "interrupted", "at_risk", "degraded", "intermittent", NULL,
};
static const char *const actions[] = {"trigger", "resolve", NULL};
static const char *const remote_outcomes[] = {"failed", "partial", "not_possible", NULL};
static const char *const roundings[] = {"started_day", "full_day", "nearest_day", NULL};
static const char *const onsite_froms[] = {"report", "dispatch", NULL};
static const char *const task_kinds[] = {
    "archive", "inspection", "satisfaction_call", "maintenance", "contact_notice", NULL,
};
static const char *const task_statuses[] = {"open", "done", "lapsed", NULL};
static const char *const push_events[] = {"ESCALATION", "TASK", NULL};

enum rule_kind {
	RULE_RANGE, /* INT within [min, max] */
	RULE_ENUM,  /* STRING (or ARRAY of strings) from a list */
	RULE_DATE,  /* STRING YYYY-MM-DD */
	RULE_MONTH, /* STRING YYYY-MM */
	RULE_ID,    /* request_id: 1..64 printable ASCII */
	RULE_ZONE,  /* IANA zone name characters */
};

struct rule {
	const char *name;
	enum rule_kind kind;
	int64_t min, max;
	const char *const *names;
};

static const struct rule rules[] = {
    {"request_id", RULE_ID, 0, 0, NULL},
    {"level", RULE_RANGE, 1, 4, NULL},
    {"max_level", RULE_RANGE, 1, 4, NULL},
    {"score", RULE_RANGE, 1, 5, NULL},
    {"version", RULE_RANGE, 1, INT64_MAX, NULL},
    {"seq", RULE_RANGE, 0, INT64_MAX, NULL},
    {"limit", RULE_RANGE, 1, 1000, NULL},
    {"quantity", RULE_RANGE, 1, 1000000, NULL},
    {"free_months", RULE_RANGE, 1, 1200, NULL},
    {"maintenance_cycle_months", RULE_RANGE, 1, 120, NULL},
    {"type", RULE_ENUM, 0, 0, ticket_types},
    {"cause", RULE_ENUM, 0, 0, causes},
    {"state", RULE_ENUM, 0, 0, states},
    {"tier", RULE_ENUM, 0, 0, tiers},
    {"role", RULE_ENUM, 0, 0, roles},
    {"impact", RULE_ENUM, 0, 0, impacts},
    {"action", RULE_ENUM, 0, 0, actions},
    {"remote_outcome", RULE_ENUM, 0, 0, remote_outcomes},
    {"rounding", RULE_ENUM, 0, 0, roundings},
    {"onsite_from", RULE_ENUM, 0, 0, onsite_froms},
    {"kind", RULE_ENUM, 0, 0, task_kinds},
    {"status", RULE_ENUM, 0, 0, task_statuses},
    {"events", RULE_ENUM, 0, 0, push_events},
    {"timezone", RULE_ZONE, 0, 0, NULL},
};

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static const struct rule *rule_for(const char *name)
{
	static const struct rule id_rule = {"*_id", RULE_RANGE, 1, INT64_MAX, NULL};
	static const struct rule date_rule = {"*_date", RULE_DATE, 0, 0, NULL};
	static const struct rule month_rule = {"*_month", RULE_MONTH, 0, 0, NULL};
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (strcmp(rules[i].name, name) == 0)
			return &rules[i];
	if (has_suffix(name, "_id"))
		return &id_rule; /* server-assigned ids start at 1 */
	if (has_suffix(name, "_date"))
		return &date_rule;
	if (has_suffix(name, "_month"))
		return &month_rule;
	return NULL;
}

/* ---- calendar checks ---- */

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int64_t m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Exactly n digits at s; their value in *v. */
static bool digits(const char *s, int n, int64_t *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "YYYY-MM" (whole string) or "YYYY-MM-DD" (a prefix of s, with_day);
 * fills y, m, d. */
static bool parse_date(const char *s, bool with_day, int64_t *y, int64_t *m, int64_t *d)
{
	*d = 1;
	if (!digits(s, 4, y) || s[4] != '-' || !digits(s + 5, 2, m) || *y < 1 || *m < 1 || *m > 12)
		return false;
	if (!with_day)
		return s[7] == '\0';
	return s[7] == '-' && digits(s + 8, 2, d) && *d >= 1 && *d <= month_days(*y, *m);
}

/*
 * RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), upper
 * case T and Z, no leap second.  *t is whole seconds since the epoch, UTC.
 */
static bool parse_time(const char *s, int64_t *t)
{
	int64_t y, mo, d, h, mi, sec, oh = 0, om = 0;
	if (!parse_date(s, true, &y, &mo, &d) || s[10] != 'T' || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec) ||
	    h > 23 || mi > 59 || sec > 59)
		return false;
	const char *p = s + 19;
	if (*p == '.') {
		int n = 0;
		for (p++; *p >= '0' && *p <= '9'; p++)
			n++;
		if (n < 1 || n > 9)
			return false;
	}
	int sign = 0;
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 ||
		    om > 59)
			return false;
		p += 6;
	} else {
		return false;
	}
	if (*p != '\0')
		return false;
	*t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	     sign * (oh * 3600 + om * 60);
	return true;
}

/* ---- validation ---- */

static enum proto_err vfail(struct proto_error *err, enum proto_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum proto_err vfail(struct proto_error *err, enum proto_err code, const char *fmt, ...)
{
	va_list ap;
	err->code = code;
	err->offset = 0; /* the tree no longer knows line offsets */
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
	return code;
}

static const char *type_name(enum proto_field_type t)
{
	switch (t) {
	case PROTO_FIELD_STRING:
		return "a string";
	case PROTO_FIELD_INT:
		return "an integer";
	case PROTO_FIELD_BOOL:
		return "true or false";
	case PROTO_FIELD_TIME:
		return "an RFC 3339 time";
	case PROTO_FIELD_OBJECT:
		return "an object";
	case PROTO_FIELD_ARRAY:
		return "an array";
	}
	return "?";
}

static bool in_list(const char *const *names, const char *s)
{
	for (; *names != NULL; names++)
		if (strcmp(*names, s) == 0)
			return true;
	return false;
}

static enum proto_err check_string_rule(const struct proto_field *f, const struct rule *r,
                                        const char *s, size_t n, struct proto_error *err)
{
	int64_t y, m, d;
	switch (r->kind) {
	case RULE_ENUM:
		if (!in_list(r->names, s))
			return vfail(err, PROTO_ERR_INVALID_FIELD,
			             "field '%s': unknown value \"%.40s\"", f->name, s);
		return PROTO_OK;
	case RULE_DATE:
	case RULE_MONTH:
		if (!parse_date(s, r->kind == RULE_DATE, &y, &m, &d) ||
		    (r->kind == RULE_DATE && s[10] != '\0'))
			return vfail(
			    err, PROTO_ERR_INVALID_FIELD, "field '%s': expected %s", f->name,
			    r->kind == RULE_DATE ? "a date YYYY-MM-DD" : "a month YYYY-MM");
		return PROTO_OK;
	case RULE_ID:
		if (n > 64)
			return vfail(err, PROTO_ERR_INVALID_FIELD,
			             "field '%s': longer than 64 characters", f->name);
		for (size_t i = 0; i < n; i++)
			if (s[i] < 0x21 || s[i] > 0x7E)
				return vfail(err, PROTO_ERR_INVALID_FIELD,
				             "field '%s': printable ASCII only", f->name);
		return PROTO_OK;
	case RULE_ZONE:
		for (size_t i = 0; i < n; i++)
			if (n > 64 || strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			                     "0123456789_+-/",
			                     s[i]) == NULL)
				return vfail(err, PROTO_ERR_INVALID_FIELD,
				             "field '%s': not an IANA time zone name", f->name);
		return PROTO_OK;
	case RULE_RANGE:
		break;
	}
	return PROTO_OK;
}

/* One field's value: its type, then its rule. */
static enum proto_err check_value(const struct proto_field *f, json_object *v,
                                  struct proto_error *err)
{
	const struct rule *r = rule_for(f->name);
	enum json_type jt = json_object_get_type(v);
	bool ok = false;
	switch (f->type) {
	case PROTO_FIELD_STRING:
	case PROTO_FIELD_TIME:
		ok = jt == json_type_string;
		break;
	case PROTO_FIELD_INT:
		ok = jt == json_type_int;
		break;
	case PROTO_FIELD_BOOL:
		ok = jt == json_type_boolean;
		break;
	case PROTO_FIELD_OBJECT:
		ok = jt == json_type_object;
		break;
	case PROTO_FIELD_ARRAY:
		ok = jt == json_type_array;
		break;
	}
	if (!ok)
		return vfail(err, PROTO_ERR_INVALID_FIELD, "field '%s': expected %s", f->name,
		             type_name(f->type));
	if (jt == json_type_string) {
		const char *s = json_object_get_string(v);
		size_t n = (size_t)json_object_get_string_len(v);
		int64_t t;
		if (n == 0)
			return vfail(err, PROTO_ERR_INVALID_FIELD, "field '%s': must not be empty",
			             f->name);
		if (f->type == PROTO_FIELD_TIME && !parse_time(s, &t))
			return vfail(err, PROTO_ERR_INVALID_FIELD,
			             "field '%s': expected RFC 3339 time like 2026-11-27T10:00:00Z",
			             f->name);
		return r != NULL ? check_string_rule(f, r, s, n, err) : PROTO_OK;
	}
	if (jt == json_type_int && r != NULL && r->kind == RULE_RANGE) {
		int64_t x = json_object_get_int64(v);
		if (x < r->min || x > r->max) {
			if (r->max == INT64_MAX)
				return vfail(err, PROTO_ERR_INVALID_FIELD,
				             "field '%s': expected integer >= %lld", f->name,
				             (long long)r->min);
			return vfail(err, PROTO_ERR_INVALID_FIELD,
			             "field '%s': expected integer %lld..%lld", f->name,
			             (long long)r->min, (long long)r->max);
		}
	}
	if (jt == json_type_array && r != NULL && r->kind == RULE_ENUM) {
		size_t len = json_object_array_length(v);
		for (size_t i = 0; i < len; i++) {
			json_object *e = json_object_array_get_idx(v, i);
			if (!json_object_is_type(e, json_type_string) ||
			    !in_list(r->names, json_object_get_string(e)))
				return vfail(err, PROTO_ERR_INVALID_FIELD,
				             "field '%s': element %zu is not a known name", f->name,
				             i);
		}
	}
	return PROTO_OK;
}

/* A field given with a value other than null. */
static json_object *given(json_object *body, const char *name)
{
	json_object *v = NULL;
	if (body == NULL || !json_object_object_get_ex(body, name, &v))
		return NULL;
	return v;
}

static bool time_of(json_object *body, const char *name, int64_t *t)
{
	json_object *v = given(body, name);
	return v != NULL && parse_time(json_object_get_string(v), t);
}

/* Rules that tie fields together; single fields are already valid. */
static enum proto_err cross_check(const struct proto_verb *v, json_object *body,
                                  struct proto_error *err)
{
	int64_t a, b;
	if (strcmp(v->name, "REPORT") == 0) {
		bool id = given(body, "customer_id") != NULL;
		bool name = given(body, "customer_name") != NULL;
		bool phone = given(body, "customer_phone") != NULL;
		if (id && (name || phone))
			return vfail(err, PROTO_ERR_INVALID_FIELD,
			             "field 'customer_id': give it or customer_name + "
			             "customer_phone, not both");
		if (!id && !(name && phone))
			return vfail(err, PROTO_ERR_MISSING_FIELD,
			             "field '%s' is required (or customer_id)",
			             name ? "customer_phone" : "customer_name");
	} else if (strcmp(v->name, "FIND_CUSTOMER") == 0) {
		if (!given(body, "phone") && !given(body, "name") && !given(body, "equipment_no"))
			return vfail(err, PROTO_ERR_MISSING_FIELD,
			             "field 'phone', 'name' or 'equipment_no' is required");
	} else if (strcmp(v->name, "ALERT") == 0) {
		bool trigger =
		    strcmp(json_object_get_string(given(body, "action")), "trigger") == 0;
		static const char *const needed[] = {"starts_at", "severity", "summary"};
		if (trigger) {
			for (size_t i = 0; i < 3; i++)
				if (!given(body, needed[i]))
					return vfail(err, PROTO_ERR_MISSING_FIELD,
					             "field '%s' is required for trigger",
					             needed[i]);
			if (given(body, "ends_at"))
				return vfail(err, PROTO_ERR_INVALID_FIELD,
				             "field 'ends_at': only with resolve");
		} else if (time_of(body, "starts_at", &a) && time_of(body, "ends_at", &b) &&
		           b < a) {
			return vfail(err, PROTO_ERR_INVALID_FIELD,
			             "field 'ends_at': before starts_at");
		}
	} else if (strcmp(v->name, "ROTA_ADD") == 0) {
		if (time_of(body, "from", &a) && time_of(body, "to", &b) && b <= a)
			return vfail(err, PROTO_ERR_INVALID_FIELD,
			             "field 'to': must be after 'from'");
	} else if (strcmp(v->name, "COMPLIANCE") == 0) {
		json_object *from = given(body, "from_month"), *to = given(body, "to_month");
		if (from && to &&
		    strcmp(json_object_get_string(from), json_object_get_string(to)) > 0)
			return vfail(err, PROTO_ERR_INVALID_FIELD,
			             "field 'to_month': before from_month");
	} else if (has_suffix(v->name, "_UPDATE")) {
		/* The first field names the object; something must change. */
		bool change = false;
		for (const struct proto_field *f = v->fields + 1; f->name != NULL; f++)
			change = change ||
			         (body != NULL && json_object_object_get_ex(body, f->name, NULL));
		if (!change)
			return vfail(err, PROTO_ERR_MISSING_FIELD,
			             "nothing to update: give at least one field besides '%s'",
			             v->fields[0].name);
	}
	return PROTO_OK;
}

enum proto_err proto_validate_request(const struct proto_msg *msg, struct proto_error *err)
{
	memset(err, 0, sizeof(*err));
	snprintf(err->tag, sizeof(err->tag), "%s", msg->tag[0] ? msg->tag : "*");
	if (msg->kind != PROTO_MSG_REQUEST)
		return vfail(err, PROTO_ERR_SYNTAX, "not a request");
	const struct proto_verb *v = proto_verb_find(msg->verb);
	if (v == NULL)
		return vfail(err, PROTO_ERR_UNKNOWN_VERB, "unknown verb %s", msg->verb);
	json_object *body = msg->body;
	if (body != NULL && !json_object_is_type(body, json_type_object))
		return vfail(err, PROTO_ERR_BAD_JSON, "payload is not an object");

	/* Unknown names first: a misspelt field explains a "missing" one. */
	if (body != NULL) {
		json_object_object_foreach(body, key, val)
		{
			(void)val;
			const struct proto_field *f = v->fields;
			while (f->name != NULL && strcmp(f->name, key) != 0)
				f++;
			if (f->name == NULL)
				return vfail(err, PROTO_ERR_INVALID_FIELD, "unknown field '%.64s'",
				             key);
		}
	}
	for (const struct proto_field *f = v->fields; f->name != NULL; f++) {
		json_object *val = NULL;
		bool present = body != NULL && json_object_object_get_ex(body, f->name, &val);
		enum proto_err rc;
		if (!present) {
			if (f->required)
				return vfail(err, PROTO_ERR_MISSING_FIELD, "field '%s' is required",
				             f->name);
			continue;
		}
		if (val == NULL) {
			/* null: "not given" (or "clear" in *_UPDATE) */
			if (f->required)
				return vfail(err, PROTO_ERR_INVALID_FIELD,
				             "field '%s': must not be null", f->name);
			continue;
		}
		if ((rc = check_value(f, val, err)) != PROTO_OK)
			return rc;
	}
	return cross_check(v, body, err);
}
