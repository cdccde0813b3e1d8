/*
 * cmd_config.c — `kprctl config example`: every kprd.conf key with its
 * default and documentation, straight from the key table, so
 * config/kprd.conf.example can be checked against the code.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "kprctl.h"

int kprctl_cmd_config(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "example")) {
		config_write_example(stdout);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "check")) {
		char err[1024];
		struct kpr_config *c = config_load(argv[2], err, sizeof err);
		if (!c) {
			fprintf(stderr, "kprctl: %s\n", err);
			return 1;
		}
		printf("%s: valid\n", c->path);
		config_free(c);
		return 0;
	}
	fprintf(stderr, "usage: kprctl config example | kprctl config check FILE\n");
	return 2;
}
