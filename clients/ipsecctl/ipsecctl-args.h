/* ipsecctl's command line: global flags anywhere, then a subcommand from
 * a table that says how many words it takes and which flags it allows. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum ctl_flag {
	CF_JSON = 1 << 0,
	CF_FILE = 1 << 1,
	CF_CONNECTION = 1 << 2,
};

struct ctl_args;
typedef int (*ctl_handler)(struct ctl_args *a);

struct ctl_command {
	const char *name;       /* "status", "keys add", ... */
	size_t min_args, max_args;  /* words after the command name */
	unsigned allowed;       /* enum ctl_flag */
	ctl_handler run;
	const char *usage;
};

struct ctl_args {
	const char *socket;
	bool json, help, version;
	const char *file, *connection;
	unsigned given;         /* enum ctl_flag seen */
	const struct ctl_command *command;
	char **words;           /* operands after the command name */
	size_t n_words;
};

/* Exit statuses (documented in ipsecctl(8)) */
enum {
	EXIT_DAEMON_ERROR = 1,  /* the daemon answered with an error */
	EXIT_USAGE = 2,         /* bad command line */
	EXIT_NO_DAEMON = 3,     /* cannot reach the daemon, or it broke the protocol */
};

/* Parse; on a usage error prints "ipsecctl: ..." to stderr and returns -1.
 * `words` points into argv and is malloc'd. */
int ctl_parse(int argc, char **argv, const struct ctl_command *table, size_t n,
	      struct ctl_args *a);
void ctl_usage(FILE *f, const struct ctl_command *table, size_t n);
