#include "common/fd_limit.h"

#include <dirent.h>
#include <errno.h>
#include <sys/resource.h>

static struct rlimit started_with;
static int raised;

struct fd_limit fd_limit_raise(void)
{
	struct fd_limit out = { 0 };
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		out.error = errno;
		return out;
	}
	started_with = rl;
	out.before = out.now = (unsigned long)rl.rlim_cur;
	out.hard = (unsigned long)rl.rlim_max;
	if (rl.rlim_cur == rl.rlim_max)
		return out;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		out.error = errno;
		return out;
	}
	raised = 1;
	out.now = (unsigned long)rl.rlim_cur;
	return out;
}

unsigned long fd_limit_current(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	return (unsigned long)rl.rlim_cur;
}

unsigned long fd_count_open(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return 0;
	unsigned long n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	/* the directory's own descriptor was counted */
	return n > 0 ? n - 1 : 0;
}

void fd_limit_restore_for_exec(void)
{
	if (raised)
		(void)setrlimit(RLIMIT_NOFILE, &started_with);
}
