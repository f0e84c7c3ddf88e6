/*
 * db_pool.c - idle read connections shared by the threads of one module
 * (see db.h).
 */
#include "core/db.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

#include "core/banned.h"

int db_pool_init(struct db_pool *p, const char *path, size_t max)
{
	memset(p, 0, sizeof(*p));
	if (!(p->path = efs_strdup(path)) ||
	    !(p->idle = efs_calloc(max + 1, sizeof(*p->idle)))) {
		efs_free(p->path);
		p->path = NULL;
		return EFS_ENOMEM;
	}
	p->max = max;
	pthread_mutex_init(&p->mu, NULL);
	return 0;
}

void db_pool_release(struct db_pool *p)
{
	if (!p->path)
		return;
	for (size_t i = 0; i < p->n; i++)
		db_close(p->idle[i]);
	efs_free(p->idle);
	efs_free(p->path);
	pthread_mutex_destroy(&p->mu);
	memset(p, 0, sizeof(*p));
}

int db_pool_get(struct db **out, struct db_pool *p)
{
	pthread_mutex_lock(&p->mu);
	*out = p->n ? p->idle[--p->n] : NULL;
	pthread_mutex_unlock(&p->mu);
	if (*out)
		return 0;
	return db_open(out, p->path, DB_OPEN_QUERY_ONLY);
}

void db_pool_put(struct db_pool *p, struct db *db)
{
	if (!db)
		return;
	pthread_mutex_lock(&p->mu);
	if (p->n < p->max) {
		p->idle[p->n++] = db;
		db = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	db_close(db);
}
