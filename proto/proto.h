/*
 * proto.h - the slad line protocol codec (proto/PROTOCOL.md).
 *
 * Pure: libc and json-c only, no I/O, no global state, bounded memory.  The
 * daemon, the client library, slactl, the benchmark and the fuzzers all go
 * through these functions, so there is one reading of the grammar.
 *
 *   request   <tag> SP <VERB> [SP <json-object>]        client -> server
 *   answer    <tag> SP OK SP <json-object>              server -> client
 *             <tag> SP ERR SP <CODE> SP <message>       server -> client
 *   push      * SP <EVENT> SP <seq> SP <json-object>    server -> client
 *
 * Lines end in LF or CRLF; the terminator is not part of the line handed to
 * proto_parse_line().
 */
#ifndef SLAD_PROTO_H
#define SLAD_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#if defined(__GNUC__)
#define PROTO_MUSTCHECK __attribute__((warn_unused_result))
#else
#define PROTO_MUSTCHECK
#endif

#define PROTO_VERSION 1
#define PROTO_MAX_LINE_DEFAULT (64 * 1024) /* bytes, terminator excluded */
#define PROTO_MAX_JSON_DEPTH 16
#define PROTO_TAG_MAX 32  /* [A-Za-z0-9._-]{1,32} */
#define PROTO_VERB_MAX 32 /* [A-Z_]{1,32} */

/* Error codes shown to clients.  Names and meanings are stable: they are part
 * of the protocol (PROTOCOL.md, "Error codes"). */
enum proto_err {
	PROTO_OK = 0,
	PROTO_ERR_SYNTAX,               /* line does not follow the grammar */
	PROTO_ERR_LINE_TOO_LONG,        /* over the line cap */
	PROTO_ERR_NUL_BYTE,             /* NUL inside a line */
	PROTO_ERR_BAD_UTF8,             /* invalid UTF-8 */
	PROTO_ERR_BAD_JSON,             /* payload is not one JSON object */
	PROTO_ERR_JSON_TOO_DEEP,        /* nesting over PROTO_MAX_JSON_DEPTH */
	PROTO_ERR_UNKNOWN_VERB,         /* verb not in the protocol */
	PROTO_ERR_MISSING_FIELD,        /* a required field is absent */
	PROTO_ERR_INVALID_FIELD,        /* wrong type or out of range */
	PROTO_ERR_UNAUTHENTICATED,      /* no usable client identity */
	PROTO_ERR_FORBIDDEN,            /* role or object check refused */
	PROTO_ERR_NOT_FOUND,            /* named object does not exist */
	PROTO_ERR_CONFLICT,             /* state conflicts with the request */
	PROTO_ERR_INVALID_TRANSITION,   /* ticket state machine refused */
	PROTO_ERR_IDEMPOTENCY_MISMATCH, /* request_id reused with another body */
	PROTO_ERR_UNAVAILABLE,          /* store unreachable: retry later */
	PROTO_ERR_RATE_LIMITED,         /* slow down, then retry */
	PROTO_ERR_NOT_IMPLEMENTED,      /* verb documented, not built yet */
	PROTO_ERR_TIMEOUT,              /* line or session deadline passed */
	PROTO_ERR_SHUTTING_DOWN,        /* server draining: reconnect elsewhere */
	PROTO_ERR_INTERNAL,             /* a bug: logged on the server */
	PROTO_ERR_COUNT
};

const char *proto_err_name(enum proto_err code);
/* Parse a code name ("BAD_JSON"); PROTO_ERR_COUNT if unknown. */
enum proto_err proto_err_parse(const char *name);
/* Whether the server keeps the connection open after sending this code. */
bool proto_err_keeps_connection(enum proto_err code);

/* Roles come from the server's records, never from a request (DESIGN.md). */
enum proto_role {
	PROTO_ROLE_HOTLINE = 1u << 0,
	PROTO_ROLE_ENGINEER = 1u << 1,
	PROTO_ROLE_MONITOR = 1u << 2,
	PROTO_ROLE_ADMIN = 1u << 3,
};
#define PROTO_ROLE_ALL                                                                             \
	(PROTO_ROLE_HOTLINE | PROTO_ROLE_ENGINEER | PROTO_ROLE_MONITOR | PROTO_ROLE_ADMIN)
const char *proto_role_name(enum proto_role role);
/* "hotline" -> PROTO_ROLE_HOTLINE; 0 if unknown. */
unsigned proto_role_parse(const char *name);

/* Which side sent a line: it decides how the first tokens are read. */
enum proto_direction {
	PROTO_FROM_CLIENT, /* requests */
	PROTO_FROM_SERVER, /* answers and pushes */
};

enum proto_msg_kind {
	PROTO_MSG_REQUEST,
	PROTO_MSG_OK,
	PROTO_MSG_ERR,
	PROTO_MSG_PUSH,
};

/* One parsed line.  Owns `body` (a json-c reference) and `message`; release
 * with proto_msg_clear(). */
