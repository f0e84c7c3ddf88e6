/*
 * importer.h - turn files, symlinks and directory trees into UnixFS DAGs,
 * byte-identical to kubo/boxo and ipfs-unixfs-importer 17.1.1
 * (ipfs-formats.md §3-§7): fixed-size chunks, balanced or trickle
 * layout, raw or dag-pb leaves, basic or HAMT directories.
 *
 * This header holds the options shared by every part of the importer and
 * the whole-file and whole-tree entry points.  The streaming file builder
 * is in importer_file.h (the FUSE layer writes through it), the directory
 * builder in importer_dir.h.
 *
 * Metadata rule (preserve_mode / preserve_mtime, struct importer_meta):
 * we follow ipfs-unixfs-importer, not kubo, so the interop test can check
 * it against the JS oracle:
 *   - mode is stored as (mode & 07777) and omitted when it equals the
 *     UnixFS default (0644 for files and symlinks, 0755 for directories);
 *   - raw leaves stay raw; mode/mtime go on every File node the layout
 *     builds (interior nodes), and a single-chunk file with metadata is
 *     written as a dag-pb File node holding the chunk (never a raw block,
 *     which has nowhere to keep metadata), even when the mode is then
 *     omitted as the default (balanced layout; a trickle root is a File
 *     node linking its leaves anyway);
 *   - directories (and the top shard of a HAMT) and symlinks carry it too.
 * kubo instead writes any non-zero mode and turns raw leaves off when
 * metadata is preserved, so metadata CIDs differ from kubo's.  One JS
 * bug is not copied: with dag-pb leaves, a single-chunk file with
 * metadata is written by JS as a File node whose data is the *encoded
 * leaf block*; we write the chunk itself (what the exporter expects).
 *
 * Threads: the functions are reentrant; every object is owned by one
 * thread.  importer_add_fd and importer_add_path hash leaves on worker
 * threads (and on the calling thread) but call the sink and the
 * progress callback only from the calling thread, blocks in file order.
 */
#ifndef EFS_IMPORTER_H
#define EFS_IMPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/blockio.h"
#include "core/cid.h"

/* kubo's cap on the chunk size: 2 MiB - 256 bytes. */
#define IMPORTER_CHUNK_MAX 2096896u
/* Largest max_links: keeps every File node under 2 MiB. */
#define IMPORTER_LINKS_MAX 16384u
/* Largest worker count. */
#define IMPORTER_THREADS_MAX 64u

/*
 * How a file's leaves are arranged (ipfs-formats.md §4).  W is max_links.
 *
 * Balanced: all leaves at one depth, W children per node.  A file of one
 * chunk is that chunk's leaf.
 *
 * Trickle (kubo's `ipfs add --trickle`, boxo trickledag.go, and what
 * kubo's MFS writes): a node first holds up to W leaves, then layers of
 * sub-trees, 4 per depth: 4 of depth 1 (W leaves each), 4 of depth 2
 * (W leaves + 4 of depth 1), ...  A sub-tree of depth d holds depths
 * 1..d-1; the root has no depth limit.  With dag-pb leaves the leaves
 * are UnixFS Type Raw (0), as kubo writes them; raw leaves stay raw
 * blocks.  The root is always a File node, as in kubo: a file of one
 * chunk is a root linking its one leaf, an empty file a root with no
 * links (ipfs-unixfs-importer instead returns the lone leaf itself:
 * its CIDs differ from kubo's for files of at most one chunk).
 */
enum importer_layout {
	IMPORTER_LAYOUT_BALANCED, /* the profiles' layout */
	IMPORTER_LAYOUT_TRICKLE,
};

/* How a basic directory's size is estimated against hamt_threshold. */
enum importer_hamt_estimator {
	/* Σ over entries of name bytes + CID bytes (unixfs-v0-2015). */
	IMPORTER_HAMT_LINKS,
	/* The exact size of the basic directory's dag-pb block
	 * (unixfs-v1-2025). */
	IMPORTER_HAMT_BLOCK,
	/* Never shard. */
	IMPORTER_HAMT_DISABLED,
};

/*
 * Import parameters.  Start from importer_opts_profile and override
 * fields; importer_opts_check says whether a combination is valid.
 */
struct importer_opts {
	int cid_version;	 /* of dag-pb nodes: 0 or 1 (raw leaves are
				    always CIDv1); a hash other than
				    sha2-256 forces 1, as in kubo */
	uint64_t hash;		 /* MHASH_SHA2_256 or MHASH_BLAKE2B_256 */
	size_t chunk_size;	 /* fixed chunk size, 1..IMPORTER_CHUNK_MAX */
	unsigned max_links;	 /* links per File node, 2..LINKS_MAX (the
				    trickle root and sub-trees also take
				    up to 4 per depth past it) */
	enum importer_layout layout; /* balanced in both profiles */
	bool raw_leaves;	 /* leaves as raw blocks, else dag-pb File */
	uint64_t hamt_threshold; /* shard when the estimate is > this */
	enum importer_hamt_estimator hamt_estimator;
	unsigned hamt_fanout; /* power of two, 8..1024 */
	bool include_hidden;  /* import names starting with '.'; kubo's
				 default is off (--hidden turns it on),
				 ours on, since this is a drive */
	bool preserve_mode;   /* store permission bits (add_fd/add_path) */
	bool preserve_mtime;  /* store modification times (idem) */
	unsigned threads;     /* threads hashing leaves in add_fd/add_path,
				 the calling one included; 0 = one per
				 online CPU */
	bool use_mmap;	      /* add_fd/add_path: map regular files rather
				 than pread them (no copy, but mapping
				 costs about as much: no CPU saved that
				 we could measure), and a file truncated
				 by another process while it is being
				 imported then kills the process with
				 SIGBUS.  Off in the profiles */
};

