package mobilenet_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cpllm/cpllm/model"
	. "github.com/cpllm/cpllm/model/mobilenet"
)

// BenchmarkFeatures540p times one 960x540 frame through the pretrained
// network on the default backend (ONNX Runtime where built in, else pure Go).
func BenchmarkFeatures540p(b *testing.B) {
	dir := PretrainedDir()
	if _, err := os.Stat(filepath.Join(dir, "model.json")); err != nil {
		b.Skipf("no pretrained MobileNetV2 (make pretrained-deps): %v", err)
	}
	w, err := LoadTFJS(dir)
	if err != nil {
		b.Fatal(err)
	}
	be, err := model.NewBackend(model.DefaultBackend)
	if err != nil {
		b.Fatal(err)
	}
	net, err := New(be, w)
	if err != nil {
		b.Fatal(err)
	}
	img := [][]byte{make([]byte, 540*960*3)}
	for i := range img[0] {
		img[0][i] = byte(i * 2654435761 >> 24)
	}
	if _, err := net.Features(img, 540, 960); err != nil { // compile outside the timing
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := net.Features(img, 540, 960); err != nil {
			b.Fatal(err)
		}
	}
}
