#include "daemon/options.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <string.h>

#include "config.h"
#include "common/util.h"
#include "common/words.h"
#include "daemon/log.h"
#include "klips/kernel.h"

enum {
	OPT_NOFORK = 256, OPT_STDERRLOG, OPT_RUNDIR, OPT_CTLBASE, OPT_SECRETSFILE, OPT_IKEPORT,
	OPT_UNIQUEIDS, OPT_KERNEL, OPT_NOKLIPS, OPT_OPTIONSFROM, OPT_INTERFACE, OPT_ADNS,
	OPT_HELP, OPT_VERSION, OPT_NODBUS, OPT_UPDOWN, OPT_ADMIN_GROUP, OPT_DEBUG_NONE, OPT_DEBUG_ALL,
	OPT_NATT_PORT, OPT_KEEP_ALIVE, OPT_CONFIG, OPT_CHECK_CONFIG, OPT_NHELPERS, OPT_DBUS_MAX_MESSAGE,
	OPT_HALF_OPEN_MAX, OPT_HALF_OPEN_PER_SOURCE,
	OPT_DEBUG_CLASS /* + index into debug_class_names */
};

static const struct option fixed_options[] = {
	{ "nofork", no_argument, NULL, OPT_NOFORK },
	{ "stderrlog", no_argument, NULL, OPT_STDERRLOG },
	{ "rundir", required_argument, NULL, OPT_RUNDIR },
	{ "ctlbase", required_argument, NULL, OPT_CTLBASE },
	{ "secretsfile", required_argument, NULL, OPT_SECRETSFILE },
	{ "ikeport", required_argument, NULL, OPT_IKEPORT },
	{ "uniqueids", no_argument, NULL, OPT_UNIQUEIDS },
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "noklips", no_argument, NULL, OPT_NOKLIPS },
	{ "optionsfrom", required_argument, NULL, OPT_OPTIONSFROM },
	{ "interface", required_argument, NULL, OPT_INTERFACE },
	{ "adns", required_argument, NULL, OPT_ADNS },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "nodbus", no_argument, NULL, OPT_NODBUS },
	{ "updown", required_argument, NULL, OPT_UPDOWN },
	{ "admin-group", required_argument, NULL, OPT_ADMIN_GROUP },
	{ "debug-none", no_argument, NULL, OPT_DEBUG_NONE },
	{ "debug-all", no_argument, NULL, OPT_DEBUG_ALL },
	{ "natt-port", required_argument, NULL, OPT_NATT_PORT },
	{ "keep-alive", required_argument, NULL, OPT_KEEP_ALIVE },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
	{ "nhelpers", required_argument, NULL, OPT_NHELPERS },
	{ "dbus-max-message", required_argument, NULL, OPT_DBUS_MAX_MESSAGE },
	{ "half-open-max", required_argument, NULL, OPT_HALF_OPEN_MAX },
	{ "half-open-per-source", required_argument, NULL, OPT_HALF_OPEN_PER_SOURCE },
};

void pluto_usage(FILE *f)
{
	fputs("Usage: pluto [--nofork] [--stderrlog] [--rundir DIR] [--ctlbase PATH]\n"
	      "             [--secretsfile FILE] [--ikeport N] [--uniqueids]\n"
	      "             [--natt-port N] [--keep-alive SECONDS] [--nhelpers N]\n"
	      "             [--kernel xfrm|none] [--noklips] [--interface NAME]...\n"
	      "             [--optionsfrom FILE] [--nodbus] [--admin-group GROUP]\n"
	      "             [--dbus-max-message BYTES]\n"
	      "             [--half-open-max N] [--half-open-per-source N]\n"
	      "             [--updown COMMAND] [--config FILE] [--check-config]\n"
	      "             [--debug-none | --debug-all | --debug-CLASS...]\n"
	      "             [--help] [--version]\n"
	      "debug classes:", f);
	for (unsigned i = 0; i < debug_class_count; i++)
		fprintf(f, " %s", debug_class_names[i].name);
	fputs("\nSee pluto(8).\n", f);
}

/* --optionsfrom: the words of a file, split by the rules whack uses too
 * (common/words.h), appended to v. */
static int read_words(const char *path, char ***words, size_t *n, size_t *cap)
{
	struct words file;
	char err[512];
	if (words_from_file(path, &file, err, sizeof(err)) < 0) {
		fprintf(stderr, "pluto: --optionsfrom %s\n", err);
		return -1;
	}
	for (size_t i = 0; i < file.n; i++) {
		if (*n + 1 >= *cap) {
			*cap *= 2;
			*words = xrealloc(*words, *cap * sizeof(char *));
		}
		(*words)[(*n)++] = file.v[i];    /* kept for the life of the process */
	}
	free(file.v);
	return 0;
}

