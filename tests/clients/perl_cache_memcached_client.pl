#!/usr/bin/perl
# Cache::Memcached (Debian libcache-memcached-perl, the classic pure-Perl
# client) against a running daemon. Driven by test_perl_cache_memcached.py,
# which starts the daemon and checks some items' bytes on the wire after a
# scenario:
#
#   perl tests/clients/perl_cache_memcached_client.pl 127.0.0.1:PORT SCENARIO
#
# Prints one "ok - ..." or "not ok - ..." line per check (TAP style) and
# exits 0 only when every check of the scenario passed. Scenarios:
# set_get get_multi storage_modes incr_decr delete storable compress
# namespace stats missing_keys expiry flush_all key_limit
#
# The module's flags: 1 Storable (nfreeze), 2 gzip (Compress::Zlib, when
# a value reaches compress_threshold and shrinks by 20%).
use strict;
use warnings;
use Cache::Memcached;
use Data::Dumper;
use FindBin;
use Time::HiRes qw(sleep time);
use lib $FindBin::Bin;
use ClientTap;

my ($server, $scenario) = @ARGV;
die "usage: $0 HOST:PORT SCENARIO\n" unless defined $scenario;

$Data::Dumper::Sortkeys = 1;
$Data::Dumper::Indent = 0;

sub client {
    my (%opt) = @_;
    return Cache::Memcached->new({
        servers         => [$server],
        connect_timeout => 5,     # seconds; every wait is bounded by these
        select_timeout  => 10,
        %opt,
    });
}

my $memd = client();    # no compression: values go over the wire as given

# Deep equality of Perl data, as canonical Data::Dumper text.
sub same_data {
    my ($got, $want, $name) = @_;
    is_eq(Dumper($got), Dumper($want), $name);
}

sub shown { my $v = shift; return defined $v ? "'$v'" : 'undef' }

check($memd->flush_all == 1, 'flush_all before the scenario');

