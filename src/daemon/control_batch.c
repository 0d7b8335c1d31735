/* AddConnections (API.md 2): many connections in one call, all or
 * nothing. Everything that can fail is checked before anything is added,
 * so a bad entry leaves the daemon as it was; auto= runs only once the
 * whole batch is in. */
#include "daemon/control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ifaddr.h"
#include "common/util.h"
#include "daemon/conn_options.h"
#include "daemon/connections.h"
#include "daemon/log.h"

/* Sorting entry indices by name finds a name used twice in the batch in
 * n log n, where comparing every pair would be n^2 for 10,000 entries. */
static const struct ctl_connection_def *sort_defs;

static int by_name(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int d = strcmp(sort_defs[i].name, sort_defs[j].name);
	return d ? d : (i > j) - (i < j);
}

/* -1 with err naming both entries when a name comes twice. */
static int check_unique_names(const struct ctl_connection_def *defs, size_t n, struct ctl_error *err)
{
	size_t *order = xcalloc(n ? n : 1, sizeof(*order));
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	sort_defs = defs;
	qsort(order, n, sizeof(*order), by_name);
	sort_defs = NULL;
	int r = 0;
	for (size_t k = 1; r == 0 && k < n; k++)
		if (streq(defs[order[k - 1]].name, defs[order[k]].name))
			r = ctl_fail(err, PE_DUPLICATE_NAME, "entry %zu: connection \"%s\" is also entry %zu of the batch",
				     order[k], defs[order[k]].name, order[k - 1]);
	free(order);
	return r;
}

/* Entry i as AddConnection would check it; the error says which entry. */
static int check_entry(const struct ctl_connection_def *d, size_t i, struct connection_config *cfg,
		       struct ctl_error *err)
{
	if (connection_by_name(d->name))
		return ctl_fail(err, PE_DUPLICATE_NAME, "entry %zu: attempt to redefine connection \"%s\"", i,
				d->name);
	struct ctl_error why;
	if (ctl_config_from_options(d->name, d->keys, d->values, d->n, cfg, &why) < 0)
		return ctl_fail(err, why.code, "entry %zu (connection \"%s\"): %s", i, d->name, why.message);
	return 0;
}

int ctl_add_connections(const struct ctl_connection_def *defs, size_t n, struct connection **ret,
			struct ctl_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (!defs[i].name)
			return ctl_fail(err, PE_INVALID_OPTION, "entry %zu: no connection name", i);
	if (check_unique_names(defs, n, err) < 0)
		return -1;
	/* one look at the host's addresses orients the whole batch (twice
	 * per connection otherwise: check, then add), as a file load does */
	local_addresses_hold();
	struct connection_config *cfgs = xcalloc(n ? n : 1, sizeof(*cfgs));
	size_t checked = 0;
	for (; checked < n; checked++)
		if (check_entry(&defs[checked], checked, &cfgs[checked], err) < 0)
			break;
	struct connection **added = xcalloc(n ? n : 1, sizeof(*added));
	size_t n_added = 0;
	if (checked == n) {
		for (; n_added < n; n_added++) {
			struct ctl_error why;
			/* checked above: only a failure of the daemon itself lands here */
			if (connection_add(defs[n_added].name, CONNECTION_SOURCE_API, &cfgs[n_added], &added[n_added],
					   &why) < 0) {
				ctl_fail(err, why.code, "entry %zu (connection \"%s\"): %s", n_added,
					 defs[n_added].name, why.message);
				break;
			}
		}
	}
	int r = 0;
	if (n_added < n) {
		/* undo: what was added goes, the configs not taken over are freed */
		for (size_t i = n_added; i < checked; i++)
			connection_config_free(&cfgs[i]);
		for (size_t i = n_added; i-- > 0;)
			connection_delete(added[i]);
		r = -1;
	} else {
		for (size_t i = 0; i < n; i++)
			llog(CONN_LOGGER(added[i]), LS_INFO, MSGID_CONNECTION_ADDED,
			     "added connection description (%s end is this host)", added[i]->this == 0 ? "left" : "right");
		llog(GLOBAL_LOGGER, LS_INFO, MSGID_CONTROL, "AddConnections: %zu connection%s added", n,
		     n == 1 ? "" : "s");
		for (size_t i = 0; i < n; i++)
			ctl_apply_auto(added[i], NULL, NULL);
		if (ret)
			memcpy(ret, added, n * sizeof(*ret));
	}
	local_addresses_release();
	free(added);
	free(cfgs);
	return r;
}
