package config

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/cpllm/cpllm/internal/strictyaml"
)

// EnvPrefix prefixes every environment override: log_level -> CPLLM_LOG_LEVEL,
// ladder.preset -> CPLLM_LADDER_PRESET.
const EnvPrefix = "CPLLM_"

// Sources are the layers above the defaults, lowest precedence first.
type Sources struct {
	File string   // YAML file; "" for none
	Env  []string // "KEY=VALUE" pairs, usually os.Environ()
	Sets []string // --set key=value, applied in order
	// Schemas enable --set NS.KEY=VALUE for the YAML files the config names:
	// ModelNS and TrainNS map to the struct each file decodes into (the
	// config package imports neither). Such overrides are checked against the
	// struct here (key and type) and returned in Config.ModelSets/TrainSets
	// for the command that reads the file; without a schema the prefix is
	// an unknown key.
	Schemas map[string]any
}

// The --set prefixes of the model config (model_config) and the training
// recipe (train_config): --set model.variant.fusion=average, --set train.steps=40.
const (
	ModelNS = "model"
	TrainNS = "train"
)

// EnvName is the environment variable that overrides key.
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Load merges the sources over Default() and returns the validated config.
func Load(src Sources) (Config, error) {
	fields := leafFields(reflect.TypeOf(Config{}), "")
	origin := map[string]string{}
	v := viper.New()
	def := reflect.ValueOf(Default())
	for key, path := range fields {
		v.SetDefault(key, def.FieldByIndex(path).Interface())
	}
	if src.File != "" {
		if err := readFile(v, src.File, fields, origin); err != nil {
			return Config{}, err
		}
	}
	env := map[string]string{}
	for _, kv := range src.Env {
		if k, val, ok := strings.Cut(kv, "="); ok {
			env[k] = val
		}
	}
	for key := range fields {
		if val, ok := env[EnvName(key)]; ok {
			v.Set(key, val)
			origin[key] = "env " + EnvName(key)
		}
	}
	var nsSets = map[string][]strictyaml.Override{}
	for _, s := range src.Sets {
		key, raw, ok := strings.Cut(s, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return Config{}, fmt.Errorf("config: --set %q: expected key=value", s)
		}
		if ns, sub, dotted := strings.Cut(key, "."); dotted && src.Schemas[ns] != nil {
			o, err := strictyaml.ParseOverride(sub + "=" + raw)
			if err == nil {
				err = strictyaml.Apply(&yaml.Node{}, src.Schemas[ns], ns+".", o)
			}
			if err != nil {
				return Config{}, fmt.Errorf("config: --set %q: %w", s, err)
			}
			nsSets[ns] = append(nsSets[ns], o)
			continue
		}
		if _, known := fields[key]; !known {
			return Config{}, fmt.Errorf("config: --set %q: unknown key %q%s", s, key, suggestNS(key, fields, src.Schemas))
		}
		var val any
		if err := yaml.Unmarshal([]byte(raw), &val); err != nil || val == nil {
			val = raw // not YAML (or empty): take the text as is
		}
		v.Set(key, val)
		origin[key] = "--set " + key
	}
	cfg := Config{}
	out := reflect.ValueOf(&cfg).Elem()
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		if err := assign(out.FieldByIndex(fields[key]), v.Get(key)); err != nil {
			return Config{}, &KeyError{Key: key, Value: fmt.Sprintf("%#v", v.Get(key)), Source: origin[key], Want: err.Error()}
		}
	}
	cfg.ModelSets, cfg.TrainSets = nsSets[ModelNS], nsSets[TrainNS]
	if err := cfg.Validate(); err != nil {
		var ke *KeyError
		if errors.As(err, &ke) && ke.Source == "" {
			ke.Source = origin[ke.Key]
		}
		return Config{}, err
	}
	return cfg, nil
}

// leafFields maps each dotted key to the field index path of a leaf value.
func leafFields(t reflect.Type, prefix string) map[string][]int {
	out := map[string][]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := f.Tag.Get("key")
		if name == "" {
			continue
		}
		key := prefix + name
		if f.Type.Kind() == reflect.Struct {
			for k, p := range leafFields(f.Type, key+".") {
				out[k] = append([]int{i}, p...)
			}
			continue
		}
		out[key] = []int{i}
	}
	return out
}

