/* How the daemon's heap gives memory back (glibc malloc). */
#pragma once

struct sd_event;

/* At start-up, before the first allocation that matters:
 * - at most two malloc arenas: every thread that allocates would
 *   otherwise get its own (up to eight per core), each fragmenting on its
 *   own, for no gain on a handful of cores;
 * - a fixed mmap threshold of 128 kB: blocks from 128 kB up (status
 *   replies, per-connection arrays at thousands of connections) are
 *   mapped and unmapped, so freeing one gives it back; glibc's default
 *   raises the threshold to the largest block freed, after which such
 *   blocks stay in the heap for good.
 * And once a burst of deletions (states, connections) is over (a second
 * without one), malloc_trim(0) hands the free pages inside the heap back
 * to the kernel: tunnels going down then lower the RSS instead of leaving
 * it at the peak. */
void heap_init(struct sd_event *event);
