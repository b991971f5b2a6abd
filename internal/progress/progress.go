// Package progress draws progress on a terminal only: a log, a pipe or a
// recorded benchmark run gets none of its carriage returns and erase codes.
// It imports no other package of the module.
package progress

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Writer is w when it is a terminal, else io.Discard: for progress written
// by hand ("\rround 2/3").
func Writer(w io.Writer) io.Writer {
	if IsTerminal(w) {
		return w
	}
	return io.Discard
}

// Bar is a bar of total steps described by description, drawn on w when w
// is a terminal and not at all otherwise.
func Bar(w io.Writer, total int, description string, opts ...progressbar.Option) *progressbar.ProgressBar {
	return progressbar.NewOptions(total, append([]progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetVisibility(IsTerminal(w)),
		progressbar.OptionSetDescription(description),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100 * time.Millisecond),
	}, opts...)...)
}
