// go_gomemcache_client.go - scenarios of gomemcache (Debian
// golang-github-bradfitz-gomemcache-dev), Go's memcached client, against
// a daemon at HOST:PORT. Run by tests/clients/test_gomemcache.py, which
// builds it; usage: go_gomemcache_client HOST:PORT SCENARIO.
//
// Prints one "ok N - name" or "not ok N - name: detail" line per check
// and exits 1 if any failed. gomemcache speaks the text protocol: Get and
// GetMulti send "gets", so every item comes back with its CAS.
package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
)

var count, failed int

func check(ok bool, name string, detail ...interface{}) bool {
	count++
	if ok {
		fmt.Printf("ok %d - %s\n", count, name)
		return true
	}
	failed++
	fmt.Printf("not ok %d - %s: %s\n", count, name, fmt.Sprint(detail...))
	return false
}

func isErr(err, want error, name string) {
	check(err == want, name, "got ", err, ", want ", want)
}

func value(mc *memcache.Client, key string) ([]byte, uint32, error) {
	it, err := mc.Get(key)
	if err != nil {
		return nil, 0, err
	}
	return it.Value, it.Flags, nil
}

func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func scenarioBasics(mc *memcache.Client) {
	isErr(mc.Set(&memcache.Item{Key: "b", Value: allBytes(), Flags: 4294967295}),
		nil, "set every byte value, largest flags")
	v, f, err := value(mc, "b")
	check(err == nil && bytes.Equal(v, allBytes()) && f == 4294967295,
		"get them back", err, f)
	_, err = mc.Get("absent")
	isErr(err, memcache.ErrCacheMiss, "miss")
	isErr(mc.Add(&memcache.Item{Key: "b", Value: []byte("x")}),
		memcache.ErrNotStored, "add of an existing key")
	isErr(mc.Add(&memcache.Item{Key: "n", Value: []byte("new")}), nil,
		"add of a new key")
	isErr(mc.Replace(&memcache.Item{Key: "absent", Value: []byte("x")}),
		memcache.ErrNotStored, "replace of a missing key")
	isErr(mc.Replace(&memcache.Item{Key: "n", Value: []byte("newer")}), nil,
		"replace")
	v, _, err = value(mc, "n")
	check(err == nil && string(v) == "newer", "replaced value", err, string(v))
	isErr(mc.Delete("n"), nil, "delete")
	isErr(mc.Delete("n"), memcache.ErrCacheMiss, "delete of a missing key")
	isErr(mc.Set(&memcache.Item{Key: "bad key", Value: []byte("x")}),
		memcache.ErrMalformedKey, "a key with a space never reaches the wire")
	long := strings.Repeat("k", 250)
	isErr(mc.Set(&memcache.Item{Key: long, Value: []byte("x")}), nil,
		"250-byte key")
	v, _, err = value(mc, long)
	check(err == nil && string(v) == "x", "250-byte key read", err)
	isErr(mc.Set(&memcache.Item{Key: "e", Value: []byte{}}), nil, "empty value")
	v, _, err = value(mc, "e")
	check(err == nil && len(v) == 0, "empty value read", err)
	isErr(mc.Touch("b", 100), nil, "touch")
	isErr(mc.Touch("absent", 100), memcache.ErrCacheMiss, "touch of a miss")
	isErr(mc.FlushAll(), nil, "flush_all")
	_, err = mc.Get("b")
	isErr(err, memcache.ErrCacheMiss, "gone after flush_all")
}

func scenarioCas(mc *memcache.Client) {
	isErr(mc.Set(&memcache.Item{Key: "c", Value: []byte("v1")}), nil, "set")
	it, err := mc.Get("c")
	if !check(err == nil, "get with its cas", err) {
		return
	}
	it.Value = []byte("v2")
	isErr(mc.CompareAndSwap(it), nil, "cas with the current token")
	it.Value = []byte("v3")
	isErr(mc.CompareAndSwap(it), memcache.ErrCASConflict, "stale token")
	v, _, _ := value(mc, "c")
	check(string(v) == "v2", "the first cas won", string(v))
	fresh, err := mc.Get("c")
	check(err == nil, "get again", err)
	isErr(mc.Delete("c"), nil, "delete")
	isErr(mc.CompareAndSwap(fresh), memcache.ErrCacheMiss,
		"cas of a deleted key (NOT_FOUND)")
}

