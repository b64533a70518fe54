package matv5

import (
	"bytes"
	"encoding/binary"
	"errors"
	"github.com/cpllm/cpllm/internal/testutil"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func fixture(t testing.TB, compress bool) []byte {
	t.Helper()
	var b bytes.Buffer
	vars := []*Var{
		CellStr("video_list", []string{"A001.mp4", "A002.mp4", "", "ümlaut.mp4"}),
		Column("mos", []float64{80.232, 57.3005, 3, 0.5}),
		Column("n", []float64{7}), // integral: stored as miUINT8 in a small element
		String("s", "hi"),
	}
	if err := Write(&b, vars, compress); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRoundTrip(t *testing.T) {
	for _, compress := range []bool{false, true} {
		f, err := Decode(fixture(t, compress))
		if err != nil {
			t.Fatalf("compress=%v: %v", compress, err)
		}
		if !strings.HasPrefix(f.Header, "MATLAB 5.0 MAT-file") {
			t.Errorf("header %q", f.Header)
		}
		vl, err := f.Var("video_list")
		if err != nil {
			t.Fatal(err)
		}
		names, err := vl.Strings()
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"A001.mp4", "A002.mp4", "", "ümlaut.mp4"}; !reflect.DeepEqual(names, want) {
			t.Errorf("video_list = %q, want %q", names, want)
		}
		mos, _ := f.Var("mos")
		got, err := mos.Float64s()
		if err != nil || !reflect.DeepEqual(got, []float64{80.232, 57.3005, 3, 0.5}) {
			t.Errorf("mos = %v, %v", got, err)
		}
		if !reflect.DeepEqual(mos.Dims, []int{4, 1}) {
			t.Errorf("mos dims %v", mos.Dims)
		}
		n, _ := f.Var("n")
		if got, _ := n.Float64s(); !reflect.DeepEqual(got, []float64{7}) {
			t.Errorf("n = %v", got)
		}
		s, _ := f.Var("s")
		if got, _ := s.Strings(); !reflect.DeepEqual(got, []string{"hi"}) {
			t.Errorf("s = %q", got)
		}
		if _, err := f.Var("nope"); err == nil || !strings.Contains(err.Error(), "mos, n, s, video_list") {
			t.Errorf("missing var error: %v", err)
		}
		if _, err := mos.Strings(); err == nil {
			t.Error("Strings on double: no error")
		}
		if _, err := vl.Float64s(); err == nil {
			t.Error("Float64s on cell: no error")
		}
	}
}

// TestBigEndianCharMatrix hand-builds a big-endian file holding a 2x3 char
// matrix (column-major, space padded) to cover byte order and matrix rows.
func TestBigEndianCharMatrix(t *testing.T) {
	be := binary.BigEndian
	var body bytes.Buffer
	el := func(typ uint32, data []byte) {
		var tag [8]byte
		be.PutUint32(tag[:], typ)
		be.PutUint32(tag[4:], uint32(len(data)))
		body.Write(tag[:])
		body.Write(data)
		body.Write(make([]byte, (8-len(data)%8)%8))
	}
	flags := make([]byte, 8)
	be.PutUint32(flags, uint32(ClassChar))
	el(miUINT32, flags)
	el(miINT32, []byte{0, 0, 0, 2, 0, 0, 0, 3})
	// Small element for the name "cm": size 2 in the high half, type in the low.
	var small [8]byte
	be.PutUint32(small[:], 2<<16|miINT8)
	copy(small[4:], "cm")
	body.Write(small[:])
	rows := []string{"ab ", "xyz"}
	var chars []byte
	for j := range 3 {
		for i := range 2 {
			chars = be.AppendUint16(chars, uint16(rows[i][j]))
		}
	}
	el(miUINT16, chars)

	file := make([]byte, 128)
	copy(file, "MATLAB 5.0 MAT-file")
	be.PutUint16(file[124:], 0x0100)
	copy(file[126:], "MI")
	var tag [8]byte
	be.PutUint32(tag[:], miMATRIX)
	be.PutUint32(tag[4:], uint32(body.Len()))
	file = append(append(file, tag[:]...), body.Bytes()...)

	f, err := Decode(file)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.Vars[0].Strings()
	if err != nil || f.Vars[0].Name != "cm" || !reflect.DeepEqual(got, []string{"ab", "xyz"}) {
		t.Fatalf("got %q %q, %v", f.Vars[0].Name, got, err)
	}
}

func TestMalformed(t *testing.T) {
	good := fixture(t, false)
	v73 := append([]byte("MATLAB 7.3 MAT-file"), make([]byte, 200)...)
	cases := map[string][]byte{
		"short":     good[:100],
		"no endian": append(append([]byte{}, good[:126]...), append([]byte("XX"), good[128:]...)...),
		"truncated": good[:len(good)-9],
		"bad zlib":  append(fixture(t, true)[:136], bytes.Repeat([]byte{0xff}, 64)...),
	}
	for name, data := range cases {
		if _, err := Decode(data); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Decode(v73); !errors.Is(err, ErrV73) {
		t.Errorf("v7.3: %v", err)
	}
}

func TestNaNAndNegative(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, []*Var{Column("x", []float64{math.NaN(), -1.5, 1e300})}, true); err != nil {
		t.Fatal(err)
	}
	f, err := Read(&b)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := f.Vars[0].Float64s()
	if !math.IsNaN(x[0]) || x[1] != -1.5 || x[2] != 1e300 {
		t.Errorf("x = %v", x)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(fixture(f, false))
	f.Add(fixture(f, true))
	f.Add(append([]byte("MATLAB 7.3 MAT-file"), make([]byte, 120)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Decode(data)
		if err != nil {
			return
		}
		for _, v := range file.Vars {
			v.Strings()
			v.Float64s()
			v.Len()
		}
	})
}

// realdata is the shared real-data folder, or a skip.
func realdata(t *testing.T) string { return testutil.RealData(t) }

func TestRealFiles(t *testing.T) {
	root := filepath.Join(realdata(t), "labels")
	cases := []struct {
		file, names, scores string
		n                   int
		first               string
		firstMOS            float64
	}{
		{"MinimalisticVQA/data/LIVE_VQC_data.mat", "video_list", "mos", 585, "A001.mp4", 80.232},
		{"SimpleVQA/data/KoNViD-1k_data.mat", "video_names", "scores", 1200, "8536919744_original_centercrop_960x540_8s.mp4", 1.22},
		{"SimpleVQA/data/youtube_ugc_data.mat", "video_names", "scores", 1142, "", 0},
	}
	for _, c := range cases {
		fh, err := os.Open(filepath.Join(root, c.file))
		if err != nil {
			t.Fatal(err)
		}
		f, err := Read(fh)
		fh.Close()
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		nv, err := f.Var(c.names)
		if err != nil {
			t.Fatal(err)
		}
		names, err := nv.Strings()
		if err != nil {
			t.Fatal(err)
		}
		sv, err := f.Var(c.scores)
		if err != nil {
			t.Fatal(err)
		}
		scores, err := sv.Float64s()
		if err != nil {
			t.Fatal(err)
		}
		if len(names) != c.n || len(scores) != c.n {
			t.Errorf("%s: %d names, %d scores, want %d", c.file, len(names), len(scores), c.n)
		}
		if c.first != "" && (names[0] != c.first || scores[0] != c.firstMOS) {
			t.Errorf("%s: first = %q %v", c.file, names[0], scores[0])
		}
	}
	fh, err := os.Open(filepath.Join(root, "VSFA/data/KoNViD-1kinfo.mat"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	if _, err := Read(fh); !errors.Is(err, ErrV73) {
		t.Errorf("v7.3 file: %v", err)
	}
}
