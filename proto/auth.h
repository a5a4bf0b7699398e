/*
 * proto/auth.h - the text protocol's authentication token (memcached's -Y).
 *
 * A connection that has not authenticated yet may send only one thing: a
 * "set" whose data block is "<user> <password>". The key, flags and
 * exptime are ignored; the length frames the data. Anything else is
 * answered "CLIENT_ERROR unauthenticated" and the connection stays open,
 * so the client can still authenticate.
 *
 *   set <any key> <any flags> <any exptime> <bytes> [anything]\r\n
 *   <user> <password>\r\n
 *
 * Pure: auth_parse() reads the buffer and never writes it, and the user
 * and password it returns point into it. Checking them is the daemon's
 * business (daemon/authfile.h).
 */
#ifndef ZK_PROTO_AUTH_H
#define ZK_PROTO_AUTH_H

#include <stddef.h>

/* With no '\n' in more than this many bytes the client is sending junk:
 * hang up, as memcached does before a connection has authenticated. */
#define AUTH_LINE_MAX 2048
/* The largest data block taken. memcached reads the block into its 16 KB
 * read buffer and hangs up when it cannot fit; a user:password line of
 * its file is at most 255 bytes anyway. */
#define AUTH_DATA_MAX (16384 - 2)

enum auth_status {
    AUTH_NEED_MORE,      /* nothing consumed: wait for more bytes */
    AUTH_CLOSE,          /* hang up without a reply */
    AUTH_UNAUTHENTICATED, /* not a token: reply, *used bytes consumed */
    AUTH_BAD_TERMINATION, /* the data block does not end in "\r\n" */
    AUTH_BAD_FORMAT,     /* fewer than two words in the data block */
    AUTH_TOKEN,          /* user and password filled in; check them */
};

struct auth_token {
    const char *user;
    size_t nuser;
    const char *pass;
    size_t npass;
};

/* Parses one request from buf[0..len). *used is the number of bytes the
 * request took (its line, and its data block when there is one): 0 for
 * NEED_MORE and CLOSE. */
enum auth_status auth_parse(const char *buf, size_t len,
                            struct auth_token *tok, size_t *used);

/* The reply line ("...\r\n") for a status other than AUTH_TOKEN,
 * AUTH_NEED_MORE and AUTH_CLOSE. */
const char *auth_error_line(enum auth_status st);

/* Replies to a token, after the check. */
#define AUTH_REPLY_OK "STORED\r\n"
#define AUTH_REPLY_FAILED "CLIENT_ERROR authentication failure\r\n"

#endif
