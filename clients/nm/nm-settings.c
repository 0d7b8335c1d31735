/* NetworkManager's vpn.data / vpn.secrets -> a pluto connection and its
 * secrets (nm-settings.h). The option map is checked by pluto's own parser
 * (daemon/conn_options.c), so a bad value is refused here, before anything
 * reaches pluto, with the same message pluto would give. */
#include "nm-settings.h"

#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "daemon/conn_options.h"

/* What the plugin does with a vpn.data key that is not a plain option. */
enum key_use { KEY_FLAGS, KEY_REFUSED };

static const struct {
	const char *key;
	enum key_use use;
	const char *why;       /* KEY_REFUSED: the message's reason */
} special_keys[] = {
	{ "pskvalue-flags",      KEY_FLAGS,   NULL },
	{ "xauthpassword-flags", KEY_FLAGS,   NULL },
	/* the plugin adds the connection and initiates it itself */
	{ "auto",                KEY_REFUSED, "the plugin initiates the connection itself (only auto=add is accepted)" },
};

/* The secrets, in enum nmp_secret_id order */
static const struct {
	const char *name, *kind;
} secret_names[NMP_SECRET_COUNT] = {
	[NMP_SECRET_PSK] = { "pskvalue", "psk" },
	[NMP_SECRET_XAUTH] = { "xauthpassword", "xauth" },
};

static const char *kv_get(const struct nmp_kv *kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (kv[i].key && streq(kv[i].key, key))
			return kv[i].value;
	return NULL;
}

static void add_option(struct nmp_request *req, const char *key, const char *value)
{
	req->keys = xrealloc(req->keys, (req->n + 1) * sizeof(char *));
	req->values = xrealloc(req->values, (req->n + 1) * sizeof(char *));
	req->keys[req->n] = xstrdup(key);
	req->values[req->n] = xstrdup(value);
	req->n++;
}

static const char *option_get(const struct nmp_request *req, const char *key)
{
	for (size_t i = 0; i < req->n; i++)
		if (streq(req->keys[i], key))
			return req->values[i];
	return NULL;
}

static int parse_flags(const char *key, const char *v, unsigned *flags, char *err, size_t errlen)
{
	unsigned long long f;
	if (!parse_uint(v, NMP_SECRET_FLAG_ALL, &f))
		return fail_msg(err, errlen,
				"vpn.data: %s=\"%s\" is not a secret flags value (0-7: 1 agent-owned, "
				"2 not-saved, 4 not-required)", key, v);
	*flags = (unsigned)f;
	return 0;
}

/* vpn.data key by key: flags to the secrets, options to the map */
static int take_data(const struct nmp_input *in, struct nmp_request *req, char *err, size_t errlen)
{
	for (size_t i = 0; i < in->n_data; i++) {
		const char *key = in->data[i].key, *value = in->data[i].value ? in->data[i].value : "";
		size_t k;
		for (k = 0; k < ARRAY_SIZE(special_keys); k++)
			if (streq(key, special_keys[k].key))
				break;
		if (k < ARRAY_SIZE(special_keys)) {
			/* auto=add is what the plugin does anyway (an imported conn
			 * section often says so): passed on */
			if (special_keys[k].use == KEY_REFUSED && streq(key, "auto") && streq(value, "add")) {
				add_option(req, key, value);
				continue;
			}
			if (special_keys[k].use == KEY_REFUSED)
				return fail_msg(err, errlen, "vpn.data: key \"%s\" is not accepted: %s", key,
						special_keys[k].why);
			for (size_t s = 0; s < NMP_SECRET_COUNT; s++) {
				size_t len = strlen(secret_names[s].name);
				if (strncmp(key, secret_names[s].name, len) == 0 && streq(key + len, "-flags") &&
				    parse_flags(key, value, &req->secret[s].flags, err, errlen) < 0)
					return -1;
			}
			continue;
		}
		for (size_t s = 0; s < NMP_SECRET_COUNT; s++)
			if (streq(key, secret_names[s].name))
				return fail_msg(err, errlen,
						"vpn.data: \"%s\" is a secret: it belongs in vpn.secrets", key);
		if (!connection_option_known(key))
			return fail_msg(err, errlen,
					"vpn.data: unknown key \"%s\" (not an option of ipsec.conf(5); "
					"see `ipsecctl list-keywords`)", key);
		if (option_get(req, key))
			return fail_msg(err, errlen, "vpn.data: key \"%s\" given twice", key);
		add_option(req, key, value);
	}
	return 0;
}

/* right= must be the gateway's address: a road warrior cannot wait for one */
static int check_gateway(struct nmp_request *req, char *err, size_t errlen)
{
	const char *right = option_get(req, "right");
	ip_address a;
	if (!right || !*right)
		return fail_msg(err, errlen, "vpn.data: \"right\" (the gateway's address) is missing");
	if (!ip_parse(right, &a))
		return fail_msg(err, errlen,
				"vpn.data: right=\"%s\" is not an IP address (the gateway's address)", right);
	req->right = xstrdup(right);
	return 0;
}

static void set_ids(struct nmp_secret *s, const char *a, const char *b)
{
	if (a)
		s->ids[s->n_ids++] = xstrdup(a);
	if (b)
		s->ids[s->n_ids++] = xstrdup(b);
}

