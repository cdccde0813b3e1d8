/*
 * hex.c — see hex.h.
 */
#include "hex.h"

#include <openssl/evp.h>
#include <sys/random.h>
#include <sys/types.h>

void hex_encode(const void *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *b = in;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

bool hex_random(char *out, size_t nbytes)
{
	unsigned char buf[64];
	if (nbytes > sizeof buf || getrandom(buf, nbytes, 0) != (ssize_t)nbytes)
		return false;
	hex_encode(buf, nbytes, out);
	return true;
}

bool sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int ml = 0;
	if (EVP_Digest(data, len, md, &ml, EVP_sha256(), NULL) != 1 || ml != 32)
		return false;
	hex_encode(md, 32, out);
	return true;
}
