// Package strictyaml decodes YAML into tagged structs and rejects any key the
// struct does not declare, naming the file and line. yaml.v3's KnownFields
// reports "line N: field x not found in type T"; users need the file and the
// list of valid keys to fix a typo.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Decode parses data (read from name, used in errors) into v, a pointer to
// a struct. An empty document leaves v unchanged.
func Decode(name string, data []byte, v any) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %s", name, lineRef(name, err.Error()))
	}
	if len(doc.Content) == 0 || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	root := doc.Content[0]
	if err := check(name, root, reflect.TypeOf(v), ""); err != nil {
		return err
	}
	if err := root.Decode(v); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			msgs := make([]string, len(te.Errors))
			for i, e := range te.Errors {
				msgs[i] = lineRef(name, e)
			}
			return errors.New(strings.Join(msgs, "; "))
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

var lineRE = regexp.MustCompile(`(?:yaml: )?line (\d+): `)

// lineRef rewrites yaml's "line N: msg" as "name:N: msg".
func lineRef(name, msg string) string {
	if m := lineRE.FindStringSubmatchIndex(msg); m != nil {
		return name + ":" + msg[m[2]:m[3]] + ": " + msg[m[1]:]
	}
	return msg
}

// check walks node against type t, failing on the first unknown key.
func check(name string, n *yaml.Node, t reflect.Type, path string) error {
	k, key, fields := unknownKey(n, t, path)
	if k == nil {
		return nil
	}
	valid := slices.Sorted(maps.Keys(fields))
	return fmt.Errorf("%s:%d: unknown key %q (valid keys%s: %s)", name, k.Line, key,
		where(strings.TrimSuffix(key, k.Value)), strings.Join(valid, ", "))
}

// unknownKey walks node against type t and returns the first key node the
// type does not declare, its dotted path, and the keys valid at its level.
func unknownKey(n *yaml.Node, t reflect.Type, path string) (*yaml.Node, string, map[string]reflect.Type) {
	t = deref(t)
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode || isLeaf(t) {
			return nil, "", nil // a type mismatch; decoding reports it
		}
		fields := fieldsOf(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft, ok := fields[k.Value]
			if !ok {
				return k, path + k.Value, fields
			}
			if k, key, f := unknownKey(n.Content[i+1], ft, path+k.Value+"."); k != nil {
				return k, key, f
			}
		}
	case reflect.Slice, reflect.Array:
		if n.Kind == yaml.SequenceNode {
			for i, c := range n.Content {
				if k, key, f := unknownKey(c, t.Elem(), fmt.Sprintf("%s[%d].", strings.TrimSuffix(path, "."), i)); k != nil {
					return k, key, f
				}
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if k, key, f := unknownKey(n.Content[i+1], t.Elem(), path+n.Content[i].Value+"."); k != nil {
					return k, key, f
				}
			}
		}
	}
	return nil, "", nil
}

// fieldsOf maps the YAML keys of struct type t to their types, as yaml.v3
// names them: the yaml tag, else the lowercased field name; ",inline"
// structs contribute their own keys.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "-" {
			continue
		}
		if slices.Contains(strings.Split(opts, ","), "inline") {
			if ft := deref(f.Type); ft.Kind() == reflect.Struct {
				maps.Copy(out, fieldsOf(ft))
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if tag == "" {
			tag = strings.ToLower(f.Name)
		}
		out[tag] = f.Type
	}
	return out
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// isLeaf reports whether a struct type decodes itself (it has no keys of its own).
func isLeaf(t reflect.Type) bool {
	return reflect.PointerTo(t).Implements(unmarshalerType) || t.Implements(unmarshalerType)
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func where(path string) string {
	if path == "" {
		return ""
	}
	return " under " + strings.TrimSuffix(path, ".")
}
