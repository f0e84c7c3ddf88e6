/*
 * fuzz_api_pins.c - what the pinning API reads from outside
 * (api/api_pins_i.h): the Pin body of POST /pins, the filters of
 * GET /pins and RFC 3339 times.  Input: the bytes are the body; split at
 * the first NUL bytes they also give the eight query arguments (an empty
 * one is absent).  Any bytes must be taken or refused; a Pin taken must
 * have a string cid, origins and meta; filters taken must be within the
 * spec's bounds; a time taken (between 1970 and 2262, what a created
 * time can be) must format and parse back to itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_pins_i.h"
#include "core/error.h"

#define TEXT_MAX 4096
#define NARGS 8

static void check_pin(const uint8_t *data, size_t size)
{
	struct cid cid;
	json_t *pin = NULL;

	if (api_pins_pin_parse(&pin, &cid, data, size) == 0 &&
	    (!json_is_string(json_object_get(pin, "cid")) ||
	     !json_is_array(json_object_get(pin, "origins")) ||
	     !json_is_object(json_object_get(pin, "meta"))))
		abort();
	json_decref(pin);
}

static void check_time(const char *s)
{
	char text[API_PINS_TIME_MAX];
	int64_t us, back;

	/* created times are formatted from nanoseconds: 1970 to 2262 */
	if (api_pins_time_parse(&us, s) < 0 || us < 0 ||
	    us > INT64_MAX / 1000)
		return;
	if (api_pins_time_parse(&back, api_pins_time_format(text, us)) < 0 ||
	    back != us)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[TEXT_MAX + 1];
	const char *arg[NARGS] = { NULL };
	struct api_pins_filter f;
	char *p = text;

	if (size > TEXT_MAX)
		size = TEXT_MAX;
	check_pin(data, size);
	memcpy(text, data, size);
	text[size] = '\0';
	for (int i = 0; i < NARGS && p <= text + size; i++) {
		arg[i] = *p ? p : NULL;
		p += strlen(p) + 1;
	}
	if (api_pins_filter_parse(&f, arg[0], arg[1], arg[2], arg[3], arg[4],
				  arg[5], arg[6], arg[7]) == 0 &&
	    (f.limit < 1 || f.limit > API_PINS_LIMIT_MAX ||
	     f.ncids > API_PINS_CIDS_MAX || !f.statuses ||
	     f.statuses >= 1u << API_PINS_NSTATUS))
		abort();
	check_time(text);
	efs_error_clear();
	return 0;
}
