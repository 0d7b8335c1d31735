/* The file descriptor limit (RLIMIT_NOFILE). systemd starts services with
 * a soft limit of 1024 and a much higher hard limit, expecting programs
 * that can handle more to raise it themselves; pluto does, and puts the
 * old soft limit back for the programs it runs (updown scripts), which
 * may still use select(). */
#pragma once

struct fd_limit {
	unsigned long before;    /* the soft limit we were started with */
	unsigned long now;       /* the soft limit after raising */
	unsigned long hard;
	int error;               /* errno of a failed setrlimit, or 0 */
};

/* Raise the soft limit to the hard limit; what happened is returned for
 * the caller to log. */
struct fd_limit fd_limit_raise(void);
/* The soft limit in force now. */
unsigned long fd_limit_current(void);
/* The descriptors open in this process (/proc/self/fd), or 0 if unknown. */
unsigned long fd_count_open(void);
/* In a child between fork and exec: the soft limit we were started with. */
void fd_limit_restore_for_exec(void);
