#include "daemon/secrets.h"
static const char *path;
void secrets_set_path(const char *p) { path = p; }
const char *secrets_path(void) { return path; }
int secrets_reload(struct ctl_error *err) { return ctl_fail(err, PE_INVALID_SECRETS, "secrets parser not built"); }
void secrets_clear(void) {}
