/* ipsecctl list-algs: every algorithm pluto accepts, read from the one
 * algorithm table (policy/algs.h) that the daemon parses ike=, esp=, ah=
 * and pfsgroup= with, so the list cannot drift from what is accepted. */
#include "ipsecctl-show.h"

#include <string.h>

#include "policy/algs.h"

/* Where a row may be used: one section of the text output each. */
struct use {
	const char *title;
	const char *json;       /* member of the row's "uses" in --json */
	enum alg_kind kind;
	size_t id_offset;       /* offsetof the IKEv1 number that must be set */
};

static const struct use uses[] = {
	{ "IKE encryption (ike=)", "ike", ALG_CIPHER, offsetof(struct alg, ike_id) },
	{ "IKE hash and PRF (ike=)", "ike", ALG_HASH, offsetof(struct alg, ike_id) },
	{ "IKE DH groups (ike=, and pfsgroup= for PFS)", "ike", ALG_DH, offsetof(struct alg, ike_id) },
	{ "ESP encryption (esp=, with an integrity algorithm)", "esp", ALG_CIPHER, offsetof(struct alg, esp_id) },
	{ "ESP AES-GCM (esp=, alone or with \"null\" integrity)", "esp", ALG_AEAD, offsetof(struct alg, esp_id) },
	{ "ESP integrity (esp=)", "esp", ALG_HASH, offsetof(struct alg, esp_id) },
	{ "AH integrity (ah=)", "ah", ALG_HASH, offsetof(struct alg, ah_id) },
};

static const char *const kind_names[] = {
	[ALG_CIPHER] = "cipher", [ALG_AEAD] = "aead", [ALG_HASH] = "hash", [ALG_DH] = "dh",
};

static unsigned use_id(const struct alg *a, const struct use *u)
{
	unsigned id;
	memcpy(&id, (const char *)a + u->id_offset, sizeof(id));
	return id;
}

/* A spelling as people read it: the key-length slot '%' shown as KEY */
static void spelling_text(const char *pattern, char *buf, size_t len)
{
	const char *pct = strchr(pattern, '%');
	if (pct)
		snprintf(buf, len, "%.*s[KEY]%s", (int)(pct - pattern), pattern, pct + 1);
	else
		snprintf(buf, len, "%s", pattern);
}

static void key_text(const struct alg *a, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	if (!a->key_bits)
		return;
	if (!a->key_sizes[0]) {
		snprintf(buf, len, "key %u", a->key_bits);
		return;
	}
	used += (size_t)snprintf(buf, len, "keys");
	for (size_t i = 0; i < ALG_KEY_SIZES_MAX && a->key_sizes[i] && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s %u%s", i ? "," : "", a->key_sizes[i],
					 a->key_sizes[i] == a->key_bits ? " (default)" : "");
}

void algs_print(FILE *f)
{
	size_t n;
	const struct alg *table = alg_table_get(&n);
	for (size_t u = 0; u < sizeof(uses) / sizeof(uses[0]); u++) {
		fprintf(f, "%s%s:\n", u ? "\n" : "", uses[u].title);
		for (size_t i = 0; i < n; i++) {
			const struct alg *a = &table[i];
			if (a->kind != uses[u].kind || !use_id(a, &uses[u]))
				continue;
			char spellings[256] = "", one[ALG_NAME_MAX + 16], keys[96];
			size_t used = 0;
			for (size_t k = 0; k < ALG_SPELLINGS_MAX && a->spellings[k] && used < sizeof(spellings); k++) {
				spelling_text(a->spellings[k], one, sizeof(one));
				used += (size_t)snprintf(spellings + used, sizeof(spellings) - used, "%s%s", k ? ", " : "",
							 one);
			}
			key_text(a, keys, sizeof(keys));
			if (*keys)
				fprintf(f, "  %-11s %s; %s\n", a->name, spellings, keys);
			else
				fprintf(f, "  %-11s %s\n", a->name, spellings);
		}
	}
	fputs("\n[KEY] is the key length in bits, written right after the name or after \"_\"\n"
	      "(aes256, aes_256), or left out for the default; case does not matter.\n", f);
	fprintf(f, "\nDefaults: ike=%s\n          esp=%s\n          ah=%s\n", default_ike_proposals,
		default_esp_proposals, default_ah_proposals);
}

json_object *algs_json(void)
{
	size_t n;
	const struct alg *table = alg_table_get(&n);
	json_object *list = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		const struct alg *a = &table[i];
		json_object *row = json_object_new_object(), *spellings = json_object_new_array(),
			    *sizes = json_object_new_array(), *used_in = json_object_new_array();
		json_object_object_add(row, "name", json_object_new_string(a->name));
		json_object_object_add(row, "kind", json_object_new_string(kind_names[a->kind]));
		for (size_t k = 0; k < ALG_SPELLINGS_MAX && a->spellings[k]; k++) {
			char one[ALG_NAME_MAX + 16];
			spelling_text(a->spellings[k], one, sizeof(one));
			json_object_array_add(spellings, json_object_new_string(one));
		}
		json_object_object_add(row, "spellings", spellings);
		for (size_t k = 0; k < ALG_KEY_SIZES_MAX && a->key_sizes[k]; k++)
			json_object_array_add(sizes, json_object_new_int((int)a->key_sizes[k]));
		if (a->key_bits && !a->key_sizes[0])
			json_object_array_add(sizes, json_object_new_int((int)a->key_bits));
		json_object_object_add(row, "keySizes", sizes);
		if (a->key_bits)
			json_object_object_add(row, "defaultKeySize", json_object_new_int((int)a->key_bits));
		for (size_t u = 0; u < sizeof(uses) / sizeof(uses[0]); u++) {
			bool dup = false;
			for (size_t v = 0; v < u; v++)
				dup |= strcmp(uses[v].json, uses[u].json) == 0 && uses[v].kind == uses[u].kind;
			if (!dup && a->kind == uses[u].kind && use_id(a, &uses[u]))
				json_object_array_add(used_in, json_object_new_string(uses[u].json));
		}
		json_object_object_add(row, "uses", used_in);
		json_object_array_add(list, row);
	}
	json_object *defaults = json_object_new_object();
	json_object_object_add(defaults, "ike", json_object_new_string(default_ike_proposals));
	json_object_object_add(defaults, "esp", json_object_new_string(default_esp_proposals));
	json_object_object_add(defaults, "ah", json_object_new_string(default_ah_proposals));
	json_object *out = json_object_new_object();
	json_object_object_add(out, "algorithms", list);
	json_object_object_add(out, "defaults", defaults);
	return out;
}
