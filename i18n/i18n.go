// Package i18n gives twofold's pages and messages their words: message
// catalogues (web/locales/<tag>.toml, one per language, English the
// source, which may be split into <area>.<tag>.toml files) loaded once at start into a Bundle with CLDR plural rules
// (github.com/nicksnyder/go-i18n), the choice of a language for a
// request, and page templates parsed once per language with the template
// function T bound to that language.
//
// Adding a language is adding one catalogue with every key English has; a
// test fails when a catalogue lacks a key or has one English lacks.
package i18n

import (
	"fmt"
	"html"
	"html/template"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/twofold-id/twofold/web"
)

// Source is the language every catalogue translates from, and the one a
// request gets when nothing else matches.
var Source = language.English

// Message is a catalogue message to say later, in the language of whoever
// reads it: its id, its plural count (nil for none) and its data.
type Message struct {
	ID    string
	Count any
	Data  map[string]any
}

// M makes a Message the way T takes its arguments: after the id, an odd
// number of arguments is a plural count followed by key/value pairs, an
// even number is key/value pairs alone. The count is also the data's
// .Count.
func M(id string, args ...any) Message {
	m := Message{ID: id}
	if len(args)%2 == 1 {
		m.Count, args = args[0], args[1:]
	}
	if len(args) > 0 || m.Count != nil {
		m.Data = make(map[string]any, len(args)/2+1)
		for i := 0; i+1 < len(args); i += 2 {
			k, _ := args[i].(string)
			m.Data[k] = args[i+1]
		}
		if m.Count != nil {
			m.Data["Count"] = m.Count
		}
	}
	return m
}

// String is the message id, for test output and logs.
func (m Message) String() string { return m.ID }

// Bundle holds every catalogue and one localizer per language, built once.
type Bundle struct {
	b       *goi18n.Bundle
	tags    []language.Tag // the Source first
	matcher language.Matcher
	loc     map[language.Tag]*goi18n.Localizer
	static  map[language.Tag]map[string]string // messages without data, said once at load
	keys    map[language.Tag][]string
	names   map[language.Tag]string // each language's name in itself

	accepted  sync.Map     // Accept-Language header → its best catalogue
	acceptedN atomic.Int64 // headers remembered (or refused for the bound)
}

// FileTag is the language of a catalogue file: <tag>.toml, or
// <area>.<tag>.toml for a part of a language's catalogue kept apart
// (console.fr.toml).
func FileTag(name string) (language.Tag, error) {
	base := strings.TrimSuffix(path.Base(name), ".toml")
	tag, err := language.Parse(base[strings.LastIndexByte(base, '.')+1:])
	if err != nil {
		return language.Und, fmt.Errorf("i18n: %s: the file name does not end in a BCP 47 language tag (<tag>.toml or <area>.<tag>.toml): %w", name, err)
	}
	return tag, nil
}

// Load reads every <tag>.toml and <area>.<tag>.toml in dir of fsys; a
// language's files together are its catalogue, and an id defined twice
// fails the load. The Source's catalogue is
// required; a file that does not parse, or whose name is no BCP 47 tag,
// fails the load with its name.
func Load(fsys fs.FS, dir string) (*Bundle, error) {
	files, err := fs.Glob(fsys, path.Join(dir, "*.toml"))
	if err != nil {
		return nil, err
	}
	b := &Bundle{b: goi18n.NewBundle(Source), loc: map[language.Tag]*goi18n.Localizer{},
		static: map[language.Tag]map[string]string{}, keys: map[language.Tag][]string{}, names: map[language.Tag]string{}}
	b.b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	for _, f := range files {
		tag, err := FileTag(f)
		if err != nil {
			return nil, err
		}
		buf, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		mf, err := b.b.ParseMessageFileBytes(buf, f)
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", f, err)
		}
		if len(mf.Messages) == 0 {
			return nil, fmt.Errorf("i18n: %s: no messages", f)
		}
		if b.static[tag] == nil {
			b.static[tag] = map[string]string{}
			b.tags = append(b.tags, tag)
		}
		for _, m := range mf.Messages {
			if _, dup := slices.BinarySearch(b.keys[tag], m.ID); dup {
				return nil, fmt.Errorf("i18n: %s: %q is defined in another %s file too", f, m.ID, tag)
			}
			b.keys[tag] = append(b.keys[tag], m.ID)
			slices.Sort(b.keys[tag])
			plural := m.Zero != "" || m.One != "" || m.Two != "" || m.Few != "" || m.Many != ""
			if !plural && !strings.Contains(m.Other, "{{") && m.LeftDelim == "" {
				b.static[tag][m.ID] = m.Other // says the same every time
			}
		}
	}
	if b.keys[Source] == nil {
		return nil, fmt.Errorf("i18n: %s has no catalogue of the source language %s", dir, Source)
	}
	slices.SortFunc(b.tags, func(x, y language.Tag) int {
		switch {
		case x == Source:
			return -1
		case y == Source:
			return 1
		}
		return strings.Compare(x.String(), y.String())
	})
	b.matcher = language.NewMatcher(b.tags)
	for _, tag := range b.tags {
		b.loc[tag] = goi18n.NewLocalizer(b.b, tag.String())
		b.names[tag] = b.Text(tag, "language.name")
	}
	return b, nil
}

