/* ipsec.conf(5): the configuration file (API.md section 5, man/ipsec.conf.5).
 *
 * The loader turns a file (and what it includes) into a list of conns, each
 * a name plus the option map of API.md section 1 with %default and also=
 * resolved, and the daemon-wide "config setup" settings. It validates every
 * conn through the one option parser (conn_options.h), so a file that loads
 * is a file the daemon can apply as a whole; it reports EVERY error it finds,
 * each as "FILE:LINE: what". It neither adds nor changes anything in the
 * daemon: applying a loaded file (start-up, Reload) is control.c's job. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* One keyword=value of a conn as it will be applied, with where it was
 * written (a %default or also= setting keeps the line it came from). */
struct conf_setting {
	char *key, *value;
	const char *file;            /* points into ipsec_conf.files */
	unsigned line;
};

struct conf_conn {
	char *name;
	const char *file;            /* of its "conn NAME" line: the connection's Source */
	unsigned line;
	/* effective settings after %default and also=, one per keyword, in the
	 * order the keywords first appeared; "also" itself is not among them,
	 * "auto" is (when given) */
	struct conf_setting *settings;
	size_t n_settings;
	bool ignore;                 /* auto=ignore: validated, never loaded */
};

/* "config setup": daemon-wide settings; each is "not given" unless set. */
struct conf_setup {
	char **interfaces;           /* interfaces="eth0 eth1": NULL-terminated, or NULL */
	int uniqueids;               /* -1 not given, else 0/1 */
	char *plutodebug;            /* "all", "none", "control crypt"..., or NULL */
	int listen;                  /* -1 not given, else 0 (listen=no: stay deaf) / 1 */
};

struct ipsec_conf {
	char **files;                /* every file read, main first; NULL-terminated */
	struct conf_setup setup;
	struct conf_conn *conns;     /* file order, %default not included */
	size_t n_conns;
	void *index;                 /* private: ipsec_conf_conn()'s lookup by name */
};

/* Every problem found, in file order: "FILE:LINE: what". */
struct conf_diag {
	char **lines;
	size_t n;
};

enum ipsec_conf_flags {
	/* refuse "include" (fuzzing untrusted text must not open files) */
	IPSEC_CONF_NO_FILES = 1 << 0,
};

/* Read path (and its includes). Returns 0 with *out filled, or -1 with
 * *out empty and diag holding every error (at least one). */
int ipsec_conf_load(const char *path, struct ipsec_conf *out, struct conf_diag *diag);
/* The same for text in memory; name is the FILE of the messages and its
 * directory resolves relative include globs. */
int ipsec_conf_parse_text(const char *text, size_t len, const char *name, unsigned flags,
			  struct ipsec_conf *out, struct conf_diag *diag);
void ipsec_conf_free(struct ipsec_conf *conf);
void conf_diag_free(struct conf_diag *diag);
/* The conn of that name, or NULL. */
const struct conf_conn *ipsec_conf_conn(const struct ipsec_conf *conf, const char *name);

/* pluto --check-config: load path, write every message to errs and, when
 * it loads, "PATH: N conns OK" to out. Returns the exit status, 0 or 1. */
int ipsec_conf_check(const char *path, FILE *out, FILE *errs);