/* Expand --optionsfrom in place (one level deep is what FreeS/WAN did;
 * nesting is refused to rule out loops). Strings are leaked on purpose:
 * options live as long as the process. */
static int expand_argv(int argc, char **argv, int *out_argc, char ***out_argv)
{
	size_t cap = (size_t)argc + 16, n = 0;
	char **v = xmalloc(cap * sizeof(char *));
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		const char *path = NULL;
		if (streq(arg, "--optionsfrom")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "pluto: --optionsfrom needs a file name\n");
				free(v);
				return -1;
			}
			path = argv[++i];
		} else if (strncmp(arg, "--optionsfrom=", 14) == 0) {
			path = arg + 14;
		}
		if (!path) {
			if (n + 1 >= cap) {
				cap *= 2;
				v = xrealloc(v, cap * sizeof(char *));
			}
			v[n++] = (char *)arg;
			continue;
		}
		size_t first = n;
		if (read_words(path, &v, &n, &cap) < 0) {
			free(v);
			return -1;
		}
		for (size_t j = first; j < n; j++) {
			if (strncmp(v[j], "--optionsfrom", 13) == 0) {
				fprintf(stderr, "pluto: --optionsfrom %s: nested --optionsfrom is not allowed\n", path);
				free(v);
				return -1;
			}
		}
	}
	if (n + 1 >= cap)
		v = xrealloc(v, (n + 1) * sizeof(char *));
	v[n] = NULL;
	*out_argc = (int)n;
	*out_argv = v;
	return 0;
}

