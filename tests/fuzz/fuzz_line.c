/*
 * fuzz_line.c - libFuzzer target for the line codec (proto/codec.c).
 *
 * The input is a byte stream as a peer would send it: framed into lines with
 * a cap taken from the first byte, and each line parsed in both directions.
 * The whole input is also parsed as one line.  Whatever parses must format
 * back to a line that parses to an equal message and formats to the same
 * bytes: abort() otherwise.  Built with replay_main.c in the normal build.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const struct proto_msg *a, const struct proto_msg *b)
{
	if (a->kind != b->kind || strcmp(a->tag, b->tag) != 0 || strcmp(a->verb, b->verb) != 0 ||
	    a->code != b->code || a->seq != b->seq)
		return false;
	if ((a->message == NULL) != (b->message == NULL) ||
	    (a->message != NULL && strcmp(a->message, b->message) != 0))
		return false;
	if ((a->body == NULL) != (b->body == NULL))
		return false;
	return a->body == NULL || json_object_equal(a->body, b->body);
}

static char *format(const struct proto_msg *m, size_t *len)
{
	switch (m->kind) {
	case PROTO_MSG_REQUEST:
		return proto_format_request(m->tag, m->verb, m->body, len);
	case PROTO_MSG_OK:
		return proto_format_ok(m->tag, m->body, len);
	case PROTO_MSG_ERR:
		return proto_format_err(m->tag, m->code, m->message, len);
	case PROTO_MSG_PUSH:
		return proto_format_push(m->verb, m->seq, m->body, len);
	}
	abort();
}

/* Parse, and on success check the round trip. */
static void parse_one(const char *line, size_t len, enum proto_direction dir,
                      const struct proto_limits *limits)
{
	struct proto_msg m, back;
	struct proto_error err, err2;
	enum proto_err rc = proto_parse_line(line, len, dir, limits, &m, &err);
	if (rc != err.code && rc != PROTO_OK)
		abort();
	if (rc != PROTO_OK) {
		if (m.body != NULL || m.message != NULL || err.tag[0] == '\0' ||
		    memchr(err.detail, '\0', sizeof(err.detail)) == NULL)
			abort();
		/* The server's answer to it must be one line. */
		size_t n;
		char *answer = proto_format_err(err.tag, rc, err.detail, &n);
		if (answer == NULL || memchr(answer, '\n', n - 1) != NULL)
			abort();
		free(answer);
		return;
	}
	if (dir == PROTO_FROM_CLIENT) {
		struct proto_error verr;
		enum proto_err v = proto_validate_request(&m, &verr);
		if (v != PROTO_OK && v != verr.code)
			abort();
	}
	size_t n1, n2;
	char *l1 = format(&m, &n1);
	if (l1 == NULL || n1 == 0 || l1[n1 - 1] != '\n' || memchr(l1, '\n', n1 - 1) != NULL)
		abort();
	if (proto_parse_line(l1, n1 - 1, dir, NULL, &back, &err2) != PROTO_OK)
		abort();
	if (!same(&m, &back))
		abort();
	char *l2 = format(&back, &n2);
	if (l2 == NULL || n1 != n2 || memcmp(l1, l2, n1) != 0)
		abort();
	free(l1);
	free(l2);
	proto_msg_clear(&back);
	proto_msg_clear(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	if (size == 0)
		return 0;
	/* A small cap from the first byte reaches every framing branch. */
	struct proto_limits small = {1 + data[0] % 128, 1 + data[0] % 5};
	size_t pos = 1;
	bool discarding = false;
	while (pos < size) {
		size_t line_len = 0, used = 0;
		enum proto_frame f =
		    proto_frame_next(buf + pos, size - pos, small.max_line, &line_len, &used);
		if (used > size - pos || line_len > used || line_len > small.max_line)
			abort();
		if (f == PROTO_FRAME_NEED_MORE)
			break;
		if (used == 0)
			abort();
		if (f == PROTO_FRAME_TOO_LONG) {
			/* As a server does: answer once, drop through the LF. */
			pos += used;
			discarding = true;
			continue;
		}
		if (!discarding && line_len > 0) {
			parse_one(buf + pos, line_len, PROTO_FROM_CLIENT, &small);
			parse_one(buf + pos, line_len, PROTO_FROM_SERVER, &small);
		}
		discarding = false;
		pos += used;
	}
	parse_one(buf, size, PROTO_FROM_CLIENT, NULL);
	parse_one(buf, size, PROTO_FROM_SERVER, NULL);

	/* Any text as an ERR message still makes one parseable answer. */
	char *text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, buf, size);
	text[size] = '\0';
	size_t n;
	char *answer = proto_format_err("t1", PROTO_ERR_INTERNAL, text, &n);
	struct proto_msg m;
	struct proto_error err;
	if (answer == NULL ||
	    proto_parse_line(answer, n - 1, PROTO_FROM_SERVER, NULL, &m, &err) != PROTO_OK)
		abort();
	if (m.kind != PROTO_MSG_ERR || m.code != PROTO_ERR_INTERNAL || m.message[0] == ' ')
		abort();
	proto_msg_clear(&m);
	free(answer);
	free(text);
	return 0;
}
