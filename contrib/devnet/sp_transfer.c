/*
 * sp_transfer.c - how a simulated SP pulls a deal's CAR: an HTTP GET of
 * the URL the client put in Transfer.Params, with the client's headers,
 * streamed to a file while its CommP is computed (Curio's commp task
 * reads the parked piece the same way: one pass, hashing as it goes).
 *
 * Limits, so a client cannot hold the SP forever or fill its disk: at
 * most `max` bytes (the deal's Transfer.Size), http and https only
 * (redirects too), SP_TRANSFER_TIMEOUT_S in all, and abandoned when
 * slower than SP_TRANSFER_MIN_BPS for SP_TRANSFER_STALL_S.  A reply other
 * than 200 fails the transfer with Curio's message ("not ok response
 * from HTTP server: 404 Not Found").
 */
#include "contrib/devnet/sp_i.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/fdio.h"

#include "core/banned.h"

struct xfer {
	struct sp *sp;
	CURL *curl;
	int fd;
	struct commp *commp;
	uint64_t got;
	uint64_t max;
	long status;         /* the reply's status, once known */
	int err;             /* why the write callback stopped */
};

/* Go's http.StatusText for the codes a CAR server is likely to send. */
static const char *status_text(long code)
{
	switch (code) {
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 410: return "Gone";
	case 416: return "Requested Range Not Satisfiable";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;

	if (!x->status)
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &x->status);
	if (x->status != 200) {
		x->err = EFS_EIO;
		return 0;
	}
	if (len > x->max - x->got) {
		x->err = efs_error_set(EFS_ETOOBIG,
				       "transfer is longer than the deal's"
				       " %llu bytes",
				       (unsigned long long)x->max);
		return 0;
	}
	if (commp_update(x->commp, p, len) < 0) {
		x->err = EFS_ETOOBIG;
		return 0;
	}
	if (fdio_write(x->fd, p, len) < 0) {
		x->err = efs_error_set_errno(EFS_EIO, errno,
					     "writing the piece");
		return 0;
	}
	x->got += len;
	return len;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn,
		       curl_off_t ut, curl_off_t un)
{
	struct xfer *x = arg;
	bool stop = sp_is_stopping(x->sp);

	if (stop)
		x->err = efs_error_set(EFS_ECANCELED, "transfer cancelled:"
				       " the devnet is stopping");
	return stop;
}

/* "Name: value" lines for the client's headers. */
static int header_list(struct curl_slist **out,
		       const struct mk12_http_request *hr)
{
	*out = NULL;
	for (size_t i = 0; i < hr->nheaders; i++) {
		struct buf line = BUF_INIT(MK12_STRING_MAX * 2 + 4);
		struct curl_slist *n = NULL;

		if (buf_printf(&line, "%s: %s", hr->headers[i].name,
			       hr->headers[i].value) == 0)
			n = curl_slist_append(*out, (const char *)line.ptr);
		buf_release(&line);
		if (!n)
			return efs_error_set(EFS_ENOMEM, "transfer headers");
		*out = n;
	}
	return 0;
}

static void setup(struct xfer *x, const char *url, struct curl_slist *hdrs)
{
	CURL *c = x->curl;

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)SP_TRANSFER_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, (long)SP_TRANSFER_MIN_BPS);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)SP_TRANSFER_STALL_S);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "Go-http-client/1.1");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
}

static int outcome(struct xfer *x, CURLcode cc, const char *errbuf)
{
	if (x->err == EFS_EIO || (cc == CURLE_OK && x->status != 200)) {
		if (!x->status)
			curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE,
					  &x->status);
		return efs_error_set(EFS_EIO,
				     "not ok response from HTTP server: %ld %s",
				     x->status, status_text(x->status));
	}
	if (x->err)
		return x->err;
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return efs_error_set(EFS_ETIMEDOUT,
				     "error making GET request: %s",
				     errbuf[0] ? errbuf
					       : curl_easy_strerror(cc));
	if (cc != CURLE_OK)
		return efs_error_set(EFS_EIO, "error making GET request: %s",
				     errbuf[0] ? errbuf
					       : curl_easy_strerror(cc));
	return 0;
}

int sp_transfer(struct commp_piece *out, uint64_t *got, struct sp *sp,
		const struct mk12_http_request *hr, const char *path,
		uint64_t max)
{
	struct xfer x = { .sp = sp, .max = max, .fd = -1 };
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	CURLcode cc;
	int rc;

	*got = 0;
	if ((rc = commp_new(&x.commp, 2)) < 0)
		return rc;
	if ((rc = header_list(&hdrs, hr)) < 0)
		goto out;
	x.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (x.fd < 0) {
		rc = efs_error_set_errno(EFS_EIO, errno, "sp: open %s", path);
		goto out;
	}
	if (!(x.curl = curl_easy_init())) {
		rc = efs_error_set(EFS_ENOMEM, "sp: curl_easy_init");
		goto out;
	}
	setup(&x, hr->url ? hr->url : "", hdrs);
	curl_easy_setopt(x.curl, CURLOPT_ERRORBUFFER, errbuf);
	cc = curl_easy_perform(x.curl);
	if ((rc = outcome(&x, cc, errbuf)) == 0 && fsync(x.fd) != 0)
		rc = efs_error_set_errno(EFS_EIO, errno, "sp: fsync %s", path);
	if (rc == 0)
		commp_finish(out, x.commp);
	*got = x.got;
out:
	if (x.curl)
		curl_easy_cleanup(x.curl);
	if (x.fd >= 0)
		close(x.fd);
	curl_slist_free_all(hdrs);
	commp_free(x.commp);
	return rc;
}

int sp_transfer_params(struct mk12_http_request *out,
		       const struct mk12_bytes *params)
{
	char why[512];
	int rc = mk12_http_request_decode(out, params->ptr, params->len);

	if (rc != EFS_ECORRUPT)
		return rc;
	snprintf(why, sizeof(why), "%s", efs_error_msg());
	return efs_error_set(EFS_ECORRUPT,
			     "failed to de-serialize transport params bytes"
			     " '%.*s': %s",
			     (int)(params->len < 512 ? params->len : 512),
			     params->ptr ? (const char *)params->ptr : "", why);
}
