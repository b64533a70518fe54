package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
)

// assemble builds safetensors bytes by hand from a header string and data.
func assemble(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

func le32(fs ...float32) []byte {
	var b []byte
	for _, f := range fs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	return b
}

func le16(us ...uint16) []byte {
	var b []byte
	for _, u := range us {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

// A file assembled by hand (unpadded header, keys in arbitrary order) decodes
// to the expected values.
func TestDecodeHandAssembled(t *testing.T) {
	header := `{"h":{"dtype":"F16","shape":[3],"data_offsets":[12,18]},` +
		`"__metadata__":{"k":"v"},` +
		`"w":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},` +
		`"b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]}}`
	// bf16 0x3FC0 = 1.5, 0xC000 = -2; f16 0x3C00 = 1, 0x0001 = 2^-24, 0xFC00 = -inf.
	data := slices.Concat(le32(0.25, -3), le16(0x3FC0, 0xC000), le16(0x3C00, 0x0001, 0xFC00))
	f, err := Decode(assemble(header, data))
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata["k"] != "v" || len(f.Tensors) != 3 {
		t.Fatalf("metadata %v, %d tensors", f.Metadata, len(f.Tensors))
	}
	want := map[string][]float64{"w": {0.25, -3}, "b": {1.5, -2}, "h": {1, math.Ldexp(1, -24), math.Inf(-1)}}
	for n, w := range want {
		if got := f.Tensors[n].Float64(); !slices.Equal(got, w) {
			t.Errorf("%s = %v, want %v", n, got, w)
		}
	}
	if !slices.Equal(f.Tensors["w"].Shape, []int{1, 2}) {
		t.Errorf("w shape %v", f.Tensors["w"].Shape)
	}
}

func randomFile(rng *rand.Rand) File {
	f := File{Metadata: map[string]string{"format": "x", "z": "last"}, Tensors: map[string]Tensor{}}
	for i, dt := range []DType{F32, F16, BF16, F64, F32} {
		shape := []int{1 + rng.IntN(4), 1 + rng.IntN(5)}
		if i == 4 {
			shape = nil // a scalar
		}
		n := 1
		for _, d := range shape {
			n *= d
		}
		vals := make([]float64, n)
		for j := range vals {
			vals[j] = rng.NormFloat64() * 10
		}
		tt, err := FromFloat64(dt, shape, vals)
		if err != nil {
			panic(err)
		}
		f.Tensors[string(rune('e'-i))+"."+string(dt)] = tt
	}
	return f
}

// Write -> Read gives back the same bytes and values; the layout follows the
// format: aligned header, data in name order.
func TestRoundTrip(t *testing.T) {
	f := randomFile(rand.New(rand.NewPCG(1, 2)))
	path := filepath.Join(t.TempDir(), "x.safetensors")
	if err := Write(path, f); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	n := binary.LittleEndian.Uint64(raw)
	if h := raw[8 : 8+n]; (8+n)%8 != 0 || !bytes.HasSuffix(bytes.TrimRight(h, " "), []byte("}")) {
		t.Errorf("header length %d: not padded with spaces to 8 bytes", n)
	}
	var hdr map[string]struct {
		DataOffsets [2]int `json:"data_offsets"`
	}
	if err := json.Unmarshal(raw[8:8+n], &hdr); err != nil {
		t.Fatal(err)
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range f.Tensors {
			if !yield(k) {
				return
			}
		}
	})
	for i := 1; i < len(names); i++ {
		if hdr[names[i]].DataOffsets[0] != hdr[names[i-1]].DataOffsets[1] {
			t.Errorf("data of %s does not follow %s", names[i], names[i-1])
		}
	}
	g, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Metadata) != 2 || g.Metadata["z"] != "last" {
		t.Errorf("metadata %v", g.Metadata)
	}
	for name, want := range f.Tensors {
		got := g.Tensors[name]
		if got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) || !bytes.Equal(got.Data, want.Data) {
			t.Errorf("%s: got %s %v, want %s %v (or data differs)", name, got.DType, got.Shape, want.DType, want.Shape)
		}
		if !slices.Equal(got.Float64(), want.Float64()) {
			t.Errorf("%s: values differ", name)
		}
	}
}

