// Package progress shows how long work has left: a redrawn bar with rate and
// ETA on a terminal, plain periodic log lines otherwise (CI logs, files).
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Bar tracks done/total units of work. Safe for concurrent use.
type Bar struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	label    string
	unit     string
	total    int
	done     int
	start    time.Time
	last     time.Time
	interval time.Duration
	now      func() time.Time
	drawnAt  int // b.done when last drawn, to avoid repeating the final line
}

// New starts a bar on w (usually os.Stderr). It draws in place when w is a
// terminal and logs a line every 10 s otherwise.
func New(w io.Writer, label, unit string, total int) *Bar {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	b := &Bar{w: w, tty: tty, label: label, unit: unit, total: total, now: time.Now}
	b.start = b.now()
	b.interval = 10 * time.Second
	if tty {
		b.interval = 200 * time.Millisecond
	}
	return b
}

// Add records n more units done and redraws when due.
func (b *Bar) Add(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	if t := b.now(); t.Sub(b.last) >= b.interval || b.done >= b.total {
		b.last = t
		b.draw(false)
	}
}

// Finish draws the final state and ends the line.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tty || b.drawnAt != b.done || b.last.IsZero() {
		b.draw(true)
	}
}

// Line is the current status text (without the bar), e.g. for tests and logs.
func (b *Bar) Line() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.status()
}

func (b *Bar) status() string {
	el := b.now().Sub(b.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(b.done) / el
	}
	eta := "?"
	if rate > 0 && b.total >= b.done {
		eta = (time.Duration(float64(b.total-b.done)/rate) * time.Second).Round(time.Second).String()
	}
	return fmt.Sprintf("%s %d/%d %s  %.2f %s/s  elapsed %s  ETA %s", b.label, b.done, b.total, b.unit,
		rate, b.unit, (time.Duration(el) * time.Second).Round(time.Second), eta)
}

func (b *Bar) draw(final bool) {
	b.drawnAt = b.done
	s := b.status()
	if !b.tty {
		fmt.Fprintln(b.w, s)
		return
	}
	const width = 30
	filled := width
	if b.total > 0 {
		filled = min(width, width*b.done/b.total)
	}
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	end := ""
	if final {
		end = "\n"
	}
	fmt.Fprintf(b.w, "\r[%s] %s\x1b[K%s", bar, s, end)
}