my %scenarios = (
    set_get => sub {
        my $bad = 0;
        for my $i (0 .. 999) {
            $bad++ unless $memd->set("k$i", "value-$i");
        }
        check($bad == 0, "1000 sets answered STORED ($bad not)");
        $bad = 0;
        for my $i (0 .. 999) {
            my $v = $memd->get("k$i");
            $bad++ unless defined $v && $v eq "value-$i";
        }
        check($bad == 0, "1000 set/get round trips ($bad bad)");
        is_eq($memd->set('empty', ''), 1, 'set empty value');
        is_eq($memd->get('empty'), '', 'get empty value');
        is_eq($memd->set('zero', '0'), 1, 'set "0"');
        is_eq($memd->get('zero'), '0', 'get "0" (false but defined)');
        my $all = join '', map { chr } 0 .. 255;
        is_eq($memd->set('bin', $all), 1, 'set all 256 byte values');
        is_eq($memd->get('bin'), $all, 'get all 256 byte values');
        my $crlf = "a\r\nEND\r\nVALUE x 0 1\r\ny\r\n";
        is_eq($memd->set('crlf', $crlf), 1, 'set value that looks like protocol');
        is_eq($memd->get('crlf'), $crlf, 'get value that looks like protocol');
        my $big = join '', map { chr(($_ * 7) % 256) } 0 .. 512 * 1024 - 1;
        is_eq($memd->set('big', $big), 1, 'set 512 KB');
        is_eq($memd->get('big'), $big, 'get 512 KB');
        is_eq($memd->set('k0', 'again', 100), 1, 'overwrite with an exptime');
        is_eq($memd->get('k0'), 'again', 'overwritten value');
    },
    get_multi => sub {
        my @keys = map { "m$_" } 0 .. 1999;
        my $bad = grep { !$memd->set($_, "v-$_") } @keys;
        check($bad == 0, "2000 sets ($bad failed)");
        # one "get k1 k2 ... \r\n" line of about 12 KB
        my $h = $memd->get_multi(@keys, 'nope1', 'nope2');
        is_eq(scalar(keys %$h), 2000, 'get_multi returns 2000 hits');
        $bad = grep { !defined $h->{$_} || $h->{$_} ne "v-$_" } @keys;
        check($bad == 0, "get_multi values ($bad bad)");
        check(!exists $h->{nope1} && !exists $h->{nope2}, 'get_multi omits misses');
        $h = $memd->get_multi('m7', 'm7', 'm8');
        is_eq(join(',', map { "$_=$h->{$_}" } sort keys %$h), 'm7=v-m7,m8=v-m8',
              'get_multi with a repeated key');
        same_data($memd->get_multi('nope1', 'nope2'), {}, 'get_multi of misses only');
        same_data($memd->get_multi(), {}, 'get_multi of no keys');
    },
    storage_modes => sub {
        is_eq($memd->replace('r', 'x'), '', 'replace of a missing key fails');
        check(!defined $memd->get('r'), 'failed replace stored nothing');
        is_eq($memd->add('r', 'x'), 1, 'add');
        is_eq($memd->add('r', 'y'), '', 'add of an existing key fails');
        is_eq($memd->get('r'), 'x', 'failed add kept the value');
        is_eq($memd->replace('r', 'm'), 1, 'replace');
        is_eq($memd->append('r', ">\x00"), 1, 'append');
        is_eq($memd->prepend('r', "\xff<"), 1, 'prepend');
        is_eq($memd->get('r'), "\xff<m>\x00", 'value after append/prepend');
        is_eq($memd->append('nope', 'x'), '', 'append to a missing key fails');
        is_eq($memd->prepend('nope', 'x'), '', 'prepend to a missing key fails');
        check(!defined $memd->get('nope'), 'failed append stored nothing');
        eval { $memd->append('r', [1]) };
        check($@ =~ /append or prepend cannot take a reference/,
              'append of a reference dies in the client');
    },
    incr_decr => sub {
        check(!defined $memd->incr('n'), 'incr of a missing key is undef');
        check(!defined $memd->decr('n', 3), 'decr of a missing key is undef');
        check(!defined $memd->get('n'), 'incr does not create the key');
        is_eq($memd->set('n', 10), 1, 'set n 10');
        is_eq($memd->incr('n'), 11, 'incr by default 1');
        is_eq($memd->incr('n', 100), 111, 'incr 100');
        is_eq($memd->decr('n', 11), 100, 'decr 11');
        is_eq($memd->decr('n'), 99, 'decr by default 1');
        # memcached rewrites a shrunk number in place, padded with spaces
        is_eq($memd->get('n'), '99 ', 'value after shrinking: "99 "');
        is_eq($memd->incr('n'), 100, 'incr past the padding');
        is_eq($memd->get('n'), '100', 'value after growing back');
        is_eq($memd->decr('n', 1000), 0, 'decr clamps at zero');
        is_eq($memd->incr('n', 4294967296), 4294967296, 'incr by 2^32');
        # CLIENT_ERROR invalid numeric delta argument: undef, value kept
        check(!defined $memd->incr('n', -1), 'incr by -1 is undef');
        is_eq($memd->get('n'), '4294967296', 'value after the refused delta');
        # CLIENT_ERROR cannot increment or decrement non-numeric value
        is_eq($memd->set('s', 'abc'), 1, 'set non-numeric');
        check(!defined $memd->incr('s'), 'incr of non-numeric is undef');
        check(!defined $memd->decr('s', 2), 'decr of non-numeric is undef');
        is_eq($memd->get('s'), 'abc', 'value kept; the connection in sync');
    },
    delete => sub {
        is_eq($memd->set('d', 1), 1, 'set d');
        is_eq($memd->delete('d'), 1, 'delete d');
        is_eq($memd->delete('d'), '', 'delete d again is false');
        check(!defined $memd->get('d'), 'deleted key is gone');
        is_eq($memd->set('d2', 1), 1, 'set d2');
        is_eq($memd->remove('d2'), 1, 'remove (the alias of delete)');
        is_eq($memd->add('d', 'new'), 1, 'add after delete');
        is_eq($memd->get('d'), 'new', 'value after re-adding');
    },
    storable => sub {
        my %vals = (
            ref_hash   => { a => 1, b => [1, 2, 3], c => { x => 'y' }, u => undef },
            ref_array  => [ 'one', 2, [3, [4]], { five => 5 }, '' ],
            ref_scalar => \ "just a string",
            ref_bin    => { bytes => join('', map { chr } 0 .. 255) },
        );
        for my $k (sort keys %vals) {
            is_eq($memd->set($k, $vals{$k}), 1, "set $k");
            same_data($memd->get($k), $vals{$k}, "get $k");
        }
        is_eq($memd->set('plain', 'not a ref'), 1, 'set plain');
        my $h = $memd->get_multi(sort(keys %vals), 'plain', 'nope');
        same_data($h, { %vals, plain => 'not a ref' }, 'get_multi thaws each value');
    },
    compress => sub {
        my $z = client(compress_threshold => 10_000);
        my $text = 'compressible text line ' x 15_000;          # 345,000 bytes
        is_eq($z->set('z_text', $text), 1, 'set 345 KB of text');
        is_eq($z->get('z_text'), $text, 'get it back (decompressed)');
        is_eq($memd->get('z_text'), $text, 'a client without a threshold decompresses too');
        my $huge = join('', map { "line $_ of a long document\n" } 1 .. 120_000);
        check(length($huge) > 3_000_000, 'a value of ' . length($huge) . ' bytes');
        is_eq($z->set('z_huge', $huge), 1, 'over the 1 MB item limit, it fits compressed');
        is_eq($z->get('z_huge'), $huge, 'get the 3 MB value back');
        is_eq($memd->set('z_huge_raw', $huge), '', 'uncompressed it is too large');
        check(!defined $memd->get('z_huge_raw'), 'nothing stored for it');
        is_eq($z->set('z_small', 'short text'), 1, 'under the threshold');
        is_eq($z->get('z_small'), 'short text', 'stored as is');
        srand(42);
        my $noise = join '', map { chr(int(rand(256))) } 1 .. 20_000;
        is_eq($z->set('z_noise', $noise), 1, 'incompressible 20 KB');
        is_eq($z->get('z_noise'), $noise, 'stored as is (saves under 20%)');
        my $ref = { rows => [ map { { id => $_, name => "row $_" } } 1 .. 2000 ] };
        is_eq($z->set('z_ref', $ref), 1, 'a large Storable ref');
        same_data($z->get('z_ref'), $ref, 'thawed after decompressing');
        $z->enable_compress(0);
        is_eq($z->set('z_off', $text), 1, 'compression switched off');
        is_eq($z->get('z_off'), $text, 'stored as is');
    },
    namespace => sub {
        my $ns = client(namespace => 'app1:');
        is_eq($ns->set('foo', 'bar'), 1, 'set foo in namespace app1:');
        is_eq($ns->get('foo'), 'bar', 'get foo in the namespace');
        is_eq($memd->get('app1:foo'), 'bar', 'stored under app1:foo');
        check(!defined $memd->get('foo'), 'not under foo');
        is_eq($ns->set("k$_", "v$_"), 1, "set k$_") for 1 .. 3;
        my $h = $ns->get_multi('k1', 'k2', 'k3', 'nope');
        is_eq(join(',', map { "$_=$h->{$_}" } sort keys %$h), 'k1=v1,k2=v2,k3=v3',
              'get_multi strips the namespace');
        is_eq($ns->add('foo', 'x'), '', 'add in the namespace sees foo');
        is_eq($ns->replace('foo', 'baz'), 1, 'replace in the namespace');
        is_eq($ns->append('foo', '!'), 1, 'append in the namespace');
        is_eq($memd->get('app1:foo'), 'baz!', 'value after replace/append');
        is_eq($ns->set('count', 5), 1, 'set count');
        is_eq($ns->incr('count', 2), 7, 'incr in the namespace');
        is_eq($ns->decr('count'), 6, 'decr in the namespace');
        is_eq($memd->get('app1:count'), '6', 'counter under app1:count');
        is_eq($ns->delete('k1'), 1, 'delete in the namespace');
        check(!defined $memd->get('app1:k1'), 'app1:k1 is gone');
        my $other = client(namespace => 'app2:');
        check(!defined $other->get('foo'), 'another namespace does not see foo');
    },
    stats => sub {
        my $s0 = $memd->stats();
        $memd->set("st:$_", $_) for 0 .. 99;
        $memd->get("st:$_") for 0 .. 149;
        my $s = $memd->stats();
        my $misc = $s->{hosts}{$server}{misc};
        check(ref $misc eq 'HASH', "per-host stats for $server");
        check(($misc->{pid} // '') =~ /^[1-9]\d*$/, 'pid: ' . shown($misc->{pid}));
        check(($misc->{version} // '') =~ /^\S+$/, 'version: ' . shown($misc->{version}));
        check(($misc->{uptime} // '') =~ /^\d+$/, 'uptime: ' . shown($misc->{uptime}));
        is_eq($misc->{limit_maxbytes}, 64 * 1024 * 1024, 'limit_maxbytes (-m 64)');
        is_eq($misc->{threads}, 4, 'threads (-t 4)');
        my %d = map { $_ => $s->{total}{$_} - $s0->{total}{$_} }
            qw(cmd_set cmd_get get_hits get_misses);
        is_eq("$d{cmd_set} $d{cmd_get} $d{get_hits} $d{get_misses}", '100 150 100 50',
              'cmd_set cmd_get get_hits get_misses deltas');
        check($s->{total}{curr_items} >= 100, "curr_items $s->{total}{curr_items}");
        # the default types are misc, malloc and self; the daemon answers
        # "stats malloc" with ERROR, which the module takes as no lines
        check(!exists $s->{hosts}{$server}{malloc}, 'no malloc stats');
        is_eq($s->{self}{set}, 100, "the client's own count of sets");
        my $items = $memd->stats('items')->{hosts}{$server}{items} // '';
        check($items =~ /^STAT items:\d+:number \d+\r$/m, 'stats items as a blob');
        my $slabs = $memd->stats(['slabs'])->{hosts}{$server}{slabs} // '';
        check($slabs =~ /^STAT active_slabs \d+\r$/m, 'stats slabs as a blob');
        is_eq($memd->get('st:5'), '5', 'the connection is in sync after stats');
    },
    missing_keys => sub {
        check(!defined $memd->get('nope'), 'get: undef');
        same_data($memd->get_multi('nope', 'nope2'), {}, 'get_multi: empty');
        is_eq($memd->delete('nope'), '', 'delete: false');
        check(!defined $memd->incr('nope'), 'incr: undef');
        check(!defined $memd->decr('nope'), 'decr: undef');
        is_eq($memd->replace('nope', 'x'), '', 'replace: false');
        is_eq($memd->append('nope', 'x'), '', 'append: false');
        is_eq($memd->prepend('nope', 'x'), '', 'prepend: false');
        same_data($memd->get_multi('nope', 'nope2', 'nope3'), {}, 'still nothing stored');
    },
    expiry => sub {
        is_eq($memd->set('e1', 'v', 1), 1, 'set with a 1 s exptime');
        is_eq($memd->set('e100', 'v', 100), 1, 'set with a 100 s exptime');
        is_eq($memd->set('eabs', 'v', int(time()) + 1), 1, 'set with an absolute exptime');
        is_eq($memd->set('eneg', 'v', -1), 1, 'set with a negative exptime');
        check(!defined $memd->get('eneg'), 'negative exptime: already expired');
        is_eq($memd->get('e1'), 'v', 'present right after the set');
        my $deadline = time() + 5;
        my $left = 2;
        for (1 .. 200) {
            $left = scalar keys %{ $memd->get_multi('e1', 'eabs') };
            last if $left == 0 || time() >= $deadline;
            sleep(0.05);
        }
        is_eq($left, 0, '1 s and absolute exptimes expired within 5 s');
        is_eq($memd->get('e100'), 'v', 'the 100 s item is still there');
        is_eq($memd->add('e1', 'new'), 1, 'add over an expired key');
    },
    flush_all => sub {
        $memd->set("f$_", $_) for 0 .. 99;
        is_eq($memd->get('f5'), '5', 'set before flush');
        is_eq($memd->flush_all, 1, 'flush_all');
        same_data($memd->get_multi(map { "f$_" } 0 .. 99), {}, 'everything gone');
        is_eq($memd->set('f5', 'after'), 1, 'set right after flush_all');
        is_eq($memd->get('f5'), 'after', 'and it is kept');
    },
    key_limit => sub {
        my $k250 = 'k' x 250;
        is_eq($memd->set($k250, 'edge'), 1, 'set a 250-byte key');
        is_eq($memd->get($k250), 'edge', 'get a 250-byte key');
        # the module sends a longer key as is: the daemon refuses the
        # command (CLIENT_ERROR), then the data line (ERROR)
        is_eq($memd->set('k' x 251, 'v'), '', 'set of a 251-byte key fails');
        is_eq($memd->set('after', 'ok'), 1, 'the next set is answered in sync');
        is_eq($memd->get('after'), 'ok', 'and the next get');
        is_eq($memd->delete($k250), 1, 'delete the 250-byte key');
    },
);

my $run = $scenarios{$scenario} or die "unknown scenario $scenario\n";
$run->();
$memd->disconnect_all;
finish();
