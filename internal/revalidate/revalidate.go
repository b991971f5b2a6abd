// Package revalidate decides whether an answer an instance gave is still the
// answer, without reading it again: a poll that finds nothing new then costs
// one read of the database's change feed (an index range holding one row
// when nothing changed), whatever the size of the answer.
//
// Triggers, whoever writes, add a feed row for every write that can change
// an answer, naming what it changed (a user's memberships, a workspace, an
// organization, a deployment, everything), stamped in commit order by a
// clock that never runs behind the wall clock (migration 0011 and
// derived.sql of each store). An answer is kept with the stamp of the
// snapshot it was read in and what it shows. It is still the answer while
// the feed, read past that stamp without a gap, names none of it.
//
// The feed is read from the last row seen, that row included: its absence
// (a restored backup, rows pruned while the instance was idle, a read
// replica behind the primary) is a gap, and the instance then trusts no
// kept answer until it has read the feed anew.
//
// It imports domain and cache.
package revalidate

import (
	"bytes"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wachtbench/memberships/internal/cache"
	"github.com/wachtbench/memberships/internal/domain"
)

// Inputs are what an answer depends on besides the tables: the same tables
// give another answer to another session, filter, address or MFA state.
type Inputs struct {
	DeploymentID, UserID int64
	Organization         int64 // the org_id filter, when Filtered
	Filtered             bool
	ClientIP             netip.Addr
	HasMFA               bool
	// The deployment's switches eligibility reads (cached by the instance,
	// not in the feed).
	IPAllowlist, EnforceMFA bool
	// The session the answer shows.
	SessionID, SessionCreated, SessionUpdated int64
}

// dep names what an answer shows, as a feed row names it.
type dep struct {
	kind domain.ChangeKind
	id   int64
}

// answer is a kept answer: what it shows, and the stamp of the snapshot it
// was read in. Besides its user and deployment (its key's Inputs) it shows
// the workspaces ids[:nw] and the organizations ids[nw:], each part sorted
// and without repeats: plain int64s, sorted without a comparison function,
// because an answer is kept on every 200.
type answer struct {
	ids   []int64
	nw    int
	sum   uint64 // of what it shows, in order (Keep)
	stamp int64
	// checked is a stamp seen up to which no row names what it shows: a
	// poll after few writes checks only the rows since.
	checked atomic.Int64
}

// shows reports whether the feed row c names what a, given for in, shows.
func (a *answer) shows(in Inputs, c domain.Change) bool {
	switch c.Kind {
	case domain.ChangedAll:
		return true
	case domain.ChangedUser:
		return c.ID == in.UserID
	case domain.ChangedDeployment:
		return c.ID == in.DeploymentID
	case domain.ChangedWorkspace:
		_, hit := slices.BinarySearch(a.ids[:a.nw], c.ID)
		return hit
	case domain.ChangedOrganization:
		_, hit := slices.BinarySearch(a.ids[a.nw:], c.ID)
		return hit
	}
	return false
}

// deps is how many feed rows' names a shows.
func (a *answer) deps() int { return 2 + len(a.ids) }

// key names a kept answer: the same bytes (so the same ETag) may answer
// several inputs.
type key struct {
	etag string
	in   Inputs
}

// Feed is one instance's view of the change feed and the answers it gave.
// Safe for concurrent use.
type Feed struct {
	mu sync.RWMutex
	// seen is the feed as read, oldest first, without a gap since seen[0]
	// (empty: nothing trusted); at most ringMax rows. last is the newest
	// stamp naming each dep among them, all the newest naming everything.
	seen []domain.Change
	last map[dep]int64
	all  int64

	answers *cache.Gens[key, *answer]
	// sent holds the last answer kept for each inputs whole, bounded by
	// its bytes: sent again while it is current, it is not read. Nil: none.
	sent *cache.Gens[Inputs, sentAnswer]

	// The read in flight and the one waiting to start (shared.go).
	rmu           sync.Mutex
	running, next *round
	readMax       time.Duration
}

// ReadLimit is how many feed rows one read asks for. A read that fills it
// may have left rows out, and counts as a gap.
const ReadLimit = 1024

