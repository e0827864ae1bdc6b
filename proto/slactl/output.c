/*
 * output.c - answers for people (kubectl-like tables, aligned key: value
 * lines) and for scripts (one compact JSON object per line).
 */
#include "slactl.h"

#include <stdlib.h>
#include <string.h>

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define CELL_MAX   1024

/* Code points that take two terminal columns (East Asian wide/full width:
 * customer names and symptoms are often Chinese) or none (combining). */
static int cp_width(unsigned cp)
{
	if ((cp >= 0x0300 && cp <= 0x036F) || cp == 0x200B || (cp >= 0xFE00 && cp <= 0xFE0F))
		return 0;
	if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
	    (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
	    (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
	    (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1FAFF) ||
	    (cp >= 0x20000 && cp <= 0x3FFFD))
		return 2;
	return 1;
}

size_t slactl_text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;

	while (*p) {
		unsigned cp = *p;
		int n = 0;

		if (cp >= 0xF0 && cp < 0xF8) {
			cp &= 0x07;
			n = 3;
		} else if (cp >= 0xE0) {
			cp &= 0x0F;
			n = 2;
		} else if (cp >= 0xC0) {
			cp &= 0x1F;
			n = 1;
		}
		p++;
		while (n-- > 0 && (*p & 0xC0) == 0x80)
			cp = (cp << 6) | (*p++ & 0x3F);
		w += (size_t)cp_width(cp);
	}
	return w;
}

/* Control characters would break the one-row-per-record layout. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7F)
			*s = ' ';
}

const char *slactl_cell_text(json_object *v, char *buf, size_t size)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		snprintf(buf, size, "-");
		break;
	case json_type_string:
		snprintf(buf, size, "%s", json_object_get_string(v));
		break;
	case json_type_boolean:
		snprintf(buf, size, "%s", json_object_get_boolean(v) ? "true" : "false");
		break;
	case json_type_array:
		if (json_object_array_length(v) == 0) {
			snprintf(buf, size, "-");
			break;
		}
		/* fall through */
	default:
		snprintf(buf, size, "%s", json_object_to_json_string_ext(v, JSON_FLAGS));
		break;
	}
	sanitize(buf);
	return buf;
}

static void pad(FILE *out, size_t n)
{
	while (n-- > 0)
		fputc(' ', out);
}

static bool is_table(json_object *v)
{
	size_t n;

	if (!json_object_is_type(v, json_type_array))
		return false;
	n = json_object_array_length(v);
	for (size_t i = 0; i < n; i++)
		if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_object))
			return false;
	return n > 0;
}

/* "customer_id" -> "CUSTOMER_ID": headers look like kubectl's. */
static void header_text(const char *key, char *out, size_t size)
{
	size_t i = 0;

	for (; key[i] && i + 1 < size; i++)
		out[i] = (char)(key[i] >= 'a' && key[i] <= 'z' ? key[i] - 32 : key[i]);
	out[i] = '\0';
}

static void print_table(FILE *out, json_object *rows)
{
	size_t nrows = json_object_array_length(rows), ncols = 0, cap = 8;
	const char **cols = malloc(cap * sizeof *cols);
	size_t *width = NULL;
	char buf[CELL_MAX];

	if (!cols)
		return;
	/* columns: every key, in the order first seen */
	for (size_t r = 0; r < nrows; r++) {
		json_object_object_foreach(json_object_array_get_idx(rows, r), key, val)
		{
			size_t c = 0;

			(void)val;
			while (c < ncols && strcmp(cols[c], key) != 0)
				c++;
			if (c < ncols)
				continue;
			if (ncols == cap) {
				const char **n = realloc(cols, 2 * cap * sizeof *cols);

				if (!n)
					goto done;
				cols = n;
				cap *= 2;
			}
			cols[ncols++] = key;
		}
	}
	width = calloc(ncols ? ncols : 1, sizeof *width);
	if (!width)
		goto done;
	for (size_t c = 0; c < ncols; c++)
		width[c] = strlen(cols[c]);
	for (size_t r = 0; r < nrows; r++) {
		json_object *row = json_object_array_get_idx(rows, r), *v;

		for (size_t c = 0; c < ncols; c++) {
			size_t w = 1;

			if (json_object_object_get_ex(row, cols[c], &v))
				w = slactl_text_width(slactl_cell_text(v, buf, sizeof buf));
			if (w > width[c])
				width[c] = w;
		}
	}
	for (size_t c = 0; c < ncols; c++) {
		header_text(cols[c], buf, sizeof buf);
		fputs(buf, out);
		if (c + 1 < ncols)
			pad(out, width[c] - strlen(buf) + 2);
	}
	fputc('\n', out);
	for (size_t r = 0; r < nrows; r++) {
		json_object *row = json_object_array_get_idx(rows, r), *v;

		for (size_t c = 0; c < ncols; c++) {
			const char *t = json_object_object_get_ex(row, cols[c], &v)
			                    ? slactl_cell_text(v, buf, sizeof buf)
			                    : "";

			fputs(t, out);
			if (c + 1 < ncols)
				pad(out, width[c] - slactl_text_width(t) + 2);
		}
		fputc('\n', out);
	}
	fprintf(out, "(%zu row%s)\n", nrows, nrows == 1 ? "" : "s");
done:
	free(width);
	free(cols);
}

/* key: value lines, keys aligned; an object one level down is indented. */
static void print_fields(FILE *out, json_object *o, int indent)
{
	size_t kw = 0;
	char buf[CELL_MAX];

	json_object_object_foreach(o, k0, v0)
	{
		if (!is_table(v0) && strlen(k0) > kw)
			kw = strlen(k0);
	}
	json_object_object_foreach(o, key, val)
	{
		if (is_table(val) && indent == 0)
			continue; /* tables come after the fields */
		pad(out, (size_t)indent);
		fprintf(out, "%s:", key);
		if (indent == 0 && json_object_is_type(val, json_type_object) &&
		    json_object_object_length(val) > 0) {
			fputc('\n', out);
			print_fields(out, val, indent + 2);
			continue;
		}
		pad(out, kw - strlen(key) + 1);
		fprintf(out, "%s\n", slactl_cell_text(val, buf, sizeof buf));
	}
}

void slactl_print_answer(FILE *out, json_object *body, bool json)
{
	size_t tables = 0, others = 0;

	if (json) {
		fprintf(out, "%s\n",
		        body ? json_object_to_json_string_ext(body, JSON_FLAGS) : "{}");
		return;
	}
	if (!body || !json_object_is_type(body, json_type_object) ||
	    json_object_object_length(body) == 0) {
		fprintf(out, "OK\n");
		return;
	}
	json_object_object_foreach(body, k0, v0)
	{
		(void)k0;
		if (is_table(v0))
			tables++;
		else
			others++;
	}
	/* one list and nothing else ({"tickets": [...]}): just the table */
	if (tables == 1 && others == 0) {
		json_object_object_foreach(body, k1, v1)
		{
			(void)k1;
			print_table(out, v1);
		}
		return;
	}
	print_fields(out, body, 0);
	json_object_object_foreach(body, key, val)
	{
		if (!is_table(val))
			continue;
		fprintf(out, "\n%s:\n", key);
		print_table(out, val);
	}
}