/* Per-entry metadata (UnixFS 1.5 mode and mtime); see the rule above. */
struct importer_meta {
	bool has_mode;
	uint32_t mode; /* st_mode; the low 12 bits are kept */
	bool has_mtime;
	int64_t mtime_sec;
	uint32_t mtime_nsec; /* 0..999999999; 0 is not written */
};

/* What an importer_progress_cb is told. */
enum importer_event_kind {
	IMPORTER_EVENT_PROGRESS, /* done/total moved on */
	IMPORTER_EVENT_WARN,	 /* an entry was skipped: path, msg */
};

struct importer_event {
	enum importer_event_kind kind;
	uint64_t done;	  /* file bytes imported so far */
	uint64_t total;	  /* file bytes to import in all */
	const char *path; /* WARN: the entry's path; borrowed */
	const char *msg;  /* WARN: why; borrowed */
};

/*
 * Called on the importing thread after each chunk (PROGRESS) and for
 * every skipped entry (WARN).  Return 0 to go on; anything else cancels
 * the import, which then returns EFS_ECANCELED.
 */
typedef int (*importer_progress_cb)(const struct importer_event *ev,
				    void *payload);

/*
 * Fill out with a profile's parameters: "unixfs-v1-2025" (also for NULL
 * or ""; CIDv1, sha2-256, raw leaves, 1 MiB chunks, 1024 links, HAMT
 * fanout 256 when the exact block size is > 262144) or "unixfs-v0-2015"
 * (alias "legacy-cid-v0"; CIDv0, dag-pb leaves, 256 KiB chunks, 174
 * links, links estimator > 262144).  Both lay files out balanced,
 * include hidden files, keep no metadata, use one worker per CPU and
 * pread.  Returns 0 or EFS_EINVAL (unknown name; out is then the default
 * profile).
 */
int importer_opts_profile(struct importer_opts *out, const char *name);

/*
 * Check a set of options.  Returns 0 or EFS_EINVAL with a message naming
 * the bad field.  Every entry point checks its options this way.
 */
int importer_opts_check(const struct importer_opts *opts);

/* The CID version dag-pb nodes get: 1 whenever hash is not sha2-256. */
int importer_opts_cid_version(const struct importer_opts *opts);

/*
 * Check that a name may be a UnixFS directory entry: non-empty, valid
 * UTF-8 (no overlong forms, surrogates or code points past U+10FFFF),
 * no '/' and no NUL, and not "." or "..".  Returns 0 or EFS_EINVAL; the
 * message quotes the name (escaped).
 */
int importer_name_check(const char *name, size_t len);

/*
 * Import the file open at fd (bytes [0, size at the start), mapped or
 * read with pread, in parallel, whatever fd's offset; pipes and other
 * unseekable files are read sequentially) and store its blocks through
 * sink.  The root CID goes to
 * out, its cumulative size (the Tsize a directory link to it carries) to
 * tsize_out (NULL to ignore).  Metadata comes from fstat when opts asks
 * for it.  The file must not change during the import.
 *
 * Returns 0, EFS_EINVAL (bad opts), EFS_EIO (a read failed, or the file
 * shrank), EFS_ENOMEM, EFS_ECANCELED (cb asked) or a sink error.  On
 * failure some blocks may already be in the sink.
 */
int importer_add_fd(struct cid *out, uint64_t *tsize_out, int fd,
		    const struct importer_opts *opts,
		    const struct blockio_sink *sink, importer_progress_cb cb,
		    void *payload);

/*
 * Import path: a regular file, a symlink (stored as a UnixFS Symlink,
 * never followed) or a directory, recursively (like `ipfs add -r`: the
 * root is path itself, its own name is not in the DAG).  Entries are
 * sorted by name bytes; empty directories are kept; fifos, sockets and
 * devices are skipped with an IMPORTER_EVENT_WARN; hidden names follow
 * opts->include_hidden.  The root CID goes to out, its cumulative size to
 * tsize_out (NULL to ignore).
 *
 * Returns 0, EFS_EINVAL (bad opts; a name that is not valid UTF-8, with
 * the path in the message; path itself a special file), EFS_ENOTFOUND
 * (path does not exist), EFS_EIO, EFS_ENOMEM, EFS_ECANCELED or a sink
 * error.
 */
int importer_add_path(struct cid *out, uint64_t *tsize_out, const char *path,
		      const struct importer_opts *opts,
		      const struct blockio_sink *sink, importer_progress_cb cb,
		      void *payload);

/*
 * Store a UnixFS Symlink node pointing at target[0..len) (any bytes; the
 * target is not interpreted) with optional metadata (NULL for none).
 * The CID goes to out, the block size (its Tsize) to tsize_out (NULL to
 * ignore).  Returns 0, EFS_EINVAL, EFS_ETOOBIG (a target over 1 MiB),
 * EFS_ENOMEM or a sink error.
 */
int importer_symlink(struct cid *out, uint64_t *tsize_out, const char *target,
		     size_t len, const struct importer_opts *opts,
		     const struct importer_meta *meta,
		     const struct blockio_sink *sink);

#endif