// ringMax bounds the rows kept: an answer read before the oldest is read
// again. 65,536 rows are minutes of history at a hundred writes a second.
const ringMax = 1 << 16

// sentAnswer is an answer's body and its ETag.
type sentAnswer struct {
	etag string
	body []byte
}

// New returns a feed keeping at most size answers (in two generations), and
// of them sentBytes of bodies (none when 0).
func New(size, sentBytes int) *Feed {
	f := &Feed{last: map[dep]int64{}, answers: cache.NewGens[key, *answer](size), readMax: readMax}
	if sentBytes > 0 {
		f.sent = cache.NewWeighedGens[Inputs](sentBytes, sentAnswer.weight)
	}
	return f
}

// weight is what s holds in memory: its bytes, plus its key and headers.
func (s sentAnswer) weight() int { return len(s.etag) + len(s.body) + 256 }

// Since is where the next read of the feed starts: the newest row seen,
// or 0 (the newest row of the feed) when nothing is trusted.
func (f *Feed) Since() int64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if len(f.seen) == 0 {
		return 0
	}
	return f.seen[len(f.seen)-1].Seq
}

// Read records the rows a read from since (Since's value) returned, and
// reports whether what it knows now includes them: only then may the
// request that read them answer from a kept answer. Requests read at once,
// so the rows are joined to what was seen: a read that agrees extends it; a
// read whose first row is not since's (a restored backup, rows pruned while
// the instance was idle, a replica behind the primary), whose rows differ
// from those seen, or that filled ReadLimit is a gap, and nothing seen
// before is trusted; a read that knows less than was seen, or starts where
// nothing seen is, changes nothing and its request reads the answer.
func (f *Feed) Read(since int64, rows []domain.Change) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(rows) >= ReadLimit {
		f.reset()
		return false
	}
	if since == 0 {
		if len(f.seen) > 0 || len(rows) == 0 {
			return false
		}
		f.add(rows)
		return true
	}
	if len(rows) == 0 || rows[0].Seq != since {
		f.reset()
		return false
	}
	i, found := f.find(since)
	if !found {
		return false
	}
	old := f.seen[i:]
	if len(rows) < len(old) {
		return false
	}
	if !slices.Equal(old, rows[:len(old)]) {
		f.reset()
		return false
	}
	f.add(rows[len(old):])
	return true
}

func (f *Feed) reset() {
	f.seen = f.seen[:0]
	clear(f.last)
	f.all = 0
}

// add appends rows newer than any seen, and drops the oldest past ringMax.
func (f *Feed) add(rows []domain.Change) {
	for _, r := range rows {
		f.seen = append(f.seen, r)
		if r.Kind == domain.ChangedAll {
			f.all = r.Seq
		} else {
			f.last[dep{r.Kind, r.ID}] = r.Seq
		}
	}
	if len(f.seen) <= ringMax {
		return
	}
	drop := len(f.seen) - ringMax/2
	for _, r := range f.seen[:drop] {
		if d := (dep{r.Kind, r.ID}); f.last[d] == r.Seq {
			delete(f.last, d)
		}
	}
	f.seen = slices.Delete(f.seen, 0, drop)
}

// find returns the index of the first row seen stamped seq.
func (f *Feed) find(seq int64) (int, bool) {
	return slices.BinarySearchFunc(f.seen, seq, func(c domain.Change, s int64) int {
		switch {
		case c.Seq < s:
			return -1
		case c.Seq > s:
			return 1
		}
		return 0
	})
}