var defaultBundle = sync.OnceValues(func() (*Bundle, error) { return Load(web.FS, "locales") })

// Default is the bundle of the embedded catalogues (web/locales), loaded
// on first use. Check reports a broken catalogue at start; after a
// successful Check, Default never panics.
func Default() *Bundle {
	b, err := defaultBundle()
	if err != nil {
		panic(err)
	}
	return b
}

// Check loads the embedded catalogues and reports what is wrong with
// them, for start-up.
func Check() error {
	_, err := defaultBundle()
	return err
}

// Tags lists the languages of the catalogues, the Source first.
func (b *Bundle) Tags() []language.Tag { return slices.Clone(b.tags) }

// Keys lists the message ids of a language's catalogue, sorted.
func (b *Bundle) Keys(tag language.Tag) []string { return b.keys[tag] }

// Has reports whether the Source's catalogue has id.
func (b *Bundle) Has(id string) bool {
	_, ok := slices.BinarySearch(b.keys[Source], id)
	return ok
}

// Name is a language's name in itself ("Deutsch"): its catalogue's
// language.name.
func (b *Bundle) Name(tag language.Tag) string { return b.names[tag] }

// Supported returns the catalogue language tag that is or best matches
// tag, and whether there is one at all.
func (b *Bundle) Supported(tag string) (language.Tag, bool) {
	t, err := language.Parse(tag)
	if err != nil {
		return Source, false
	}
	_, i, c := b.matcher.Match(t)
	return b.tags[i], c != language.No
}

// Localize says m in the catalogue language tag (as Match returns it),
// in English where a translation lacks it, and as its id where even the
// Source lacks it (which a test of the catalogues prevents).
func (b *Bundle) Localize(tag language.Tag, m Message) string {
	if m.ID == "" {
		return ""
	}
	s, err := b.localize(tag, m)
	if err != nil {
		return m.ID
	}
	return s
}

func (b *Bundle) localize(tag language.Tag, m Message) (string, error) {
	loc, ok := b.loc[tag]
	if !ok {
		tag, loc = Source, b.loc[Source]
	}
	if m.Data == nil && m.Count == nil {
		if s, ok := b.static[tag][m.ID]; ok {
			return s, nil
		}
	}
	if !b.Has(m.ID) {
		return "", fmt.Errorf("i18n: no message %q in the %s catalogue", m.ID, Source)
	}
	data, cloned := m.Data, false
	for k, v := range m.Data {
		if inner, ok := v.(Message); ok { // a message within a message, said in the same language
			if !cloned {
				data, cloned = maps.Clone(m.Data), true
			}
			s, err := b.localize(tag, inner)
			if err != nil {
				return "", err
			}
			data[k] = s
		}
	}
	s, err := loc.Localize(&goi18n.LocalizeConfig{MessageID: m.ID, TemplateData: data, PluralCount: m.Count})
	if err != nil && s == "" {
		return "", fmt.Errorf("i18n: message %q in %s: %w", m.ID, tag, err)
	}
	return s, nil
}

// Text says the message id with args (as M takes them) in tag.
func (b *Bundle) Text(tag language.Tag, id string, args ...any) string {
	return b.Localize(tag, M(id, args...))
}

// localizeHTML says m in tag as HTML: the catalogue's own markup is kept
// (catalogues are part of the build), every piece of data is escaped.
func (b *Bundle) localizeHTML(tag language.Tag, m Message) (template.HTML, error) {
	if m.Data != nil {
		esc := make(map[string]any, len(m.Data))
		for k, v := range m.Data {
			switch v := v.(type) {
			case template.HTML:
				esc[k] = v
			case Message:
				s, err := b.localize(tag, v)
				if err != nil {
					return "", err
				}
				esc[k] = html.EscapeString(s)
			case string:
				esc[k] = html.EscapeString(v)
			case fmt.Stringer:
				esc[k] = html.EscapeString(v.String())
			default:
				esc[k] = html.EscapeString(fmt.Sprint(v))
			}
		}
		m.Data = esc
	}
	s, err := b.localize(tag, m)
	return template.HTML(s), err //nolint:gosec // catalogue markup, escaped data
}
