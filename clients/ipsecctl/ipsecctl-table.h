/* Human-readable output of ipsecctl: aligned tables for Status, one line
 * per Monitor change. */
#pragma once
#include <stdio.h>

#include <json-c/json.h>

/* The Status reply's parameters as a summary plus two tables. */
void print_status_tables(FILE *f, json_object *status);
/* One Monitor change: "EVENT key=value ..." */
void print_change_line(FILE *f, json_object *change);
