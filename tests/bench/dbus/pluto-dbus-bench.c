/* pluto-dbus-bench: the D-Bus side of tests/bench/control-scale.sh.
 *   pluto-dbus-bench add FILE       AddConnections of every "conn NAME"
 *                                   section of FILE (key=value lines) in one
 *                                   call; prints "added N ms"
 *   pluto-dbus-bench objects        GetManagedObjects; prints "objects N ms"
 *                                   (the reply is walked, not printed)
 * Uses the system bus of DBUS_SYSTEM_BUS_ADDRESS. The time is the wall time
 * of the call, from sending to the whole reply received. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-bus.h>

#define DEST "org.freeswan.pluto1"
#define PATH "/org/freeswan/pluto1"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int fail(const char *what, int r)
{
	fprintf(stderr, "pluto-dbus-bench: %s: %s\n", what, strerror(-r));
	return 1;
}

/* Append the batch file to m as a(sa{ss}); *n gets the entries. */
static int append_batch(sd_bus_message *m, FILE *f, size_t *n)
{
	char *line = NULL;
	size_t cap = 0;
	bool open = false;
	int r = sd_bus_message_open_container(m, 'a', "(sa{ss})");
	while (r >= 0 && getline(&line, &cap, f) >= 0) {
		char *s = trim(line), *eq;
		if (!*s || *s == '#')
			continue;
		if (strncmp(s, "conn", 4) == 0 && isspace((unsigned char)s[4])) {
			if (open && (r = sd_bus_message_close_container(m)) >= 0)
				r = sd_bus_message_close_container(m);
			if (r >= 0)
				r = sd_bus_message_open_container(m, 'r', "sa{ss}");
			if (r >= 0)
				r = sd_bus_message_append(m, "s", trim(s + 5));
			if (r >= 0)
				r = sd_bus_message_open_container(m, 'a', "{ss}");
			open = true;
			(*n)++;
		} else if (open && (eq = strchr(s, '='))) {
			*eq = '\0';
			r = sd_bus_message_append(m, "{ss}", trim(s), trim(eq + 1));
		}
	}
	if (r >= 0 && open && (r = sd_bus_message_close_container(m)) >= 0)
		r = sd_bus_message_close_container(m);
	free(line);
	return r < 0 ? r : sd_bus_message_close_container(m);
}

static int cmd_add(sd_bus *bus, const char *file)
{
	FILE *f = fopen(file, "re");
	if (!f)
		return fail(file, -errno);
	sd_bus_message *m = NULL, *reply = NULL;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	size_t n = 0;
	int r = sd_bus_message_new_method_call(bus, &m, DEST, PATH, DEST ".Manager", "AddConnections");
	if (r >= 0)
		r = append_batch(m, f, &n);
	fclose(f);
	if (r < 0)
		return fail("building the call", r);
	double t0 = now_ms();
	r = sd_bus_call(bus, m, 600 * 1000000ULL, &error, &reply);
	double t1 = now_ms();
	if (r < 0) {
		fprintf(stderr, "pluto-dbus-bench: AddConnections: %s: %s\n", error.name, error.message);
		return 1;
	}
	printf("added %zu %.1f\n", n, t1 - t0);
	sd_bus_message_unref(reply);
	sd_bus_message_unref(m);
	return 0;
}

static int cmd_objects(sd_bus *bus)
{
	sd_bus_message *reply = NULL;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	double t0 = now_ms();
	int r = sd_bus_call_method(bus, DEST, PATH, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
				   &error, &reply, "");
	double t1 = now_ms();
	if (r < 0) {
		fprintf(stderr, "pluto-dbus-bench: GetManagedObjects: %s: %s\n", error.name, error.message);
		return 1;
	}
	size_t objects = 0;
	r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
	while (r > 0 && (r = sd_bus_message_skip(reply, "{oa{sa{sv}}}")) > 0)
		objects++;
	if (r < 0)
		return fail("reading the reply", r);
	printf("objects %zu %.1f\n", objects, t1 - t0);
	sd_bus_message_unref(reply);
	return 0;
}

int main(int argc, char **argv)
{
	sd_bus *bus = NULL;
	int r = sd_bus_open_system(&bus);
	if (r < 0)
		return fail("connecting to the system bus", r);
	if (argc == 3 && strcmp(argv[1], "add") == 0)
		r = cmd_add(bus, argv[2]);
	else if (argc == 2 && strcmp(argv[1], "objects") == 0)
		r = cmd_objects(bus);
	else {
		fprintf(stderr, "usage: pluto-dbus-bench add FILE | objects\n");
		r = 2;
	}
	sd_bus_flush_close_unref(bus);
	return r;
}