func scenarioCounters(mc *memcache.Client) {
	_, err := mc.Increment("cnt", 1)
	isErr(err, memcache.ErrCacheMiss, "incr of a missing key")
	isErr(mc.Set(&memcache.Item{Key: "cnt", Value: []byte("10")}), nil, "set")
	n, err := mc.Increment("cnt", 5)
	check(err == nil && n == 15, "incr", err, n)
	n, err = mc.Decrement("cnt", 20)
	check(err == nil && n == 0, "decr stops at zero", err, n)
	isErr(mc.Set(&memcache.Item{Key: "cnt", Value: []byte("18446744073709551615")}),
		nil, "set 2^64-1")
	n, err = mc.Increment("cnt", 2)
	check(err == nil && n == 1, "incr wraps at 2^64", err, n)
	isErr(mc.Set(&memcache.Item{Key: "word", Value: []byte("abc")}), nil,
		"set a word")
	_, err = mc.Increment("word", 1)
	check(err != nil && strings.Contains(err.Error(), "non-numeric"),
		"incr of a word is an error", err)
	n, err = mc.Increment("cnt", 1)
	check(err == nil && n == 2, "the connection still works", err, n)
}

func scenarioMulti(mc *memcache.Client) {
	keys := []string{}
	for i := 0; i < 100; i++ {
		k := fmt.Sprintf("m%d", i)
		keys = append(keys, k)
		v := []byte(fmt.Sprintf("value %d\r\nEND\r\nVALUE m%d 0 1\r\n", i, i))
		isErr(mc.Set(&memcache.Item{Key: k, Value: v, Flags: uint32(i)}), nil,
			"set "+k)
	}
	got, err := mc.GetMulti(append(keys, "missing"))
	if !check(err == nil && len(got) == 100, "get_multi of 101 keys", err,
		len(got)) {
		return
	}
	good := true
	for i, k := range keys {
		it := got[k]
		want := fmt.Sprintf("value %d\r\nEND\r\nVALUE m%d 0 1\r\n", i, i)
		good = good && it != nil && string(it.Value) == want &&
			it.Flags == uint32(i) && it.Key == k
	}
	check(good, "every value, flag and key as stored")
}

func scenarioLarge(mc *memcache.Client) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 62500) // 1,000,000
	isErr(mc.Set(&memcache.Item{Key: "big", Value: big}), nil, "1 MB value")
	v, _, err := value(mc, "big")
	check(err == nil && bytes.Equal(v, big), "1 MB value read", err)
	huge := make([]byte, 2*1024*1024)
	err = mc.Set(&memcache.Item{Key: "huge", Value: huge})
	check(err != nil && strings.Contains(err.Error(), "too large"),
		"2 MB value refused", err)
	_, err = mc.Get("huge")
	isErr(err, memcache.ErrCacheMiss, "nothing stored")
	isErr(mc.Set(&memcache.Item{Key: "after", Value: []byte("ok")}), nil,
		"the connection still works")
}

func scenarioExpiry(mc *memcache.Client) {
	isErr(mc.Set(&memcache.Item{Key: "t", Value: []byte("x"), Expiration: 1}),
		nil, "set with a 1 s TTL")
	_, _, err := value(mc, "t")
	isErr(err, nil, "there at once")
	deadline := time.Now().Add(5 * time.Second)
	for err == nil && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		_, _, err = value(mc, "t")
	}
	isErr(err, memcache.ErrCacheMiss, "gone within 5 s")
}

func scenarioConcurrent(mc *memcache.Client) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := []string{}
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				k := fmt.Sprintf("g%d:%d", g, i%50)
				v := []byte(fmt.Sprintf("%d-%d", g, i))
				err := mc.Set(&memcache.Item{Key: k, Value: v})
				got, _, err2 := value(mc, k)
				if err != nil || err2 != nil || !bytes.Equal(got, v) {
					mu.Lock()
					bad = append(bad, fmt.Sprint(k, err, err2))
					mu.Unlock()
				}
			}
		}(g)
	}
	wg.Wait()
	check(len(bad) == 0, "8 goroutines x 300 set+get over the pool", bad)
	got, err := mc.GetMulti([]string{"g0:49", "g7:49"})
	check(err == nil && string(got["g0:49"].Value) == "0-299" &&
		string(got["g7:49"].Value) == "7-299", "the last writes stay", err)
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go_gomemcache_client HOST:PORT SCENARIO")
		os.Exit(2)
	}
	mc := memcache.New(os.Args[1])
	mc.Timeout = 5 * time.Second
	scenarios := map[string]func(*memcache.Client){
		"basics": scenarioBasics, "cas": scenarioCas,
		"counters": scenarioCounters, "multi": scenarioMulti,
		"large": scenarioLarge, "expiry": scenarioExpiry,
		"concurrent": scenarioConcurrent,
	}
	run, ok := scenarios[os.Args[2]]
	if !ok {
		fmt.Fprintln(os.Stderr, "unknown scenario", os.Args[2])
		os.Exit(2)
	}
	run(mc)
	if failed > 0 {
		os.Exit(1)
	}
}
