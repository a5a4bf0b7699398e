/*
 * Daemon settings: every start-up knob of zeekdb, declared once.
 *
 * SETTINGS_TABLE below is the only place a setting is declared. The struct
 * field, the default, getopt's short and long options, the `-o key=value`
 * key, validation bounds, the `-h` text and the `stats settings` line are
 * all generated from its row (STYLE.md rule 7). Adding a setting means
 * adding one row; nothing else changes.
 *
 * Columns:
 *   field   struct member (rows of type IGNORED/REFUSED/HELP/VERSION/EXT
 *           have no member; the name only identifies the row)
 *   type    see below; decides the C type of the member and the parser
 *   flag    short option letter, or 0
 *   long    long option name (--long), or NULL
 *   okey    key accepted by `-o key[=value]`, or NULL
 *   stat    name of the `stats settings` line (memcached's), or NULL
 *   def     default, written as a user would type it, or NULL (unset)
 *   range   numeric bounds "MIN..MAX" (either side may be empty; a leading
 *           '>' makes MIN exclusive), written in the option's own units.
 *           Only user input is checked: a default may lie outside (the
 *           hashpower default 0 means "engine's choice").
 *           CHOICE: alternatives "a|b=display|!c:reason" (=display is what
 *           `stats settings` shows; !c is a value refused with a reason).
 *           BOOL: the two words `stats settings` prints, default "yes|no".
 *   arg     name of the option's argument in `-h`, NULL if it takes none
 *   help    one line for `-h` (REFUSED: what the option would enable)
 *
 * Types:
 *   BOOL    bool. A flag flips the default (-C turns CAS off, -d turns
 *           daemon mode on). -o key sets it, -o no_key clears it,
 *           -o key=yes|no|on|off|true|false|1|0 sets it explicitly.
 *   COUNT   int, +1 each time the flag is given (-vvv gives 3)
 *   INT     int, decimal
 *   OCTAL   int, octal (0700 or 700)
 *   SIZE    uint64_t bytes; a plain number is bytes, k/m/g/t multiply by
 *           1024, 1024^2, 1024^3, 1024^4
 *   MB      uint64_t bytes; a plain number is megabytes (memcached's -m),
 *           k/m/g/t suffixes as for SIZE
 *   DOUBLE  double
 *   STRING  char * owned by the struct, NULL when unset
 *   LIST    char *, comma-separated; repeating the flag appends
 *   CHOICE  char *, one of the alternatives in range
 *   HELP, VERSION, EXT   actions: print usage, print version, parse -o
 *   IGNORED accepted for memcached compatibility, no effect, no member
 *   REFUSED recognised, and refused with a message saying why
 */
#ifndef ZEEKDB_DAEMON_SETTINGS_H
#define ZEEKDB_DAEMON_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifndef ZEEKDB_VERSION
# ifdef PACKAGE_VERSION
#  define ZEEKDB_VERSION PACKAGE_VERSION
# else
#  define ZEEKDB_VERSION "0.0.0-dev"
# endif
#endif

/* Rows whose `stats settings` line memcached also prints come first, in
 * memcached 1.6's order; the rest follow in memcached's `-h` order, with
 * lines of zeekdb's own names where memcached prints none, so `stats
 * settings` covers every option that has an effect. Options accepted and
 * ignored (IGNORED) print memcached's line only where zeekdb's fixed
 * behaviour matches a value of memcached's: their def column is that
 * value (it is never applied as a default). */
#define SETTINGS_TABLE(X)                                                     \
/* field, type, flag, long, okey, stat,                                       \
   default, range, arg,                                                       \
   help */                                                                    \
X(maxbytes, MB, 'm', "memory-limit", NULL, "maxbytes",                        \
  "64m", "1m..", "num",                                                       \
  "item memory in megabytes, or with a k/m/g suffix")                         \
X(maxconns, INT, 'c', "conn-limit", NULL, "maxconns",                         \
  "1024", "1..", "num",                                                       \
  "max simultaneous connections")                                             \
X(port, INT, 'p', "port", NULL, "tcpport",                                    \
  "11211", "-1..65535", "num",                                                \
  "TCP port to listen on, 0 is off, -1 any free one")                         \
