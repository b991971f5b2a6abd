package bench

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// table takes rows of tab-terminated cells, as text/tabwriter does, and
// prints them aligned or, with Config.Markdown, as a Markdown table to
// paste into BENCHMARKS.md as it is: numbers are never retyped.
type table struct {
	out      io.Writer
	markdown bool
	buf      bytes.Buffer
}

func (c Config) table() *table { return &table{out: c.Out, markdown: c.Markdown} }

func (t *table) Write(p []byte) (int, error) { return t.buf.Write(p) }

func (t *table) Flush() error {
	if !t.markdown {
		tw := tabwriter.NewWriter(t.out, 0, 0, 2, ' ', tabwriter.AlignRight)
		tw.Write(t.buf.Bytes())
		return tw.Flush()
	}
	var b strings.Builder
	b.WriteString("\n")
	for i, line := range strings.Split(strings.TrimRight(t.buf.String(), "\n"), "\n") {
		cells := strings.Split(strings.TrimSuffix(line, "\t"), "\t")
		fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
		if i == 0 { // the first column names the row, the others are numbers
			b.WriteString("| --- |" + strings.Repeat(" ---: |", len(cells)-1) + "\n")
		}
	}
	b.WriteString("\n")
	_, err := io.WriteString(t.out, b.String())
	return err
}
