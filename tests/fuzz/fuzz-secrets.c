/* The ipsec.secrets text parser on arbitrary bytes: it must accept or
 * reject cleanly (no crash, no leak), never touch files (include and key
 * file names are refused), and a rejection must name FILE:LINE. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/secrets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct secrets s;
	struct ctl_error err = { 0 };
	int r = secrets_parse_text((const char *)data, size, "fuzz", SECRETS_NO_FILES, &s, &err);
	if (r < 0) {
		if (s.list || s.count || strncmp(err.message, "fuzz:", 5) != 0)
			abort();
		return 0;
	}
	size_t n = 0;
	for (const struct secret *e = s.list; e; e = e->next) {
		bool whole = e->kind == SECRET_PSK ? e->psk && e->psk_len
			   : e->kind == SECRET_XAUTH ? e->password && e->password_len && e->n_users
			   : e->rsa != NULL;
		if (!whole)
			abort();
		n++;
	}
	if (n != s.count)
		abort();
	secrets_free(&s);
	return 0;
}
