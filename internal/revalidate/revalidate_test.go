package revalidate

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/wachtbench/memberships/internal/domain"
)

func ch(seq int64, kind domain.ChangeKind, id int64) domain.Change {
	return domain.Change{Seq: seq, Kind: kind, ID: id}
}

var in = Inputs{DeploymentID: 1, UserID: 7, ClientIP: netip.MustParseAddr("192.0.2.1"), SessionID: 3}

// kept is a feed that has read up to seq 10 and keeps "e", given at 10 for
// in, showing workspace 100 of organization 200.
func kept(t *testing.T) *Feed {
	t.Helper()
	f := New(16, 0)
	if !f.Read(0, []domain.Change{ch(10, domain.ChangedAll, 0)}) {
		t.Fatal("the first read was not taken")
	}
	f.Keep("e", in, 10, nil, 1, func(int) (int64, int64) { return 100, 200 })
	if !f.Current("e", in) {
		t.Fatal("an answer as of the feed's newest row is not current")
	}
	return f
}

func TestCurrent(t *testing.T) {
	for _, c := range []struct {
		name string
		rows []domain.Change // read from 10
		want bool
	}{
		{"nothing new", []domain.Change{ch(10, 0, 0)}, true},
		{"another user", []domain.Change{ch(10, 0, 0), ch(11, domain.ChangedUser, 8)}, true},
		{"another workspace", []domain.Change{ch(10, 0, 0), ch(11, domain.ChangedWorkspace, 101)}, true},
		{"an organization with the workspace's id", []domain.Change{ch(10, 0, 0), ch(11, domain.ChangedOrganization, 100)}, true},
		{"another deployment", []domain.Change{ch(10, 0, 0), ch(11, domain.ChangedDeployment, 2)}, true},
		{"the user", []domain.Change{ch(10, 0, 0), ch(11, domain.ChangedUser, 7)}, false},
		{"the workspace", []domain.Change{ch(10, 0, 0), ch(11, domain.ChangedWorkspace, 100)}, false},
		{"the organization", []domain.Change{ch(10, 0, 0), ch(11, domain.ChangedOrganization, 200)}, false},
		{"the deployment", []domain.Change{ch(10, 0, 0), ch(11, domain.ChangedDeployment, 1)}, false},
		{"everything", []domain.Change{ch(10, 0, 0), ch(12, domain.ChangedAll, 0)}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := kept(t)
			if !f.Read(10, c.rows) {
				t.Fatal("a read continuing the feed was not taken")
			}
			if got := f.Current("e", in); got != c.want {
				t.Errorf("Current = %v, want %v", got, c.want)
			}
		})
	}
}

func TestCurrentInputs(t *testing.T) {
	f := kept(t)
	for _, other := range []Inputs{
		{DeploymentID: 1, UserID: 8, ClientIP: netip.MustParseAddr("192.0.2.1"), SessionID: 3},
		{DeploymentID: 1, UserID: 7, ClientIP: netip.MustParseAddr("192.0.2.2"), SessionID: 3},
		{DeploymentID: 1, UserID: 7, ClientIP: netip.MustParseAddr("192.0.2.1"), SessionID: 3, HasMFA: true},
		{DeploymentID: 1, UserID: 7, ClientIP: netip.MustParseAddr("192.0.2.1"), SessionID: 3, Organization: 200, Filtered: true},
		{DeploymentID: 1, UserID: 7, ClientIP: netip.MustParseAddr("192.0.2.1"), SessionID: 3, Filtered: true}, // org_id=0
		{DeploymentID: 1, UserID: 7, ClientIP: netip.MustParseAddr("192.0.2.1"), SessionID: 4},
		{DeploymentID: 1, UserID: 7, ClientIP: netip.MustParseAddr("192.0.2.1"), SessionID: 3, IPAllowlist: true},
	} {
		if f.Current("e", other) {
			t.Errorf("the answer for %+v is current for %+v", in, other)
		}
	}
	if f.Current("other", in) {
		t.Error("an ETag never given is current")
	}
}