X(udpport, INT, 'U', "udp-port", NULL, "udpport",                             \
  "0", "-1..65535", "num",                                                    \
  "UDP port to listen on, 0 is off, -1 any free one; without -p, also "     \
  "the TCP port")                                                             \
X(listen, LIST, 'l', "listen", NULL, "inter",                                 \
  "127.0.0.1", NULL, "addr",                                                  \
  "interfaces to listen on, comma-separated or repeated; IPv6 allowed")       \
X(verbose, COUNT, 'v', "verbose", NULL, "verbosity",                          \
  "0", NULL, NULL,                                                            \
  "verbose: errors and warnings; -vv also client commands, -vvv internal "    \
  "state")                                                                    \
X(evict_to_free, BOOL, 'M', "disable-evictions", NULL, "evictions",           \
  "yes", "on|off", NULL,                                                      \
  "return an error when memory is full instead of evicting")                  \
X(socketpath, STRING, 's', "unix-socket", NULL, "domain_socket",              \
  NULL, NULL, "file",                                                         \
  "UNIX socket to listen on")                                                 \
X(access_mask, OCTAL, 'a', "unix-mask", NULL, "umask",                        \
  "0700", "0..0777", "mask",                                                  \
  "permissions of the UNIX socket, in octal")                                 \
X(allow_shutdown, BOOL, 'A', "enable-shutdown", NULL, "shutdown_command",     \
  "no", NULL, NULL,                                                           \
  "enable the \"shutdown\" command")                                          \
X(factor, DOUBLE, 'f', "slab-growth-factor", NULL, "growth_factor",           \
  "1.25", ">1.0..", "num",                                                    \
  "growth factor between slab chunk sizes")                                   \
X(chunk_size, INT, 'n', "slab-min-size", NULL, "chunk_size",                  \
  "48", "1..1048576", "bytes",                                                \
  "smallest space for key, value and flags")                                  \
X(slab_sizes, STRING, 0, NULL, "slab_sizes", NULL,                           \
  NULL, NULL, "a-b-c",                                                        \
  "slab chunk sizes in bytes, rising (e.g. 96-200-304), in place of -n "      \
  "and -f")                                                                   \
X(num_threads, INT, 't', "threads", NULL, "num_threads",                      \
  "4", "1..1024", "num",                                                      \
  "number of worker threads")                                                 \
X(reqs_per_event, INT, 'R', "max-reqs-per-event", NULL, "reqs_per_event",     \
  "20", "1..", "num",                                                         \
  "requests served per connection per event, so one client cannot starve "    \
  "the others")                                                               \
X(use_cas, BOOL, 'C', "disable-cas", NULL, "cas_enabled",                     \
  "yes", NULL, NULL,                                                          \
  "disable CAS unique values (smaller items)")                                \
X(backlog, INT, 'b', "listen-backlog", NULL, "tcp_backlog",                   \
  "1024", NULL, "num",                                                        \
  "queue length for pending connections (negative: the system's maximum, " \
  "as memcached takes it)")                                                   \
X(binding_protocol, CHOICE, 'B', "protocol", NULL, "binding_protocol",        \
  "auto",                                                                     \
  "auto=auto-negotiate|ascii|binary",                                         \
  "name",                                                                     \
  "protocol to accept")                                                       \
X(item_size_max, SIZE, 'I', "max-item-size", NULL, "item_size_max",           \
  "1m", "1k..1g", "size",                                                     \
  "largest item stored, at most half of -m")                                  \
X(sock_cookie_id, INT, 0, NULL, "sock_cookie_id", NULL,                       \
  "0", "0..", "id",                                                           \
  "mark the TCP and UDP sockets with <id> (SO_MARK) for firewall rules; "     \
  "0: no mark")                                                               \
X(hashpower_init, INT, 0, NULL, "hashpower", "hashpower_init",                \
  "0", "12..32", "num",                                                       \
  "initial hash table size as a power of two; 0 lets the engine choose, and " \
  "the table grows at run time anyway")                                       \
X(flush_enabled, BOOL, 'F', "disable-flush-all", NULL, "flush_enabled",       \
  "yes", NULL, NULL,                                                          \
  "disable the flush_all command")                                            \
