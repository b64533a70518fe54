package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// Child is the outcome of a measurement run in its own process, so that a
// paper-size model that outgrows memory is stopped by the watchdog instead of
// the kernel's OOM killer (which could pick another process on a shared machine).
type Child struct {
	Result     *RunResult `json:"result,omitempty"`
	Error      string     `json:"error,omitempty"`
	Killed     string     `json:"killed,omitempty"` // why the watchdog stopped it
	MaxRSSSeen int64      `json:"max_rss_seen_bytes"`
	WallS      float64    `json:"wall_s"`
}

// Limits bound a child: resident memory (sampled every 100 ms) and wall time.
type Limits struct {
	RSSBytes int64
	Timeout  time.Duration
}

// runChild runs `self run -spec JSON` under the limits. GOMEMLIMIT keeps the
// Go heap near its live size below the RSS limit, and GOGC=25 keeps the peak
// RSS close to the live peak so that it measures need rather than garbage.
func runChild(self string, s RunSpec, lim Limits) Child {
	spec, _ := json.Marshal(s)
	ctx, cancel := context.WithTimeout(context.Background(), lim.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, "run", "-spec", string(spec))
	cmd.Env = append(os.Environ(), "GOGC=25", "GOMEMLIMIT="+strconv.FormatInt(lim.RSSBytes*9/10, 10))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	t0 := time.Now()
	c := Child{}
	if err := cmd.Start(); err != nil {
		c.Error = err.Error()
		return c
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var werr error
loop:
	for {
		select {
		case werr = <-done:
			break loop
		case <-tick.C:
			rss := procStatusOf(strconv.Itoa(cmd.Process.Pid), "VmRSS")
			c.MaxRSSSeen = max(c.MaxRSSSeen, rss)
			if rss > lim.RSSBytes && c.Killed == "" {
				c.Killed = fmt.Sprintf("resident memory %.1f GiB above the limit %.1f GiB", gib(rss), gib(lim.RSSBytes))
				_ = cmd.Process.Kill()
			}
		}
	}
	c.WallS = time.Since(t0).Seconds()
	if ctx.Err() != nil && c.Killed == "" {
		c.Killed = fmt.Sprintf("still running after %s", lim.Timeout)
	}
	var r RunResult
	if werr == nil && json.Unmarshal(lastLine(out.Bytes()), &r) == nil {
		c.Result = &r
		return c
	}
	c.Error = fmt.Sprintf("%v: %s", werr, tail(errb.String(), 600))
	return c
}

func lastLine(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

func gib(b int64) float64 { return float64(b) / (1 << 30) }

// availableBytes is MemAvailable from /proc/meminfo (0 when unreadable).
func availableBytes() int64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		var kb int64
		if _, err := fmt.Sscanf(string(line), "MemAvailable: %d kB", &kb); err == nil {
			return kb << 10
		}
	}
	return 0
}
