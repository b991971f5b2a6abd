package storetest

import (
	"sync"
	"testing"

	"github.com/wachtbench/memberships/internal/domain"
	"github.com/wachtbench/memberships/internal/ids"
)

// IDsAcrossStores: stores open on one database, as instances are, mint ids
// at once through two Sources each (two servers per process, say): no id
// comes twice, and every Source mints on a node of its own.
func IDsAcrossStores(t *testing.T, stores []domain.Store) {
	ctx := t.Context()
	const perSource = 3000 // a few milliseconds' sequences
	var sources []*ids.Source
	for _, s := range stores {
		sources = append(sources, ids.NewSource(s, nil), ids.NewSource(s, nil))
	}
	minted := make([][]int64, len(sources))
	var wg sync.WaitGroup
	for i, src := range sources {
		wg.Go(func() {
			for range perSource {
				id, err := src.New(ctx)
				if err != nil {
					t.Errorf("source %d: %v", i, err)
					return
				}
				minted[i] = append(minted[i], id)
			}
		})
	}
	wg.Wait()
	seen := map[int64]int{}
	nodes := map[int64]int{}
	for i, list := range minted {
		for _, id := range list {
			if prev, dup := seen[id]; dup {
				t.Fatalf("id %d minted by sources %d and %d", id, prev, i)
			}
			seen[id] = i
			node := id >> 12 & (ids.Nodes - 1)
			if prev, ok := nodes[node]; ok && prev != i {
				t.Fatalf("node %d used by sources %d and %d", node, prev, i)
			}
			nodes[node] = i
		}
	}
	if len(seen) != len(sources)*perSource {
		t.Fatalf("%d ids, want %d", len(seen), len(sources)*perSource)
	}
}
