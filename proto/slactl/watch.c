/*
 * watch.c - `slactl watch`: escalations as they come, one line each, and a
 * one-word acknowledgement typed on stdin.  The client library drops
 * duplicate pushes and sends the delivery receipts (DESIGN.md "Delivery");
 * this file only shows lines and turns `a 1042` into an ACKNOWLEDGE.
 */
#include "slactl.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

struct watch {
	struct slac_client *c;
	bool json, color, tty_in;
	char line[256];
	size_t len;
	bool overflow;
	int downs;
};

/* The first of several names a member might carry. */
static json_object *member(json_object *o, const char *const *names)
{
	json_object *v;

	for (; *names; names++)
		if (json_object_object_get_ex(o, *names, &v) &&
		    !json_object_is_type(v, json_type_null))
			return v;
	return NULL;
}

/* RFC 3339 to seconds since the epoch; -1 if it does not parse. */
static long long parse_time(const char *s)
{
	struct tm tm = {0};
	int off = 0;
	const char *p;

	if (!s || !slactl_is_rfc3339(s))
		return -1;
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = atoi(s + 5) - 1;
	tm.tm_mday = atoi(s + 8);
	tm.tm_hour = atoi(s + 11);
	tm.tm_min = atoi(s + 14);
	tm.tm_sec = atoi(s + 17);
	p = s + 19;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (*p == '+' || *p == '-')
		off = (*p == '-' ? -1 : 1) * (atoi(p + 1) * 3600 + atoi(p + 4) * 60);
	return (long long)timegm(&tm) - off;
}

/* 45s, 12m, 2h05m, 3d */
static void span_text(long long s, char *out, size_t size)
{
	if (s < 60)
		snprintf(out, size, "%llds", s);
	else if (s < 3600)
		snprintf(out, size, "%lldm", s / 60);
	else if (s < 48 * 3600)
		snprintf(out, size, "%lldh%02lldm", s / 3600, s / 60 % 60);
	else
		snprintf(out, size, "%lldd", s / 86400);
}

static void ticket_text(json_object *v, char *out, size_t size)
{
	if (!v)
		snprintf(out, size, "T-?");
	else if (json_object_is_type(v, json_type_int))
		snprintf(out, size, "T-%lld", (long long)json_object_get_int64(v));
	else
		snprintf(out, size, "%s", json_object_get_string(v));
}

