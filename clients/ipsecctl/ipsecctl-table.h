/* Human-readable output of ipsecctl: aligned tables for Status, one line
 * per Monitor change. */
#pragma once
#include <stdio.h>

#include <json-c/json.h>

/* The Status reply's parameters as a summary plus two tables. */
void print_status_tables(FILE *f, json_object *status);
/* The Status parameters for print_status_tables: only the fields its
 * columns show (a third of the reply to read with 1,000 tunnels). */
json_object *status_table_params(void);
/* One Monitor change: "EVENT key=value ..." */
void print_change_line(FILE *f, json_object *change);
