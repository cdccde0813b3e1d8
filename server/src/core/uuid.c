/*
 * uuid.c — see uuid.h.
 */
#include "uuid.h"

#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#include "hex.h"

bool uuid_prefix_valid(const char *s)
{
	if (!s)
		return false;
	for (int i = 0; i < UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		char c = s[i];
		if (!c || (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))))
			return false;
	}
	return true;
}

bool uuid_valid(const char *s)
{
	return uuid_prefix_valid(s) && s[UUID_LEN] == '\0';
}

bool uuid_new(char out[UUID_LEN + 1])
{
	unsigned char b[16];
	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
		return false;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 9562 variant */
	static const int groups[] = {4, 2, 2, 2, 6};
	char *o = out;
	const unsigned char *p = b;
	for (int g = 0; g < 5; g++) {
		if (g)
			*o++ = '-';
		hex_encode(p, (size_t)groups[g], o);
		o += 2 * groups[g];
		p += groups[g];
	}
	*o = '\0';
	return true;
}