/* Append to out at *n, never past size. */
static void add(char *out, size_t size, int *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add(char *out, size_t size, int *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (*n < 0 || (size_t)*n >= size)
		return;
	va_start(ap, fmt);
	k = vsnprintf(out + *n, size - (size_t)*n, fmt, ap);
	va_end(ap);
	*n = k < 0 ? -1 : *n + k;
}

static bool flag(json_object *o, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(o, name, &v) && json_object_get_boolean(v);
}

static const char *str(json_object *o, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(o, name, &v) && !json_object_is_type(v, json_type_null)
	           ? json_object_get_string(v)
	           : NULL;
}

/* Up to max bytes of s, cut at a UTF-8 character boundary. */
static int cut(const char *s, int max)
{
	int n = (int)strlen(s);

	if (n <= max)
		return n;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

/*
 * The fields are PROTOCOL.md's ("Push events"): ESCALATION has ticket_id,
 * customer_name, level, clock, step, fraction, tier, due_at (the clock's
 * deadline), fired_at, late, nobody, summary; TASK has task_id,
 * customer_name, kind, ticket_id, due_at, late, lapsed, summary.
 */
void slactl_format_push(char *out, size_t size, const char *event, uint64_t seq, json_object *body,
                        long long now, bool color)
{
	static const char *const n_ticket[] = {"ticket_id", NULL};
	static const char *const n_customer[] = {"customer_name", "customer_id", NULL};
	json_object *v, *customer;
	char when[16], ticket[48], span[32], step[32] = "";
	const char *summary = str(body, "summary");
	long long fired = parse_time(str(body, "fired_at")), due = parse_time(str(body, "due_at"));
	time_t t = (time_t)(fired >= 0 ? fired : now);
	bool warning;
	struct tm tm;
	int n = 0;

	localtime_r(&t, &tm);
	strftime(when, sizeof when, "%H:%M:%S", &tm);
	ticket_text(member(body, n_ticket), ticket, sizeof ticket);
	customer = member(body, n_customer);
	out[0] = '\0';
	if (strcmp(event, "TASK") == 0) {
		/* announced when due: the time column says now */
		t = (time_t)now;
		localtime_r(&t, &tm);
		strftime(when, sizeof when, "%H:%M:%S", &tm);
		v = json_object_object_get_ex(body, "task_id", &v) ? v : NULL;
		add(out, size, &n, "%s  TASK #%s  %s  %s", when,
		    v ? json_object_get_string(v) : "?",
		    customer ? json_object_get_string(customer) : "-",
		    str(body, "kind") ? str(body, "kind") : "task");
		if (due >= 0) {
			struct tm dtm;
			time_t dt = (time_t)due;
			char d[32];

			localtime_r(&dt, &dtm);
			strftime(d, sizeof d,
			         dtm.tm_yday == tm.tm_yday && dtm.tm_year == tm.tm_year
			             ? "%H:%M"
			             : "%Y-%m-%d %H:%M",
			         &dtm);
			add(out, size, &n, "  due %s", d);
		}
		if (member(body, n_ticket))
			add(out, size, &n, "  %s", ticket);
		if (flag(body, "lapsed"))
			add(out, size, &n, "  %sLAPSED%s", color ? "\033[1;31m" : "",
			    color ? "\033[0m" : "");
		if (flag(body, "late"))
			add(out, size, &n, "  (late)");
		if (summary)
			add(out, size, &n, "  %.*s", cut(summary, 60), summary);
		return;
	}
	if (strcmp(event, "ESCALATION") != 0) {
		/* PROTOCOL.md: receipt events you do not know, show them plainly */
		add(out, size, &n, "%s  %s %llu  %s", when, event, (unsigned long long)seq,
		    json_object_to_json_string_ext(body, JSON_FLAGS));
		return;
	}
	v = json_object_object_get_ex(body, "step", &v) ? v : NULL;
	for (const char *p = v ? json_object_get_string(v) : "step"; *p && strlen(step) < 20; p++)
		step[strlen(step)] = (char)toupper((unsigned char)*p);
	warning = strcmp(step, "WARNING") == 0;
	if (warning && json_object_object_get_ex(body, "fraction", &v))
		snprintf(step + strlen(step), sizeof step - strlen(step), " %.0f%%",
		         json_object_get_double(v) * 100);
	v = json_object_object_get_ex(body, "level", &v) ? v : NULL;
	add(out, size, &n, "%s  %s  %s  L%s  %s %s%s%s", when, ticket,
	    customer ? json_object_get_string(customer) : "-", v ? json_object_get_string(v) : "?",
	    str(body, "clock") ? str(body, "clock") : "clock",
	    color ? (warning ? "\033[33m" : "\033[1;31m") : "", step, color ? "\033[0m" : "");
	/* how late against the clock's deadline, or how long is left */
	if (due >= 0 && now >= due) {
		span_text(now - due, span, sizeof span);
		add(out, size, &n, " +%s", span);
	} else if (due >= 0) {
		span_text(due - now, span, sizeof span);
		add(out, size, &n, " %s left", span);
	}
	if (str(body, "tier"))
		add(out, size, &n, "  -> %s", str(body, "tier"));
	if (flag(body, "nobody"))
		add(out, size, &n, " (nobody there: climbed)");
	if (flag(body, "late"))
		add(out, size, &n, "  (late)");
	if (summary)
		add(out, size, &n, "  %.*s", cut(summary, 60), summary);
}

static void on_push(void *arg, const char *event, uint64_t seq, json_object *body)
{
	struct watch *w = arg;
	char line[1024];

	if (w->json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "event", json_object_new_string(event));
		json_object_object_add(o, "seq", json_object_new_uint64(seq));
		json_object_object_add(o, "body", json_object_get(body));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_FLAGS));
		json_object_put(o);
	} else {
		slactl_format_push(line, sizeof line, event, seq, body, (long long)time(NULL),
		                   w->color);
		printf("%s\n", line);
	}
	/* a line on the screen before its receipt goes out */
	fflush(stdout);
}

struct ack {
	long long ticket;
};

static void ack_done(void *arg, const struct slac_answer *ans)
{
	struct ack *a = arg;

	if (ans->err.status == SLAC_OK)
		fprintf(stderr, "acknowledged T-%lld\n", a->ticket);
	else if (ans->err.status == SLAC_ERR_SERVER)
		fprintf(stderr, "error: %s %s (T-%lld not acknowledged)\n",
		        proto_err_name(ans->err.code), ans->err.message, a->ticket);
	else
		fprintf(stderr, "error: T-%lld: %s\n", a->ticket, ans->err.message);
	free(a);
}

/* "1042", "T-1042", "t1042", "#1042" -> 1042; -1 if not a ticket. */
static long long ticket_arg(const char *s)
{
	char *end;
	long long v;

	if (*s == 'T' || *s == 't')
		s++;
	if (*s == '-' || *s == '#')
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	return errno || *end || v <= 0 ? -1 : v;
}

