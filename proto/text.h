/*
 * proto/text.h - the memcached text protocol: request parser and reply
 * composers.
 *
 * Pure functions over byte buffers. Nothing here knows about sockets or the
 * storage engine: the daemon feeds bytes in, gets a request whose keys point
 * into those bytes, executes it, and uses the composers to write the reply.
 *
 * Storage commands: text_parse() consumes only the command line. The caller
 * then reads req.nbytes + 2 bytes of data (straight into a new item) and
 * checks them with text_data_block_ok().
 *
 * noreply: memcached suppresses *every* reply once it has seen "noreply",
 * errors included ("set k 0 0 x noreply" answers nothing). req.noreply is
 * set exactly when memcached would have noticed it before answering, also
 * with TEXT_ERROR and TEXT_CLIENT_ERROR; the daemon then sends nothing.
 *
 * Meta commands (two bytes starting with 'm': mg ms md ma mn me) are not
 * parsed here and come back as TEXT_ERROR: route them to the meta parser
 * before calling text_parse().
 */
#ifndef ZK_PROTO_TEXT_H
#define ZK_PROTO_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TEXT_KEY_MAX 250
/* A line longer than this with no '\n' yet closes the connection, unless it
 * is a get/gets line (multi-key gets are unbounded), as memcached does. */
#define TEXT_LINE_MAX 2048
/* Room enough for any "VALUE <key> <flags> <bytes> [<cas>]\r\n" line. */
#define TEXT_VALUE_HEADER_MAX (6 + TEXT_KEY_MAX + 1 + 10 + 1 + 10 + 1 + 20 + 2)

/* X(enum suffix, wire keyword) */
#define TEXT_COMMANDS(X)                                                     \
    X(GET, "get") X(GETS, "gets") X(GAT, "gat") X(GATS, "gats")              \
    X(SET, "set") X(ADD, "add") X(REPLACE, "replace") X(APPEND, "append")    \
    X(PREPEND, "prepend") X(CAS, "cas") X(DELETE, "delete")                  \
    X(INCR, "incr") X(DECR, "decr") X(TOUCH, "touch")                        \
    X(FLUSH_ALL, "flush_all") X(VERSION, "version")                          \
    X(VERBOSITY, "verbosity") X(QUIT, "quit") X(SHUTDOWN, "shutdown")        \
    X(STATS, "stats") X(CACHE_MEMLIMIT, "cache_memlimit")                    \
    X(DEBUGTIME, "debugtime") X(LRU_CRAWLER, "lru_crawler")                  \
    X(SLABS, "slabs") X(LRU, "lru") X(SNAPSHOT, "snapshot")                  \
    X(WATCH, "watch") X(REFRESH_CERTS, "refresh_certs")

enum text_cmd {
    TEXT_CMD_NONE = 0,
#define TEXT_CMD_ENUM(name, word) TEXT_CMD_##name,
    TEXT_COMMANDS(TEXT_CMD_ENUM)
#undef TEXT_CMD_ENUM
    TEXT_CMD__COUNT
};

enum text_status {
    TEXT_OK,           /* req is filled; *consumed = length of the line */
    TEXT_NEED_MORE,    /* no complete line yet; call again with more bytes */
    TEXT_ERROR,        /* reply "ERROR"; *consumed = length of the line */
    TEXT_CLIENT_ERROR, /* reply "CLIENT_ERROR <req.error>"; *consumed = line;
                          then discard req.swallow further bytes */
    TEXT_CLOSE,        /* unrecoverable (line too long, or an HTTP request
                          line such as "GET / HTTP/1.1"): close the
                          connection without a reply */
};

