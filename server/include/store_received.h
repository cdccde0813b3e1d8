/*
 * store_received.h — the previous årgang's figures of what was received
 * (received.h), read from the register: the municipality's current
 * submission for that årgang, counted the same way as the current file.
 */
#ifndef STORE_RECEIVED_H
#define STORE_RECEIVED_H

#include "db.h"
#include "kpr.h"
#include "received.h"

/* Fills out (received_compare_init'ed by the caller) for kommunenummer and
 * the årgang before aargang: the state (compared; no submission; the number
 * did not exist then) and the figures. False on a database error; out's
 * state is then RECEIVED_PREV_UNAVAILABLE. */
bool store_received_previous(struct db *db, const char *kommunenummer, int aargang,
			     struct received_compare *out) KPR_WUR;

#endif
