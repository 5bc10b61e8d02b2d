package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// VersionCmd prints the build's version.
type VersionCmd struct{}

// buildInfo is what `twofold version` prints, from the binary's build
// information: the module version ("(devel)" for a build from a checkout),
// the commit, its time and whether the tree had uncommitted changes (as Go
// records them when it builds inside a Git checkout), and the Go version.
type buildInfo struct {
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	Time     string `json:"time,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
}

// readBuildInfo is debug.ReadBuildInfo (tests replace it).
var readBuildInfo = debug.ReadBuildInfo

func currentBuild() buildInfo {
	b := buildInfo{Version: "unknown", Go: runtime.Version()}
	info, ok := readBuildInfo()
	if !ok {
		return b
	}
	if info.Main.Version != "" {
		b.Version = info.Main.Version
	}
	if info.GoVersion != "" {
		b.Go = info.GoVersion
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String is the one-line form: "twofold v1.2.0 (abc123def456, 2026-12-03T10:00:00Z, modified) go1.24.0".
func (b buildInfo) String() string {
	s := "twofold " + b.Version
	if b.Revision != "" {
		rev := b.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		s += " (" + rev
		if b.Time != "" {
			s += ", " + b.Time
		}
		if b.Modified {
			s += ", modified"
		}
		s += ")"
	}
	return s + " " + b.Go
}

// Run prints the version.
func (VersionCmd) Run(g *Globals) error {
	return printVersion(g)
}

func printVersion(g *Globals) error {
	b := currentBuild()
	if g.JSON {
		return printJSON(g, b)
	}
	_, err := fmt.Fprintln(g.stdout, b)
	return err
}