/* One typed command; 1 to stop watching. */
static int command(struct watch *w, char *text)
{
	char *word = strtok(text, " \t\r"), *arg = strtok(NULL, " \t\r");
	json_object *body;
	struct ack *a;

	if (!word)
		return 0;
	if (strcmp(word, "q") == 0 || strcmp(word, "quit") == 0 || strcmp(word, "exit") == 0)
		return 1;
	if (strcmp(word, "a") != 0 && strcmp(word, "ack") != 0 &&
	    strcmp(word, "acknowledge") != 0) {
		fprintf(stderr, "commands: a TICKET (acknowledge), q (quit)\n");
		return 0;
	}
	if (!arg || ticket_arg(arg) < 0 || strtok(NULL, " \t\r")) {
		fprintf(stderr, "usage: a TICKET   e.g. a 1042\n");
		return 0;
	}
	a = malloc(sizeof *a);
	body = json_object_new_object();
	if (!a || !body) {
		free(a);
		json_object_put(body);
		return 0;
	}
	a->ticket = ticket_arg(arg);
	json_object_object_add(body, "ticket_id", json_object_new_int64(a->ticket));
	if (!slac_client_submit(w->c, "ACKNOWLEDGE", body, ack_done, a)) {
		fprintf(stderr, "error: %s\n",
		        slac_session_error(slac_client_session(w->c))->message);
		free(a);
	}
	json_object_put(body);
	return 0;
}

static int on_stdin(void *arg)
{
	struct watch *w = arg;
	char buf[256];
	ssize_t n = read(STDIN_FILENO, buf, sizeof buf);

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -1;
	if (n == 0)
		return w->tty_in ? 1 : -1; /* Ctrl-D at a terminal ends the watch */
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] != '\n') {
			if (w->len + 1 < sizeof w->line)
				w->line[w->len++] = buf[i];
			else
				w->overflow = true;
			continue;
		}
		w->line[w->len] = '\0';
		w->len = 0;
		if (w->overflow) {
			w->overflow = false;
			fprintf(stderr, "line too long, ignored\n");
			continue;
		}
		if (command(w, w->line))
			return 1;
	}
	return 0;
}

static void on_link(void *arg, bool up, const struct slac_error *why)
{
	struct watch *w = arg;

	if (up) {
		fprintf(stderr, "reconnected; subscription renewed\n");
		w->downs = 0;
	} else if (w->downs++ == 0) {
		fprintf(stderr, "connection lost: %s; reconnecting\n", why->message);
	} else {
		fprintf(stderr, "still disconnected: %s\n", why->message);
	}
}

int slactl_watch(struct slac_client *c, json_object *filters, bool json)
{
	struct watch w = {.c = c, .json = json};
	struct slac_answer ans;
	struct slac_error err;
	struct sigaction sa;
	json_object *v;
	const char *nc = getenv("NO_COLOR");
	struct slac_watch_opts o = {
	    .on_push = on_push,
	    .arg = &w,
	    .extra_fd = STDIN_FILENO,
	    .on_extra = on_stdin,
	    .on_link = on_link,
	    .reconnect_max_ms = 30000,
	    .stop = &stop_flag,
	};
	json_object *hello = slac_session_hello(slac_client_session(c));

	w.color = !json && isatty(STDOUT_FILENO) && !(nc && *nc);
	w.tty_in = isatty(STDIN_FILENO);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL); /* no SA_RESTART: poll() wakes up */
	sigaction(SIGTERM, &sa, NULL);

	if (!json || w.tty_in) {
		fprintf(stderr, "watching");
		if (hello && json_object_object_get_ex(hello, "principal", &v))
			fprintf(stderr, " as %s", json_object_get_string(v));
		if (hello && json_object_object_get_ex(hello, "role", &v))
			fprintf(stderr, " (%s)", json_object_get_string(v));
		fprintf(stderr, "; type `a TICKET` + Enter to acknowledge, `q` to quit\n");
	}
	/* pushes that come with the SUBSCRIBE answer are shown too */
	slac_session_set_push_cb(slac_client_session(c), on_push, &w);
	if (slac_call(c, "SUBSCRIBE", filters, &ans, 0) != SLAC_OK) {
		int rc = ans.err.status == SLAC_ERR_SERVER ? SLACTL_EXIT_ERR : SLACTL_EXIT_CONN;

		if (ans.err.status == SLAC_ERR_SERVER)
			fprintf(stderr, "error: %s %s\n", proto_err_name(ans.err.code),
			        ans.err.message);
		else
			fprintf(stderr, "slactl: %s\n", ans.err.message);
		slac_answer_clear(&ans);
		return rc;
	}
	slac_answer_clear(&ans);
	if (slac_watch(c, &o, &err) != SLAC_OK) {
		fprintf(stderr, "slactl: %s\n", err.message);
		return SLACTL_EXIT_CONN;
	}
	return SLACTL_EXIT_OK;
}
