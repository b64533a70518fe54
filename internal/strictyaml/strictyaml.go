// Package strictyaml decodes YAML into tagged structs and rejects any key the
// struct does not declare, naming the file and line. yaml.v3's KnownFields
// reports "line N: field x not found in type T"; users need the file and the
// list of valid keys to fix a typo.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
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
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil // a type mismatch; Decode reports it with its line
		}
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if tag == "-" {
				continue
			}
			if tag == "" {
				tag = strings.ToLower(f.Name)
			}
			fields[tag] = f.Type
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft, ok := fields[k.Value]
			if !ok {
				valid := make([]string, 0, len(fields))
				for f := range fields {
					valid = append(valid, f)
				}
				slices.Sort(valid)
				return fmt.Errorf("%s:%d: unknown key %q (valid keys%s: %s)", name, k.Line, path+k.Value,
					where(path), strings.Join(valid, ", "))
			}
			if err := check(name, n.Content[i+1], ft, path+k.Value+"."); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if n.Kind == yaml.SequenceNode {
			for i, c := range n.Content {
				if err := check(name, c, t.Elem(), fmt.Sprintf("%s[%d].", strings.TrimSuffix(path, "."), i)); err != nil {
					return err
				}
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if err := check(name, n.Content[i+1], t.Elem(), path+n.Content[i].Value+"."); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func where(path string) string {
	if path == "" {
		return ""
	}
	return " under " + strings.TrimSuffix(path, ".")
}
