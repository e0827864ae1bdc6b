/*
 * output.c - answers for people (kubectl-like tables, aligned key: value
 * lines), for scripts (one compact JSON object per line) and for
 * spreadsheets (RFC 4180 CSV).
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

/* An object whose members are all plain values (no object, no array), such
 * as COMPLIANCE's {"met":1,"breached":0,"median_minutes":12,...}. */
static bool is_flat_object(json_object *v)
{
	if (!json_object_is_type(v, json_type_object) || json_object_object_length(v) == 0)
		return false;
	json_object_object_foreach(v, key, val)
	{
		(void)key;
		if (json_object_is_type(val, json_type_object) ||
		    json_object_is_type(val, json_type_array))
			return false;
	}
	return true;
}

/* A table cell: a flat object is its values joined by '/' ("1/0/12/12"),
 * so that a row stays one line; the legend under the table names them. */
static const char *table_cell_text(json_object *v, char *buf, size_t size)
{
	char part[CELL_MAX];
	size_t n = 0;

	if (!is_flat_object(v))
		return slactl_cell_text(v, buf, size);
	buf[0] = '\0';
	json_object_object_foreach(v, key, val)
	{
		int k;

		(void)key;
		k = snprintf(buf + n, size - n, "%s%s", n ? "/" : "",
		             slactl_cell_text(val, part, sizeof part));
		if (k < 0 || (size_t)k >= size - n)
			break;
		n += (size_t)k;
	}
	return buf;
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
				w = slactl_text_width(table_cell_text(v, buf, sizeof buf));
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
			                    ? table_cell_text(v, buf, sizeof buf)
			                    : "";

			fputs(t, out);
			if (c + 1 < ncols)
				pad(out, width[c] - slactl_text_width(t) + 2);
		}
		fputc('\n', out);
	}
	fprintf(out, "(%zu row%s)\n", nrows, nrows == 1 ? "" : "s");
	/* the legend of the columns shown as a/b/c: their members' names */
	for (size_t c = 0; c < ncols; c++) {
		for (size_t r = 0; r < nrows; r++) {
			json_object *v;
			size_t n = 0;

			if (!json_object_object_get_ex(json_object_array_get_idx(rows, r), cols[c],
			                               &v) ||
			    !is_flat_object(v))
				continue;
			header_text(cols[c], buf, sizeof buf);
			fprintf(out, "%s: ", buf);
			json_object_object_foreach(v, key, val)
			{
				(void)val;
				fprintf(out, "%s%s", n++ ? "/" : "", key);
			}
			fputc('\n', out);
			break;
		}
	}
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

/* ---- CSV (RFC 4180) ---- */

void slactl_csv_field(FILE *out, const char *text)
{
	if (strpbrk(text, ",\"\r\n") == NULL) {
		fputs(text, out);
		return;
	}
	fputc('"', out);
	for (const char *p = text; *p; p++) {
		if (*p == '"')
			fputc('"', out);
		fputc(*p, out);
	}
	fputc('"', out);
}

/* One row flattened: column names (malloc'd) and their values (borrowed). */
struct flat {
	char **names;
	json_object **vals;
	size_t n, cap;
};

static void flat_clear(struct flat *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->names[i]);
	free(f->names);
	free(f->vals);
	memset(f, 0, sizeof *f);
}

static int flat_add(struct flat *f, const char *name, json_object *val)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 16;
		char **names = realloc(f->names, cap * sizeof *names);
		json_object **vals;

		if (!names)
			return -1;
		f->names = names;
		vals = realloc(f->vals, cap * sizeof *vals);
		if (!vals)
			return -1;
		f->vals = vals;
		f->cap = cap;
	}
	f->names[f->n] = strdup(name);
	if (!f->names[f->n])
		return -1;
	f->vals[f->n++] = val;
	return 0;
}

/* Nested objects become prefix_key columns: {"response":{"met":1}} is
 * response_met.  An empty object stays one column ("{}"). */
static int flatten(struct flat *f, const char *prefix, json_object *o)
{
	json_object_object_foreach(o, key, val)
	{
		char name[512];

		snprintf(name, sizeof name, "%s%s%s", prefix, prefix[0] ? "_" : "", key);
		if (json_object_is_type(val, json_type_object) &&
		    json_object_object_length(val) > 0) {
			if (flatten(f, name, val) < 0)
				return -1;
		} else if (flat_add(f, name, val) < 0) {
			return -1;
		}
	}
	return 0;
}