// readFile loads the YAML file into v after checking every key against the
// known ones, so a typo fails with file:line and the key.
func readFile(v *viper.Viper, path string, fields map[string][]int, origin map[string]string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil // empty file
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("config: %s:%d: top level must be a mapping of keys", path, root.Line)
	}
	sections := map[string]bool{}
	for k := range fields {
		parts := strings.Split(k, ".")
		for i := 1; i < len(parts); i++ {
			sections[strings.Join(parts[:i], ".")] = true
		}
	}
	var walk func(n *yaml.Node, prefix string) error
	walk = func(n *yaml.Node, prefix string) error {
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, vn := n.Content[i], n.Content[i+1]
			key := prefix + kn.Value
			switch {
			case sections[key]:
				if vn.Kind != yaml.MappingNode {
					return fmt.Errorf("config: %s:%d: key %q is a section and expects a mapping", path, kn.Line, key)
				}
				if err := walk(vn, key+"."); err != nil {
					return err
				}
			case fields[key] != nil:
				origin[key] = fmt.Sprintf("%s:%d", path, kn.Line)
			default:
				return fmt.Errorf("config: %s:%d: unknown key %q%s", path, kn.Line, key, suggest(key, fields))
			}
		}
		return nil
	}
	if err := walk(root, ""); err != nil {
		return err
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("config: %s: %w", path, err)
	}
	return v.MergeConfigMap(m)
}

// suggest names the closest known key, for typos.
func suggest(key string, fields map[string][]int) string {
	if best := strictyaml.Closest(key, slices.Collect(maps.Keys(fields))); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// suggestNS is suggest that also knows the keys of the files the config
// names: --set steps=40 suggests train.steps.
func suggestNS(key string, fields map[string][]int, schemas map[string]any) string {
	var exact, near []string
	for _, ns := range slices.Sorted(maps.Keys(schemas)) {
		keys := strictyaml.Keys(schemas[ns])
		if slices.Contains(keys, key) {
			exact = append(exact, fmt.Sprintf("%q", ns+"."+key))
		} else if c := strictyaml.Closest(key, keys); c != "" {
			near = append(near, fmt.Sprintf("%q", ns+"."+c))
		}
	}
	if len(exact) == 0 {
		if s := suggest(key, fields); s != "" {
			return s
		}
		exact = near
	}
	if len(exact) == 0 {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", strings.Join(exact, " or "))
}

// assign converts a YAML/env/flag value into the field's type; the error text
// says what was expected.
func assign(f reflect.Value, val any) error {
	switch f.Kind() {
	case reflect.String:
		switch x := val.(type) {
		case string:
			f.SetString(x)
		case int, int64, float64, bool:
			f.SetString(fmt.Sprint(x))
		default:
			return errors.New("a string")
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, err := toInt(val)
		if err != nil {
			return errors.New("an integer")
		}
		f.SetInt(n)
	case reflect.Float64, reflect.Float32:
		x, err := toFloat(val)
		if err != nil {
			return errors.New("a number")
		}
		f.SetFloat(x)
	case reflect.Bool:
		switch x := val.(type) {
		case bool:
			f.SetBool(x)
		case string:
			b, err := strconv.ParseBool(x)
			if err != nil {
				return errors.New("true or false")
			}
			f.SetBool(b)
		default:
			return errors.New("true or false")
		}
	case reflect.Slice:
		return assignSlice(f, val)
	default:
		return fmt.Errorf("a supported type (field kind %s)", f.Kind())
	}
	return nil
}

func assignSlice(f reflect.Value, val any) error {
	var items []any
	switch x := val.(type) {
	case []any:
		items = x
	case string: // env and plain --set values: comma separated
		for _, s := range strings.Split(x, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
	default:
		return errors.New("a list")
	}
	out := reflect.MakeSlice(f.Type(), len(items), len(items))
	for i, it := range items {
		if err := assign(out.Index(i), it); err != nil {
			return fmt.Errorf("a list of %s (item %d)", err, i)
		}
	}
	f.Set(out)
	return nil
}

func toInt(val any) (int64, error) {
	switch x := val.(type) {
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), nil
		}
	case string:
		return strconv.ParseInt(strings.TrimSpace(x), 10, 64)
	}
	return 0, errors.New("not an integer")
}

func toFloat(val any) (float64, error) {
	switch x := val.(type) {
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case float64:
		return x, nil
	case string:
		return strconv.ParseFloat(strings.TrimSpace(x), 64)
	}
	return 0, errors.New("not a number")
}
