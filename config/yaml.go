package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The file is read into a yaml.Node and applied key by key through the same
// table (walk) and setters (setField) as the environment. yaml.Decoder would
// stop at the first problem and name Go types instead of keys; this way every
// problem is reported with its dotted key, line and value.

// fileDecoder applies one YAML document to a Config.
type fileDecoder struct {
	file     string
	leaves   map[string]reflect.Value // key path → field
	sections map[string]bool          // paths of mappings such as "tokens"
	errs     []error
}

// decodeYAML applies the YAML in data, read from file, to cfg. problems are
// the keys that could not be applied, each with its key path; err is set
// instead when the file is not YAML at all.
func decodeYAML(file string, data []byte, cfg *Config) (problems []error, err error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %s", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, nil // empty, or only comments
	}
	d := &fileDecoder{file: file, leaves: map[string]reflect.Value{}, sections: map[string]bool{}}
	walk(reflect.ValueOf(cfg).Elem(), "", func(path string, _ reflect.StructField, v reflect.Value) {
		d.leaves[path] = v
		for i := strings.LastIndexByte(path, '.'); i > 0; i = strings.LastIndexByte(path[:i], '.') {
			d.sections[path[:i]] = true
		}
	})
	root := resolve(doc.Content[0])
	switch {
	case isNull(root):
	case root.Kind == yaml.MappingNode:
		d.mapping("", root)
	default:
		return nil, fmt.Errorf("%s line %d: must be a mapping of keys such as issuer: https://id.example.com (got %s)", file, root.Line, describe(root))
	}
	return d.errs, nil
}

// bad records a problem with the key at path, found at node n.
func (d *fileDecoder) bad(path string, n *yaml.Node, err error) {
	d.errs = append(d.errs, fmt.Errorf("%s (%s line %d): %w", path, d.file, n.Line, err))
}

// mapping applies the keys of the mapping n under prefix. Merged mappings
// (<<: *anchor) come first so the keys written out override them, as in
// yaml.Decoder.
func (d *fileDecoder) mapping(prefix string, n *yaml.Node) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			d.merge(prefix, resolve(n.Content[i+1]))
		}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			continue
		}
		path := keyPath(prefix, k.Value)
		if line, dup := seen[k.Value]; dup {
			d.bad(path, k, fmt.Errorf("is set twice (first on line %d)", line))
			continue
		}
		seen[k.Value] = k.Line
		d.value(path, k, v)
	}
}

// merge applies the mapping, or list of mappings, of a merge key.
func (d *fileDecoder) merge(prefix string, v *yaml.Node) {
	list := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		list = v.Content
	}
	for _, m := range list {
		if m = resolve(m); m.Kind != yaml.MappingNode {
			d.bad(keyPath(prefix, "<<"), m, fmt.Errorf("must merge a mapping (got %s)", describe(m)))
			continue
		}
		d.mapping(prefix, m)
	}
}

// value applies v, written under the key node k, to the key at path.
func (d *fileDecoder) value(path string, k, v *yaml.Node) {
	if field, ok := d.leaves[path]; ok {
		d.leaf(path, v, field)
		return
	}
	if !d.sections[path] {
		d.bad(path, k, errors.New("unknown key"))
		return
	}
	switch {
	case isNull(v):
	case v.Kind == yaml.MappingNode:
		d.mapping(path, v)
	default:
		d.bad(path, v, fmt.Errorf("must be a mapping of keys, one per line under it (got %s)", describe(v)))
	}
}

// leaf applies v to one key. A null value leaves the default, except that
// it empties a list, as yaml.Decoder did.
func (d *fileDecoder) leaf(path string, v *yaml.Node, field reflect.Value) {
	isList := field.Type() == reflect.TypeFor[[]string]()
	switch {
	case isNull(v):
		if isList {
			field.Set(reflect.Zero(field.Type()))
		}
	case isList:
		d.list(path, v, field)
	case v.Kind != yaml.ScalarNode:
		d.bad(path, v, fmt.Errorf("must be a single value (got %s)", describe(v)))
	default:
		if err := setField(field, v.Value); err != nil {
			d.bad(path, v, err)
		}
	}
}

// list applies a YAML sequence of single values to a list key.
func (d *fileDecoder) list(path string, v *yaml.Node, field reflect.Value) {
	if v.Kind != yaml.SequenceNode {
		d.bad(path, v, fmt.Errorf("must be a list such as [a, b] (got %s)", describe(v)))
		return
	}
	items := make([]string, 0, len(v.Content))
	ok := true
	for _, item := range v.Content {
		if item = resolve(item); item.Kind != yaml.ScalarNode || isNull(item) {
			d.bad(path, item, fmt.Errorf("list items must be single values (got %s)", describe(item)))
			ok = false
			continue
		}
		items = append(items, item.Value)
	}
	if ok {
		field.Set(reflect.ValueOf(items))
	}
}

// keyPath joins a section's path and a key name with a dot.
func keyPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// resolve follows aliases (*anchor) to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what a node holds, for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if isNull(n) {
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}
