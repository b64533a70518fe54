package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Override sets one dotted key of a YAML document (e.g. variant.fusion) to a
// YAML value. It is the one override mechanism of cpllm: `--set` on the
// command line and the variants of a sweep both apply through Apply.
type Override struct {
	Key   string     // dotted path from the document's top level
	Value *yaml.Node // any YAML value (scalar, sequence or mapping)
}

// ParseOverride reads "key=value". The value is parsed as YAML (7, fast,
// [a, b], {x: 1}); text that is not YAML, or is empty, is taken as a string.
func ParseOverride(s string) (Override, error) {
	key, raw, ok := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return Override{}, fmt.Errorf("%q: expected key=value", s)
	}
	if err := CheckKey(key); err != nil {
		return Override{}, fmt.Errorf("%q: %w", s, err)
	}
	return Override{Key: key, Value: ParseValue(raw)}, nil
}

// CheckKey rejects a dotted key with an empty part.
func CheckKey(key string) error {
	if slices.Contains(strings.Split(key, "."), "") {
		return fmt.Errorf("key %q has an empty part", key)
	}
	return nil
}

// ParseValue reads text as one YAML value; text that is not YAML, is empty
// or is null is the string itself.
func ParseValue(raw string) *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(raw), &doc); err == nil && len(doc.Content) == 1 && !isNull(doc.Content[0]) {
		return doc.Content[0]
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: raw}
}

// Apply sets each override in doc (a parsed document, possibly empty, or its
// top mapping), checking it against schema, a struct or a pointer to one
// whose yaml tags define the document's keys. An unknown key fails naming
// it and the closest known key; a value that does not decode into the key's
// type fails naming the key and the type expected. prefix is put before the
// keys in errors ("train." for --set train.steps=40). Overrides apply in
// order; on an error doc holds those before it.
func Apply(doc *yaml.Node, schema any, prefix string, ovs ...Override) error {
	st := deref(reflect.TypeOf(schema))
	if st.Kind() != reflect.Struct {
		return fmt.Errorf("strictyaml: schema %s is not a struct", st)
	}
	for _, o := range ovs {
		if err := apply(doc, st, prefix, o); err != nil {
			return err
		}
	}
	return nil
}

func apply(doc *yaml.Node, st reflect.Type, prefix string, o Override) error {
	full := prefix + o.Key
	if err := CheckKey(full); err != nil {
		return err
	}
	if o.Value == nil {
		return fmt.Errorf("key %q: no value", full)
	}
	parts := strings.Split(o.Key, ".")
	t := st
	for i, p := range parts {
		t = deref(t)
		switch {
		case t.Kind() == reflect.Struct && !isLeaf(t):
			fields := fieldsOf(t)
			ft, ok := fields[p]
			if !ok {
				return unknownErr(prefix+strings.Join(parts[:i+1], "."), prefix+strings.Join(parts[:i], "."), prefix, st, fields)
			}
			t = ft
		case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String:
			t = t.Elem()
		default:
			return fmt.Errorf("key %q: %q is %s, not a section with keys", full, prefix+strings.Join(parts[:i], "."), describe(t))
		}
	}
	if k, key, fields := unknownKey(o.Value, t, full+"."); k != nil {
		return unknownErr(key, strings.TrimSuffix(key, "."+k.Value), prefix, st, fields)
	}
	if err := o.Value.Decode(reflect.New(t).Interface()); err != nil {
		if o.Value.Kind == yaml.ScalarNode {
			return fmt.Errorf("key %q: got %q, expected %s", full, o.Value.Value, describe(t))
		}
		return fmt.Errorf("key %q: expected %s: %s", full, describe(t), yamlMsg(err))
	}
	m, err := topMapping(doc)
	if err != nil {
		return fmt.Errorf("key %q: %w", full, err)
	}
	for i, p := range parts {
		j := slices.IndexFunc(pairs(m), func(k *yaml.Node) bool { return k.Value == p })
		if i == len(parts)-1 {
			if j < 0 {
				m.Content = append(m.Content, strNode(p), Clone(o.Value))
			} else {
				m.Content[2*j+1] = Clone(o.Value)
			}
			return nil
		}
		if j < 0 {
			next := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			m.Content = append(m.Content, strNode(p), next)
			m = next
			continue
		}
		next := m.Content[2*j+1]
		if next.Kind == yaml.AliasNode && next.Alias != nil {
			next = Clone(next.Alias) // do not change the anchored original
			m.Content[2*j+1] = next
		}
		if isNull(next) {
			next = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			m.Content[2*j+1] = next
		}
		if next.Kind != yaml.MappingNode {
			return fmt.Errorf("key %q: %q is not a mapping in the document", full, prefix+strings.Join(parts[:i+1], "."))
		}
		m = next
	}
	return nil
}

