/* SPDX-License-Identifier: MIT */
/*
 * store.c - the node's LMDB environment: open with the flags DESIGN.md
 * section 4 asks for (no sync on commit; reads from worker threads), create
 * the named databases once, translate LMDB codes at the boundary.  The
 * environment handle and the database handles never change after
 * gq__store_open() returns, so they may be read from any thread.
 */
#include "store.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "heap.h"

/* Sparse: LMDB only reserves address space; the file grows as it fills. */
#if SIZE_MAX > UINT32_MAX
#define MAP_SIZE ((size_t)64 << 30)
#else
#define MAP_SIZE ((size_t)1 << 30)
#endif

/* Enough reader slots for a few threadpools' worth of concurrent reads. */
#define MAX_READERS 510

/* The named databases and where their handles live in struct gq__store. */
#define MAX_DBS 8

/* LMDB codes gq__err_from_mdb() does not know about: a full reader table
 * is transient (GQ_EBUSY), everything else goes through the shared map. */
static int
err_from_mdb(int rv)
{
	if (rv == MDB_READERS_FULL || rv == MDB_MAP_RESIZED)
		return GQ_EBUSY;
	return gq__err_from_mdb(rv);
}

static int
open_dbs(struct gq__store *st, char *errmsg)
{
	static const char *const names[] = { "offsets",   "times",  "pmeta",
					     "producers", "groups", "meta" };
	MDB_dbi *dbis[] = { &st->offsets,   &st->times,  &st->pmeta,
			    &st->producers, &st->groups, &st->meta };
	MDB_txn *txn;
	size_t i;
	int rv;

	if ((rv = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0) {
		gq__errmsg_set(errmsg, "%s: begin: %s", GQ__STORE_FILE,
			       mdb_strerror(rv));
		return err_from_mdb(rv);
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((rv = mdb_dbi_open(txn, names[i], MDB_CREATE, dbis[i]))) {
			gq__errmsg_set(errmsg, "%s: database '%s': %s",
				       GQ__STORE_FILE, names[i],
				       mdb_strerror(rv));
			goto err_abort;
		}
	}
	if ((rv = mdb_txn_commit(txn)) != 0) {
		gq__errmsg_set(errmsg, "%s: commit: %s", GQ__STORE_FILE,
			       mdb_strerror(rv));
		return err_from_mdb(rv);
	}
	return 0;
err_abort:
	mdb_txn_abort(txn);
	return err_from_mdb(rv);
}

int
gq__store_open(const char *dir, struct gq__store **out, char *errmsg)
{
	struct gq__store *st;
	char *path;
	size_t dlen;
	int rv;

	if (dir == NULL || out == NULL || errmsg == NULL)
		return GQ_EINVAL;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		rv = gq__err_from_errno(errno);
		gq__errmsg_set(errmsg, "mkdir %s: errno %d", dir, errno);
		return rv;
	}
	dlen = strlen(dir);
	if ((path = gq__malloc(dlen + sizeof("/" GQ__STORE_FILE))) == NULL)
		return GQ_ENOMEM;
	memcpy(path, dir, dlen);
	memcpy(path + dlen, "/" GQ__STORE_FILE, sizeof("/" GQ__STORE_FILE));

	rv = GQ_ENOMEM;
	if ((st = gq__calloc(1, sizeof(*st))) == NULL)
		goto err_path;
	if ((rv = mdb_env_create(&st->env)) != 0) {
		gq__errmsg_set(errmsg, "%s: %s", path, mdb_strerror(rv));
		rv = err_from_mdb(rv);
		goto err_free;
	}
	if ((rv = mdb_env_set_mapsize(st->env, MAP_SIZE)) != 0 ||
	    (rv = mdb_env_set_maxreaders(st->env, MAX_READERS)) != 0 ||
	    (rv = mdb_env_set_maxdbs(st->env, MAX_DBS)) != 0) {
		gq__errmsg_set(errmsg, "%s: %s", path, mdb_strerror(rv));
		rv = err_from_mdb(rv);
		goto err_close;
	}
	rv = mdb_env_open(st->env, path, MDB_NOSUBDIR | MDB_NOSYNC | MDB_NOTLS,
			  0644);
	if (rv != 0) {
		if (rv == MDB_INVALID || rv == MDB_VERSION_MISMATCH ||
		    rv == MDB_CORRUPTED)
			gq__errmsg_set(errmsg, "%s: not a valid LMDB file: %s",
				       path, mdb_strerror(rv));
		else
			gq__errmsg_set(errmsg, "%s: open: %s", path,
				       mdb_strerror(rv));
		rv = err_from_mdb(rv);
		goto err_close;
	}
	if ((rv = open_dbs(st, errmsg)) != 0)
		goto err_close;
	gq__free(path);
	*out = st;
	return 0;
err_close:
	/* mdb_env_close() is required even when mdb_env_open() failed. */
	mdb_env_close(st->env);
err_free:
	gq__free(st);
err_path:
	gq__free(path);
	return rv;
}

void
gq__store_close(struct gq__store *st)
{
	if (st == NULL)
		return;
	mdb_env_close(st->env);
	gq__free(st);
}

int
gq__store_begin(struct gq__store *st, bool write, MDB_txn **txn)
{
	return err_from_mdb(
		mdb_txn_begin(st->env, NULL, write ? 0 : MDB_RDONLY, txn));
}

int
gq__store_commit(MDB_txn *txn)
{
	return err_from_mdb(mdb_txn_commit(txn));
}

void
gq__store_abort(MDB_txn *txn)
{
	if (txn != NULL)
		mdb_txn_abort(txn);
}

int
gq__store_sync(struct gq__store *st)
{
	return err_from_mdb(mdb_env_sync(st->env, 1));
}
