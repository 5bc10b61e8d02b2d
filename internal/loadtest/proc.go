package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// A Probe reads one server's CPU time and resident memory: from /proc for a
// process the driver started (or was given the pid of), else from the
// server's /metrics (process_cpu_seconds_total,
// process_resident_memory_bytes).
type Probe struct {
	pid     int
	metrics string // URL of /metrics when pid is 0
	client  *http.Client
}

// usage is one reading; ok is false when nothing could be read.
type usage struct {
	cpu time.Duration
	rss int64
	ok  bool
}

func (p Probe) read(ctx context.Context) usage {
	if p.pid > 0 {
		return procUsage(p.pid)
	}
	if p.metrics == "" {
		return usage{}
	}
	return p.scrape(ctx)
}

// clockTick is USER_HZ, 100 on every Linux that Go supports.
const clockTick = 100

// procUsage reads utime+stime from /proc/pid/stat and VmRSS from
// /proc/pid/status.
func procUsage(pid int) usage {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return usage{}
	}
	// Fields after the parenthesised command name; utime and stime are the
	// 14th and 15th fields of the whole line.
	_, rest, ok := strings.Cut(string(stat), ") ")
	if !ok {
		return usage{}
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return usage{}
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	u := usage{cpu: time.Duration(ut+st) * time.Second / clockTick, ok: true}
	u.rss = statusKiB(pid, "VmRSS:") * 1024
	return u
}

// statusKiB reads a "Name:  123 kB" line of /proc/pid/status.
func statusKiB(pid int, name string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// scrape reads the two process metrics from a Prometheus text page.
func (p Probe) scrape(ctx context.Context) usage {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.metrics, nil)
	if err != nil {
		return usage{}
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return usage{}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return usage{}
	}
	var u usage
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 4<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		switch name {
		case "process_cpu_seconds_total":
			u.cpu, u.ok = time.Duration(v*float64(time.Second)), true
		case "process_resident_memory_bytes":
			u.rss = int64(v)
		}
	}
	return u
}
