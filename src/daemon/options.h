/* The daemon's command line (API.md section 5, FreeS/WAN ipsec_pluto(8)). */
#pragma once
#include <stdbool.h>
#include <stdio.h>

/* NAT traversal (RFC 3947/3948): the port demux opens besides the IKE
 * port, and how often the engine sends a keepalive behind a NAT. */
#define NATT_PORT_DEFAULT 4500
#define NATT_KEEPALIVE_DEFAULT 20      /* seconds, RFC 3948 4 suggests 20 */

/* --nhelpers: crypto helper threads (daemon/helpers/helpers.h) */
#define NHELPERS_MAX 64

/* --half-open-max, --half-open-per-source (daemon/ikev1/half_open.h) */
#define HALF_OPEN_MAX_LIMIT 1000000

struct pluto_options {
	bool nofork, stderrlog, uniqueids, help, version;
	const char *rundir, *ctlbase, *secretsfile, *kernel, *adns;
	const char *updown;        /* default updown command, NULL = the in-process default */
	const char *interfaces[16];
	unsigned n_interfaces;
	unsigned ikeport;
	unsigned natt_port;        /* --natt-port: NAT-T port, 0 = none (default 4500) */
	unsigned keep_alive;       /* --keep-alive: NAT-T keepalive interval in seconds */
	unsigned debug;
	int nhelpers;              /* --nhelpers N, -1 = one per CPU (the default), 0 = inline */
	bool nodbus;               /* --nodbus: run without the system bus */
	long admin_gid;            /* --admin-group NAME, -1 = root only */
	size_t dbus_max_message;   /* --dbus-max-message BYTES, 0 = dbus-daemon's default */
	unsigned half_open_max;    /* --half-open-max N, 0 = the default (1024) */
	unsigned half_open_per_source;   /* --half-open-per-source N, 0 = the default (5) */
	const char *config;        /* --config FILE: ipsec.conf(5), default PLUTO_DEFAULT_CONFIG */
	bool config_given;         /* --config was on the command line */
	bool check_config;         /* --check-config: validate the file and exit */
};

/* Parses argv (and --optionsfrom files) into *o. On error prints a message
 * naming the bad option to stderr and returns -1. */
int pluto_options_parse(int argc, char **argv, struct pluto_options *o);
void pluto_usage(FILE *f);
