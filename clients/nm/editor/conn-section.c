/* One conn section in, one conn section out (conn-section.h). The reading
 * is the daemon's loader; what is here is choosing the conn to import and
 * writing one back in a form that loader reads to the same map. */
#include "conn-section.h"

#include <stdbool.h>
#include <string.h>

#include "common/util.h"
#include "daemon/conn_options.h"
#include "daemon/ipsec_conf.h"

/* vpn.data keys of the plugin service, not ipsec.conf keywords: the
 * secrets (which live in vpn.secrets, and never go into a file) and their
 * -flags (NetworkManager's bookkeeping of who keeps them). */
static const char *const plugin_only_keys[] = {
	"pskvalue", "pskvalue-flags", "xauthpassword", "xauthpassword-flags",
};

static bool plugin_only(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(plugin_only_keys); i++)
		if (streq(key, plugin_only_keys[i]))
			return true;
	return false;
}

static char *join_lines(char *const *lines, size_t n)
{
	struct strbuf sb;
	strbuf_init(&sb);
	for (size_t i = 0; i < n; i++)
		strbuf_addf(&sb, "%s%s", i ? "\n" : "", lines[i]);
	return strbuf_steal(&sb);
}

/* The conn to import: the only one, or the only one not marked
 * auto=ignore (the way a file keeps fragments for also=). NULL with
 * *error set otherwise. */
static const struct conf_conn *pick_conn(const char *path, const struct ipsec_conf *conf, char **error)
{
	const struct conf_conn *first = NULL;
	if (conf->n_conns == 0) {
		*error = xasprintf("%s: no conn section: import takes a file with one 'conn NAME' section", path);
		return NULL;
	}
	if (conf->n_conns == 1)
		return &conf->conns[0];
	for (size_t i = 0; i < conf->n_conns; i++) {
		const struct conf_conn *c = &conf->conns[i];
		if (c->ignore)
			continue;
		if (first) {
			*error = xasprintf("%s:%u: conn %s: a second conn to import (the first is conn %s at %s:%u); "
					   "import takes one conn per file (mark the ones for also= auto=ignore)",
					   c->file, c->line, c->name, first->name, first->file, first->line);
			return NULL;
		}
		first = c;
	}
	if (!first)
		*error = xasprintf("%s: every conn is auto=ignore: nothing to import", path);
	return first;
}

struct kv {
	const char *key, *value;
};

static int cmp_kv(const void *a, const void *b)
{
	return strcmp(((const struct kv *)a)->key, ((const struct kv *)b)->key);
}

int conn_section_read(const char *path, struct conn_section *out, char **error)
{
	memset(out, 0, sizeof(*out));
	*error = NULL;
	struct ipsec_conf conf;
	struct conf_diag diag;
	if (ipsec_conf_load(path, &conf, &diag) < 0) {
		*error = join_lines(diag.lines, diag.n);
		conf_diag_free(&diag);
		return -1;
	}
	conf_diag_free(&diag);
	const struct conf_conn *c = pick_conn(path, &conf, error);
	if (!c) {
		ipsec_conf_free(&conf);
		return -1;
	}
	/* auto= says what pluto does after loading a file; under
	 * NetworkManager the tunnel goes up with `nmcli connection up` */
	_cleanup_free_ struct kv *kv = xcalloc(c->n_settings + 1, sizeof(*kv));
	size_t n = 0;
	for (size_t i = 0; i < c->n_settings; i++)
		if (!streq(c->settings[i].key, "auto"))
			kv[n++] = (struct kv){ c->settings[i].key, c->settings[i].value };
	qsort(kv, n, sizeof(*kv), cmp_kv);
	out->name = xstrdup(c->name);
	out->n = n;
	out->keys = xcalloc(n + 1, sizeof(char *));
	out->values = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		out->keys[i] = xstrdup(kv[i].key);
		out->values[i] = xstrdup(kv[i].value);
	}
	ipsec_conf_free(&conf);
	return 0;
}

/* NULL when value can stand in a file, else why not */
static const char *unwritable(const char *value)
{
	if (!*value)
		return "an empty value";
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (*p == '"')
			return "a double quote (ipsec.conf has no way to escape one)";
		if (*p == '\n' || *p == '\r')
			return "a line break";
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return "a control character";
	}
	return NULL;
}

static bool needs_quotes(const char *value)
{
	return strpbrk(value, " \t#") != NULL;
}

char *conn_section_write(const char *name, const char *const *keys, const char *const *values, size_t n,
			 char **error)
{
	*error = NULL;
	if (!valid_connection_name(name)) {
		*error = xasprintf("'%s' is not a conn name: use 1-64 letters, digits, '-', '_', '.', '+' "
				   "(rename the connection)", name);
		return NULL;
	}
	_cleanup_free_ struct kv *kv = xcalloc(n + 2, sizeof(*kv));
	size_t m = 0;
	bool have_left = false;
	for (size_t i = 0; i < n; i++) {
		if (plugin_only(keys[i]))
			continue;
		if (!connection_option_known(keys[i])) {
			*error = xasprintf("vpn.data key '%s' is not an ipsec.conf keyword", keys[i]);
			return NULL;
		}
		const char *why = unwritable(values[i]);
		if (why) {
			*error = xasprintf("vpn.data key '%s': cannot write %s in ipsec.conf", keys[i], why);
			return NULL;
		}
		have_left |= streq(keys[i], "left");
		kv[m++] = (struct kv){ keys[i], values[i] };
	}
	/* the plugin service's default made explicit: ipsec.conf needs left */
	if (!have_left)
		kv[m++] = (struct kv){ "left", "%defaultroute" };
	/* sorted: the same connection always gives the same text */
	qsort(kv, m, sizeof(*kv), cmp_kv);
	struct strbuf sb;
	strbuf_init(&sb);
	strbuf_addf(&sb, "conn %s\n", name);
	for (size_t i = 0; i < m; i++)
		strbuf_addf(&sb, needs_quotes(kv[i].value) ? "\t%s=\"%s\"\n" : "\t%s=%s\n", kv[i].key, kv[i].value);
	return strbuf_steal(&sb);
}

void conn_section_free(struct conn_section *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->keys[i]);
		free(s->values[i]);
	}
	free(s->keys);
	free(s->values);
	free(s->name);
	memset(s, 0, sizeof(*s));
}
