// Package mobilenet runs MobileNetV2 (Sandler et al. 2018, "MobileNetV2:
// Inverted Residuals and Linear Bottlenecks", in the layout of the Keras
// applications model) as a frozen, pretrained feature extractor. Its weights
// come as a TF.js layers model (model.json plus binary weight shards), the
// format npm packages ship models in: pretrained image features without a
// download at run time (make pretrained-deps).
package mobilenet

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/cpllm/cpllm/internal/fsutil"
)

// Tensor is one weight: its shape and values in row-major order.
type Tensor struct {
	Shape  []int
	Values []float32
}

// Weights are a TF.js layers model's weights by name ("Conv1/kernel",
// "block_3_project_BN/gamma", ...), and the epsilon of each batch norm.
type Weights struct {
	Tensors map[string]Tensor
	Epsilon map[string]float64 // batch-norm layer name -> epsilon
	Dir     string
}

type manifestEntry struct {
	Name         string `json:"name"`
	Shape        []int  `json:"shape"`
	DType        string `json:"dtype"`
	Quantization *struct {
		Min   float64 `json:"min"`
		Scale float64 `json:"scale"`
		DType string  `json:"dtype"`
	} `json:"quantization"`
}

type modelJSON struct {
	ModelTopology struct {
		ModelConfig struct {
			Config struct {
				Layers []struct {
					Name      string          `json:"name"`
					ClassName string          `json:"class_name"`
					Config    json.RawMessage `json:"config"`
				} `json:"layers"`
			} `json:"config"`
		} `json:"model_config"`
	} `json:"modelTopology"`
	WeightsManifest []struct {
		Paths   []string        `json:"paths"`
		Weights []manifestEntry `json:"weights"`
	} `json:"weightsManifest"`
}

// LoadTFJS reads dir/model.json and the weight shards it names (each path
// plus ".bin" when the file has no extension of its own), dequantizing
// uint8/uint16 weights as TF.js does (value = q*scale + min).
func LoadTFJS(dir string) (*Weights, error) {
	path := filepath.Join(dir, "model.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m modelJSON
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(m.WeightsManifest) == 0 {
		return nil, fmt.Errorf("%s: no weightsManifest", path)
	}
	w := &Weights{Tensors: map[string]Tensor{}, Epsilon: map[string]float64{}, Dir: dir}
	for _, l := range m.ModelTopology.ModelConfig.Config.Layers {
		if l.ClassName != "BatchNormalization" {
			continue
		}
		var c struct {
			Epsilon float64 `json:"epsilon"`
		}
		if err := json.Unmarshal(l.Config, &c); err != nil {
			return nil, fmt.Errorf("%s: layer %s: %w", path, l.Name, err)
		}
		w.Epsilon[l.Name] = c.Epsilon
	}
	for gi, g := range m.WeightsManifest {
		var buf []byte
		for _, p := range g.Paths {
			f := filepath.Join(dir, p)
			if filepath.Ext(p) == "" {
				if _, err := os.Stat(f); err != nil {
					f += ".bin"
				}
			}
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("%s: weight group %d: %w", path, gi, err)
			}
			buf = append(buf, b...)
		}
		off := 0
		for _, e := range g.Weights {
			t, n, err := decode(e, buf[off:])
			if err != nil {
				return nil, fmt.Errorf("%s: weight group %d, %s: %w", path, gi, e.Name, err)
			}
			w.Tensors[e.Name] = t
			off += n
		}
		if off != len(buf) {
			return nil, fmt.Errorf("%s: weight group %d: the manifest describes %d bytes, the shards hold %d", path, gi, off, len(buf))
		}
	}
	return w, nil
}

// decode turns one manifest entry's bytes into float32 values; it returns the
// bytes it used.
func decode(e manifestEntry, buf []byte) (Tensor, int, error) {
	n := 1
	for _, d := range e.Shape {
		n *= d
	}
	t := Tensor{Shape: slices.Clone(e.Shape), Values: make([]float32, n)}
	if e.DType != "float32" {
		return t, 0, fmt.Errorf("dtype %q: only float32 weights are supported", e.DType)
	}
	width := 4
	if q := e.Quantization; q != nil {
		switch q.DType {
		case "uint8":
			width = 1
		case "uint16":
			width = 2
		default:
			return t, 0, fmt.Errorf("quantization dtype %q: only uint8 and uint16 are supported", q.DType)
		}
	}
	if len(buf) < n*width {
		return t, 0, fmt.Errorf("needs %d bytes, the shards have %d left", n*width, len(buf))
	}
	for i := range n {
		switch width {
		case 1:
			t.Values[i] = float32(float64(buf[i])*e.Quantization.Scale + e.Quantization.Min)
		case 2:
			q := uint16(buf[2*i]) | uint16(buf[2*i+1])<<8
			t.Values[i] = float32(float64(q)*e.Quantization.Scale + e.Quantization.Min)
		default:
			t.Values[i] = math.Float32frombits(uint32(buf[4*i]) | uint32(buf[4*i+1])<<8 | uint32(buf[4*i+2])<<16 | uint32(buf[4*i+3])<<24)
		}
	}
	return t, n * width, nil
}

// get returns the named weight after checking its shape.
func (w *Weights) get(name string, shape ...int) (Tensor, error) {
	t, ok := w.Tensors[name]
	if !ok {
		return t, fmt.Errorf("%s: no weight %q (is it a Keras MobileNetV2, alpha 1.0?)", w.Dir, name)
	}
	if !slices.Equal(t.Shape, shape) {
		return t, fmt.Errorf("%s: weight %q has shape %v, MobileNetV2 wants %v", w.Dir, name, t.Shape, shape)
	}
	return t, nil
}

// Name is the extractor's name in configs and manifests
// (shards.frame_deep, cpllm baseline --deep).
const Name = "mobilenetv2"

// PretrainedEnv names a directory holding the pretrained TF.js MobileNetV2
// (model.json and its shard), overriding the default of PretrainedDir.
const PretrainedEnv = "CPLLM_MOBILENETV2"

// PretrainedDefault is where make pretrained-deps writes the weights,
// relative to the repository root.
const PretrainedDefault = ".deps/pretrained/mobilenetv2"

// PretrainedDir returns $CPLLM_MOBILENETV2, else PretrainedDefault found
// upwards from the working directory (tests run in package directories) or
// from the executable's directory (bin/cpllm run from elsewhere), else
// PretrainedDefault itself.
func PretrainedDir() string {
	if d := os.Getenv(PretrainedEnv); d != "" {
		return d
	}
	if p, ok := fsutil.FindUpward(filepath.Join(PretrainedDefault, "model.json")); ok {
		return filepath.Dir(p)
	}
	return PretrainedDefault
}