// Corrupt files fail with errors naming the file and the tensor.
func TestReadErrors(t *testing.T) {
	ok := func(n string, b, e int) string {
		return `"` + n + `":{"dtype":"F32","shape":[2],"data_offsets":[` + itoa(b) + `,` + itoa(e) + `]}`
	}
	cases := []struct {
		name, header string
		data         int
		want         []string
	}{
		{"overlap", "{" + ok("a", 0, 8) + "," + ok("b", 4, 12) + "}", 12, []string{`"a"`, `"b"`, "overlap"}},
		{"gap", "{" + ok("a", 0, 8) + "," + ok("b", 12, 20) + "}", 20, []string{`"b"`, "gap"}},
		{"overrun", "{" + ok("a", 0, 8) + "," + ok("b", 8, 16) + "}", 12, []string{`"b"`, "outside"}},
		{"size", `{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, 8, []string{`"a"`, "needs 12 bytes"}},
		{"dtype", `{"a":{"dtype":"I7","shape":[2],"data_offsets":[0,8]}}`, 8, []string{`"a"`, "unsupported dtype"}},
		{"trailing", "{" + ok("a", 0, 8) + "}", 12, []string{"cover 8"}},
		{"json", `{"a":`, 0, []string{"header JSON"}},
	}
	dir := t.TempDir()
	for _, c := range cases {
		path := filepath.Join(dir, c.name+".safetensors")
		if err := os.WriteFile(path, assemble(c.header, make([]byte, c.data)), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Read(path)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range append(c.want, path) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", c.name, err, w)
			}
		}
	}
	huge := binary.LittleEndian.AppendUint64(nil, 1<<40)
	if _, err := Decode(huge); err == nil || !strings.Contains(err.Error(), "header length") {
		t.Errorf("huge header: %v", err)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// A file written by an independent Python implementation (struct + json, torch
// for the f16/bf16 rounding) and the same tensors written by this package are
// byte-identical, decode to the same values, and each side reads the other's.
func TestPythonReference(t *testing.T) {
	py := testutil.RequireTorch(t)
	dir := t.TempDir()
	script := filepath.Join("testdata", "safetensors_ref.py")
	if out, err := exec.Command(py, script, "write", dir).CombinedOutput(); err != nil {
		t.Fatalf("python write: %v\n%s", err, out)
	}
	ref, err := Read(filepath.Join(dir, "ref.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Metadata map[string]string
		Tensors  map[string]struct {
			DType  DType
			Shape  []int
			Src    []float64
			Values []any // numbers, or "inf"/"-inf"
		}
	}
	js, _ := os.ReadFile(filepath.Join(dir, "values.json"))
	if err := json.Unmarshal(js, &spec); err != nil {
		t.Fatal(err)
	}
	ours := File{Metadata: spec.Metadata, Tensors: map[string]Tensor{}}
	for name, s := range spec.Tensors {
		tt, err := FromFloat64(s.DType, s.Shape, s.Src) // our own rounding of the float32 sources
		if err != nil {
			t.Fatal(err)
		}
		ours.Tensors[name] = tt
		got := ref.Tensors[name]
		if got.DType != s.DType || !slices.Equal(got.Shape, s.Shape) || !bytes.Equal(got.Data, tt.Data) {
			t.Errorf("%s: python %s %v differs from ours %s %v", name, got.DType, got.Shape, tt.DType, tt.Shape)
		}
		for i, v := range got.Float64() {
			var w float64
			switch x := s.Values[i].(type) {
			case float64:
				w = x
			case string:
				w = math.Inf(map[string]int{"inf": 1, "-inf": -1}[x])
			}
			if v != w || math.Signbit(v) != math.Signbit(w) {
				t.Errorf("%s[%d] = %v, torch says %v", name, i, v, w)
			}
		}
	}
	enc, err := Encode(ours)
	if err != nil {
		t.Fatal(err)
	}
	refBytes, _ := os.ReadFile(filepath.Join(dir, "ref.safetensors"))
	if !bytes.Equal(enc, refBytes) {
		t.Errorf("our encoding (%d bytes) differs from python's (%d bytes)", len(enc), len(refBytes))
	}
	goPath := filepath.Join(dir, "go.safetensors")
	if err := Write(goPath, ours); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(py, script, "check", goPath).CombinedOutput(); err != nil {
		t.Fatalf("python check of our file: %v\n%s", err, out)
	}
}
