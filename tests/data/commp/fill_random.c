/*
 * fill_random.c - write the bytes of harness_fill_random(out, LEN, SEED)
 * (tests/harness.c) to stdout, so the JS oracle can hash the same input
 * as tests/core/test_commp.c.  Used by gen-vectors.sh only; not built by
 * meson.
 *
 *	cc -O2 -o fill_random fill_random.c && ./fill_random SEED LEN > out
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	static uint8_t out[1 << 16];
	uint64_t seed, x;
	unsigned long long len, i;

	if (argc != 3) {
		fputs("usage: fill_random SEED LEN\n", stderr);
		return 2;
	}
	seed = strtoull(argv[1], NULL, 0);
	len = strtoull(argv[2], NULL, 0);
	x = seed ? seed : 0x9e3779b97f4a7c15ull;
	for (i = 0; i < len; i++) {
		if (i % 8 == 0) {
			x ^= x >> 12;
			x ^= x << 25;
			x ^= x >> 27;
		}
		out[i % sizeof(out)] =
			(uint8_t)((x * 0x2545f4914f6cdd1dull) >> (8 * (i % 8)));
		if (i % sizeof(out) == sizeof(out) - 1 &&
		    fwrite(out, 1, sizeof(out), stdout) != sizeof(out))
			return 1;
	}
	if (fwrite(out, 1, len % sizeof(out), stdout) != len % sizeof(out))
		return 1;
	return fflush(stdout) ? 1 : 0;
}
