package i18n

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"io"
	"io/fs"
	"path"
	"reflect"
	"regexp"
	texttemplate "text/template"

	"golang.org/x/text/language"
)

// Pages are page templates parsed once per language, each set with T
// (and TH, Lang, Languages) bound to its language.
type Pages struct {
	b    *Bundle
	sets map[language.Tag]*template.Template
}

// Choice is one entry of the language switch.
type Choice struct {
	Tag, Name string
	Current   bool
}

// ParsePages parses the templates matching patterns in fsys once for
// every language of b.
func (b *Bundle) ParsePages(fsys fs.FS, patterns ...string) (*Pages, error) {
	p := &Pages{b: b, sets: map[language.Tag]*template.Template{}}
	for _, tag := range b.tags {
		var list template.HTML // language_list, the same on every page: rendered here once
		funcs := b.Funcs(tag)
		funcs["LanguageList"] = func() template.HTML { return list }
		t, err := b.parseSaid(template.New("").Funcs(funcs), tag, fsys, patterns)
		if err != nil {
			return nil, err
		}
		if t.Lookup("language_list") != nil {
			var buf bytes.Buffer
			if err := t.ExecuteTemplate(&buf, "language_list", nil); err != nil {
				return nil, err
			}
			list = template.HTML(buf.String()) //nolint:gosec // our template's own output
		}
		p.sets[tag] = t
	}
	return p, nil
}

// staticT is a call of T with a message id alone, in a template's text or
// a quoted attribute.
var staticT = regexp.MustCompile(`\{\{\s*T\s+"([a-z0-9_.]+)"\s*\}\}`)

// parseSaid parses the templates of patterns into t with every {{T "id"}}
// of a message without values already said in tag (escaped as HTML text,
// which is also right inside a quoted attribute): a page then costs what
// it did in one language. Other calls of T stay calls.
func (b *Bundle) parseSaid(t *template.Template, tag language.Tag, fsys fs.FS, patterns []string) (*template.Template, error) {
	n := 0
	for _, pattern := range patterns {
		files, err := fs.Glob(fsys, pattern)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			src, err := fs.ReadFile(fsys, f)
			if err != nil {
				return nil, err
			}
			said := staticT.ReplaceAllStringFunc(string(src), func(call string) string {
				id := staticT.FindStringSubmatch(call)[1]
				if s, ok := b.static[tag][id]; ok {
					return html.EscapeString(s)
				}
				return call // a message with forms, or one the language lacks: T says it
			})
			if _, err := t.New(path.Base(f)).Parse(said); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			n++
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("i18n: no template matches %v", patterns)
	}
	return t, nil
}

// Bundle is the catalogues the pages speak from.
func (p *Pages) Bundle() *Bundle { return p.b }

// Lookup reports whether a template of that name exists.
func (p *Pages) Lookup(name string) bool { return p.sets[Source].Lookup(name) != nil }

// Execute writes the template name in tag (the Source when tag has no
// catalogue) with data.
func (p *Pages) Execute(w io.Writer, tag language.Tag, name string, data any) error {
	t, ok := p.sets[tag]
	if !ok {
		t = p.sets[Source]
	}
	return t.ExecuteTemplate(w, name, data)
}

// Funcs are the template functions of one language:
//
//	{{T "code.title"}}                        a message (said once at parse: use it in HTML text or a quoted attribute)
//	{{T "recovery.left" .Left}}               with a plural count (also .Count in the message)
//	{{T "code.label" "Digits" .Digits}}        with data
//	{{TH "logout.ask" "Client" .ClientName}}   a message with the catalogue's own markup, data escaped
//	{{Lang}}                                   the language's BCP 47 tag, for <html lang>
//	{{range Languages}}                        the language switch's entries
//	{{LanguageList}}                           (ParsePages) the template language_list, rendered once
//	{{get . "AuthRequestID"}}                  a field or map entry of the data, nil when it has none
func (b *Bundle) Funcs(tag language.Tag) template.FuncMap {
	choices := make([]Choice, 0, len(b.tags))
	for _, t := range b.tags {
		choices = append(choices, Choice{Tag: t.String(), Name: b.names[t], Current: t == tag})
	}
	return template.FuncMap{
		"T": func(id string, args ...any) (string, error) {
			if err := checkArgs(id, args); err != nil {
				return "", err
			}
			return b.localize(tag, M(id, args...))
		},
		"TH": func(id string, args ...any) (template.HTML, error) {
			if err := checkArgs(id, args); err != nil {
				return "", err
			}
			return b.localizeHTML(tag, M(id, args...))
		},
		"Lang":      func() string { return tag.String() },
		"Languages": func() []Choice { return choices },
		"get":       get,
	}
}

// checkArgs refuses data whose keys are not strings: a template mistake
// shown at once rather than a message with a hole.
func checkArgs(id string, args []any) error {
	for i := len(args) % 2; i < len(args); i += 2 {
		if _, ok := args[i].(string); !ok {
			return fmt.Errorf("i18n: %s: data key %v is not a string", id, args[i])
		}
	}
	return nil
}

// get returns the field or map entry name of data, or nil.
func get(data any, name string) any {
	v := reflect.ValueOf(data)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return nil
		}
		e := v.MapIndex(reflect.ValueOf(name).Convert(v.Type().Key()))
		if !e.IsValid() {
			return nil
		}
		return e.Interface()
	case reflect.Struct:
		f := v.FieldByName(name)
		if !f.IsValid() || !f.CanInterface() {
			return nil
		}
		return f.Interface()
	}
	return nil
}

// TextFuncs are Funcs for text/template (emails' plain-text parts): T and
// Lang.
func (b *Bundle) TextFuncs(tag language.Tag) texttemplate.FuncMap {
	f := b.Funcs(tag)
	return texttemplate.FuncMap{"T": f["T"], "Lang": f["Lang"]}
}

// Texts are text/template templates parsed once per language, each with
// TextFuncs.
type Texts struct {
	sets map[language.Tag]*texttemplate.Template
}

// ParseTexts parses the text templates matching patterns in fsys once for
// every language of b.
func (b *Bundle) ParseTexts(fsys fs.FS, patterns ...string) (*Texts, error) {
	t := &Texts{sets: map[language.Tag]*texttemplate.Template{}}
	for _, tag := range b.tags {
		set, err := texttemplate.New("").Funcs(b.TextFuncs(tag)).ParseFS(fsys, patterns...)
		if err != nil {
			return nil, err
		}
		t.sets[tag] = set
	}
	return t, nil
}

// Execute writes the template name in tag (the Source when tag has no
// catalogue) with data.
func (t *Texts) Execute(w io.Writer, tag language.Tag, name string, data any) error {
	set, ok := t.sets[tag]
	if !ok {
		set = t.sets[Source]
	}
	return set.ExecuteTemplate(w, name, data)
}
