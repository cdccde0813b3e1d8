/*
 * cmd_keys.h — `kprctl keys init|status|rotate-kek`: the key directory
 * (KEK, wrapped pseudonym key, re-identification public key).
 */
#ifndef CMD_KEYS_H
#define CMD_KEYS_H

/* argv[0] is "keys". Returns the process exit code: 0 ok, 1 failure,
 * 2 usage error. */
int kprctl_cmd_keys(int argc, char **argv);

#endif
