/*
 * failpoint.h - crash points for tests (issue 4 "Crash safety").
 *
 * In builds with SLAD_FAILPOINTS, setting SLAD_FAILPOINT=<name> in slad's
 * environment makes the process kill itself with SIGKILL the first time it
 * reaches failpoint("<name>"), so a test can land a crash exactly between a
 * commit and its reply rather than by luck of timing.  SLAD_FAILPOINT_SKIP=N
 * lets the first N hits pass.  Production builds compile this away.
 */
#ifndef SLAD_FAILPOINT_H
#define SLAD_FAILPOINT_H

#ifdef SLAD_FAILPOINTS
void failpoint(const char *name);
#else
#define failpoint(name) ((void)0)
#endif

#endif /* SLAD_FAILPOINT_H */
