/* pubkey_parse on arbitrary text: accept (and then re-encode to the
 * same key) or refuse with a message; never crash or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* "%file:" would read the fuzzer's choice of files: not here */
	if (size >= 6 && memcmp(data, "%file:", 6) == 0)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct ctl_error err = { 0 };
	EVP_PKEY *k = pubkey_parse(text, &err);
	free(text);
	if (!k) {
		if (err.message[0] == '\0')
			abort();
		return 0;
	}
	/* whatever was accepted round-trips through the RFC 3110 form */
	char *b64 = pubkey_rfc3110_base64(k);
	EVP_PKEY *again = b64 ? pubkey_parse(b64, &err) : NULL;
	if (!again || EVP_PKEY_eq(k, again) != 1)
		abort();
	char id[16];
	pubkey_keyid(k, id);
	if (strlen(id) != 9 || strncmp(id, b64 + 2, 9) != 0)
		abort();
	free(b64);
	EVP_PKEY_free(again);
	EVP_PKEY_free(k);
	return 0;
}