struct text_request {
    enum text_cmd cmd;
    bool noreply;
    /* The single key of a keyed command; for get/gets/gat/gats the first. */
    const char *key;
    size_t nkey;
    /* get/gets/gat/gats: the whole key list, walk it with text_next_key().
     * It may be empty (keys_len 0, keys still non-NULL): "gat 10" is legal
     * and answers just END. After a too-long key (TEXT_CLIENT_ERROR): the
     * keys before it, which memcached looks up (and gat touches) before it
     * gives up; key is NULL then. */
    const char *keys;
    size_t keys_len;
    uint32_t flags;    /* client flags (storage commands) */
    int64_t exptime;   /* as sent; negative means already expired; also the
                          flush_all delay and the touch/gat time. Wrapped
                          to 32 bits as memcached does (4294967296 -> 0,
                          2147483648 -> -2147483648); debugtime: the full
                          signed 64-bit seconds */
    bool has_exptime;  /* flush_all: a delay was given */
    uint32_t nbytes;   /* storage commands: data length without "\r\n" */
    uint64_t cas;      /* cas: the compare value */
    uint64_t delta;    /* incr/decr */
    uint32_t level;    /* verbosity; debugtime seconds; cache_memlimit
                          megabytes (parsed as memcached does) */
    /* Free argument text: the stats sub-command line after "stats ",
     * shutdown's argument, cache_memlimit's megabytes as sent. From the
     * first argument to the end of the last one; for stats and shutdown
     * narg is 0 (arg non-NULL) when there is none. Its words can be walked
     * with text_next_key(). */
    const char *arg;
    size_t narg;
    const char *error; /* TEXT_CLIENT_ERROR: message without "CLIENT_ERROR " */
    size_t swallow;    /* TEXT_CLIENT_ERROR: data bytes to discard after line */
};

/* Parse one request from buf[0..len). Never reads past len. */
enum text_status text_parse(const char *buf, size_t len,
                            struct text_request *req, size_t *consumed);

/* Iterate the keys of a retrieval line: *cursor starts at req.keys, end is
 * req.keys + req.keys_len. Returns false when there are no more keys. */
bool text_next_key(const char **cursor, const char *end,
                   const char **key, size_t *nkey);

/* True when the nbytes + 2 bytes of a data block end in "\r\n". */
bool text_data_block_ok(const char *data, size_t nbytes_plus_2);

/* Fixed replies; each maps to exactly one wire string ending in "\r\n". */
#define TEXT_REPLIES(X)                                                      \
    X(STORED, "STORED") X(NOT_STORED, "NOT_STORED") X(EXISTS, "EXISTS")      \
    X(NOT_FOUND, "NOT_FOUND") X(DELETED, "DELETED") X(TOUCHED, "TOUCHED")    \
    X(OK, "OK") X(END, "END") X(RESET, "RESET") X(ERROR, "ERROR")            \
    X(ERR_NON_NUMERIC,                                                       \
      "CLIENT_ERROR cannot increment or decrement non-numeric value")        \
    X(ERR_BAD_CHUNK, "CLIENT_ERROR bad data chunk")                          \
    X(ERR_BAD_FORMAT, "CLIENT_ERROR bad command line format")                \
    X(ERR_TOO_LARGE, "SERVER_ERROR object too large for cache")              \
    X(ERR_OOM_STORE, "SERVER_ERROR out of memory storing object")            \
    X(ERR_TOO_MANY_CONNS, "ERROR Too many open connections")

enum text_reply {
#define TEXT_REPLY_ENUM(name, str) TEXT_R_##name,
    TEXT_REPLIES(TEXT_REPLY_ENUM)
#undef TEXT_REPLY_ENUM
    TEXT_R__COUNT
};

/* The wire bytes of a fixed reply, "\r\n" included; *len gets their length. */
const char *text_reply_str(enum text_reply r, size_t *len);

/* Composers: write into dst (capacity cap) and return the bytes written,
 * or 0 when cap is too small. */
size_t text_value_header(char *dst, size_t cap, const char *key, size_t nkey,
                         uint32_t flags, uint32_t nbytes, bool with_cas,
                         uint64_t cas);
size_t text_stat_line(char *dst, size_t cap, const char *name,
                      const char *value);
size_t text_number_line(char *dst, size_t cap, uint64_t value);
size_t text_client_error(char *dst, size_t cap, const char *msg);
size_t text_server_error(char *dst, size_t cap, const char *msg);

#endif