int pluto_options_parse(int argc, char **argv, struct pluto_options *o)
{
	memset(o, 0, sizeof(*o));
	o->rundir = PLUTO_DEFAULT_RUNDIR;
	o->secretsfile = PLUTO_DEFAULT_SECRETS;
	o->ikeport = 500;
	o->natt_port = NATT_PORT_DEFAULT;
	o->keep_alive = NATT_KEEPALIVE_DEFAULT;
	o->admin_gid = -1;
	o->config = PLUTO_DEFAULT_CONFIG;
	o->nhelpers = -1;

	int xargc;
	static char **xargv;     /* optarg strings point into it for the process's life */
	free(xargv);
	xargv = NULL;
	if (expand_argv(argc, argv, &xargc, &xargv) < 0)
		return -1;

	size_t nfixed = ARRAY_SIZE(fixed_options);
	struct option *opts = xcalloc(nfixed + debug_class_count + 1, sizeof(struct option));
	memcpy(opts, fixed_options, sizeof(fixed_options));
	static char names[32][24];   /* getopt keeps pointers into these */
	for (unsigned i = 0; i < debug_class_count && i < 32; i++) {
		snprintf(names[i], sizeof(names[i]), "debug-%s", debug_class_names[i].name);
		opts[nfixed + i] = (struct option){ names[i], no_argument, NULL, OPT_DEBUG_CLASS + (int)i };
	}

	int r = 0, ch;
	optind = 1;
	opterr = 0;
	while (r == 0 && (ch = getopt_long(xargc, xargv, "", opts, NULL)) != -1) {
		unsigned long long v;
		switch (ch) {
		case OPT_NOFORK: o->nofork = true; break;
		case OPT_STDERRLOG: o->stderrlog = true; break;
		case OPT_RUNDIR: o->rundir = optarg; break;
		case OPT_CTLBASE: o->ctlbase = optarg; break;
		case OPT_SECRETSFILE: o->secretsfile = optarg; break;
		case OPT_UNIQUEIDS: o->uniqueids = true; break;
		case OPT_NOKLIPS: o->kernel = "none"; break;
		case OPT_HELP: o->help = true; break;
		case OPT_VERSION: o->version = true; break;
		case OPT_NODBUS: o->nodbus = true; break;
		case OPT_CHECK_CONFIG: o->check_config = true; break;
		case OPT_CONFIG:
			if (!*optarg) {
				fprintf(stderr, "pluto: --config needs a file name\n");
				r = -1;
			}
			o->config = optarg;
			o->config_given = true;
			break;
		case OPT_ADNS: o->adns = optarg; break;
		case OPT_UPDOWN:
			if (!*optarg || strpbrk(optarg, "\n\r")) {
				fprintf(stderr, "pluto: --updown needs a one-line command\n");
				r = -1;
			}
			o->updown = optarg;
			break;
		case OPT_DEBUG_NONE: o->debug = 0; break;
		case OPT_DEBUG_ALL: o->debug = DBG_ALL_NONPRIVATE; break;
		case OPT_IKEPORT:
			if (!parse_uint(optarg, 65535, &v) || v == 0) {
				fprintf(stderr, "pluto: --ikeport '%s' is not a UDP port (1-65535)\n", optarg);
				r = -1;
			}
			o->ikeport = (unsigned)v;
			break;
		case OPT_NATT_PORT:
			if (!parse_uint(optarg, 65535, &v)) {
				fprintf(stderr, "pluto: --natt-port '%s' is not a UDP port (0-65535, 0 = no NAT-T port)\n",
					optarg);
				r = -1;
			}
			o->natt_port = (unsigned)v;
			break;
		case OPT_KEEP_ALIVE:
			if (!parse_uint(optarg, 86400, &v) || v == 0) {
				fprintf(stderr, "pluto: --keep-alive '%s' is not a number of seconds (1-86400)\n", optarg);
				r = -1;
			}
			o->keep_alive = (unsigned)v;
			break;
		case OPT_NHELPERS:
			if (!parse_uint(optarg, NHELPERS_MAX, &v)) {
				fprintf(stderr, "pluto: --nhelpers '%s' is not a number of crypto helper threads "
					"(0-%d, 0 = crypto in the event loop)\n", optarg, NHELPERS_MAX);
				r = -1;
			}
			o->nhelpers = (int)v;
			break;
		case OPT_HALF_OPEN_MAX:
			if (!parse_uint(optarg, HALF_OPEN_MAX_LIMIT, &v) || v < 4) {
				fprintf(stderr, "pluto: --half-open-max '%s' is not a number of half-open "
					"Main Modes (4-%d)\n", optarg, HALF_OPEN_MAX_LIMIT);
				r = -1;
			}
			o->half_open_max = (unsigned)v;
			break;
		case OPT_HALF_OPEN_PER_SOURCE:
			if (!parse_uint(optarg, HALF_OPEN_MAX_LIMIT, &v) || v == 0) {
				fprintf(stderr, "pluto: --half-open-per-source '%s' is not a number of half-open "
					"Main Modes from one address (1-%d)\n", optarg, HALF_OPEN_MAX_LIMIT);
				r = -1;
			}
			o->half_open_per_source = (unsigned)v;
			break;
		case OPT_KERNEL:
			if (!kernel_backend_known(optarg)) {
				fprintf(stderr, "pluto: --kernel '%s': must be xfrm or none\n", optarg);
				r = -1;
			}
			o->kernel = optarg;
			break;
		case OPT_INTERFACE:
			if (o->n_interfaces == ARRAY_SIZE(o->interfaces)) {
				fprintf(stderr, "pluto: at most %zu --interface options\n", ARRAY_SIZE(o->interfaces));
				r = -1;
			}
			o->interfaces[o->n_interfaces++] = optarg;
			break;
		case OPT_DBUS_MAX_MESSAGE:
			/* the bus's limit: at least room for a reply's header, at
			 * most the D-Bus maximum (128 MiB) */
			if (!parse_uint(optarg, 128u * 1024 * 1024, &v) || v < 4096) {
				fprintf(stderr, "pluto: --dbus-max-message '%s' is not a size in bytes "
						"(4096-134217728)\n", optarg);
				r = -1;
			}
			o->dbus_max_message = (size_t)v;
			break;
		case OPT_ADMIN_GROUP: {
			struct group *g = getgrnam(optarg);
			if (g)
				o->admin_gid = (long)g->gr_gid;
			else if (parse_uint(optarg, 0x7fffffff, &v))
				o->admin_gid = (long)v;
			else {
				fprintf(stderr, "pluto: --admin-group '%s': no such group\n", optarg);
				r = -1;
			}
			break;
		}
		case '?':
			if (optopt)
				fprintf(stderr, "pluto: option '%s' needs an argument\n", xargv[optind - 1]);
			else
				fprintf(stderr, "pluto: unknown option '%s'\n", xargv[optind - 1]);
			r = -1;
			break;
		default:
			if (ch >= OPT_DEBUG_CLASS && ch < OPT_DEBUG_CLASS + (int)debug_class_count)
				o->debug |= debug_class_names[ch - OPT_DEBUG_CLASS].bit;
			break;
		}
	}
	if (r == 0 && optind < xargc) {
		fprintf(stderr, "pluto: unexpected argument '%s'\n", xargv[optind]);
		r = -1;
	}
	free(opts);
	return r;
}