X(dump_enabled, BOOL, 'X', "disable-dumping", NULL, "dump_enabled",           \
  "yes", NULL, NULL,                                                          \
  "disable stats cachedump and lru_crawler metadump")                         \
X(idle_timeout, INT, 0, NULL, "idle_timeout", "idle_timeout",                 \
  "0", "0..", "sec",                                                          \
  "close connections idle this many seconds (0: never)")                      \
X(temporary_ttl, INT, 0, NULL, "temporary_ttl", NULL,                         \
  "-1", "0..", "sec",                                                         \
  "items stored with at most this TTL are never evicted (TEMP LRU)")        \
X(watcher_logbuf_kb, INT, 0, NULL, "watcher_logbuf_size", NULL,               \
  "256", "1..1048576", "KB",                                                  \
  "lines each watch connection may have waiting, in kilobytes")              \
X(hot_lru_pct, INT, 0, NULL, "hot_lru_pct", NULL,                             \
  "20", "1..79", "pct",                                                       \
  "share of a slab class new items enter, with -o eviction=lru (also "      \
  "`lru tune`)")                                                              \
X(warm_lru_pct, INT, 0, NULL, "warm_lru_pct", NULL,                           \
  "40", "1..79", "pct",                                                       \
  "share of a slab class items read again are kept in, with -o "            \
  "eviction=lru; with hot_lru_pct at most 80")                               \
X(slab_automove, INT, 0, NULL, "slab_automove", NULL,                         \
  "1", "0..2", "level",                                                       \
  "1 or 2: a slab class that runs out of memory gets a page from the "      \
  "class with the most, and one that keeps evicting young items from the "  \
  "class with the oldest; 0: never (also `slabs automove`)")                 \
X(eviction, CHOICE, 0, NULL, "eviction", "eviction_policy",                   \
  "sieve", "lru|fifo|random|sieve|lfu", "name",                               \
  "eviction policy")                                                          \
X(metrics_port, INT, 0, NULL, "metrics_port", "metrics_port",              \
  "0", "0..65535", "port",                                                    \
  "serve Prometheus metrics over HTTP at /metrics on the -l addresses "      \
  "(0: off)")                                                                 \
X(snapshot_path, STRING, 0, NULL, "snapshot_path", "snapshot_path",          \
  NULL, NULL, "file",                                                         \
  "load the cache from <file> at start and save it there (off if unset)")    \
X(snapshot_interval, INT, 0, NULL, "snapshot_interval", "snapshot_interval",  \
  "300", "0..", "sec",                                                        \
  "save a snapshot this often when the cache changed (0: only at "           \
  "shutdown, on SIGUSR1 and on the snapshot command)")                        \
X(snapshot_strict, BOOL, 0, NULL, "snapshot_strict", "snapshot_strict",       \
  "no", NULL, NULL,                                                           \
  "refuse to start when the snapshot file is damaged, instead of "         \
  "starting empty")                                                           \
X(log_file, STRING, 0, NULL, "log_file", "log_file",                         \
  NULL, NULL, "file",                                                         \
  "append log lines to <file> instead of stderr; SIGHUP reopens it, for "     \
  "log rotation")                                                             \
X(lru_segmented, BOOL, 0, NULL, "lru_segmented", NULL,                        \
  "yes", NULL, NULL,                                                          \
  "with -o eviction=lru: HOT, WARM and COLD segments; no: one flat LRU "    \
  "(also `lru mode`)")                                                        \
X(lru_crawler, BOOL, 0, NULL, "lru_crawler", "lru_crawler",                  \
  "yes", NULL, NULL,                                                          \
  "allow lru_crawler crawl, metadump and mgdump (also `lru_crawler "        \
  "enable|disable`); the reaper frees expired items either way")            \
X(track_sizes, BOOL, 0, NULL, "track_sizes", "track_sizes",                  \
  "no", NULL, NULL,                                                           \
  "keep the item size histogram of `stats sizes` from the start")            \
