/* Small readers of sd-bus messages that both of nm-pluto-service's bus
 * sides need (NM's connection dictionary, pluto's properties). */
#pragma once
#include <systemd/sd-bus.h>

/* a variant holding a string: *out (freed first) becomes a copy of it */
int nmp_read_variant_string(sd_bus_message *m, char **out);

/* walk a dictionary a{s<value>} whose entries have the signature ENTRY_SIG
 * ("sv", "sa{sv}"): for each, VALUE(m, key, ud) must read or skip the
 * value; a negative return stops the walk and is returned */
typedef int nmp_dict_value_fn(sd_bus_message *m, const char *key, void *ud);
int nmp_read_dict(sd_bus_message *m, const char *entry_sig, nmp_dict_value_fn *value, void *ud);

/* walk a variant holding a{ss}: PAIR(key, value, ud) for each entry; a
 * negative return stops the walk and is returned */
typedef int nmp_pair_fn(const char *key, const char *value, void *ud);
int nmp_read_variant_pairs(sd_bus_message *m, nmp_pair_fn *pair, void *ud);
