package metrics

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
)

// JSON has no NaN/Inf, yet undefined statistics are NaN by design here.
// Result types therefore marshal non-finite float64 fields as null and
// read null back as NaN.

func jsonName(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("json")
	if !f.IsExported() || tag == "-" {
		return "", false
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name, true
}

func marshalNaNNull(v any) ([]byte, error) { return MarshalNaNNull(v) }

// MarshalNaNNull writes a struct's exported fields in order (json tags,
// omitempty honoured) with non-finite float64 fields as null.
func MarshalNaNNull(v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	rt := rv.Type()
	var buf bytes.Buffer
	buf.WriteByte('{')
	first := true
	for i := 0; i < rt.NumField(); i++ {
		name, ok := jsonName(rt.Field(i))
		if !ok {
			continue
		}
		if _, opts, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ","); strings.Contains(opts, "omitempty") && rv.Field(i).IsZero() {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		k, _ := json.Marshal(name)
		buf.Write(k)
		buf.WriteByte(':')
		fv := rv.Field(i)
		if fv.Kind() == reflect.Float64 && (math.IsNaN(fv.Float()) || math.IsInf(fv.Float(), 0)) {
			buf.WriteString("null")
			continue
		}
		b, err := json.Marshal(fv.Interface())
		if err != nil {
			return nil, err
		}
		buf.Write(b)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// unmarshalNullNaN fills the struct pointed to by ptr; float64 fields that
// are null or absent become NaN.
func unmarshalNullNaN(data []byte, ptr any) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	rv := reflect.ValueOf(ptr).Elem()
	rt := rv.Type()
	for i := 0; i < rt.NumField(); i++ {
		name, ok := jsonName(rt.Field(i))
		if !ok {
			continue
		}
		if _, opts, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ","); strings.Contains(opts, "omitempty") && rv.Field(i).IsZero() {
			continue
		}
		fv := rv.Field(i)
		msg, present := raw[name]
		if !present || string(msg) == "null" {
			if fv.Kind() == reflect.Float64 {
				fv.SetFloat(math.NaN())
			}
			continue
		}
		if err := json.Unmarshal(msg, fv.Addr().Interface()); err != nil {
			return err
		}
	}
	return nil
}
