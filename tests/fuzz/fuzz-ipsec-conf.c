/* The ipsec.conf(5) loader on arbitrary bytes: it must load or refuse
 * cleanly (no crash, no leak, no hang), never open a file (include is
 * refused, %file: keys are not read), and every message of a refusal must
 * name FILE:LINE; a load must give what the contract promises. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/ipsec_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipsec_conf conf;
	struct conf_diag diag;
	int r = ipsec_conf_parse_text((const char *)data, size, "fuzz", IPSEC_CONF_NO_FILES, &conf, &diag);
	if (r < 0) {
		if (diag.n == 0 || conf.n_conns || conf.conns || diag.lines[diag.n])
			abort();
		for (size_t i = 0; i < diag.n; i++)
			if (strncmp(diag.lines[i], "fuzz:", 5) != 0)
				abort();
		conf_diag_free(&diag);
		return 0;
	}
	if (diag.n || !conf.files || strcmp(conf.files[0], "fuzz") != 0)
		abort();
	for (size_t i = 0; i < conf.n_conns; i++) {
		const struct conf_conn *c = &conf.conns[i];
		if (ipsec_conf_conn(&conf, c->name) != c || !c->line || !c->file)
			abort();
		for (size_t k = 0; k < c->n_settings; k++)
			if (!c->settings[k].value[0] || !c->settings[k].line || strcmp(c->settings[k].key, "also") == 0)
				abort();
	}
	ipsec_conf_free(&conf);
	return 0;
}