X(enable_debugtime, BOOL, 0, NULL, "enable_debugtime",                      \
  "enable_debugtime",                                                         \
  "no", NULL, NULL,                                                           \
  "enable the debugtime command (tests only)")                                \
X(daemonize, BOOL, 'd', "daemon", NULL, "daemonize",                          \
  "no", NULL, NULL,                                                           \
  "run as a daemon")                                                          \
X(enable_coredumps, BOOL, 'r', "enable-coredumps", NULL,                     \
  "enable_coredumps",                                                         \
  "no", NULL, NULL,                                                           \
  "raise the core file size limit to the maximum")                            \
X(username, STRING, 'u', "user", NULL, "username",                            \
  NULL, NULL, "user",                                                         \
  "run as <user> (only when started as root)")                                \
X(pid_file, STRING, 'P', "pidfile", NULL, "pid_file",                         \
  NULL, NULL, "file",                                                         \
  "write the process id to <file>")                                           \
X(lock_memory, COUNT, 'k', "lock-memory", NULL, "lock_memory",                \
  "0", NULL, NULL,                                                            \
  "lock all paged memory into RAM")                                           \
X(help_, HELP, 'h', "help", NULL, NULL,                                       \
  NULL, NULL, NULL,                                                           \
  "print this help and exit")                                                 \
X(version_, VERSION, 'V', "version", NULL, NULL,                              \
  NULL, NULL, NULL,                                                           \
  "print the version and exit")                                               \
X(extended_, EXT, 'o', "extended", NULL, NULL,                                \
  NULL, NULL, "key[=value],...",                                              \
  "comma-separated extended options, listed below")                           \
X(sasl, BOOL, 'S', "enable-sasl", NULL, "auth_enabled_sasl",                \
  "no", NULL, NULL,                                                           \
  "SASL authentication on the binary protocol (Cyrus SASL, application "    \
  "memcached; its configuration in $SASL_CONF_PATH or /etc/sasl2)")          \
X(auth_file, STRING, 'Y', "auth-file", NULL, NULL,                           \
  NULL, NULL, "file",                                                         \
  "text protocol authentication: a connection must first send a set whose " \
  "data is \"user password\", a line user:password of <file>; SIGHUP "      \
  "reloads it")                                                               \
X(ssl_enabled, BOOL, 'Z', "enable-ssl", NULL, NULL,                        \
  "no", NULL, NULL,                                                           \
  "TLS on the TCP listeners; -o ssl_chain_cert names the certificate")       \
X(ssl_chain_cert, STRING, 0, NULL, "ssl_chain_cert", NULL,                    \
  NULL, NULL, "file",                                                         \
  "certificate chain in PEM format (-Z)")                                     \
X(ssl_key, STRING, 0, NULL, "ssl_key", NULL,                                  \
  NULL, NULL, "file",                                                         \
  "private key, if not in the ssl_chain_cert file")                          \
X(ssl_keyformat, INT, 0, NULL, "ssl_keyformat", NULL,                         \
  "1", "1..2", "num",                                                         \
  "private key format: 1 PEM, 2 DER")                                         \
X(ssl_verify_mode, INT, 0, NULL, "ssl_verify_mode", NULL,                     \
  "0", "0..3", "num",                                                         \
  "client certificates: 0 not asked, 1 asked, 2 required, 3 asked at the "  \
  "first handshake only")                                                     \
X(ssl_ciphers, STRING, 0, NULL, "ssl_ciphers", NULL,                          \
  NULL, NULL, "list",                                                         \
  "OpenSSL cipher list for TLS 1.2 and older")                                \
X(ssl_ca_cert, STRING, 0, NULL, "ssl_ca_cert", NULL,                          \
  NULL, NULL, "file",                                                         \
  "PEM file of the CAs client certificates are checked against")            \
X(ssl_wbuf_kb, INT, 0, NULL, "ssl_wbuf_size", NULL,                           \
  "16", "1..1024", "KB",                                                      \
  "largest TLS record replies are gathered into, in kilobytes")              \
X(ssl_session_cache, BOOL, 0, NULL, "ssl_session_cache", NULL,                \
  "no", NULL, NULL,                                                           \
  "server-side session cache, for session resumption")                        \
