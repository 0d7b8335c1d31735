/* The kernel side ("KLIPS" in the man page): a backend installs SAs,
 * eroutes (XFRM policies) and routes. `none` negotiates but installs
 * nothing and records what it would have done. */
#pragma once
#include <stdbool.h>

#include "common/errors.h"

struct kernel_backend {
	const char *name;
	/* true when this backend can run here; *why says why not */
	bool (*available)(const char **why);
};

/* requested: "xfrm", "none", or NULL for automatic choice. Logs the
 * choice in one line. Fails only when an explicitly requested backend
 * cannot run. */
int kernel_select(const char *requested, struct ctl_error *err);
const char *kernel_backend_name(void);
/* Names accepted by --kernel, for option checking. */
bool kernel_backend_known(const char *name);
