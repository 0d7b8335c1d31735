/* One ipsec.conf(5) conn section <-> a connection name plus an option map
 * (API.md section 1): the import and export of the NetworkManager editor
 * plugin, without GLib so the unit tests drive it directly.
 *
 * Reading goes through the daemon's own loader (daemon/ipsec_conf.h): the
 * same syntax (comments, "quoted values", conn %default, also=, include),
 * the same validation through the one option parser, the same "FILE:LINE:
 * what" messages as `pluto --check-config`. A file the plugin imports is a
 * file pluto would load. */
#pragma once
#include <stddef.h>

struct conn_section {
	char *name;
	size_t n;
	char **keys, **values;       /* n each, keys sorted */
};

/* Read path: exactly one conn (fragments with auto=ignore that others pull
 * in with also= do not count), %default and also= applied, auto= dropped
 * (NetworkManager decides when the tunnel goes up). Returns 0 with *out
 * filled, or -1 with *error (malloc'd) holding every problem, one
 * "FILE:LINE: what" per line. */
int conn_section_read(const char *path, struct conn_section *out, char **error);

/* The text of "conn NAME" with one "\tkey=value" line per key, sorted by
 * key, values quoted where they hold blanks or '#'. The plugin's own keys
 * (the secrets pskvalue and xauthpassword and their -flags) are never
 * written. Returns the text (malloc'd), or NULL with *error set when the
 * name is not a conn name, a key is not an ipsec.conf keyword, or a value
 * cannot be written (empty, a quote or a line break in it). */
char *conn_section_write(const char *name, const char *const *keys, const char *const *values, size_t n,
			 char **error);

void conn_section_free(struct conn_section *s);
