/*
 * config.c - slactl's connection settings: flags > environment > profile
 * file > defaults.
 *
 * The profile file is INI-like; a named profile takes what it leaves out
 * from [default]:
 *
 *   # comment
 *   [default]
 *   host = slad.example.net
 *   ca = ca.pem               # relative paths: next to the profile file
 *   [alice]
 *   cert = ~/certs/alice.pem
 */
#include "slactl.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *option, *profile, *env;
} keys[SLACTL_KEY_COUNT] = {
    [SLACTL_HOST] = {"host", "host", "SLACTL_HOST"},
    [SLACTL_PORT] = {"port", "port", "SLACTL_PORT"},
    [SLACTL_CERT] = {"cert", "cert", "SLACTL_CERT"},
    [SLACTL_KEY] = {"key", "key", "SLACTL_KEY"},
    [SLACTL_CA] = {"ca", "ca", "SLACTL_CA"},
    [SLACTL_SERVER_NAME] = {"server-name", "server_name", "SLACTL_SERVER_NAME"},
    [SLACTL_TIMEOUT] = {"timeout", "timeout", "SLACTL_TIMEOUT"},
};

/* Settings that name files: relative to the profile file's folder. */
static bool key_is_path(enum slactl_key k)
{
	return k == SLACTL_CERT || k == SLACTL_KEY || k == SLACTL_CA;
}

const char *slactl_key_option(enum slactl_key k)
{
	return keys[k].option;
}

const char *slactl_key_profile(enum slactl_key k)
{
	return keys[k].profile;
}

const char *slactl_key_env(enum slactl_key k)
{
	return keys[k].env;
}

static int set_value(struct slactl_setting *s, const char *value, const char *source)
{
	char *copy = strdup(value);

	if (!copy)
		return -1;
	free(s->value);
	s->value = copy;
	s->source = source;
	return 0;
}

int slactl_conf_set_flag(struct slactl_conf *conf, enum slactl_key k, const char *value)
{
	return set_value(&conf->set[k], value, "flag");
}

int slactl_profiles_path(char *out, size_t size)
{
	const char *p = getenv("SLACTL_PROFILES");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	int n;

	if (p && *p)
		n = snprintf(out, size, "%s", p);
	else if (xdg && *xdg)
		n = snprintf(out, size, "%s/slactl/profiles", xdg);
	else if (home && *home)
		n = snprintf(out, size, "%s/.config/slactl/profiles", home);
	else
		return -1;
	return n > 0 && (size_t)n < size ? 0 : -1;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* "~/x" -> "$HOME/x"; "x" -> "<dir>/x"; absolute paths as they are. */
static int expand_path(const char *value, const char *dir, char *out, size_t size)
{
	const char *home = getenv("HOME");
	int n;

	if (value[0] == '~' && value[1] == '/' && home)
		n = snprintf(out, size, "%s%s", home, value + 1);
	else if (value[0] != '/' && dir)
		n = snprintf(out, size, "%s/%s", dir, value);
	else
		n = snprintf(out, size, "%s", value);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

static int find_key(const char *name)
{
	for (int k = 0; k < SLACTL_KEY_COUNT; k++)
		if (strcmp(name, keys[k].profile) == 0 || strcmp(name, keys[k].option) == 0)
			return k;
	return -1;
}

/*
 * Read section `want` of the profile file into the settings still unset.
 * 1 if the section was found, 0 if not (or no file), -1 on an error.
 */
static int read_profile(struct slactl_conf *conf, const char *path, const char *want,
                        const char *source, char *err, size_t errsize)
{
	FILE *f = fopen(path, "r");
	char line[1024], dir[PATH_MAX];
	bool in = false, found = false;
	int lineno = 0;
	char *slash;

	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errsize, "cannot read profile file %s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(dir, sizeof dir, "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof dir, ".");
	while (fgets(line, sizeof line, f)) {
		char *s, *eq, *name, *value, *hash;
		char full[PATH_MAX];
		int k;

		lineno++;
		/* comments: '#' or ';' at the start, or " #" inside */
		if ((hash = strstr(line, " #")) != NULL)
			*hash = '\0';
		s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');

			if (!end || end[1] != '\0') {
				snprintf(err, errsize, "%s:%d: a section is written [name]", path,
				         lineno);
				goto fail;
			}
			*end = '\0';
			in = strcmp(trim(s + 1), want) == 0;
			found = found || in;
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errsize, "%s:%d: expected key = value", path, lineno);
			goto fail;
		}
		*eq = '\0';
		name = trim(s);
		value = trim(eq + 1);
		k = find_key(name);
		if (k < 0) {
			snprintf(err, errsize,
			         "%s:%d: unknown key '%s' (host, port, cert, key, ca, server_name, "
			         "timeout)",
			         path, lineno, name);
			goto fail;
		}
		if (!in || conf->set[k].value)
			continue;
		if (key_is_path((enum slactl_key)k)) {
			if (expand_path(value, dir, full, sizeof full) < 0) {
				snprintf(err, errsize, "%s:%d: path too long", path, lineno);
				goto fail;
			}
			value = full;
		}
		if (set_value(&conf->set[k], value, source) < 0) {
			snprintf(err, errsize, "out of memory");
			goto fail;
		}
	}
	fclose(f);
	return found ? 1 : 0;