X(ssl_kernel_tls, BOOL, 0, NULL, "ssl_kernel_tls", NULL,                      \
  "no", NULL, NULL,                                                           \
  "let the kernel encrypt (kTLS) where it can")                               \
X(ssl_min_version, CHOICE, 0, NULL, "ssl_min_version", NULL,                  \
  "2", "0=tlsv1.0|1=tlsv1.1|2=tlsv1.2|3=tlsv1.3", "num",                      \
  "oldest TLS version accepted")                                              \
X(large_pages_, IGNORED, 'L', "enable-largepages", NULL, NULL,                \
  NULL, NULL, NULL, NULL)                                                     \
X(prefix_delim, STRING, 'D', NULL, NULL, "stat_key_prefix",                \
  ":", NULL, "char",                                                          \
  "the character ending a key's prefix for stats detail")                    \
X(memory_file, STRING, 'e', "memory-file", NULL, NULL,                       \
  NULL, NULL, "file",                                                         \
  "accepted, not used: items live in memory; warm restarts come from -o "   \
  "snapshot_path (a warning at start says so)")                              \
X(watch_enabled, BOOL, 'W', "disable-watch", NULL, "watch_enabled",         \
  "yes", NULL, NULL,                                                          \
  "refuse the watch command (its log streams)")                              \
X(napi_ids_, IGNORED, 'N', "napi-ids", NULL, NULL,                            \
  NULL, NULL, "count", NULL)                                                  \
SETTINGS_ECHOED_OKEYS(X)                                                      \
SETTINGS_IGNORED_OKEYS(X)

/* memcached's -o tuning keys for engine parts zeekdb does differently:
 * accepted and ignored, so existing config lines keep working. */
