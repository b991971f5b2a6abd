package revalidate

import (
	"fmt"
	"strconv"
	"testing"
)

// BenchmarkKeep is what a 200 adds for revalidation: keeping its answer, of
// 10 and 100 memberships (a workspace each, ten workspaces an
// organization), either a new answer each time or the same one again (a
// client polling without If-None-Match), from a newer snapshot.
func BenchmarkKeep(b *testing.B) {
	for _, n := range []int{10, 100} {
		shows := func(i int) (int64, int64) {
			return 388256695768756248 + int64(i*7919%n), 388256695768700000 + int64(i/10)
		}
		b.Run(fmt.Sprintf("memberships=%d/new", n), func(b *testing.B) {
			f := New(100_000, 0)
			etags := make([]string, 4096)
			for i := range etags {
				etags[i] = strconv.Itoa(i)
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				f.Keep(etags[i%len(etags)]+"x"+strconv.Itoa(i/len(etags)), in, int64(i+1), nil, n, shows)
			}
		})
		b.Run(fmt.Sprintf("memberships=%d/again", n), func(b *testing.B) {
			f := New(100_000, 0)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				f.Keep("e", in, int64(i+1), nil, n, shows)
			}
		})
	}
}
