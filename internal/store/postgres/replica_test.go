package postgres

import (
	"testing"
	"time"
)

// TestWALHistory checks the lag a replay position implies, against the
// primary's WAL positions sampled over time.
func TestWALHistory(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	type step struct {
		at      float64 // seconds: the primary's sample, then the replica's replay
		primary int64
		replay  int64
		want    float64 // the lag, in seconds; -1: unknown
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"idle primary, caught up: no lag however long", []step{
			{0, 100, 100, 0}, {1, 100, 100, 0}, {60, 100, 100, 0},
		}},
		{"busy primary, replay keeps up", []step{
			{0, 100, 100, 0}, {1, 200, 200, 0}, {2, 300, 300, 0},
		}},
		{"busy primary, replay a little behind: one interval", []step{
			{0, 100, 100, 0}, {1, 200, 150, 1}, {2, 300, 250, 1},
		}},
		{"replay paused while the primary writes: the lag grows", []step{
			{0, 100, 100, 0}, {1, 200, 100, 1}, {2, 300, 100, 2}, {5, 400, 100, 5},
		}},
		{"replay paused, primary idle: nothing to miss, then a write", []step{
			{0, 100, 100, 0}, {10, 100, 100, 0}, {11, 200, 100, 1}, {14, 200, 100, 4},
		}},
		{"paused, then resumed: caught up at once", []step{
			{0, 100, 100, 0}, {1, 200, 100, 1}, {2, 300, 100, 2}, {3, 400, 400, 0},
		}},
		{"resumed partly: the newest sample replayed bounds the lag", []step{
			{0, 100, 100, 0}, {1, 200, 100, 1}, {2, 300, 100, 2}, {3, 400, 250, 2},
		}},
		{"replica behind the first sample: unknown", []step{
			{0, 100, 50, -1}, {1, 200, 90, -1}, {2, 300, 100, 2},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h walHistory
			for i, s := range tc.steps {
				h.add(at(s.at), s.primary)
				got := h.lag(s.replay, at(s.at))
				want := time.Duration(s.want * float64(time.Second))
				if s.want < 0 {
					want = -1
				}
				if got != want {
					t.Errorf("step %d (primary %d, replay %d at %vs): lag %v, want %v", i, s.primary, s.replay, s.at, got, want)
				}
			}
		})
	}
}

// TestWALHistoryBounded: a replica behind for long keeps a bounded history,
// and its oldest sample still bounds the lag.
func TestWALHistoryBounded(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	var h walHistory
	for i := range 10 * maxWALSamples {
		h.add(t0.Add(time.Duration(i)*time.Second), int64(100+i))
		if lag := h.lag(100, t0.Add(time.Duration(i)*time.Second)); lag != time.Duration(i)*time.Second {
			t.Fatalf("after %d s paused: lag %v", i, lag)
		}
	}
	if len(h.samples) > maxWALSamples {
		t.Errorf("%d samples kept, over %d", len(h.samples), maxWALSamples)
	}
}

// TestReplicaLagDecision: reads leave the replica once its lag passes the
// bound less one measuring interval, or cannot be measured; without a bound,
// never for lag.
func TestReplicaLagDecision(t *testing.T) {
	for _, tc := range []struct {
		bound, lag time.Duration
		behind     bool
	}{
		{5 * time.Second, 0, false},
		{5 * time.Second, 4 * time.Second, false},
		{5 * time.Second, 4*time.Second + time.Millisecond, true},
		{5 * time.Second, time.Hour, true},
		{5 * time.Second, -1, true},
		{NoReplicaLagBound, time.Hour, false},
		{NoReplicaLagBound, -1, false},
	} {
		var l replicaLag
		l.init(tc.bound)
		l.interval = time.Second
		if l.bound > 0 && !l.behind.Load() {
			t.Errorf("bound %v: in use before any measure", tc.bound)
		}
		if behind, _ := l.set(tc.lag); behind != tc.behind || l.behind.Load() != tc.behind {
			t.Errorf("bound %v, lag %v: behind %v, want %v", tc.bound, tc.lag, behind, tc.behind)
		}
	}
	var l replicaLag
	l.init(0)
	if l.bound != DefaultMaxReplicaLag {
		t.Errorf("bound 0 is %v, want the default %v", l.bound, DefaultMaxReplicaLag)
	}
}
