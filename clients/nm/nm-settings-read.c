/* NM's connection dictionary -> struct nmp_input (nm-settings-read.h) */
#include "nm-settings-read.h"
#include "nm-bus-read.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct kv_list {
	struct nmp_kv **out;
	size_t *n;
};

static int append_pair(const char *k, const char *v, void *ud)
{
	struct kv_list *l = ud;
	struct nmp_kv *nkv = realloc(*l->out, (*l->n + 1) * sizeof(**l->out));
	if (!nkv)
		return -ENOMEM;
	*l->out = nkv;
	nkv[*l->n].key = strdup(k);
	nkv[*l->n].value = strdup(v);
	(*l->n)++;
	if (!nkv[*l->n - 1].key || !nkv[*l->n - 1].value)
		return -ENOMEM;
	return 1;
}

static int read_dict_ss(sd_bus_message *m, struct nmp_kv **out, size_t *n)
{
	struct kv_list l = { out, n };
	return nmp_read_variant_pairs(m, append_pair, &l);
}

/* one setting's a{sv}: the keys of (setting, key) we want */
struct setting_walk {
	const char *setting;
	struct nmp_settings_read *out;
};

static int read_setting_value(sd_bus_message *m, const char *key, void *ud)
{
	const struct setting_walk *w = ud;
	struct nmp_settings_read *out = w->out;
	bool is_vpn = strcmp(w->setting, "vpn") == 0, is_con = strcmp(w->setting, "connection") == 0;
	if (is_con && strcmp(key, "uuid") == 0)
		return nmp_read_variant_string(m, &out->uuid);
	if (is_vpn && strcmp(key, "user-name") == 0)
		return nmp_read_variant_string(m, &out->user_name);
	if (is_vpn && strcmp(key, "data") == 0)
		return read_dict_ss(m, &out->data, &out->in.n_data);
	if (is_vpn && strcmp(key, "secrets") == 0)
		return read_dict_ss(m, &out->secrets, &out->in.n_secrets);
	return sd_bus_message_skip(m, "v");
}

/* the connection's a{sa{sv}}: each setting's dictionary */
static int read_setting(sd_bus_message *m, const char *setting, void *ud)
{
	struct setting_walk w = { .setting = setting, .out = ud };
	return nmp_read_dict(m, "sv", read_setting_value, &w);
}

int nmp_settings_read(sd_bus_message *m, struct nmp_settings_read *out)
{
	*out = (struct nmp_settings_read){ 0 };
	int r = nmp_read_dict(m, "sa{sv}", read_setting, out);
	out->in.uuid = out->uuid;
	out->in.user_name = out->user_name;
	out->in.data = out->data;
	out->in.secrets = out->secrets;
	if (r < 0)
		nmp_settings_read_free(out);
	return r < 0 ? r : 0;
}

static void free_kv(struct nmp_kv *kv, size_t n, bool wipe)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)kv[i].key);
		if (wipe && kv[i].value)
			explicit_bzero((char *)kv[i].value, strlen(kv[i].value));
		free((char *)kv[i].value);
	}
	free(kv);
}

void nmp_settings_read_free(struct nmp_settings_read *r)
{
	free(r->uuid);
	free(r->user_name);
	free_kv(r->data, r->in.n_data, false);
	free_kv(r->secrets, r->in.n_secrets, true);
	*r = (struct nmp_settings_read){ 0 };
}
