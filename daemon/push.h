/*
 * push.h - escalations reaching people (DESIGN.md "Delivery"): SUBSCRIBE,
 * UNSUBSCRIBE, RECEIPT, the duty rota (ROTA_ADD), and the fan-out of
 * committed pushes to the subscribed sessions on this instance.
 *
 * Every push is a row in `deliveries` first, numbered per principal in
 * commit order; sessions only ever carry copies.  A session gets what is
 * not receipted yet when it subscribes, then new pushes as the scheduler
 * (or another instance's NOTIFY) announces them.
 */
#ifndef SLAD_PUSH_H
#define SLAD_PUSH_H

#include <stddef.h>
#include <stdint.h>

struct push;
struct request;
struct server;
struct store;

struct push *push_new(struct store *st, struct server *srv);
void push_free(struct push *p);

/* SUBSCRIBE, UNSUBSCRIBE, RECEIPT, ROTA_ADD. */
void push_dispatch(struct push *p, struct request *req);

/* New pushes may exist for these principals: send what the local
 * subscribed sessions have not had.  n == 0 with ids == NULL: everyone
 * subscribed here (after a lost LISTEN connection). */
void push_catch_up(struct push *p, const int64_t *ids, size_t n);

#endif /* SLAD_PUSH_H */
