/*
 * pins_schema.h - a check of JSON values against schemas of an OpenAPI
 * 3.0 document (tests/data/pins/schemas.json: the IPFS Pinning Service
 * API's components.schemas), for test_api_pins.
 *
 * The keywords the pinning spec's schemas use are checked: $ref (to
 * "#/components/schemas/NAME"), type (object, array, string, integer),
 * required, properties, additionalProperties (a schema), enum, minItems,
 * maxItems, uniqueItems, maxLength (in characters), minimum,
 * minProperties, maxProperties, format date-time (RFC 3339, checked by
 * its shape).  Others (description, example, default...) are ignored;
 * an unknown "type" fails, so nothing is passed unchecked by accident.
 */
#ifndef EFS_TESTS_PINS_SCHEMA_H
#define EFS_TESTS_PINS_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/*
 * Whether v matches the schema named name (a key of components.schemas)
 * in doc.  When not, why[0..cap) says where and what.
 */
bool pins_schema_check(const json_t *doc, const char *name, const json_t *v,
		       char *why, size_t cap);

#endif
