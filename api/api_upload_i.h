/*
 * api_upload_i.h - what the upload route files share (api_upload.c's
 * table lists the route api_upload_import.c serves).
 */
#ifndef EFS_API_API_UPLOAD_I_H
#define EFS_API_API_UPLOAD_I_H

#include "api/api_i.h"

/* The pin name of an imported CAR's roots: `estuaryfs car import`'s
 * (cli/cmd_car.c IMPORT_PIN_NAME), so that both pin alike. */
#define API_UPLOAD_IMPORT_PIN "cli:car-import"

/* The CID ipfs-car writes as the root when it was not known when the
 * header was written: never pinned. */
#define API_UPLOAD_PLACEHOLDER_ROOT "bafkqaaa"

/* POST (or PUT) /car/import: a streamed route's handler (api_i.h). */
void api_upload_import(struct http_req *req, struct api_server *s);

#endif
