/* Applying the configuration file (ipsec.conf(5), API.md section 5) to the
 * running daemon: start-up and Reload. Part of the control core: the
 * loader (ipsec_conf.h) reads and validates, this decides what changes,
 * through the same steps as AddConnection / DeleteConnection (control.h). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "common/errors.h"

/* The file start-up loaded and Reload reads again. */
void ctl_set_config_path(const char *path);
const char *ctl_config_path(void);

/* What the command line set, so "config setup" does not override it, and
 * where uniqueids goes (the engine's, registered by main.c: the control
 * core sees the engine only through engine.h). */
struct ctl_cmdline_setup {
	bool interfaces, uniqueids, debug;
	void (*set_uniqueids)(bool on);
};

/* Start-up with a configuration file, the way "ipsec setup" did: load the
 * file and add its conns, read the secrets, listen (unless config setup
 * listen=no), then apply each conn's auto= (route, then start) in file
 * order; one summary line. -1 with err when the file does not load (every
 * error line logged): the daemon must not come up half-configured. A conn
 * that cannot be added here (e.g. no address of this host yet) is logged
 * and skipped. */
int ctl_start_from_config(const char *path, const struct ctl_cmdline_setup *cmdline,
			  struct ctl_error *err);

struct ctl_name_list {
	char **names;
	size_t n;
};

struct ctl_reload_result {
	struct ctl_name_list added, changed, removed;
};

/* Reload: read the file again (any error: InvalidConfig "FILE:LINE: what",
 * nothing changes), then the secrets (an error: nothing changes either),
 * then apply the difference to the connections whose Source is a file:
 * unchanged ones are untouched, changed ones replaced, gone ones deleted
 * (Deletes sent, unrouted), new ones added with their auto. Connections
 * added through the API are never touched. *res is filled on success. */
int ctl_reload(struct ctl_reload_result *res, struct ctl_error *err);
/* The part of Reload after the file loaded: what the tests drive with a
 * configuration built by hand. */
struct ipsec_conf;
int ctl_reload_apply(const struct ipsec_conf *conf, struct ctl_reload_result *res, struct ctl_error *err);
void ctl_reload_result_free(struct ctl_reload_result *res);
