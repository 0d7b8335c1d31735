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
	CF_TEXT = 1 << 3,
	/* not an option: the command runs without a daemon, or connects
	 * itself (connect_daemon() in ipsecctl.c) when it needs one */
	CF_NO_DAEMON = 1 << 8,
};

struct ctl_args;
typedef int (*ctl_handler)(struct ctl_args *a);

/* One row per command. Help (ipsecctl help [COMMAND], COMMAND --help) is
 * made from the row alone: usage, then summary, then help, then the
 * options its `allowed` bits permit, so a new row is documented by what
 * it says here. summary and help may be left out (NULL). */
struct ctl_command {
	const char *name;       /* "status", "keys add", ... */
	size_t min_args, max_args;  /* words after the command name */
	unsigned allowed;       /* enum ctl_flag */
	ctl_handler run;
	const char *usage;      /* "show NAME [--json]" */
	const char *summary;    /* one line for the command list */
	const char *help;       /* more lines for COMMAND --help */
};

struct ctl_args {
	const char *socket;
	bool json, help, version;   /* help: with command set, that command's help */
	bool text;              /* --text: status --json with the whack text */
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
/* The list of commands with their summaries */
void ctl_usage(FILE *f, const struct ctl_command *table, size_t n);
/* One command's usage, summary, help and options */
void ctl_command_help(FILE *f, const struct ctl_command *c);
/* The command a name or two words ("keys add") select; NULL if none.
 * *used gets the number of words taken (1 or 2). */
const struct ctl_command *ctl_find_command(const struct ctl_command *table, size_t n,
					   char **words, size_t n_words, size_t *used);
