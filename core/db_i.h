/*
 * db_i.h - what db.c shares with db_ckpt.c.
 */
#ifndef EFS_DB_I_H
#define EFS_DB_I_H

#include <sqlite3.h>

struct db_ckpt;

/*
 * Hand conn's checkpoints (a writer's connection to path) to the
 * background checkpointer of path, started on first use: turns off
 * conn's automatic checkpoint and installs its WAL hook.  *out is the
 * reference db_ckpt_detach gives back.  Returns 0, EFS_ENOMEM or
 * EFS_ERROR (the thread could not start).
 */
int db_ckpt_attach(struct db_ckpt **out, sqlite3 *conn, const char *path);

/* Give the reference back (before conn is closed); the last one stops the
 * thread after its last checkpoint.  NULL is fine. */
void db_ckpt_detach(struct db_ckpt *c, sqlite3 *conn);

#endif
