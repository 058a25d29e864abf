/* SPDX-License-Identifier: MIT */
/*
 * rconf.c - goqueue's encoding of a Raft configuration (rconf.h).
 */
#include "rconf.h"

#include <string.h>

#include "error.h"

int
gq__rconf_encode(const struct raft_configuration *c, struct gq__buf *out)
{
	int rv = gq__buf_put_le32(out, c->n);

	for (unsigned i = 0; rv == 0 && i < c->n; i++) {
		const struct raft_server *s = &c->servers[i];
		size_t len = strlen(s->address);

		if (len > GQ__RCONF_ADDRESS_MAX)
			return GQ_EINVAL;
		if ((rv = gq__buf_put_le64(out, s->id)) == 0 &&
		    (rv = gq__buf_put_u8(out, (uint8_t)s->role)) == 0 &&
		    (rv = gq__buf_put_le16(out, (uint16_t)len)) == 0)
			rv = gq__buf_append(out, s->address, len);
	}
	return rv;
}

int
gq__rconf_decode(struct gq__rd *r, struct raft_configuration *c)
{
	char address[GQ__RCONF_ADDRESS_MAX + 1];
	uint32_t n = gq__rd_le32(r);

	raft_configuration_init(c);
	/* Each server takes at least 11 bytes: a count beyond what is left
	 * is corruption, not a reason to loop. */
	if (r->bad || n > r->left / 11)
		goto corrupt;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t id = gq__rd_le64(r);
		int role = gq__rd_u8(r);
		int rv;

		gq__rd_str16(r, address, sizeof(address));
		if (r->bad || id == 0 ||
		    (role != RAFT_VOTER && role != RAFT_STANDBY &&
		     role != RAFT_SPARE))
			goto corrupt;
		rv = raft_configuration_add(c, id, address, role);
		if (rv == RAFT_NOMEM) {
			raft_configuration_close(c);
			return GQ_ENOMEM;
		}
		if (rv != 0) /* a duplicate id or address */
			goto corrupt;
	}
	return 0;
corrupt:
	r->bad = true;
	raft_configuration_close(c);
	raft_configuration_init(c);
	return GQ_ECORRUPT;
}