struct proto_msg {
	enum proto_msg_kind kind;
	char tag[PROTO_TAG_MAX + 1];   /* REQUEST, OK, ERR */
	char verb[PROTO_VERB_MAX + 1]; /* REQUEST verb, or PUSH event name */
	enum proto_err code;           /* ERR */
	char *message;                 /* ERR: human text, NUL-terminated */
	uint64_t seq;                  /* PUSH: delivery sequence number */
	json_object *body;             /* payload object, or NULL if absent */
};

/* Where and why a line was rejected. */
struct proto_error {
	enum proto_err code;
	size_t offset;      /* byte offset in the line where it went wrong */
	char detail[128];   /* e.g. "field 'level': expected integer 1..4" */
	char tag[PROTO_TAG_MAX + 1]; /* the request's tag if it was readable,
	                              * so the ERR answer can carry it; else "*" */
};

struct proto_limits {
	size_t max_line;     /* PROTO_MAX_LINE_DEFAULT */
	int max_json_depth;  /* PROTO_MAX_JSON_DEPTH */
};
/* The defaults above. */
struct proto_limits proto_limits_default(void);

/*
 * Parse one line (terminator already removed; a trailing CR is tolerated and
 * dropped).  On success returns PROTO_OK and fills *out (clear it later).  On
 * failure returns the code, fills *err, and leaves *out empty.  Never reads
 * past line[len - 1]; `line` need not be NUL-terminated.
 *
 * JSON: strict json-c, depth-limited, one object, no trailing garbage.
 * Duplicate keys: rejected with INVALID_FIELD (json-c would keep the last one
 * silently; we refuse to guess which one the sender meant).
 */
PROTO_MUSTCHECK enum proto_err proto_parse_line(const char *line, size_t len,
                                                enum proto_direction from,
                                                const struct proto_limits *limits,
                                                struct proto_msg *out, struct proto_error *err);
void proto_msg_clear(struct proto_msg *msg);

/*
 * Framing over a byte buffer: find the next complete line.
 *   PROTO_FRAME_LINE:      *line_len bytes form a line (terminator excluded,
 *                          CR dropped); *consumed bytes to drop from buf.
 *   PROTO_FRAME_NEED_MORE: no terminator yet and still under the cap.
 *   PROTO_FRAME_TOO_LONG:  no terminator within max_line bytes; the caller
 *                          answers LINE_TOO_LONG and discards up to the next
 *                          LF (*consumed says how much may be dropped now).
 */
enum proto_frame { PROTO_FRAME_LINE, PROTO_FRAME_NEED_MORE, PROTO_FRAME_TOO_LONG };
enum proto_frame proto_frame_next(const char *buf, size_t len, size_t max_line, size_t *line_len,
                                  size_t *consumed);

/*
 * Serializers.  Each returns a malloc'd line ending in "\n" (and its length
 * without the NUL in *len), or NULL on allocation failure.  `body` may be
 * NULL where the grammar allows no payload; it is not consumed.  The message
 * of an ERR line has CR/LF replaced so one answer stays one line.
 */
char *proto_format_request(const char *tag, const char *verb, const json_object *body,
                           size_t *len);
char *proto_format_ok(const char *tag, const json_object *body, size_t *len);
char *proto_format_err(const char *tag, enum proto_err code, const char *message, size_t *len);
char *proto_format_push(const char *event, uint64_t seq, const json_object *body, size_t *len);

/* ---- the verb table: one source for server, client and slactl ---- */

enum proto_field_type {
	PROTO_FIELD_STRING,
	PROTO_FIELD_INT,
	PROTO_FIELD_BOOL,
	PROTO_FIELD_TIME,   /* RFC 3339 string, e.g. "2026-11-27T10:00:00Z" */
	PROTO_FIELD_OBJECT,
	PROTO_FIELD_ARRAY,
};

struct proto_field {
	const char *name;
	enum proto_field_type type;
	bool required;
	const char *help; /* one line for slactl --help */
};

struct proto_verb {
	const char *name;     /* "REPORT" */
	unsigned roles;       /* PROTO_ROLE_* bits allowed to call it */
	bool creating;        /* carries request_id; replays answered once */
	const char *summary;  /* one line for slactl --help */
	const struct proto_field *fields; /* terminated by {NULL} */
};

/* The table, in PROTOCOL.md order; terminated by an entry with name NULL. */
extern const struct proto_verb proto_verbs[];
const struct proto_verb *proto_verb_find(const char *name);

/*
 * Check a parsed request against its verb's fields: required present, types
 * right, no unknown fields, request_id present on creating verbs.  Value
 * ranges that need the domain (a level 1..4, a known cause) are checked here
 * too where the table says so.  PROTO_OK or the code with err filled in.
 */
PROTO_MUSTCHECK enum proto_err proto_validate_request(const struct proto_msg *msg,
                                                      struct proto_error *err);

#endif /* SLAD_PROTO_H */
