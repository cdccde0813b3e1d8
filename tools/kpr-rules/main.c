/*
 * kpr-rules — prints the rule catalogue as Markdown (the content of
 * docs/rules.md). Usage: kpr-rules [-o FILE]. tools/gen-rules-md runs it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_md.h"

int main(int argc, char **argv)
{
	FILE *out = stdout;
	const char *path = NULL;

	if (argc == 3 && strcmp(argv[1], "-o") == 0) {
		path = argv[2];
	} else if (argc != 1) {
		fprintf(stderr, "usage: %s [-o FILE]\n", argv[0]);
		return 2;
	}
	if (path != NULL) {
		out = fopen(path, "w");
		if (out == NULL) {
			perror(path);
			return 1;
		}
	}
	rules_md_write(out);
	if (fflush(out) != 0 || ferror(out)) {
		perror(path != NULL ? path : "stdout");
		return 1;
	}
	if (path != NULL && fclose(out) != 0) {
		perror(path);
		return 1;
	}
	return 0;
}
