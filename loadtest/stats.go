package loadtest

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Quantiles summarise a set of durations, in milliseconds.
type Quantiles struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func (q Quantiles) String() string {
	if q.Count == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50=%s p95=%s p99=%s max=%s (%d)", ms(q.P50), ms(q.P95), ms(q.P99), ms(q.Max), q.Count)
}

func ms(v float64) string {
	return (time.Duration(v * float64(time.Millisecond))).Round(time.Millisecond).String()
}

// samples collects durations from many goroutines.
type samples struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *samples) add(d time.Duration) {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
}

func (s *samples) quantiles() Quantiles {
	s.mu.Lock()
	defer s.mu.Unlock()
	return quantilesOf(s.d)
}

// quantilesOf picks the quantiles as the booking floor does (index
// p·(n−1) of the sorted samples), so the figures compare directly.
func quantilesOf(d []time.Duration) Quantiles {
	if len(d) == 0 {
		return Quantiles{}
	}
	d = slices.Clone(d)
	slices.Sort(d)
	at := func(p float64) float64 {
		return float64(d[int(p*float64(len(d)-1))]) / float64(time.Millisecond)
	}
	return Quantiles{Count: len(d), P50: at(.5), P95: at(.95), P99: at(.99), Max: at(1)}
}

// counts is a tally by name, safe for many goroutines.
type counts struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counts) add(name string) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[name]++
	c.mu.Unlock()
}

func (c *counts) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

// formatCounts prints a tally largest first: "409 taken×812, 429×3".
func formatCounts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// procSample is a process's CPU time and memory at one moment, from /proc.
// The CPU time includes the process's descendants alive at that moment
// (PostgreSQL's backends are children of the postmaster, nginx's workers
// of its master); the memory is the process's own.
type procSample struct {
	name     string
	cpu      time.Duration
	children int
	rss, hwm int64
	at       time.Time
	err      error
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on
// every Linux architecture Go runs on.
const clockTicks = 100

// sampleProc reads /proc/<pid>/stat and status; pid 0 is this process.
func sampleProc(pid int) procSample {
	dir := "/proc/self"
	if pid != 0 {
		dir = "/proc/" + strconv.Itoa(pid)
	}
	s := procSample{at: time.Now()}
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		s.err = err
		return s
	}
	// The name is in parentheses and may hold spaces; fields follow it.
	open, closing := strings.IndexByte(string(stat), '('), strings.LastIndexByte(string(stat), ')')
	if open < 0 || closing < open {
		s.err = fmt.Errorf("%s/stat: unexpected format", dir)
		return s
	}
	s.name = string(stat[open+1 : closing])
	_, s.cpu = statCPU(stat)
	if pid != 0 {
		for _, c := range descendants(pid) {
			if b, err := os.ReadFile("/proc/" + strconv.Itoa(c) + "/stat"); err == nil {
				_, cpu := statCPU(b)
				s.cpu += cpu
				s.children++
			}
		}
	}
	if pid == 0 {
		// Our own CPU time, finer than clock ticks.
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
			s.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		s.err = err
		return s
	}
	for _, line := range strings.Split(string(status), "\n") {
		fs := strings.Fields(line)
		if len(fs) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(fs[1], 10, 64)
		switch fs[0] {
		case "VmRSS:":
			s.rss = kb << 10
		case "VmHWM:":
			s.hwm = kb << 10
		}
	}
	return s
}

// statCPU reads a /proc/<pid>/stat line: the parent's pid and the
// process's user + system CPU time (fields 4, 14 and 15).
func statCPU(stat []byte) (ppid int, cpu time.Duration) {
	closing := strings.LastIndexByte(string(stat), ')')
	if closing < 0 {
		return 0, 0
	}
	// The fields after the name start at field 3 (state).
	f := strings.Fields(string(stat[closing+1:]))
	if len(f) < 13 {
		return 0, 0
	}
	ppid, _ = strconv.Atoi(f[1])
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return ppid, time.Duration(u+k) * time.Second / clockTicks
}

// descendants lists the live processes below pid.
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	kids := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
			ppid, _ := statCPU(b)
			kids[ppid] = append(kids[ppid], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		out = append(out, kids[p]...)
		queue = append(queue, kids[p]...)
	}
	return out
}

// Process is a process's share of the burst: CPU over the burst window
// (100 % is one core) and memory before and after.
type Process struct {
	PID         int     `json:"pid"` // 0: the load command itself
	Name        string  `json:"name"`
	Children    int     `json:"children"` // descendants whose CPU is included
	CPUPercent  float64 `json:"cpu_percent"`
	RSSBeforeMB float64 `json:"rss_before_mib"`
	RSSAfterMB  float64 `json:"rss_after_mib"`
	PeakMB      float64 `json:"peak_rss_mib"`
	Error       string  `json:"error,omitempty"`
}

func processReport(pid int, before, after procSample) Process {
	p := Process{PID: pid, Name: after.name, Children: after.children}
	if before.err != nil || after.err != nil {
		p.Error = fmt.Sprint(errors2(before.err, after.err))
		return p
	}
	if d := after.at.Sub(before.at); d > 0 {
		p.CPUPercent = math.Round(1000*float64(after.cpu-before.cpu)/float64(d)) / 10
	}
	p.RSSBeforeMB, p.RSSAfterMB, p.PeakMB = mibOf(before.rss), mibOf(after.rss), mibOf(after.hwm)
	return p
}

func errors2(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func mibOf(b int64) float64 { return math.Round(10*float64(b)/(1<<20)) / 10 }