// A gap, whatever its cause, drops all trust until the feed is read anew
// from its newest row.
func TestGap(t *testing.T) {
	for _, c := range []struct {
		name string
		rows []domain.Change
	}{
		{"the row read last is gone (restored, pruned)", []domain.Change{ch(12, domain.ChangedUser, 8)}},
		{"the feed is empty", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := kept(t)
			if f.Read(10, c.rows) {
				t.Error("a read with a gap was taken")
			}
			if f.Current("e", in) {
				t.Error("an answer is current across a gap")
			}
			if f.Since() != 0 {
				t.Errorf("after a gap the next read starts at %d, not at the newest row", f.Since())
			}
		})
	}
}

func TestDisagreeingReads(t *testing.T) {
	f := kept(t)
	if !f.Read(10, []domain.Change{ch(10, 0, 0), ch(11, domain.ChangedUser, 8), ch(13, domain.ChangedUser, 9)}) {
		t.Fatal("a read continuing the feed was not taken")
	}
	// Read at the same time from 10: knows less (an earlier snapshot, or a
	// restore): its request must read the answer, and nothing is lost.
	if f.Read(10, []domain.Change{ch(10, 0, 0), ch(11, domain.ChangedUser, 8)}) {
		t.Error("a read knowing less than was seen was taken")
	}
	if !f.Current("e", in) {
		t.Error("a shorter read dropped what was seen")
	}
	// Different rows after the same start: the feed was rewritten (a
	// restore, then other writes).
	if f.Read(10, []domain.Change{ch(10, 0, 0), ch(12, domain.ChangedUser, 8), ch(14, 0, 0)}) {
		t.Error("a read disagreeing with the rows seen was taken")
	}
	if f.Current("e", in) {
		t.Error("an answer is current after the feed was rewritten")
	}
}

func TestFirstReadOnlyOnce(t *testing.T) {
	f := kept(t)
	// A read from 0 (the newest row) started before the feed was seeded
	// knows nothing of what came since: it is not taken.
	if f.Read(0, []domain.Change{ch(10, 0, 0)}) {
		t.Error("a second read from the newest row was taken")
	}
}

func TestStampNotSeen(t *testing.T) {
	f := kept(t)
	// Given in a snapshot newer than the feed read: current only once the
	// feed read reaches its stamp.
	f.Keep("later", in, 15, nil, 1, func(int) (int64, int64) { return 100, 200 })
	if f.Current("later", in) {
		t.Error("an answer is current before the feed read reaches its stamp")
	}
	f.Read(10, []domain.Change{ch(10, 0, 0), ch(15, domain.ChangedUser, 9)})
	if !f.Current("later", in) {
		t.Error("an answer is not current once the feed read reaches its stamp")
	}
	f.Keep("unstamped", in, 0, nil, 1, func(int) (int64, int64) { return 100, 200 })
	if f.Current("unstamped", in) {
		t.Error("an answer read over several snapshots was kept")
	}
}

// A read that fills ReadLimit may have left rows out (a bulk write between
// two polls): it is a gap, not a complete view.
func TestFullReadIsAGap(t *testing.T) {
	f := kept(t)
	rows := []domain.Change{ch(10, 0, 0)}
	for i := range ReadLimit {
		rows = append(rows, ch(11+int64(i), domain.ChangedUser, 1000+int64(i)))
	}
	if f.Read(10, rows[:ReadLimit]) {
		t.Error("a full read was taken")
	}
	if f.Current("e", in) {
		t.Error("an answer is current after a full read")
	}
}

// History is kept by row count: an answer read before the oldest row kept
// is read again, and the rows dropped forget what they named.
func TestRingBound(t *testing.T) {
	f := kept(t)
	seq := int64(10)
	for range 2 * ringMax / (ReadLimit / 2) {
		rows := []domain.Change{f.seen[len(f.seen)-1]}
		for range ReadLimit/2 - 1 {
			seq++
			rows = append(rows, ch(seq, domain.ChangedUser, 1))
		}
		if !f.Read(rows[0].Seq, rows) {
			t.Fatal("a read continuing the feed was not taken")
		}
	}
	if len(f.seen) > ringMax {
		t.Errorf("%d rows kept, more than %d", len(f.seen), ringMax)
	}
	if f.Current("e", in) {
		t.Error("an answer read before the oldest row kept is current")
	}
	if len(f.last) != 1 {
		t.Errorf("last names %d deps, want 1", len(f.last))
	}
}

