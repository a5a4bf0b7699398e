# TAP-style checks shared by the Perl client scripts (perl_*_client.pl):
# one "ok N - name" or "not ok N - name" line per check, then finish()
# prints the count and exits 0 only when every check passed.
package ClientTap;
use strict;
use warnings;
use Exporter 'import';
our @EXPORT = qw(check is_eq is_false finish);

my $failed = 0;
my $count = 0;

sub check {
    my ($ok, $name) = @_;
    $count++;
    if ($ok) {
        print "ok $count - $name\n";
    } else {
        print "not ok $count - $name\n";
        $failed++;
    }
    return $ok;
}

# A negative server reply: false but defined (undef means an error).
sub is_false {
    my ($got, $name) = @_;
    check(defined $got && !$got, $name)
        or printf "#   got: %s\n", defined $got ? $got : 'undef';
}

sub is_eq {
    my ($got, $want, $name) = @_;
    my $ok = defined $got && defined $want && $got eq $want;
    check($ok, $name) or printf "#   got: %s\n#  want: %s\n",
        defined $got ? substr($got, 0, 80) : 'undef',
        defined $want ? substr($want, 0, 80) : 'undef';
}

sub finish {
    print "# $count checks, $failed failed\n";
    exit($failed ? 1 : 0);
}

1;
