/*
 * units.h - sizes as people write them in options and config files:
 * "4096", "512k", "8MiB", "1GB", "2T".  Suffixes are powers of 1024 in
 * any case, with or without "B" or "iB" (k, kb, kib, m, ... t, tib); a
 * bare "b" is bytes.  The one parser behind the CLI's size options,
 * mount -o sizes, config.json and the devnet's --min-piece.
 */
#ifndef EFS_UNITS_H
#define EFS_UNITS_H

#include <stdint.h>

/*
 * Parse s (digits, then an optional suffix, nothing else) into *out.
 * Returns 0, or EFS_EINVAL ("bad size 'S'": no digits first, an unknown
 * suffix, or a value past 2^64 - 1).  Reentrant.
 */
int units_parse_size(uint64_t *out, const char *s);

#endif