// ApplyBytes applies the overrides to the YAML data (read from name) and
// returns the resulting YAML; with no overrides it returns data unchanged.
// The document itself is first checked against schema, so its own unknown
// keys and bad values are reported at name:line.
func ApplyBytes(name string, data []byte, schema any, prefix string, ovs ...Override) ([]byte, error) {
	if len(ovs) == 0 {
		return data, nil
	}
	if err := Decode(name, data, reflect.New(deref(reflect.TypeOf(schema))).Interface()); err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %s", name, lineRef(name, err.Error()))
	}
	if err := Apply(&doc, schema, prefix, ovs...); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return Marshal(&doc)
}

// Get returns the value node of a dotted key in doc (nil when absent).
func Get(doc *yaml.Node, key string) *yaml.Node {
	m := doc
	if m.Kind == yaml.DocumentNode {
		if len(m.Content) == 0 {
			return nil
		}
		m = m.Content[0]
	}
	for _, p := range strings.Split(key, ".") {
		if m.Kind == yaml.AliasNode && m.Alias != nil {
			m = m.Alias
		}
		if m.Kind != yaml.MappingNode {
			return nil
		}
		j := slices.IndexFunc(pairs(m), func(k *yaml.Node) bool { return k.Value == p })
		if j < 0 {
			return nil
		}
		m = m.Content[2*j+1]
	}
	return m
}

// Marshal renders a node tree as YAML with two-space indentation.
func Marshal(doc *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Clone deep-copies a node tree, so overrides never alias between documents.
func Clone(n *yaml.Node) *yaml.Node {
	c := *n
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		c.Content[i] = Clone(k)
	}
	return &c
}

// Keys lists every dotted key of schema (a struct or a pointer to one):
// sections and leaves, sorted.
func Keys(schema any) []string {
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for k, ft := range fieldsOf(t) {
			out = append(out, prefix+k)
			if ft = deref(ft); ft.Kind() == reflect.Struct && !isLeaf(ft) {
				walk(ft, prefix+k+".")
			}
		}
	}
	walk(deref(reflect.TypeOf(schema)), "")
	slices.Sort(out)
	return out
}

// Closest returns the candidate nearest key (at most 3 edits away; ties go
// to the first in sort order), or "" when none is that close.
func Closest(key string, candidates []string) string {
	best, bestD := "", 4
	for _, k := range candidates {
		if d := editDistance(key, k); d < bestD || (d == bestD && k < best) {
			best, bestD = k, d
		}
	}
	return best
}

// unknownErr reports key as unknown, suggesting the closest key of schema,
// else listing the keys valid in its section.
func unknownErr(key, section, prefix string, schema reflect.Type, fields map[string]reflect.Type) error {
	var all []string
	for _, k := range Keys(reflect.New(schema).Interface()) {
		all = append(all, prefix+k)
	}
	if c := Closest(key, all); c != "" {
		return fmt.Errorf("unknown key %q (did you mean %q?)", key, c)
	}
	return fmt.Errorf("unknown key %q (valid keys%s: %s)", key, where(section), strings.Join(slices.Sorted(maps.Keys(fields)), ", "))
}

var durationType = reflect.TypeFor[time.Duration]()

// describe says what a value of type t looks like in YAML.
func describe(t reflect.Type) string {
	t = deref(t)
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if t == durationType {
			return "a duration (e.g. 90s, 5m)"
		}
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer >= 0"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map:
		return "a mapping"
	case reflect.Struct:
		if isLeaf(t) {
			return "a " + t.String()
		}
		return "a mapping of " + strings.Join(slices.Sorted(maps.Keys(fieldsOf(t))), ", ")
	}
	return "a " + t.String()
}

// yamlMsg is a decoding error without yaml's prefixes and generated lines.
func yamlMsg(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs := make([]string, len(te.Errors))
		for i, e := range te.Errors {
			msgs[i] = lineRE.ReplaceAllString(e, "")
		}
		return strings.Join(msgs, "; ")
	}
	return lineRE.ReplaceAllString(strings.TrimPrefix(err.Error(), "yaml: "), "")
}

// topMapping returns the top mapping of a document, creating it in an empty one.
func topMapping(doc *yaml.Node) (*yaml.Node, error) {
	n := doc
	if n.Kind == 0 {
		*n = yaml.Node{Kind: yaml.DocumentNode}
	}
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 || isNull(n.Content[0]) {
			n.Content = []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}
		}
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return nil, errors.New("the document's top level is not a mapping")
	}
	return n, nil
}

// pairs returns the key nodes of a mapping (key j's value is Content[2j+1]).
func pairs(m *yaml.Node) []*yaml.Node {
	ks := make([]*yaml.Node, 0, len(m.Content)/2)
	for i := 0; i+1 < len(m.Content); i += 2 {
		ks = append(ks, m.Content[i])
	}
	return ks
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func strNode(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// IsEmpty reports whether data holds no YAML value: nothing, only comments,
// or null. (yaml.v3's Decoder reports such a file as a bare "EOF".)
func IsEmpty(data []byte) bool {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil {
		return false // malformed, not empty; the decoder reports it
	}
	return len(doc.Content) == 0 || isNull(doc.Content[0])
}
