package sqlite

import (
	"os"
	"sync"
	"time"
)

// A connection keeps its file open even after the file is removed or
// replaced (a backup restored with .restore into a new file, or copied over
// it), and would go on answering from the old one. So each connection
// remembers the file it opened, and before a pooled connection is reused it
// is dropped when the path no longer names that file (as of a look at most
// fileLook old). New connections then fail while the file is missing, and
// open the restored file once it is back.

// fileSeen is what the path named at the last look, shared by the pool's
// connections: a reused connection compares its file with it, and looks
// again (a stat) only when the last look is older than fileLook, so a busy
// pool does not stat the file for every statement.
type fileSeen struct {
	mu   sync.Mutex
	at   time.Time
	info os.FileInfo // nil: missing
}

const fileLook = 50 * time.Millisecond

func (f *fileSeen) now(path string) os.FileInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := time.Now(); t.Sub(f.at) >= fileLook {
		f.info, _ = os.Stat(path)
		f.at = t
	}
	return f.info
}

// replaced reports whether the path no longer names the file c opened.
func (c *countingConn) replaced() bool {
	if c.file == "" {
		return false
	}
	now := c.seen.now(c.file)
	return now == nil || !os.SameFile(now, c.ident)
}
