// Command testsum runs go test with -json and prints a summary people can
// read: one line per package (ok, FAIL, no tests), the output of every
// failed test, and at the end every skipped test with its reason, so that
// PostgreSQL and browser tests that did not run are seen, not assumed.
//
//	go run ./internal/testsum -race -count=1 -timeout 20m ./...
//
// Every argument goes to go test. The exit code is go test's.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"
)

// event is one line of go test -json (test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

// skip is a skipped test and its reason (the t.Skip message).
type skip struct {
	Package, Test, Reason string
}

// summary accumulates the events of one run.
type summary struct {
	out     io.Writer
	output  map[string][]string // package/test → output lines so far
	skips   []skip
	failed  []string
	pkgs    map[string]string // package → result line
	order   []string
	passed  int
	skipped int
}

func newSummary(out io.Writer) *summary {
	return &summary{out: out, output: map[string][]string{}, pkgs: map[string]string{}}
}

func key(pkg, test string) string { return pkg + "\x00" + test }

// add takes one event; package results are printed as they end.
func (s *summary) add(e event) {
	k := key(e.Package, e.Test)
	switch e.Action {
	case "output":
		s.output[k] = append(s.output[k], e.Output)
		return
	case "build-output": // a compile error (Go 1.24 and later)
		fmt.Fprint(s.out, e.Output)
		return
	case "pass", "fail", "skip":
	default:
		return
	}
	if e.Test == "" { // the package
		line := fmt.Sprintf("%-4s  %s  %.1fs", strings.ToUpper(e.Action), e.Package, e.Elapsed)
		switch e.Action {
		case "pass":
			line = fmt.Sprintf("ok    %s  %.1fs", e.Package, e.Elapsed)
		case "skip":
			line = fmt.Sprintf("--    %s  (no tests)", e.Package)
		case "fail":
			// A build failure or a panic outside a test prints here.
			if !s.anyTestFailed(e.Package) {
				fmt.Fprint(s.out, strings.Join(s.output[k], ""))
			}
		}
		fmt.Fprintln(s.out, line)
		delete(s.output, k)
		return
	}
	switch e.Action {
	case "pass":
		s.passed++
	case "skip":
		s.skipped++
		s.skips = append(s.skips, skip{e.Package, e.Test, skipReason(s.output[k])})
	case "fail":
		s.failed = append(s.failed, e.Package+" "+e.Test)
		fmt.Fprintf(s.out, "--- FAIL: %s %s\n%s", e.Package, e.Test, strings.Join(s.output[k], ""))
	}
	delete(s.output, k)
}

func (s *summary) anyTestFailed(pkg string) bool {
	for _, f := range s.failed {
		if strings.HasPrefix(f, pkg+" ") {
			return true
		}
	}
	return false
}

// skipReason is the message of t.Skip from a test's output: the lines
// after the "--- SKIP" header, without the file:line prefix.
func skipReason(lines []string) string {
	var reason []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		if i := strings.Index(t, ": "); i > 0 && strings.Contains(t[:i], ".go:") {
			t = t[i+2:]
		}
		reason = append(reason, t)
	}
	if len(reason) == 0 {
		return "(no reason given)"
	}
	return strings.Join(reason, " ")
}

// finish prints the skipped tests and the totals.
func (s *summary) finish(took time.Duration) {
	if len(s.skips) > 0 {
		sort.SliceStable(s.skips, func(i, j int) bool { return s.skips[i].Package < s.skips[j].Package })
		fmt.Fprintf(s.out, "\nSkipped tests (%d): these did not run\n", len(s.skips))
		for _, sk := range s.skips {
			fmt.Fprintf(s.out, "  SKIP  %s %s: %s\n", sk.Package, sk.Test, sk.Reason)
		}
	}
	fmt.Fprintf(s.out, "\n%d passed, %d failed, %d skipped in %s\n", s.passed, len(s.failed), s.skipped, took.Round(time.Second))
	for _, f := range s.failed {
		fmt.Fprintf(s.out, "  FAIL  %s\n", f)
	}
}

// read consumes go test -json output; lines that are not JSON (build
// errors go test prints as text) pass through.
func (s *summary) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			fmt.Fprintln(s.out, sc.Text())
			continue
		}
		s.add(e)
	}
}

func main() {
	start := time.Now()
	cmd := exec.Command("go", append([]string{"test", "-json"}, os.Args[1:]...)...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsum:", err)
		os.Exit(2)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "testsum:", err)
		os.Exit(2)
	}
	s := newSummary(os.Stdout)
	s.read(stdout)
	err = cmd.Wait()
	s.finish(time.Since(start))
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.ExitCode())
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "testsum:", err)
		os.Exit(2)
	}
}
