#!/usr/bin/perl
# Cache::Memcached::Fast (Debian libcache-memcached-fast-perl) against a
# running daemon. Driven by test_perl_fast.py, which starts the daemon:
#
#   perl tests/clients/perl_fast_client.pl 127.0.0.1:PORT SCENARIO
#
# Prints one "ok - ..." or "not ok - ..." line per check (TAP style) and
# exits 0 only when every check of the scenario passed. Scenarios:
# set_get get_multi incr_decr delete cas binary storage_modes touch_gat
# flush_all server_versions
use strict;
use warnings;
use Cache::Memcached::Fast;
use FindBin;
use lib $FindBin::Bin;
use ClientTap;

my ($server, $scenario) = @ARGV;
die "usage: $0 HOST:PORT SCENARIO\n" unless defined $scenario;

my $memd = Cache::Memcached::Fast->new({
    servers            => [$server],
    connect_timeout    => 5,
    io_timeout         => 10,
    close_on_error     => 1,
    compress_threshold => -1,   # values go over the wire as given
    utf8               => 0,
    nowait             => 0,
    max_size           => 1024 * 1024,
});

check(scalar $memd->flush_all, 'flush_all before the scenario');

my %scenarios = (
    set_get => sub {
        for my $i (0 .. 999) {
            $memd->set("k$i", "value-$i") or check(0, "set k$i");
        }
        my $bad = 0;
        for my $i (0 .. 999) {
            my $v = $memd->get("k$i");
            $bad++ unless defined $v && $v eq "value-$i";
        }
        check($bad == 0, "1000 set/get round trips ($bad bad)");
        check(!defined $memd->get('missing'), 'get of a missing key is undef');
        check(scalar $memd->set('empty', ''), 'set empty value');
        is_eq(scalar $memd->get('empty'), '', 'get empty value');
        my $big = 'x' x (512 * 1024);
        check(scalar $memd->set('big', $big), 'set 512 KB');
        is_eq(scalar $memd->get('big'), $big, 'get 512 KB');
    },
    get_multi => sub {
        my @keys = map { "m$_" } 0 .. 1999;
        my @res = $memd->set_multi(map { [$_, "v-$_"] } @keys);
        check(scalar(grep { $_ } @res) == 2000, 'set_multi of 2000 keys');
        my $h = $memd->get_multi(@keys, 'nope1', 'nope2');
        check(scalar(keys %$h) == 2000, 'get_multi returns 2000 hits');
        my $bad = grep { !defined $h->{$_} || $h->{$_} ne "v-$_" } @keys;
        check($bad == 0, "get_multi values ($bad bad)");
        check(!exists $h->{nope1}, 'get_multi omits misses');
    },
    incr_decr => sub {
        is_false(scalar $memd->incr('n'), 'incr of a missing key is false');
        check(scalar $memd->set('n', 10), 'set n 10');
        is_eq(scalar $memd->incr('n'), 11, 'incr by default 1');
        is_eq(scalar $memd->incr('n', 100), 111, 'incr 100');
        is_eq(scalar $memd->decr('n', 11), 100, 'decr 11');
        my $z = $memd->decr('n', 1000);
        check(defined $z && $z == 0, 'decr clamps at zero');
        is_eq(scalar $memd->incr('n', 5), 5, 'incr from zero');
        my @r = $memd->incr_multi('n', ['n', 10]);
        is_eq("@r", '6 16', 'incr_multi');
        check(scalar $memd->set('s', 'abc'), 'set non-numeric');
        # CLIENT_ERROR is an error to the client: undef, connection closed
        check(!defined scalar $memd->incr('s'), 'incr of non-numeric fails');
        is_eq(scalar $memd->get('s'), 'abc', 'client recovers after CLIENT_ERROR');
    },
    delete => sub {
        check(scalar $memd->set('d', 1), 'set d');
        check(scalar $memd->delete('d'), 'delete d');
        is_false(scalar $memd->delete('d'), 'delete d again is false');
        check(!defined $memd->get('d'), 'deleted key is gone');
        $memd->set("dm$_", $_) for 0 .. 9;
        my @r = $memd->delete_multi(map { "dm$_" } 0 .. 4, 'dm-nope');
        is_eq(join(',', map { $_ ? 1 : 0 } @r), '1,1,1,1,1,0', 'delete_multi');
        my $h = $memd->get_multi(map { "dm$_" } 0 .. 9);
        is_eq(join(',', sort keys %$h), 'dm5,dm6,dm7,dm8,dm9', 'survivors');
    },
    cas => sub {
        check(scalar $memd->set('c', 'one'), 'set c');
        my $cv = $memd->gets('c');
        check(defined $cv && $cv->[1] eq 'one', 'gets returns [cas, value]');
        check(scalar $memd->cas('c', $cv->[0], 'two'), 'cas with the current unique');
        is_false(scalar $memd->cas('c', $cv->[0], 'three'), 'cas with a stale unique fails');
        is_eq(scalar $memd->get('c'), 'two', 'value after cas');
        my $cv2 = $memd->gets('c');
        check($cv2->[0] ne $cv->[0], 'unique changed');
        is_false(scalar $memd->cas('nope', $cv2->[0], 'x'), 'cas of a missing key fails');
        my $h = $memd->gets_multi('c', 'nope');
        check(exists $h->{c} && $h->{c}[1] eq 'two' && !exists $h->{nope},
              'gets_multi');
    },
    binary => sub {
        my $all = join '', map { chr } 0 .. 255;
        check(scalar $memd->set('bin', $all), 'set all 256 byte values');
        is_eq(scalar $memd->get('bin'), $all, 'get all 256 byte values');
        for my $b (0 .. 255) {
            $memd->set("b$b", chr($b) x 3) or check(0, "set b$b");
        }
        my $h = $memd->get_multi(map { "b$_" } 0 .. 255);
        my $bad = grep { !defined $h->{"b$_"} || $h->{"b$_"} ne chr($_) x 3 } 0 .. 255;
        check($bad == 0, "every byte value round trips ($bad bad)");
        my $crlf = "a\r\nEND\r\nVALUE x 0 1\r\n";
        check(scalar $memd->set('crlf', $crlf), 'set value that looks like protocol');
        is_eq(scalar $memd->get('crlf'), $crlf, 'get value that looks like protocol');
    },
    storage_modes => sub {
        is_false(scalar $memd->replace('r', 'x'), 'replace of a missing key fails');
        check(scalar $memd->add('r', 'x'), 'add');
        is_false(scalar $memd->add('r', 'y'), 'add of an existing key fails');
        check(scalar $memd->replace('r', 'm'), 'replace');
        check(scalar $memd->append('r', '>'), 'append');
        check(scalar $memd->prepend('r', '<'), 'prepend');
        is_eq(scalar $memd->get('r'), '<m>', 'value after append/prepend');
        is_false(scalar $memd->append('nope', 'x'), 'append to a missing key fails');
    },
    touch_gat => sub {
        check(scalar $memd->set('t', 'v', 100), 'set with ttl');
        check(scalar $memd->touch('t', 1000), 'touch');
        is_false(scalar $memd->touch('nope', 10), 'touch of a missing key fails');
        is_eq(scalar $memd->gat(1000, 't'), 'v', 'gat');
        my $g = $memd->gats(0, 't');
        check(defined $g && $g->[1] eq 'v', 'gats');
        check(scalar $memd->set('gone', 'v', -1), 'set with negative ttl');
        check(!defined $memd->get('gone'), 'negative ttl is already expired');
    },
    flush_all => sub {
        $memd->set("f$_", $_) for 0 .. 99;
        check(defined $memd->get('f5'), 'set before flush');
        check(scalar $memd->flush_all, 'flush_all');
        my $h = $memd->get_multi(map { "f$_" } 0 .. 99);
        check(scalar(keys %$h) == 0, 'everything gone after flush_all');
    },
    server_versions => sub {
        my $v = $memd->server_versions;
        check(defined $v->{$server} && $v->{$server} =~ /^\S+$/,
              'server_versions: ' . ($v->{$server} // 'undef'));
    },
);

my $run = $scenarios{$scenario} or die "unknown scenario $scenario\n";
$run->();
$memd->disconnect_all;
finish();
