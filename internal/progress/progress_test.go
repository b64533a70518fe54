package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestPlainLinesWithRateAndETA(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "ladder", "encodes", 10)
	clock := b.start
	b.now = func() time.Time { return clock }
	clock = clock.Add(2 * time.Second)
	b.Add(4) // first Add draws
	line := b.Line()
	if !strings.Contains(line, "4/10 encodes") || !strings.Contains(line, "2.00 encodes/s") || !strings.Contains(line, "ETA 3s") {
		t.Fatalf("status %q", line)
	}
	clock = clock.Add(time.Second)
	b.Add(6) // reaches the total: draws
	b.Finish()
	if n := strings.Count(buf.String(), "\n"); n != 2 {
		t.Fatalf("want 2 lines (first and final), got %d:\n%s", n, buf.String())
	}
}
