/*
 * api_metrics.h - the daemon's GET /metrics (api_metrics.c): Prometheus
 * text exposition format 0.0.4 of the blockstore's blocks and bytes by
 * state, the deals by state, retrieval's counters and latency
 * histograms, a mount's FUSE operations (counts, errors, latency
 * histograms; api_server_opts.fs_ops) and the HTTP requests served by
 * route and status (docs/api.md lists every series).  The route is
 * PUBLIC: the server listens on loopback by default, and the figures
 * are counts, never names.
 *
 * Threads: api_metrics_count may be called from any thread at once.
 */
#ifndef EFS_API_API_METRICS_H
#define EFS_API_API_METRICS_H

/*
 * Count one HTTP request answered with status (0: none queued, counted
 * as 500) on the route whose path pattern is route ("/public/stats",
 * "/content/"; NULL: no route, counted as "none").  route must be a
 * string that lives as long as the process (the route tables' own).
 * Counts are of the process, across servers; a route and status pair
 * past the table's room (API_METRICS_SERIES_MAX) is counted under
 * route "other".
 */
void api_metrics_count(const char *route, unsigned status);

#define API_METRICS_SERIES_MAX 256

#endif
