/*
 * daemon/authfile.h - the users and passwords of -Y (text protocol
 * authentication), read from a file.
 *
 * The file is memcached's: one "user:password" per line. The user ends at
 * the first ':', the password at the end of the line (a '\r' before the
 * '\n' is not part of it). A line without ':' (an empty line too) makes
 * the whole file malformed. Unlike memcached, which silently ignores
 * lines after the eighth, every line counts.
 *
 * SIGHUP reloads the file; a reload that fails keeps the entries already
 * loaded, so a half-written file never locks every client out. Checks may
 * run on any thread while a reload happens.
 */
#ifndef ZK_DAEMON_AUTHFILE_H
#define ZK_DAEMON_AUTHFILE_H

#include <stdbool.h>
#include <stddef.h>

/* A file larger than this is refused: it is not a password list. */
#define AUTHFILE_SIZE_MAX (1024 * 1024)

struct authfile;

/* Loads path (kept as an absolute path, for reloads after -d moved to /).
 * NULL with the reason in err when it cannot be read or is malformed. */
struct authfile *authfile_open(const char *path, char *err, size_t errlen);
/* Reads the file again. False with the reason in err, the old entries
 * kept, when it cannot be read or is malformed. */
bool authfile_reload(struct authfile *af, char *err, size_t errlen);
void authfile_close(struct authfile **af);

/* The user and password match an entry. Every entry of the same lengths
 * is compared in full, so the time taken does not tell how much of a
 * password was right. */
bool authfile_check(struct authfile *af, const char *user, size_t nuser,
                    const char *pass, size_t npass);
size_t authfile_count(struct authfile *af);
const char *authfile_path(const struct authfile *af);

#endif