#define SETTINGS_IGNORED_OKEY(X, key) \
    X(o_##key##_, IGNORED, 0, NULL, #key, NULL, NULL, NULL, NULL, NULL)
/* The same, with memcached's `stats settings` line and the value that
 * describes what zeekdb does instead. */
#define SETTINGS_IGNORED_OKEY_AS(X, key, stat, value) \
    X(o_##key##_, IGNORED, 0, NULL, #key, stat, value, NULL, NULL, NULL)
/* memcached's tuning of parts zeekdb does differently, kept as given only
 * so that `stats settings` shows it as memcached would (stat NULL: shown
 * by daemon/stats_settings.c, in memcached's units or as the lru_crawler
 * and lru tune commands last set it). The bounds are memcached's where it checks them, but nothing it
 * takes is refused: tail_repair_time may be 0 (memcached's default, which
 * it refuses when given), worker_logbuf_size small. */
#define SETTINGS_ECHOED_OKEY(X, key, type, stat, def, range)                  \
    X(key, type, 0, NULL, #key, stat, def, range, "value",                    \
      "memcached's " #key ": shown by `stats settings`, no effect")
#define SETTINGS_ECHOED_OKEYS(X)                                              \
SETTINGS_ECHOED_OKEY(X, lru_crawler_sleep, INT, NULL, "100", "0..1000000")    \
SETTINGS_ECHOED_OKEY(X, lru_crawler_tocrawl, INT, NULL, "0", "0..")           \
SETTINGS_ECHOED_OKEY(X, hot_max_factor, DOUBLE, NULL, "0.2", ">0..")          \
SETTINGS_ECHOED_OKEY(X, warm_max_factor, DOUBLE, NULL, "2.0", ">0..")         \
/* memcached's automove tuning, which zeekdb's does use (lib/balance.h) */ \
X(slab_automove_ratio, DOUBLE, 0, NULL, "slab_automove_ratio",                \
  "slab_automove_ratio", "0.8", ">0..1", "ratio",                             \
  "automove: a class evicting items younger than this share of another "   \
  "class's victims' age takes a page from it")                               \
X(slab_automove_window, INT, 0, NULL, "slab_automove_window",                 \
  "slab_automove_window", "30", "3..3600", "sec",                             \
  "automove: seconds of evictions and victim ages behind a page move")       \
SETTINGS_ECHOED_OKEY(X, slab_automove_freeratio, DOUBLE, NULL, "0.01", NULL)  \
SETTINGS_ECHOED_OKEY(X, worker_logbuf_size, INT, NULL, "64", "0..")           \
SETTINGS_ECHOED_OKEY(X, tail_repair_time, INT, "tail_repair_time", "0",       \
                     "0..")                                                   \
SETTINGS_ECHOED_OKEY(X, read_buf_mem_limit, MB, "read_buf_mem_limit", "0",    \
                     NULL)
#define SETTINGS_IGNORED_OKEYS(X)                                             \
SETTINGS_IGNORED_OKEY(X, modern)                                              \
/* -c is enforced on accept with memcached's error line */                    \
SETTINGS_IGNORED_OKEY_AS(X, maxconns_fast, "maxconns_fast", "yes")            \
SETTINGS_IGNORED_OKEY_AS(X, hash_algorithm, "hash_algorithm", "xxh3")         \
SETTINGS_IGNORED_OKEY(X, hashexpand)                                          \
/* the maintainer moves pages to classes that find none free */               \
SETTINGS_IGNORED_OKEY_AS(X, slab_reassign, "slab_reassign", "yes")            \
SETTINGS_IGNORED_OKEY(X, slab_chunk_max)                                      \
SETTINGS_IGNORED_OKEY_AS(X, lru_maintainer, "lru_maintainer_thread", "yes")   \
/* memcached's response buffers and chunked items */                         \
SETTINGS_IGNORED_OKEY(X, resp_obj_mem_limit)                                  \
SETTINGS_IGNORED_OKEY(X, chunked_items)                                       \
SETTINGS_IGNORED_OKEY(X, inline_ascii_resp)                                   \
/* privileges are dropped with -u; there is no seccomp sandbox */             \
SETTINGS_IGNORED_OKEY(X, drop_privileges)                                     \
/* extstore tuning: used only with ext_path, which zeekdb refuses */          \
SETTINGS_IGNORED_OKEY(X, ext_page_size)                                       \
SETTINGS_IGNORED_OKEY(X, ext_wbuf_size)                                       \
SETTINGS_IGNORED_OKEY(X, ext_threads)                                         \
SETTINGS_IGNORED_OKEY(X, ext_io_depth)                                        \
SETTINGS_IGNORED_OKEY(X, ext_item_size)                                       \
SETTINGS_IGNORED_OKEY(X, ext_item_age)                                        \
SETTINGS_IGNORED_OKEY(X, ext_low_ttl)                                         \
SETTINGS_IGNORED_OKEY(X, ext_recache_rate)                                    \
SETTINGS_IGNORED_OKEY(X, ext_compact_under)                                   \
SETTINGS_IGNORED_OKEY(X, ext_drop_under)                                      \
SETTINGS_IGNORED_OKEY(X, ext_max_sleep)                                       \
SETTINGS_IGNORED_OKEY(X, ext_max_frag)                                        \
SETTINGS_IGNORED_OKEY(X, ext_drop_unread)                                     \
X(ext_path_, REFUSED, 0, NULL, "ext_path", NULL,                              \
  NULL, NULL, "path", "external storage (extstore)")                          \
/* fixed facts, in memcached's `stats settings` */                            \
X(inline_ascii_response_, IGNORED, 0, NULL, NULL, "inline_ascii_response",    \
  "no", NULL, NULL, NULL)


/* Member type of each row type; IGNORED, REFUSED and actions have none. */
#define SETTINGS_MEMBER_BOOL(f)    bool f;
#define SETTINGS_MEMBER_COUNT(f)   int f;
#define SETTINGS_MEMBER_INT(f)     int f;
#define SETTINGS_MEMBER_OCTAL(f)   int f;
#define SETTINGS_MEMBER_SIZE(f)    uint64_t f;
#define SETTINGS_MEMBER_MB(f)      uint64_t f;
#define SETTINGS_MEMBER_DOUBLE(f)  double f;
#define SETTINGS_MEMBER_STRING(f)  char *f;
#define SETTINGS_MEMBER_LIST(f)    char *f;
#define SETTINGS_MEMBER_CHOICE(f)  char *f;
#define SETTINGS_MEMBER_HELP(f)
#define SETTINGS_MEMBER_VERSION(f)
#define SETTINGS_MEMBER_EXT(f)
#define SETTINGS_MEMBER_IGNORED(f)
#define SETTINGS_MEMBER_REFUSED(f)

/* offsetof() of a row's member, 0 for rows without one. */
#define SETTINGS_OFFSET_BOOL(f)    offsetof(struct settings, f)
#define SETTINGS_OFFSET_COUNT(f)   offsetof(struct settings, f)
#define SETTINGS_OFFSET_INT(f)     offsetof(struct settings, f)
#define SETTINGS_OFFSET_OCTAL(f)   offsetof(struct settings, f)
#define SETTINGS_OFFSET_SIZE(f)    offsetof(struct settings, f)
#define SETTINGS_OFFSET_MB(f)      offsetof(struct settings, f)
#define SETTINGS_OFFSET_DOUBLE(f)  offsetof(struct settings, f)
#define SETTINGS_OFFSET_STRING(f)  offsetof(struct settings, f)
#define SETTINGS_OFFSET_LIST(f)    offsetof(struct settings, f)
#define SETTINGS_OFFSET_CHOICE(f)  offsetof(struct settings, f)
#define SETTINGS_OFFSET_HELP(f)    0
#define SETTINGS_OFFSET_VERSION(f) 0
#define SETTINGS_OFFSET_EXT(f)     0
#define SETTINGS_OFFSET_IGNORED(f) 0
#define SETTINGS_OFFSET_REFUSED(f) 0

/* One member per setting, named and typed by the table: port (int),
 * listen (char *), maxbytes (uint64_t, bytes), use_cas (bool), ... */
struct settings {
#define X(field, type, flag, lname, okey, stat, def, range, arg, help) \
    SETTINGS_MEMBER_##type(field)
    SETTINGS_TABLE(X)
#undef X
};

/* Fills s with the defaults. Strings are heap copies (NULL if out of
 * memory); release them with settings_deinit(). */
void settings_init(struct settings *s);

/* Parses argv (argv[0] is the program name) into s, which must have been
 * through settings_init(). Returns 0 on success. On error returns -1 and
 * writes one line naming the bad flag or -o key to err (errlen bytes, no
 * newline); s then holds the options before the bad one and is still
 * safe for settings_deinit(). For -h/-V prints usage/version to out
 * (stdout if NULL), sets *exit_now and returns 0 without looking at the
 * rest. Parsing stops at the first non-option: a stray word is an error.
 * Uses getopt, so it is not thread-safe. */
int settings_parse(struct settings *s, int argc, char **argv, FILE *out,
                   bool *exit_now, char *err, size_t errlen);

/* The chunk sizes of -o slab_sizes, checked by memcached's rules (each
 * at least -n, at most 512 KiB and under -I, each more than 8 bytes
 * over the one before, at most SETTINGS_SLAB_SIZES_MAX): their count
 * (0 when unset) with the sizes in out, or -1 with one line in err. */
#define SETTINGS_SLAB_SIZES_MAX 62
int settings_slab_sizes(const struct settings *s,
                        uint32_t out[SETTINGS_SLAB_SIZES_MAX], char *err,
                        size_t errlen);

/* Prints the full option list (`-h`). */
void settings_usage(FILE *out);

/* Calls cb(name, value_text, arg) for every `stats settings` line, in
 * order, formatted as memcached does (sizes in bytes, umask in octal,
 * growth_factor with two decimals, unset strings as NULL). value_text is
 * valid only during the call. */
void settings_foreach_stat(const struct settings *s,
                           void (*cb)(const char *name, const char *value,
                                      void *arg),
                           void *arg);

/* The text settings_foreach_stat() would print for the setting of -o
 * key okey (its CHOICE display, "yes"/"no", "NULL" for an unset string),
 * for `stats settings` lines the table gives no stat name; NULL for an
 * unknown key. buf holds numbers. */
const char *settings_okey_text(const struct settings *s, const char *okey,
                               char *buf, size_t len);

/* Frees the strings s owns and sets them to NULL. */
void settings_deinit(struct settings *s);

#endif /* ZEEKDB_DAEMON_SETTINGS_H */
