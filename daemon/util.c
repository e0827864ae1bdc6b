/*
 * util.c - see util.h.
 */
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

sla_time util_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (sla_time)ts.tv_sec;
}

const char *util_format_time(sla_time t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL) {
		snprintf(buf, len, "invalid");
		return buf;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int util_parse_time(const char *s, sla_time *out)
{
	int y, mo, d, h, mi, se;
	if (s == NULL || strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' ||
	    digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
		return -1;
	const char *p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	int offset = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 ||
		    om > 59)
			return -1;
		offset = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return -1;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
		return -1;
	/* days from civil (Howard Hinnant) */
	int yy = y - (mo <= 2);
	int era = (yy >= 0 ? yy : yy - 399) / 400;
	unsigned yoe = (unsigned)(yy - era * 400);
	unsigned doy = (unsigned)((153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1);
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = (int64_t)era * 146097 + (int64_t)doe - 719468;
	*out = days * 86400 + h * 3600 + mi * 60 + (se == 60 ? 59 : se) - offset;
	return 0;
}

void util_body_hash(const json_object *body, char out[65])
{
	const char *text =
	    body ? json_object_to_json_string_ext((json_object *)body, JSON_C_TO_STRING_PLAIN) : "";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL);
	for (unsigned i = 0; i < mdlen && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[64] = '\0';
}

static json_object *field(const json_object *obj, const char *key)
{
	json_object *v = NULL;
	if (obj == NULL || !json_object_object_get_ex(obj, key, &v))
		return NULL;
	if (json_object_get_type(v) == json_type_null)
		return NULL;
	return v;
}

const char *util_jstr(const json_object *obj, const char *key)
{
	json_object *v = field(obj, key);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

int64_t util_jint(const json_object *obj, const char *key, int64_t def)
{
	json_object *v = field(obj, key);
	if (v == NULL)
		return def;
	if (json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	if (json_object_is_type(v, json_type_string)) {
		char *end;
		long long x = strtoll(json_object_get_string(v), &end, 10);
		return *end == '\0' ? x : def;
	}
	return def;
}

bool util_jbool(const json_object *obj, const char *key, bool def)
{
	json_object *v = field(obj, key);
	return v && json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : def;
}

bool util_jhas(const json_object *obj, const char *key)
{
	return field(obj, key) != NULL;
}

json_object *util_jstr_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

json_object *util_jtime(sla_time t)
{
	if (t == SLA_TIME_NEVER || t <= 0)
		return NULL;
	char buf[32];
	return json_object_new_string(util_format_time(t, buf, sizeof(buf)));
}