fail:
	fclose(f);
	return -1;
}

int slactl_conf_resolve(struct slactl_conf *conf, char *err, size_t errsize)
{
	static char source[96];
	static const char default_source[] = "profile default";
	const char *name = conf->profile;
	char path[PATH_MAX];
	bool named = true;
	int rc;

	for (int k = 0; k < SLACTL_KEY_COUNT; k++) {
		const char *v = getenv(keys[k].env);

		if (!conf->set[k].value && v && *v &&
		    set_value(&conf->set[k], v, "environment") < 0)
			goto nomem;
	}
	if (!name || !*name)
		name = getenv("SLACTL_PROFILE");
	if (!name || !*name) {
		name = "default";
		named = false;
	}
	snprintf(source, sizeof source, "profile %s", name);
	if (slactl_profiles_path(path, sizeof path) == 0) {
		rc = read_profile(conf, path, name, source, err, errsize);
		if (rc < 0)
			return -1;
		if (rc == 0 && named) {
			snprintf(err, errsize, "no profile [%s] in %s", name, path);
			return -1;
		}
		/* [default] fills in what a named profile leaves out */
		if (strcmp(name, "default") != 0 &&
		    read_profile(conf, path, "default", default_source, err, errsize) < 0)
			return -1;
	} else if (named) {
		snprintf(err, errsize,
		         "profile %s named, but no profile file (set HOME or "
		         "SLACTL_PROFILES)",
		         name);
		return -1;
	}
	if (!conf->set[SLACTL_HOST].value &&
	    set_value(&conf->set[SLACTL_HOST], "localhost", "default") < 0)
		goto nomem;
	if (!conf->set[SLACTL_PORT].value &&
	    set_value(&conf->set[SLACTL_PORT], SLAC_PORT_DEFAULT, "default") < 0)
		goto nomem;
	if (conf->set[SLACTL_TIMEOUT].value) {
		char *end;
		double t;

		errno = 0;
		t = strtod(conf->set[SLACTL_TIMEOUT].value, &end);
		if (errno || end == conf->set[SLACTL_TIMEOUT].value || *end || !(t > 0) ||
		    t > 86400) {
			snprintf(err, errsize,
			         "timeout (from %s): expected seconds, 0 < t <= 86400",
			         conf->set[SLACTL_TIMEOUT].source);
			return -1;
		}
	}
	return 0;
nomem:
	snprintf(err, errsize, "out of memory");
	return -1;
}

struct slac_profile slactl_conf_profile(const struct slactl_conf *conf)
{
	struct slac_profile p = {
	    .host = conf->set[SLACTL_HOST].value,
	    .port = conf->set[SLACTL_PORT].value,
	    .cert = conf->set[SLACTL_CERT].value,
	    .key = conf->set[SLACTL_KEY].value,
	    .ca = conf->set[SLACTL_CA].value,
	    .server_name = conf->set[SLACTL_SERVER_NAME].value,
	    .timeout_ms = 0,
	    .client_name = "slactl/" SLACTL_VERSION,
	};

	if (conf->set[SLACTL_TIMEOUT].value)
		p.timeout_ms = (int)(strtod(conf->set[SLACTL_TIMEOUT].value, NULL) * 1000 + 0.5);
	if (p.timeout_ms <= 0 && conf->set[SLACTL_TIMEOUT].value)
		p.timeout_ms = 1;
	return p;
}

void slactl_conf_free(struct slactl_conf *conf)
{
	for (int k = 0; k < SLACTL_KEY_COUNT; k++) {
		free(conf->set[k].value);
		conf->set[k].value = NULL;
	}
}
