/* SPDX-License-Identifier: MIT */
/*
 * store.h - the node's one LMDB environment, <data dir>/index.lmdb, and the
 * named databases every module keeps in it (DESIGN.md section 4).  This
 * module owns the environment's lifetime, its flags and the translation of
 * LMDB codes; the layout of each database belongs to the module named
 * beside it below (the plog layouts are in plog.h and doc/storage.md).
 *
 * Durability: the environment is opened with MDB_NOSYNC, so a commit only
 * reaches the OS page cache.  The Raft log is the write-ahead log; before
 * Raft may compact entries away the owner calls gq__store_sync() (and
 * gq__plog_sync() for segment files), after which every commit so far is on
 * disk.  A crash may lose commits made since the last sync, never reorder
 * or tear them (LMDB's copy-on-write meta pages).
 *
 * Threading (repeat of the LMDB rules): one write transaction at a time,
 * opened by the node's loop thread; read-only transactions may be opened on
 * any thread (MDB_NOTLS ties reader slots to the transaction, not to the
 * thread, so threadpool workers can read) and are used by one thread at a
 * time; nothing survives fork().  gq__store_sync() is safe from any thread.
 */
#ifndef GQ_STORE_H
#define GQ_STORE_H

#include <lmdb.h>
#include <stdbool.h>

/* File name of the environment inside the node's data directory.  LMDB also
 * keeps its reader table in STORE_FILE "-lock" next to it. */
#define GQ__STORE_FILE "index.lmdb"

struct gq__store {
	MDB_env *env;
	/* (be64 uid, be64 base_offset) -> offset index entry (plog). */
	MDB_dbi offsets;
	/* (be64 uid, be64 running_max_ts ^ 2^63, be64 base_offset) -> empty
	 * (plog time index). */
	MDB_dbi times;
	/* be64 uid -> partition log metadata (plog). */
	MDB_dbi pmeta;
	/* Producer state for idempotence, owned by the partition module. */
	MDB_dbi producers;
	/* Consumer-group offsets, owned by the group-offset module. */
	MDB_dbi groups;
	/* Node and controller metadata, owned by the node. */
	MDB_dbi meta;
};

/*
 * Open, or create, <dir>/index.lmdb (MDB_NOSUBDIR | MDB_NOSYNC | MDB_NOTLS)
 * with a sparse 64 GiB map (1 GiB on 32-bit hosts), room for 510 concurrent
 * readers, and create the named databases.  @dir is created if it does not
 * exist (its parent must).  On success *out is the store, to be released
 * with gq__store_close(); on failure *out is untouched and @errmsg (a
 * GQ_ERRMSG_SIZE buffer, borrowed) says what failed and where.
 * @return 0, GQ_ECORRUPT (not an LMDB file, or corrupt; errmsg names the
 * file), GQ_EIO, GQ_ENOSPC, GQ_ENOMEM, GQ_EBUSY.
 * Thread safety: any thread, once per directory.
 */
int gq__store_open(const char *dir, struct gq__store **out, char *errmsg);

/*
 * Close the environment and free @st; NULL is a no-op.  No transaction may
 * be open, and every plog using the store must be closed first.
 */
void gq__store_close(struct gq__store *st);

/*
 * Begin a transaction: a write transaction if @write (loop thread only; one
 * at a time), otherwise a read-only one (any thread).  *txn must then be
 * ended by gq__store_commit() or gq__store_abort().
 * @return 0, GQ_EBUSY (reader table full), GQ_ENOSPC, GQ_ENOMEM, GQ_EIO,
 * GQ_ECORRUPT.
 */
int gq__store_begin(struct gq__store *st, bool write, MDB_txn **txn);

/*
 * Commit @txn.  The transaction is gone afterwards whether this succeeded
 * or not (on failure nothing of it was committed).
 * @return 0, GQ_ENOSPC (map full), GQ_EIO, GQ_ENOMEM.
 */
int gq__store_commit(MDB_txn *txn);

/* Abort @txn (nothing it wrote is kept); NULL is a no-op. */
void gq__store_abort(MDB_txn *txn);

/*
 * Flush every committed transaction to disk (mdb_env_sync with force).
 * Blocking: run it in the threadpool.  Thread safety: any thread,
 * concurrently with transactions.  @return 0, GQ_EIO, GQ_ENOSPC.
 */
int gq__store_sync(struct gq__store *st);

#endif /* GQ_STORE_H */
