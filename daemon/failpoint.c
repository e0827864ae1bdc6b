/*
 * failpoint.c - see failpoint.h.
 */
#include "failpoint.h"

#ifdef SLAD_FAILPOINTS
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

void failpoint(const char *name)
{
	static long skipped;
	const char *want = getenv("SLAD_FAILPOINT");
	if (want == NULL || strcmp(want, name) != 0)
		return;
	const char *skip = getenv("SLAD_FAILPOINT_SKIP");
	if (skip != NULL && skipped < atol(skip)) {
		skipped++;
		return;
	}
	log_warn("event=failpoint name=%s action=sigkill", name);
	raise(SIGKILL);
}
#endif
