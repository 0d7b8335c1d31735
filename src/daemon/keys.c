#include "daemon/keys.h"
EVP_PKEY *pubkey_parse(const char *text, struct ctl_error *err) { ctl_fail(err, PE_INVALID_OPTION, "key parser not built"); return 0; }
int pubkey_add(const char *id, const char *keytext, struct ctl_error *err) { return ctl_fail(err, PE_INVALID_OPTION, "key parser not built"); }
void pubkeys_clear(void) {}