// Keep records an answer given with etag and body (copied, not held) for
// in, read in the snapshot of stamp (0: not one snapshot, not kept),
// showing n memberships, the i-th in shows(i)'s workspace and
// organization. The same answer kept before for in (the same ETag and the
// same workspaces and organizations in the same order, by a hash of them:
// an ETag collision must not lend an answer what another shows) is only
// restamped, so a repeated 200 sorts nothing. It keeps its newer stamp
// while the feed seen still holds it; one the feed no longer holds (a
// restore or a failover took it back) gives way.
func (f *Feed) Keep(etag string, in Inputs, stamp int64, body []byte, n int, shows func(i int) (workspace, organization int64)) {
	if f == nil || stamp == 0 || etag == "" {
		return
	}
	// The bytes too, not only the ETag: a colliding ETag must not keep
	// another answer's body.
	if s := (sentAnswer{etag, body}); f.sent != nil && s.weight() <= f.sent.MaxWeight() {
		if kept, _ := f.sent.Peek(in); kept.etag != etag || !bytes.Equal(kept.body, body) {
			f.sent.Put(in, sentAnswer{etag, bytes.Clone(body)})
		}
	}
	sum := uint64(n)
	for i := range n {
		w, o := shows(i)
		sum = mix(mix(sum, w), o)
	}
	k := key{etag, in}
	prev, _ := f.answers.Get(k)
	var a *answer
	if prev != nil && prev.sum == sum {
		if prev.stamp == stamp || prev.stamp > stamp && f.holds(prev.stamp) {
			return
		}
		a = &answer{ids: prev.ids, nw: prev.nw, sum: sum, stamp: stamp}
	} else {
		ids := make([]int64, 2*n)
		ws, orgs := ids[:n], ids[n:]
		for i := range n {
			ws[i], orgs[i] = shows(i)
		}
		slices.Sort(ws)
		slices.Sort(orgs)
		ws, orgs = slices.Compact(ws), slices.Compact(orgs)
		nw := len(ws)
		ids = append(ids[:nw], orgs...) // orgs starts at or past nw: copy moves it down
		a = &answer{ids: ids[:len(ids):len(ids)], nw: nw, sum: sum, stamp: stamp}
	}
	a.checked.Store(stamp)
	f.answers.Put(k, a)
}

// mix folds v into h (a 64-bit multiply-xorshift step): order matters.
func mix(h uint64, v int64) uint64 {
	h ^= uint64(v)
	h *= 0x9e3779b97f4a7c15
	return h ^ h>>29
}

// holds reports whether a row stamped seq is among the rows seen.
func (f *Feed) holds(seq int64) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	_, found := f.find(seq)
	return found
}

// Kept returns the last answer kept whole for in, its ETag and body (never
// to be modified): still the answer while Current(etag, in).
func (f *Feed) Kept(in Inputs) (etag string, body []byte, ok bool) {
	if f.sent == nil {
		return "", nil, false
	}
	s, ok := f.sent.Get(in)
	return s.etag, s.body, ok
}

// SentBytes is about what the answers kept whole weigh (cache.Gens.Weight).
func (f *Feed) SentBytes() int {
	if f.sent == nil {
		return 0
	}
	return f.sent.Weight()
}

// Current reports whether etag names an answer given for in that is still
// the answer, as far as the feed read so far tells: its stamp was seen, and
// no row seen since names what it shows. O(the fewer of the rows since its
// last check and what it shows).
func (f *Feed) Current(etag string, in Inputs) bool {
	a, _ := f.answers.Get(key{etag, in})
	if a == nil {
		return false
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	if len(f.seen) == 0 {
		return false
	}
	top := f.seen[len(f.seen)-1].Seq
	checked := a.checked.Load()
	if checked == top {
		return true
	}
	// The rows since it was last checked, or what it shows: whichever is fewer.
	if i, found := f.find(checked); found && len(f.seen)-i < a.deps() {
		for _, c := range f.seen[i:] {
			if c.Seq != checked && a.shows(in, c) {
				return false
			}
		}
	} else {
		if _, found := f.find(a.stamp); !found || f.all > a.stamp {
			return false // read before the feed seen reaches back, or everything changed since
		}
		if f.last[dep{domain.ChangedUser, in.UserID}] > a.stamp ||
			f.last[dep{domain.ChangedDeployment, in.DeploymentID}] > a.stamp {
			return false
		}
		for i, id := range a.ids {
			kind := domain.ChangedOrganization
			if i < a.nw {
				kind = domain.ChangedWorkspace
			}
			if f.last[dep{kind, id}] > a.stamp {
				return false
			}
		}
	}
	a.checked.Store(top)
	return true
}