int nmp_settings_translate(const struct nmp_input *in, struct nmp_request *req, char *err,
			   size_t errlen)
{
	*req = (struct nmp_request){ 0 };
	for (size_t s = 0; s < NMP_SECRET_COUNT; s++) {
		req->secret[s].name = secret_names[s].name;
		req->secret[s].kind = secret_names[s].kind;
	}
	if (!in->uuid || !*in->uuid)
		return fail_msg(err, errlen, "connection.uuid is missing");
	req->name = xasprintf("nm-%s", in->uuid);
	if (!valid_connection_name(req->name)) {
		fail_msg(err, errlen, "connection.uuid \"%s\" cannot name a pluto connection", in->uuid);
		goto fail;
	}
	if (take_data(in, req, err, errlen) < 0 || check_gateway(req, err, errlen) < 0)
		goto fail;
	if (!option_get(req, "left"))
		add_option(req, "left", "%defaultroute");
	/* an XAUTH client without a user name of its own: NM's vpn.user-name */
	if (option_get(req, "leftxauthclient") && streq(option_get(req, "leftxauthclient"), "yes") &&
	    !option_get(req, "leftusername") && !option_get(req, "leftxauthusername")) {
		if (!in->user_name || !*in->user_name) {
			fail_msg(err, errlen, "vpn.data: leftxauthclient=yes needs leftusername "
				 "(or the connection's vpn.user-name)");
			goto fail;
		}
		add_option(req, "leftusername", in->user_name);
	}

	struct connection_config cfg;
	struct ctl_error cerr = { 0 };
	if (connection_config_parse(&cfg, (const char *const *)req->keys,
				    (const char *const *)req->values, req->n, &cerr) < 0) {
		fail_msg(err, errlen, "vpn.data: %s", cerr.message);
		goto fail;
	}
	const struct end *left = &cfg.end[0];
	bool xauth = left->xauthclient;
	const char *user = left->username;
	req->modecfg = left->modecfgclient;
	const char *rs = option_get(req, "rightsubnet");
	req->rightsubnet = rs ? xstrdup(rs) : NULL;

	/* PSK ids as pluto's lookup sees the pair: the peer's id (rightid, else
	 * its address) and, when given, ours; XAUTH: the user name */
	struct nmp_secret *psk = &req->secret[NMP_SECRET_PSK], *xa = &req->secret[NMP_SECRET_XAUTH];
	psk->wanted = cfg.policy & POLICY_PSK;
	if (psk->wanted)
		set_ids(psk, option_get(req, "leftid"),
			option_get(req, "rightid") ? option_get(req, "rightid") : req->right);
	xa->wanted = xauth;
	if (xa->wanted)
		set_ids(xa, user, NULL);
	connection_config_free(&cfg);

	for (size_t s = 0; s < NMP_SECRET_COUNT; s++) {
		const char *v = kv_get(in->secrets, in->n_secrets, req->secret[s].name);
		if (v && *v)
			req->secret[s].value = xstrdup(v);
	}
	return 0;
fail:
	nmp_request_free(req);
	return -1;
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void nmp_request_free(struct nmp_request *req)
{
	for (size_t i = 0; i < req->n; i++) {
		free(req->keys[i]);
		free(req->values[i]);
	}
	free(req->keys);
	free(req->values);
	free(req->name);
	free(req->right);
	free(req->rightsubnet);
	for (size_t s = 0; s < NMP_SECRET_COUNT; s++) {
		wipe_free(req->secret[s].value);
		for (size_t i = 0; i < req->secret[s].n_ids; i++)
			free(req->secret[s].ids[i]);
	}
	*req = (struct nmp_request){ 0 };
}

bool nmp_secret_missing(const struct nmp_secret *s)
{
	return s->wanted && !s->value && !(s->flags & NMP_SECRET_FLAG_NOT_REQUIRED);
}

const char *nmp_settings_need_secrets(const struct nmp_request *req)
{
	for (size_t s = 0; s < NMP_SECRET_COUNT; s++) {
		const struct nmp_secret *sec = &req->secret[s];
		if (nmp_secret_missing(sec) &&
		    !(sec->flags & (NMP_SECRET_FLAG_AGENT_OWNED | NMP_SECRET_FLAG_NOT_SAVED)))
			return "vpn";
	}
	return "";
}

size_t nmp_settings_missing_hints(const struct nmp_request *req, const char *hints[NMP_SECRET_COUNT + 1])
{
	size_t n = 0;
	for (size_t s = 0; s < NMP_SECRET_COUNT; s++)
		if (nmp_secret_missing(&req->secret[s]))
			hints[n++] = req->secret[s].name;
	hints[n] = NULL;
	return n;
}

void nmp_settings_merge_secrets(struct nmp_request *req, const struct nmp_kv *secrets, size_t n)
{
	for (size_t s = 0; s < NMP_SECRET_COUNT; s++) {
		const char *v = kv_get(secrets, n, req->secret[s].name);
		if (v && *v && req->secret[s].wanted) {
			wipe_free(req->secret[s].value);
			req->secret[s].value = xstrdup(v);
		}
	}
}