// An answer shows each membership's workspace and organization, in any
// order and with organizations repeated; both ways Current checks (the rows
// since its last check, or what it shows against the newest row naming
// each) find every one of them, and nothing else.
func TestCurrentShowsEvery(t *testing.T) {
	ws, orgs := []int64{300, 100, 200}, []int64{20, 10, 20}
	shows := func(i int) (int64, int64) { return ws[i], orgs[i] }
	for _, c := range []struct {
		name string
		row  domain.Change
		want bool
	}{
		{"a workspace", ch(11, domain.ChangedWorkspace, 200), false},
		{"the first workspace", ch(11, domain.ChangedWorkspace, 100), false},
		{"the last workspace", ch(11, domain.ChangedWorkspace, 300), false},
		{"a repeated organization", ch(11, domain.ChangedOrganization, 20), false},
		{"the other organization", ch(11, domain.ChangedOrganization, 10), false},
		{"the user", ch(11, domain.ChangedUser, 7), false},
		{"the deployment", ch(11, domain.ChangedDeployment, 1), false},
		{"a workspace with an organization's id", ch(11, domain.ChangedWorkspace, 20), true},
		{"an organization with a workspace's id", ch(11, domain.ChangedOrganization, 300), true},
		{"another workspace", ch(11, domain.ChangedWorkspace, 150), true},
		{"another organization", ch(11, domain.ChangedOrganization, 30), true},
	} {
		for _, pad := range []int{0, 10} { // rows naming others after it: fewer, or more, than what it shows
			t.Run(fmt.Sprintf("%s/%d more", c.name, pad), func(t *testing.T) {
				f := New(16, 0)
				f.Read(0, []domain.Change{ch(10, domain.ChangedAll, 0)})
				f.Keep("e", in, 10, nil, len(ws), shows)
				rows := []domain.Change{ch(10, domain.ChangedAll, 0), c.row}
				for i := range pad {
					rows = append(rows, ch(12+int64(i), domain.ChangedUser, 1000+int64(i)))
				}
				if !f.Read(10, rows) {
					t.Fatal("a read continuing the feed was not taken")
				}
				if got := f.Current("e", in); got != c.want {
					t.Errorf("Current = %v, want %v", got, c.want)
				}
			})
		}
	}
}

// The same answer given again from a newer snapshot (a write that changed
// nothing it shows the bytes of) is current as of that snapshot; given again
// from an older one, it stays as current as it was.
func TestKeptAgain(t *testing.T) {
	f := kept(t)
	f.Read(10, []domain.Change{ch(10, 0, 0), ch(11, domain.ChangedWorkspace, 100)})
	if f.Current("e", in) {
		t.Fatal("an answer whose workspace changed is current")
	}
	f.Keep("e", in, 11, nil, 1, func(int) (int64, int64) { return 100, 200 })
	if !f.Current("e", in) {
		t.Error("the same answer kept again as of the feed's newest row is not current")
	}
	f.Keep("e", in, 10, nil, 1, func(int) (int64, int64) { return 100, 200 })
	if !f.Current("e", in) {
		t.Error("the answer kept again from an older snapshot is no longer current")
	}
	f.Read(11, []domain.Change{ch(11, domain.ChangedWorkspace, 100), ch(12, domain.ChangedOrganization, 200)})
	if f.Current("e", in) {
		t.Error("an answer kept again is current after its organization changed")
	}
}

