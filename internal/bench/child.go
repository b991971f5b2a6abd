package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wachtbench/memberships/internal/store"
	"github.com/wachtbench/memberships/server"
)

// The servers run in a child process of their own, so that the allocations
// and peak RSS measured are the server's alone, not the load generator's.

// ChildEnv marks the child process; its value is the database URL.
const ChildEnv = "MEMBENCH_CHILD_DB"

// childAddrs is the child's first line on stdout.
type childAddrs struct {
	Full, Read, NoValidator, Floor, Control string
}

// stats is a snapshot of the child's counters.
type stats struct {
	Mallocs    uint64 `json:"mallocs"`
	TotalAlloc uint64 `json:"total_alloc"`
	Statements int64  `json:"statements"`
	PeakRSS    int64  `json:"peak_rss"`  // bytes, since the last reset
	RSS        int64  `json:"rss"`       // bytes, now
	LiveHeap   uint64 `json:"live_heap"` // bytes reachable after a GC (only with ?gc=1)
	CPU        int64  `json:"cpu"`       // nanoseconds of CPU (user + system) the process has used
}

// ProfileEnv names a file the child writes its CPU profile to (all its
// scenarios, warm-up included): membench -cpuprofile sets it.
const ProfileEnv = "MEMBENCH_CHILD_CPUPROFILE"

// RunChild serves the scenarios' servers over the database at dbURL until stdin
// closes. cacheTTL is server.Config.CacheTTL.
func RunChild(ctx context.Context, dbURL string, cacheTTL time.Duration) error {
	if path := os.Getenv(ProfileEnv); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	db, err := store.Open(ctx, dbURL, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	counter, _ := db.(interface{ Statements() int64 })
	st := store.WithQueryTimeout(db, 3*time.Second) // as serve does
	full, err := server.New(server.Config{CacheTTL: cacheTTL}, st)
	if err != nil {
		return err
	}
	// read keeps no answer whole: every 200 reads and encodes it, as one
	// does after a change.
	read, err := server.New(server.Config{CacheTTL: cacheTTL, AnswerBytes: -1}, st)
	if err != nil {
		return err
	}
	noValidator, err := server.New(server.Config{CacheTTL: cacheTTL, SkipValidation: true}, st)
	if err != nil {
		return err
	}
	var floor atomic.Pointer[[]byte] // a typical answer, set by the driver
	floorHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "private, no-cache")
		if r.Header.Get("If-None-Match") != "" { // the revalidating scenario: any ETag is current
			h.Set("ETag", floorETag)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Type", "application/json")
		b := *floor.Load()
		h.Set("Content-Length", strconv.Itoa(len(b))) // as the server's answer
		w.Write(b)
	})
	control := http.NewServeMux()
	control.HandleFunc("POST /floor", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		floor.Store(&b)
	})
	control.HandleFunc("POST /reset-peak", func(w http.ResponseWriter, _ *http.Request) {
		// Resets VmHWM to the current RSS (Linux); elsewhere peak RSS reads 0.
		os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	})
	control.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		gc := r.URL.Query().Has("gc")
		if gc {
			runtime.GC() // so HeapAlloc is what is live, for the soak's memory trend
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		s := stats{Mallocs: ms.Mallocs, TotalAlloc: ms.TotalAlloc, PeakRSS: procStatus("VmHWM:"), RSS: procStatus("VmRSS:"), CPU: cpuTime()}
		if gc {
			s.LiveHeap = ms.HeapAlloc
		}
		if counter != nil {
			s.Statements = counter.Statements()
		}
		json.NewEncoder(w).Encode(s)
	})

	var addrs childAddrs
	for _, s := range []struct {
		addr *string
		name string
		h    http.Handler
	}{{&addrs.Full, "full", full}, {&addrs.Read, "read", read}, {&addrs.NoValidator, "no-validator", noValidator}, {&addrs.Floor, "floor", floorHandler}, {&addrs.Control, "control", control}} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		*s.addr = "http://" + ln.Addr().String()
		h := s.h
		if os.Getenv(ProfileEnv) != "" {
			h = labelled(s.name, h)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute}
		go srv.Serve(ln)
		defer srv.Close()
	}
	if err := json.NewEncoder(os.Stdout).Encode(addrs); err != nil {
		return err
	}
	io.Copy(io.Discard, os.Stdin) // the driver closes stdin when done
	return nil
}

// labelled tags the profile's samples of h's requests with the server and
// the path ("answer", or "revalidate" with If-None-Match), so that
// `go tool pprof -tagfocus path=revalidate -tagignore server=floor` shows
// the full server's 304s. It covers the handler, not net/http's reading of
// the request.
func labelled(server string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := "answer"
		if r.Header.Get("If-None-Match") != "" {
			path = "revalidate"
		}
		pprof.Do(r.Context(), pprof.Labels("server", server, "path", path), func(ctx context.Context) {
			h.ServeHTTP(w, r.WithContext(ctx))
		})
	})
}

// floorETag is what the floor's 304 carries: as long as the server's.
const floorETag = `"AAAAAAAAAAAAAA"`

// cpuTime is the CPU time (user and system) this process has used, from
// getrusage: the server's own cost, whatever else runs on the machine.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// procStatus reads a size (VmHWM: peak RSS, VmRSS: RSS) from
// /proc/self/status, in bytes; 0 where there is none.
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func (s stats) String() string {
	return fmt.Sprintf("mallocs=%d alloc=%d statements=%d peak=%d", s.Mallocs, s.TotalAlloc, s.Statements, s.PeakRSS)
}
