/* Small readers of sd-bus messages (nm-bus-read.h) */
#include "nm-bus-read.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nmp_read_variant_string(sd_bus_message *m, char **out)
{
	const char *s;
	int r = sd_bus_message_read(m, "v", "s", &s);
	if (r < 0)
		return r;
	free(*out);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

int nmp_read_dict(sd_bus_message *m, const char *entry_sig, nmp_dict_value_fn *value, void *ud)
{
	char array_sig[32];
	if ((size_t)snprintf(array_sig, sizeof(array_sig), "{%s}", entry_sig) >= sizeof(array_sig))
		return -EINVAL;
	int r = sd_bus_message_enter_container(m, 'a', array_sig);
	while (r >= 0) {
		const char *key;
		r = sd_bus_message_enter_container(m, 'e', entry_sig);
		if (r <= 0)
			break;   /* 0: the end of the array */
		r = sd_bus_message_read(m, "s", &key);
		if (r >= 0)
			r = value(m, key, ud);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	return r;
}

int nmp_read_variant_pairs(sd_bus_message *m, nmp_pair_fn *pair, void *ud)
{
	int r = sd_bus_message_enter_container(m, 'v', "a{ss}");
	if (r >= 0)
		r = sd_bus_message_enter_container(m, 'a', "{ss}");
	while (r >= 0) {
		const char *k, *v;
		r = sd_bus_message_read(m, "{ss}", &k, &v);
		if (r <= 0)
			break;   /* 0: the end of the array */
		r = pair(k, v, ud);
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	return r;
}