/* A value as a CSV field's text: null is empty, strings as they are,
 * arrays and objects as compact JSON. */
static const char *csv_text(json_object *v, char *buf, size_t size)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "";
	case json_type_string:
		return json_object_get_string(v);
	case json_type_boolean:
		return json_object_get_boolean(v) ? "true" : "false";
	default:
		snprintf(buf, size, "%s", json_object_to_json_string_ext(v, JSON_FLAGS));
		return buf;
	}
}

static bool is_row_array(json_object *v)
{
	if (!json_object_is_type(v, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(v); i++)
		if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_object))
			return false;
	return true;
}

/* rows[]: a header of every column, in the order first seen, then one
 * line per row; a column a row lacks is an empty field. */
static int print_csv_rows(FILE *out, json_object *const *rows, size_t nrows)
{
	struct flat *flats = calloc(nrows ? nrows : 1, sizeof *flats);
	struct flat cols = {0};
	char buf[CELL_MAX];
	int rc = -1;

	if (!flats)
		return -1;
	for (size_t r = 0; r < nrows; r++) {
		if (flatten(&flats[r], "", rows[r]) < 0)
			goto done;
		for (size_t i = 0; i < flats[r].n; i++) {
			size_t c = 0;

			while (c < cols.n && strcmp(cols.names[c], flats[r].names[i]) != 0)
				c++;
			if (c == cols.n && flat_add(&cols, flats[r].names[i], NULL) < 0)
				goto done;
		}
	}
	if (cols.n == 0) {
		rc = 0;
		goto done;
	}
	for (size_t c = 0; c < cols.n; c++) {
		if (c)
			fputc(',', out);
		slactl_csv_field(out, cols.names[c]);
	}
	fputs("\r\n", out);
	for (size_t r = 0; r < nrows; r++) {
		for (size_t c = 0; c < cols.n; c++) {
			size_t i = 0;

			if (c)
				fputc(',', out);
			while (i < flats[r].n && strcmp(flats[r].names[i], cols.names[c]) != 0)
				i++;
			if (i < flats[r].n)
				slactl_csv_field(out, csv_text(flats[r].vals[i], buf, sizeof buf));
		}
		fputs("\r\n", out);
	}
	rc = 0;
done:
	for (size_t r = 0; r < nrows; r++)
		flat_clear(&flats[r]);
	free(flats);
	flat_clear(&cols);
	return rc;
}

static void print_csv(FILE *out, FILE *note, json_object *body)
{
	json_object *table = NULL, **rows;
	size_t tables = 0, n;
	char buf[CELL_MAX];

	if (!body || !json_object_is_type(body, json_type_object))
		return;
	json_object_object_foreach(body, k0, v0)
	{
		(void)k0;
		if (is_row_array(v0)) {
			table = v0;
			tables++;
		}
	}
	if (tables != 1) {
		/* no list, or several: the answer is one row of itself */
		if (print_csv_rows(out, &body, 1) < 0)
			fputs("slactl: out of memory\n", note);
		return;
	}
	/* the other members (LIST's next_after_id) for the person, not the file */
	json_object_object_foreach(body, key, val)
	{
		if (val != table)
			fprintf(note, "%s: %s\n", key, slactl_cell_text(val, buf, sizeof buf));
	}
	n = json_object_array_length(table);
	rows = calloc(n ? n : 1, sizeof *rows);
	if (!rows) {
		fputs("slactl: out of memory\n", note);
		return;
	}
	for (size_t i = 0; i < n; i++)
		rows[i] = json_object_array_get_idx(table, i);
	if (print_csv_rows(out, rows, n) < 0)
		fputs("slactl: out of memory\n", note);
	free(rows);
}

void slactl_print_answer(FILE *out, FILE *note, json_object *body, enum slactl_format fmt)
{
	size_t tables = 0, others = 0;

	if (fmt == SLACTL_FORMAT_CSV) {
		print_csv(out, note, body);
		return;
	}
	if (fmt == SLACTL_FORMAT_JSON) {
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
	/* one list and nothing else ({"tickets": [...]}): just the table, or
	 * how many rows it has when it is empty */
	if (tables == 0 && others == 1) {
		json_object_object_foreach(body, k2, v2)
		{
			(void)k2;
			if (json_object_is_type(v2, json_type_array) &&
			    json_object_array_length(v2) == 0) {
				fprintf(out, "(0 rows)\n");
				return;
			}
		}
	}
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
