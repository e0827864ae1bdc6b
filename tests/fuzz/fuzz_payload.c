/*
 * fuzz_payload.c - libFuzzer target for JSON payloads and request
 * validation (proto/codec.c, proto/verbs.c).
 *
 * The first byte picks a verb of proto_verbs[]; the rest is the payload of a
 * request for it.  What parses is validated; what validates must format,
 * parse and validate again unchanged: abort() otherwise.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t count = 0;
	while (proto_verbs[count].name != NULL)
		count++;
	if (size == 0 || count == 0)
		return 0;
	const struct proto_verb *v = &proto_verbs[data[0] % count];
	size_t head = strlen(v->name) + 3; /* "p " VERB " " */
	char *line = malloc(head + size);
	if (line == NULL)
		return 0;
	snprintf(line, head + 1, "p %s ", v->name);
	memcpy(line + head, data + 1, size - 1);
	/* Without a payload when the input has none. */
	size_t len = size > 1 ? head + size - 1 : head - 1;

	struct proto_msg m, back;
	struct proto_error err;
	enum proto_err rc = proto_parse_line(line, len, PROTO_FROM_CLIENT, NULL, &m, &err);
	free(line);
	if (rc != PROTO_OK) {
		if (strcmp(err.tag, "p") != 0 || rc == PROTO_ERR_UNKNOWN_VERB)
			abort();
		return 0;
	}
	if (strcmp(m.verb, v->name) != 0)
		abort();
	rc = proto_validate_request(&m, &err);
	if (rc != PROTO_OK) {
		if (rc != err.code || strcmp(err.tag, "p") != 0 || rc == PROTO_ERR_UNKNOWN_VERB)
			abort();
		proto_msg_clear(&m);
		return 0;
	}
	size_t n;
	char *again = proto_format_request(m.tag, m.verb, m.body, &n);
	if (again == NULL)
		abort();
	if (proto_parse_line(again, n - 1, PROTO_FROM_CLIENT, NULL, &back, &err) != PROTO_OK ||
	    proto_validate_request(&back, &err) != PROTO_OK)
		abort();
	if ((m.body == NULL) != (back.body == NULL) ||
	    (m.body != NULL && !json_object_equal(m.body, back.body)))
		abort();
	free(again);
	proto_msg_clear(&back);
	proto_msg_clear(&m);
	return 0;
}