// A stamp the feed no longer holds (a restore took row 12 back) gives way
// to an older one, or the answer would be read on every poll until a write
// anywhere stamped past it.
func TestKeptAgainAfterARestore(t *testing.T) {
	f := kept(t)
	f.Read(10, []domain.Change{ch(10, 0, 0), ch(12, domain.ChangedUser, 99)})
	f.Keep("e", in, 12, nil, 1, func(int) (int64, int64) { return 100, 200 })
	if f.Read(12, []domain.Change{ch(10, 0, 0)}) { // row 12 is gone: a gap
		t.Fatal("a read missing its first row was taken")
	}
	if !f.Read(0, []domain.Change{ch(10, 0, 0)}) {
		t.Fatal("the feed after the restore was not taken")
	}
	if f.Current("e", in) {
		t.Fatal("an answer stamped past the restored feed is current")
	}
	f.Keep("e", in, 10, nil, 1, func(int) (int64, int64) { return 100, 200 })
	if !f.Current("e", in) {
		t.Error("the answer read again after the restore is not current")
	}
}

// The same ETag showing other workspaces (a collision) is kept anew, with
// what it shows, not restamped with what the other showed.
func TestKeptAgainOtherWorkspaces(t *testing.T) {
	f := kept(t) // "e" shows workspace 100, organization 200
	f.Read(10, []domain.Change{ch(10, 0, 0), ch(11, 0, 0)})
	f.Keep("e", in, 11, nil, 1, func(int) (int64, int64) { return 300, 200 })
	f.Read(11, []domain.Change{ch(11, 0, 0), ch(12, domain.ChangedWorkspace, 300)})
	if f.Current("e", in) {
		t.Error("a change to the workspace the answer shows now went unseen")
	}
}

// The answer kept whole for its inputs is a copy, given while it is current;
// a new one replaces it, one not stamped is not kept, and none is kept
// without the bytes for it.
func TestSent(t *testing.T) {
	f := New(16, 1<<10)
	if !f.Read(0, []domain.Change{ch(10, domain.ChangedAll, 0)}) {
		t.Fatal("the first read was not taken")
	}
	shows := func(int) (int64, int64) { return 100, 200 }
	body := []byte("answer e")
	f.Keep("e", in, 10, body, 1, shows)
	body[0] = 'X'
	if etag, got, ok := sent(f, in); !ok || etag != "e" || string(got) != "answer e" {
		t.Fatalf("Sent = %q %q %v", etag, got, ok)
	}
	other := in
	other.ClientIP = netip.MustParseAddr("192.0.2.2")
	if has(f, other) {
		t.Fatal("an answer kept for other inputs")
	}
	f.Keep("f", in, 0, []byte("unstamped"), 1, shows)
	if etag, _, _ := sent(f, in); etag != "e" {
		t.Fatalf("an unstamped answer replaced the kept one: %q", etag)
	}
	if !f.Read(10, []domain.Change{ch(10, 0, 0), ch(11, domain.ChangedWorkspace, 100)}) {
		t.Fatal("a read continuing the feed was not taken")
	}
	if _, _, ok := sent(f, in); ok {
		t.Fatal("an answer whose workspace changed is still sent")
	}
	f.Keep("g", in, 11, []byte("answer g"), 1, shows)
	if etag, got, ok := sent(f, in); !ok || etag != "g" || string(got) != "answer g" {
		t.Fatalf("after a new answer, Sent = %q %q %v", etag, got, ok)
	}
	f.Keep("g", in, 11, []byte("answer h, colliding"), 1, shows)
	if _, got, _ := sent(f, in); string(got) != "answer h, colliding" {
		t.Fatalf("another answer under the same ETag kept %q", got)
	}
	if none := New(16, 0); func() bool { none.Keep("e", in, 10, body, 1, shows); return has(none, in) }() {
		t.Fatal("an answer was kept whole with no bytes for it")
	}
}

// sent is the answer kept whole for in, and whether it is current.
func sent(f *Feed, in Inputs) (string, []byte, bool) {
	etag, body, ok := f.Kept(in)
	return etag, body, ok && f.Current(etag, in)
}

func has(f *Feed, in Inputs) bool {
	_, _, ok := f.Kept(in)
	return ok
}
