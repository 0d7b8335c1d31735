/* ipsecctl argument parsing: one pass picks the flags out wherever they
 * are, the remaining words select a command from the table. */
#include "ipsecctl-args.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"

struct flag_def {
	const char *name;
	unsigned flag;     /* 0 for global flags allowed everywhere */
	bool value;
	const char *help;  /* for COMMAND --help; NULL: not listed there */
};

static const struct flag_def flags[] = {
	{ "--socket", 0, true, "--socket PATH   the daemon's Varlink socket (default: $PLUTO_SOCKET, "
			       "else " PLUTO_DEFAULT_SOCKET ")" },
	{ "--help", 0, false, "--help          this help" },
	{ "-h", 0, false, NULL },
	{ "--version", 0, false, NULL },
	{ "--json", CF_JSON, false, "--json          JSON output (for programs) instead of text" },
	{ "--file", CF_FILE, true, "--file FILE     read key=value lines from FILE (- = standard input)" },
	{ "--connection", CF_CONNECTION, true, "--connection NAME  only for this connection" },
	{ "--text", CF_TEXT, false, "--text          with --json: the whack --status text too (\"text\")" },
};

#define N_FLAGS (sizeof(flags) / sizeof(flags[0]))

void ctl_usage(FILE *f, const struct ctl_command *table, size_t n)
{
	fputs("Usage: ipsecctl [--socket PATH] COMMAND [ARGS...]\n"
	      "       ipsecctl help [COMMAND] | COMMAND --help | --version\n\nCommands:\n", f);
	/* a usage wider than this puts its summary on a line of its own */
	const int width = 22;
	for (size_t i = 0; i < n; i++) {
		const char *summary = table[i].summary;
		if (!summary)   /* a row without one: its usage alone */
			fprintf(f, "  %s\n", table[i].usage);
		else if (strlen(table[i].usage) > (size_t)width)
			fprintf(f, "  %s\n  %-*s  %s\n", table[i].usage, width, "", summary);
		else
			fprintf(f, "  %-*s  %s\n", width, table[i].usage, summary);
	}
	fputs("\nSee ipsecctl COMMAND --help, and ipsecctl(8).\n", f);
}

void ctl_command_help(FILE *f, const struct ctl_command *c)
{
	fprintf(f, "Usage: ipsecctl [--socket PATH] %s\n", c->usage);
	if (c->summary)
		fprintf(f, "\n%s\n", c->summary);
	if (c->help)
		fprintf(f, "\n%s\n", c->help);
	fputs("\nOptions:\n", f);
	for (size_t k = 0; k < N_FLAGS; k++)
		if (flags[k].help && (flags[k].flag == 0 || (c->allowed & flags[k].flag)))
			fprintf(f, "  %s\n", flags[k].help);
}

static int usage_error(const char *fmt, const char *what)
{
	fputs("ipsecctl: ", stderr);
	fprintf(stderr, fmt, what);
	fputs(" (see ipsecctl --help)\n", stderr);
	return -1;
}

const struct ctl_command *ctl_find_command(const struct ctl_command *table, size_t n,
					   char **words, size_t n_words, size_t *used)
{
	/* two-word commands ("keys add") first */
	for (size_t i = 0; i < n; i++) {
		const char *sp = strchr(table[i].name, ' ');
		if (!sp) {
			if (strcmp(table[i].name, words[0]) == 0) {
				*used = 1;
				return &table[i];
			}
			continue;
		}
		size_t len = (size_t)(sp - table[i].name);
		if (n_words >= 2 && strlen(words[0]) == len &&
		    strncmp(table[i].name, words[0], len) == 0 && strcmp(sp + 1, words[1]) == 0) {
			*used = 2;
			return &table[i];
		}
	}
	return NULL;
}

int ctl_parse(int argc, char **argv, const struct ctl_command *table, size_t n,
	      struct ctl_args *a)
{
	memset(a, 0, sizeof(*a));
	char **words = calloc((size_t)argc + 1, sizeof(*words));
	if (!words)
		abort();
	size_t n_words = 0;
	bool only_words = false;
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];
		if (only_words || w[0] != '-' || strcmp(w, "-") == 0) {
			words[n_words++] = argv[i];
			continue;
		}
		if (strcmp(w, "--") == 0) {
			only_words = true;
			continue;
		}
		const char *eq = strchr(w, '=');
		size_t len = eq ? (size_t)(eq - w) : strlen(w);
		const struct flag_def *f = NULL;
		for (size_t k = 0; k < N_FLAGS; k++)
			if (strlen(flags[k].name) == len && strncmp(flags[k].name, w, len) == 0)
				f = &flags[k];
		if (!f) {
			free(words);
			return usage_error("unknown option %s", w);
		}
		const char *value = NULL;
		if (f->value) {
			if (eq)
				value = eq + 1;
			else if (i + 1 < argc)
				value = argv[++i];
			else {
				free(words);
				return usage_error("%s needs a value", f->name);
			}
		} else if (eq) {
			free(words);
			return usage_error("%s takes no value", f->name);
		}
		if (strcmp(f->name, "--socket") == 0)
			a->socket = value;
		else if (strcmp(f->name, "--help") == 0 || strcmp(f->name, "-h") == 0)
			a->help = true;
		else if (strcmp(f->name, "--version") == 0)
			a->version = true;
		else if (f->flag == CF_JSON)
			a->json = true;
		else if (f->flag == CF_FILE)
			a->file = value;
		else if (f->flag == CF_CONNECTION)
			a->connection = value;
		else if (f->flag == CF_TEXT)
			a->text = true;
		a->given |= f->flag;
	}
	if (a->version || (a->help && n_words == 0)) {
		free(words);
		return 0;
	}
	if (n_words == 0) {
		free(words);
		return usage_error("%s", "no command given");
	}
	size_t used = 0;
	a->command = ctl_find_command(table, n, words, n_words, &used);
	if (!a->command) {
		fprintf(stderr, "ipsecctl: unknown command \"%s\"\n\n", words[0]);
		ctl_usage(stderr, table, n);
		free(words);
		return -1;
	}
	if (a->help) {   /* COMMAND --help: whatever else the line holds */
		free(words);
		return 0;
	}
	a->words = words;
	memmove(words, words + used, (n_words - used + 1) * sizeof(*words));
	a->n_words = n_words - used;
	const struct ctl_command *c = a->command;
	unsigned bad = a->given & ~c->allowed;
	if (bad) {
		const char *which = bad & CF_JSON ? "--json" : bad & CF_FILE ? "--file" : bad & CF_TEXT ? "--text"
													  : "--connection";
		fprintf(stderr, "ipsecctl: %s does not apply to \"%s\" (see ipsecctl --help)\n", which, c->name);
		return -1;
	}
	if (a->n_words < c->min_args) {
		fprintf(stderr, "ipsecctl: \"%s\" needs more arguments: %s\n", c->name, c->usage);
		return -1;
	}
	if (a->n_words > c->max_args) {
		fprintf(stderr, "ipsecctl: unexpected argument \"%s\" for \"%s\": %s\n",
			a->words[c->max_args], c->name, c->usage);
		return -1;
	}
	return 0;
}
