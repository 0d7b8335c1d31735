/* nm-pluto-service: NetworkManager's VPN plugin service for pluto
 * (man/nm-pluto-service.8). Command line, bus, signals, event loop; the
 * plugin itself is nm-vpn-plugin.c. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "nm-vpn-plugin.h"

#define DEFAULT_BUS_NAME "org.freedesktop.NetworkManager.pluto"

static void usage(FILE *f)
{
	fprintf(f, "usage: nm-pluto-service [--bus-name NAME]\n"
		   "NetworkManager's VPN plugin service for pluto; NetworkManager starts it.\n"
		   "  --bus-name NAME  the D-Bus name to own (default " DEFAULT_BUS_NAME ")\n"
		   "  --help, --version\n");
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	nmp_plugin_quit(userdata, si->ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bus-name", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *bus_name = DEFAULT_BUS_NAME;
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			bus_name = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("nm-pluto-service %s\n", PLUTO_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nm-pluto-service: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	/* a line at a time, so NetworkManager's log interleaves them whole */
	setvbuf(stderr, NULL, _IOLBF, 0);

	sd_event *event = NULL;
	sd_bus *bus = NULL;
	struct nmp_plugin *p = NULL;
	int r = sd_event_default(&event);
	if (r >= 0)
		r = sd_bus_open_system(&bus);
	if (r < 0) {
		fprintf(stderr, "nm-pluto-service: cannot connect to the system bus: %s\n", strerror(-r));
		goto out;
	}
	r = sd_bus_attach_event(bus, event, SD_EVENT_PRIORITY_NORMAL);
	if (r >= 0) {
		p = nmp_plugin_new(bus, event, bus_name);
		if (!p)
			r = -ENOMEM;
	}
	if (r < 0) {
		fprintf(stderr, "nm-pluto-service: cannot set up: %s\n", strerror(-r));
		goto out;
	}
	sigset_t ss;
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	sd_event_add_signal(event, NULL, SIGTERM, on_signal, p);
	sd_event_add_signal(event, NULL, SIGINT, on_signal, p);
	/* the object is there before the name: NetworkManager calls at once */
	r = sd_bus_request_name(bus, bus_name, 0);
	if (r < 0) {
		fprintf(stderr, "nm-pluto-service: cannot own %s: %s\n", bus_name, strerror(-r));
		goto out;
	}
	r = sd_event_loop(event);
	if (r < 0)
		fprintf(stderr, "nm-pluto-service: event loop: %s\n", strerror(-r));
	sd_bus_flush(bus);
out:
	nmp_plugin_free(p);
	sd_bus_flush_close_unref(bus);
	sd_event_unref(event);
	return r < 0 ? 1 : 0;
}
