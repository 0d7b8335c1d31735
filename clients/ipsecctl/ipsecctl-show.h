/* ipsecctl show NAME: one connection and its states, from a Status reply,
 * and ipsecctl list-algs: the algorithm table (policy/algs.h). */
#pragma once
#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

/* {"connection": the Status connection object, "states": its state
 * objects}, or NULL when Status has no connection of that name. The
 * caller puts the result. */
json_object *show_collect(json_object *status, const char *name);
/* The text form of show_collect's object; now_usec: CLOCK_REALTIME, for
 * the lifetimes left. */
void show_print(FILE *f, json_object *shown, long long now_usec);
/* "51m 3s", "2h 0m 5s", "3d 4h 0m 0s", "0s" */
void show_duration(long long seconds, char *buf, size_t len);

/* Every algorithm, as JSON or as text grouped by where it may be used */
json_object *algs_json(void);
void algs_print(FILE *f);
