package progress

import (
	"bytes"
	"io"
	"os"
	"testing"
)

func TestNothingDrawnOffTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	var buf bytes.Buffer
	for _, out := range []io.Writer{&buf, w} {
		if IsTerminal(out) || Writer(out) != io.Discard {
			t.Errorf("%T taken for a terminal", out)
		}
	}
	bar := Bar(&buf, 10, "testing")
	for i := range 11 {
		_ = bar.Set(i)
	}
	_ = bar.Finish()
	if buf.Len() != 0 {
		t.Errorf("a bar off a terminal wrote %q", buf.String())
	}
}
