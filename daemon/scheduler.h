/*
 * scheduler.h - the SLA clocks firing on time (DESIGN.md "Time").
 *
 * One libevent timer, armed for the earliest next_due_at in PostgreSQL and
 * capped at sched_cap_ms so a wall-clock jump or a lost wake-up costs at
 * most the cap.  Each firing is one statement, slad_fire_due(), safe to run
 * on every instance at once (FOR UPDATE SKIP LOCKED, unique firings).  A
 * LISTEN connection carries other instances' "new pushes" hints.
 */
#ifndef SLAD_SCHEDULER_H
#define SLAD_SCHEDULER_H

#include <event2/event.h>

#include "sla_types.h"

struct sched;
struct store;
struct push;
struct slad_config;

struct sched *sched_new(struct event_base *base, struct store *st, struct push *push,
                        const struct slad_config *cfg);
void sched_free(struct sched *s);
void sched_reload(struct sched *s, const struct slad_config *cfg);

/* A clock row now falls due at `due` (a write just committed): fire then
 * at the latest, earlier than the timer is armed for if need be. */
void sched_poke(struct sched *s, sla_time due);

#endif /* SLAD_SCHEDULER_H */
