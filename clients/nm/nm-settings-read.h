/* NetworkManager's connection a{sa{sv}} (the argument of NeedSecrets,
 * Connect, ConnectInteractive, NewSecrets) -> struct nmp_input: the
 * connection's uuid and the vpn setting's user-name, data and secrets.
 * Everything else in the dictionary is skipped. */
#pragma once
#include <systemd/sd-bus.h>

#include "nm-settings.h"

/* Owns the strings nmp_input points to. */
struct nmp_settings_read {
	struct nmp_input in;
	char *uuid, *user_name;
	struct nmp_kv *data, *secrets;   /* keys and values malloc'd */
};

/* Reads the a{sa{sv}} at m's read position. 0, or a negative errno. */
int nmp_settings_read(sd_bus_message *m, struct nmp_settings_read *out);
/* Frees (and wipes the secrets). */
void nmp_settings_read_free(struct nmp_settings_read *r);
