/* NetworkManager's connection settings -> what pluto is asked (pure: no
 * D-Bus, no I/O, unit-tested in tests/unit/test-nm-settings.c).
 *
 * NM hands the plugin the connection as a{sa{sv}}; the plugin's D-Bus glue
 * (nm-vpn-plugin.c) copies the parts that matter into struct nmp_input:
 * the connection's uuid, the vpn setting's user-name, its data (vpn.data,
 * a{ss}: the option vocabulary of API.md section 1 plus the secrets'
 * "-flags") and its secrets (vpn.secrets, a{ss}: pskvalue, xauthpassword).
 * This file turns that into a pluto connection (name "nm-<uuid>", an option
 * map that pluto's own parser accepted) and the secrets to hand over with
 * SetSecret, or into an error that names the offending key. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* NetworkManager's NMSettingSecretFlags (libnm nm-setting.h) */
enum {
	NMP_SECRET_FLAG_AGENT_OWNED = 0x1,   /* a user's secret agent keeps it */
	NMP_SECRET_FLAG_NOT_SAVED = 0x2,     /* asked each time, never stored */
	NMP_SECRET_FLAG_NOT_REQUIRED = 0x4,  /* may be absent */
	NMP_SECRET_FLAG_ALL = 0x7,
};

struct nmp_kv {
	const char *key, *value;
};

struct nmp_input {
	const char *uuid;             /* connection.uuid */
	const char *user_name;        /* vpn.user-name, or NULL */
	const struct nmp_kv *data;    /* vpn.data */
	size_t n_data;
	const struct nmp_kv *secrets; /* vpn.secrets */
	size_t n_secrets;
};

/* The secrets the plugin knows (NetworkManager-libreswan's names), in the
 * order they are handed to pluto. */
enum nmp_secret_id { NMP_SECRET_PSK, NMP_SECRET_XAUTH, NMP_SECRET_COUNT };

struct nmp_secret {
	const char *name;      /* vpn.secrets key: "pskvalue", "xauthpassword" */
	const char *kind;      /* SetSecret kind: "psk", "xauth" */
	bool wanted;           /* this connection uses it (authby, xauthclient) */
	unsigned flags;        /* NMP_SECRET_FLAG_* from "<name>-flags" */
	char *value;           /* from vpn.secrets, or NULL */
	char *ids[2];          /* SetSecret / DeleteSecret ids */
	size_t n_ids;
};

struct nmp_request {
	char *name;            /* pluto connection name: nm-<uuid> */
	char **keys, **values; /* the option map for AddConnection */
	size_t n;
	char *right;           /* the gateway address as given */
	char *rightsubnet;     /* or NULL */
	bool modecfg;          /* leftmodecfgclient=yes */
	struct nmp_secret secret[NMP_SECRET_COUNT];
};

/* Build *req from *in. 0, or -1 with err naming the key that is wrong
 * (unknown, refused, bad value, missing), and *req empty. Secrets are
 * never part of the message. */
int nmp_settings_translate(const struct nmp_input *in, struct nmp_request *req, char *err,
			   size_t errlen);
void nmp_request_free(struct nmp_request *req);

/* Is secret s still to be obtained? (wanted, absent, and not flagged
 * NOT_REQUIRED) */
bool nmp_secret_missing(const struct nmp_secret *s);

/* NeedSecrets: "vpn" when a secret NetworkManager itself holds (flags 0:
 * system-owned) is missing, "" otherwise. Agent-owned and not-saved
 * secrets are not asked here: NM's agents only learn the names of a
 * plugin's secrets from the hints of SecretsRequired, so those are asked
 * during ConnectInteractive (see nmp_settings_interactive_hints). */
const char *nmp_settings_need_secrets(const struct nmp_request *req);

/* The names of the missing secrets (at most NMP_SECRET_COUNT, NULL-ended
 * in hints) for SecretsRequired; returns how many. */
size_t nmp_settings_missing_hints(const struct nmp_request *req,
				  const char *hints[NMP_SECRET_COUNT + 1]);

/* Merge the secrets of a later NewSecrets (vpn.secrets) into req. */
void nmp_settings_merge_secrets(struct nmp_request *req, const struct nmp_kv *secrets, size_t n);
