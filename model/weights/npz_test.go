package weights

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cpllm/cpllm/internal/testutil"
)

// ReadNPZ reads what numpy's np.savez and np.savez_compressed write (the
// format of VideoPrism's released checkpoints) and refuses what it cannot
// represent, naming the member.
func TestReadNPZMatchesNumpy(t *testing.T) {
	py := testutil.RequireTorch(t) // Debian's python3 with numpy, as for the oracles
	dir := t.TempDir()
	if out, err := exec.Command(py, "testdata/npz_ref.py", dir).CombinedOutput(); err != nil {
		t.Fatalf("npz_ref.py: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "values.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]struct {
		Shape  []int
		DType  string
		Values []float64
	}
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	dtypes := map[string]DType{"<f2": F16, "<f4": F32, "<f8": F64}
	for _, file := range []string{"plain.npz", "compressed.npz"} {
		src, err := ReadNPZ(filepath.Join(dir, file))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if len(src.Tensors) != len(want) {
			t.Errorf("%s: %d tensors, numpy wrote %d", file, len(src.Tensors), len(want))
		}
		for name, w := range want {
			got, ok := src.Tensors[name]
			switch {
			case !ok:
				t.Errorf("%s: %q missing", file, name)
			case !slices.Equal(got.Shape, w.Shape) || got.DType != dtypes[w.DType]:
				t.Errorf("%s: %q is %s %v, numpy wrote %s %v", file, name, got.DType, got.Shape, w.DType, w.Shape)
			case !slices.Equal(got.Float64(), w.Values) && len(w.Values) > 0:
				t.Errorf("%s: %q values %v, numpy wrote %v", file, name, got.Float64(), w.Values)
			}
		}
	}
	for file, msg := range map[string]string{"int.npz": "ids.npy: dtype \"<i4\"", "fortran.npz": "w.npy: fortran-order"} {
		if _, err := ReadNPZ(filepath.Join(dir, file)); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: error %v, want one containing %q", file, err, msg)
		}
	}
}
