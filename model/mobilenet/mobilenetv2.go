package mobilenet

import (
	"fmt"
	"math"
	"sync"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// bottlenecks are MobileNetV2's inverted-residual stages (the paper's
// Table 2): expansion t, output channels c, repeats n, first stride s.
var bottlenecks = [][4]int{{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}}

// StageNames name the feature maps whose channels are pooled: the last block
// of each bottleneck stage, then the final 1x1 convolution's output. Early
// stages see local texture (noise, blur, blocking); late ones see content.
var StageNames = []string{"expanded_conv", "block_2", "block_5", "block_9", "block_12", "block_15", "block_16", "out_relu"}

// StageWidths are those maps' channel counts.
var StageWidths = []int{16, 24, 32, 64, 96, 160, 320, 1280}

// FeatureDim is the length of one frame's feature vector: each stage's
// per-channel spatial mean, then its per-channel spatial standard deviation.
func FeatureDim() int {
	n := 0
	for _, c := range StageWidths {
		n += 2 * c
	}
	return n
}

// FeatureNames name the features in order: mnv2_<stage>_{mean,std}_<channel>.
func FeatureNames() []string {
	var names []string
	for i, s := range StageNames {
		for _, stat := range []string{"mean", "std"} {
			for c := range StageWidths[i] {
				names = append(names, fmt.Sprintf("mnv2_%s_%s_%d", s, stat, c))
			}
		}
	}
	return names
}

// conv is a convolution with its batch norm folded in: kernel [kh, kw, in,
// out] (depthwise: [kh, kw, 1, C]), bias [out].
type conv struct {
	kernel    *tensors.Tensor
	bias      *tensors.Tensor
	stride    int
	pad       [][2]int
	depthwise bool
	relu6     bool
}

type block struct {
	expand   *conv // nil when the expansion factor is 1
	dw, proj conv
	residual bool
}

// Net is MobileNetV2 (alpha 1.0) with frozen weights, batch norms folded.
type Net struct {
	stem, head conv
	blocks     []block
	backend    compute.Backend
	exec       *Exec
	mu         sync.Mutex
	// plainOps builds 1x1 convolutions as matrix products and depthwise
	// ones as shifted slices (depthwiseShifted): the pure-Go backend runs
	// those about 3x faster than its convolution (1.3 s against 4 s per
	// 960x540 frame); ONNX Runtime and XLA run the convolutions.
	plainOps bool
}

// New builds the network from TF.js weights of the Keras MobileNetV2 layout
// (layer names Conv1, bn_Conv1, expanded_conv_*, block_N_*, Conv_1,
// Conv_1_bn); every weight's shape is checked.
func New(backend compute.Backend, w *Weights) (*Net, error) {
	n := &Net{backend: backend, plainOps: backend.Name() == "Go Backend"}
	var err error
	// Keras pads stride-2 convolutions of even-sized maps by one pixel at the
	// bottom and right only (layers Conv1_pad, block_N_pad).
	padS2 := [][2]int{{0, 1}, {0, 1}}
	if n.stem, err = w.fold("Conv1/kernel", "bn_Conv1", 3, 3, 3, 32, 2, padS2, false, true); err != nil {
		return nil, err
	}
	in, idx := 32, 0
	for _, b := range bottlenecks {
		t, c, reps, s := b[0], b[1], b[2], b[3]
		for r := range reps {
			stride := 1
			if r == 0 {
				stride = s
			}
			p := "expanded_conv"
			if idx > 0 {
				p = fmt.Sprintf("block_%d", idx)
			}
			var bl block
			hidden := in * t
			if t != 1 {
				e, err := w.fold(p+"_expand/kernel", p+"_expand_BN", 1, 1, in, hidden, 1, [][2]int{{0, 0}, {0, 0}}, false, true)
				if err != nil {
					return nil, err
				}
				bl.expand = &e
			}
			pad := [][2]int{{1, 1}, {1, 1}}
			if stride == 2 {
				pad = padS2
			}
			if bl.dw, err = w.fold(p+"_depthwise/depthwise_kernel", p+"_depthwise_BN", 3, 3, hidden, 1, stride, pad, true, true); err != nil {
				return nil, err
			}
			if bl.proj, err = w.fold(p+"_project/kernel", p+"_project_BN", 1, 1, hidden, c, 1, [][2]int{{0, 0}, {0, 0}}, false, false); err != nil {
				return nil, err
			}
			bl.residual = stride == 1 && in == c
			n.blocks = append(n.blocks, bl)
			in, idx = c, idx+1
		}
	}
	if n.head, err = w.fold("Conv_1/kernel", "Conv_1_bn", 1, 1, in, 1280, 1, [][2]int{{0, 0}, {0, 0}}, false, true); err != nil {
		return nil, err
	}
	n.exec, err = NewExec(backend, n.features)
	if err != nil {
		return nil, err
	}
	return n, nil
}

// fold reads a Keras kernel [kh, kw, in, out] (depthwise: [kh, kw, C, 1])
// and its batch norm, and returns the convolution with the norm folded in:
// k' = k * gamma/sqrt(var+eps), b' = beta - mean * gamma/sqrt(var+eps).
func (w *Weights) fold(kernel, bn string, kh, kw, in, out, stride int, pad [][2]int, depthwise, relu6 bool) (conv, error) {
	k, err := w.get(kernel, kh, kw, in, out)
	if err != nil {
		return conv{}, err
	}
	ch := out
	if depthwise {
		ch = in
	}
	var p [4]Tensor
	for i, s := range []string{"gamma", "beta", "moving_mean", "moving_variance"} {
		if p[i], err = w.get(bn+"/"+s, ch); err != nil {
			return conv{}, err
		}
	}
	eps, ok := w.Epsilon[bn]
	if !ok {
		return conv{}, fmt.Errorf("%s: the topology has no BatchNormalization layer %q", w.Dir, bn)
	}
	scale := make([]float64, ch)
	bias := make([]float32, ch)
	for c := range ch {
		scale[c] = float64(p[0].Values[c]) / math.Sqrt(float64(p[3].Values[c])+eps)
		bias[c] = float32(float64(p[1].Values[c]) - float64(p[2].Values[c])*scale[c])
	}
	vals := make([]float32, len(k.Values))
	for i, v := range k.Values {
		vals[i] = float32(float64(v) * scale[i%ch]) // the output (depthwise: input) channel is the fastest axis
	}
	dims := []int{kh, kw, in, out}
	if depthwise {
		dims = []int{kh, kw, 1, in} // the same memory order: [kh, kw, C, 1] == [kh, kw, 1, C]
	}
	return conv{kernel: tensors.FromFlatDataAndDimensions(vals, dims...), bias: tensors.FromFlatDataAndDimensions(bias, ch),
		stride: stride, pad: pad, depthwise: depthwise, relu6: relu6}, nil
}

func (c conv) apply(x *Node, plainOps bool) *Node {
	g := x.Graph()
	var y *Node
	kd := c.kernel.Shape().Dimensions
	switch {
	case c.depthwise && plainOps:
		y = c.depthwiseShifted(x)
	case plainOps && kd[0] == 1 && kd[1] == 1 && c.stride == 1:
		// A 1x1 convolution is a matrix product over the pixels.
		d := x.Shape().Dimensions
		y = Reshape(MatMul(Reshape(x, -1, d[3]), Reshape(ConstTensor(g, c.kernel), kd[2], kd[3])), d[0], d[1], d[2], kd[3])
	default:
		b := Convolve(x, ConstTensor(g, c.kernel)).Strides(c.stride).PaddingPerDim(c.pad)
		if c.depthwise {
			b = b.ChannelGroupCount(x.Shape().Dimensions[3])
		}
		y = b.Done()
	}
	y = Add(y, Reshape(ConstTensor(g, c.bias), 1, 1, 1, -1))
	if c.relu6 {
		y = ClipScalar(y, 0, 6)
	}
	return y
}

// depthwiseShifted is the depthwise convolution as a sum of kh*kw shifted,
// strided slices of the padded input, each scaled per channel: the same
// arithmetic as the grouped convolution, in elementwise operations, which
// the pure-Go backend runs far faster than its grouped convolution.
func (c conv) depthwiseShifted(x *Node) *Node {
	g := x.Graph()
	d := c.kernel.Shape().Dimensions // [kh, kw, 1, C]
	kh, kw, ch := d[0], d[1], d[3]
	xp := Pad(x, ScalarZero(g, x.DType()), PadAxis{}, PadAxis{Start: c.pad[0][0], End: c.pad[0][1]},
		PadAxis{Start: c.pad[1][0], End: c.pad[1][1]}, PadAxis{})
	hp, wp := xp.Shape().Dimensions[1], xp.Shape().Dimensions[2]
	ho, wo := (hp-kh)/c.stride+1, (wp-kw)/c.stride+1
	k := Reshape(ConstTensor(g, c.kernel), kh, kw, ch)
	var sum *Node
	for dy := range kh {
		for dx := range kw {
			tap := Slice(xp, AxisRange(), AxisRange(dy, dy+c.stride*(ho-1)+1).Stride(c.stride),
				AxisRange(dx, dx+c.stride*(wo-1)+1).Stride(c.stride), AxisRange())
			term := Mul(tap, Reshape(Slice(k, AxisElem(dy), AxisElem(dx), AxisRange()), 1, 1, 1, ch))
			if sum == nil {
				sum = term
			} else {
				sum = Add(sum, term)
			}
		}
	}
	return sum
}

// Forward runs the network on images x [N, H, W, 3] (RGB in [0, 1], as the
// TF.js model is fed) and returns the feature maps of StageNames.
func (n *Net) Forward(x *Node) []*Node {
	if x.Rank() != 4 || x.Shape().Dimensions[3] != 3 {
		panic(fmt.Sprintf("mobilenet: input must be [N, H, W, 3], got %s", x.Shape()))
	}
	var maps []*Node
	x = n.stem.apply(x, n.plainOps)
	stageEnd := map[int]bool{0: true, 2: true, 5: true, 9: true, 12: true, 15: true, 16: true}
	for i, b := range n.blocks {
		h := x
		if b.expand != nil {
			h = b.expand.apply(h, n.plainOps)
		}
		h = b.proj.apply(b.dw.apply(h, n.plainOps), n.plainOps)
		if b.residual {
			h = Add(x, h)
		}
		x = h
		if stageEnd[i] {
			maps = append(maps, x)
		}
	}
	return append(maps, n.head.apply(x, n.plainOps))
}

// features pools each stage map [N, h, w, C] to its per-channel mean and
// standard deviation: [N, FeatureDim()].
func (n *Net) features(x *Node) *Node {
	var parts []*Node
	for _, m := range n.Forward(x) {
		mean := ReduceAndKeep(m, ReduceMean, 1, 2)
		std := Sqrt(ReduceMean(Square(Sub(m, mean)), 1, 2))
		parts = append(parts, Reshape(mean, m.Shape().Dimensions[0], -1), std)
	}
	return Concatenate(parts, 1)
}

// Features returns each image's feature vector. images holds n RGB images
// of height h and width w, 8 bits per channel, interleaved (HWC).
func (n *Net) Features(images [][]byte, h, w int) ([][]float32, error) {
	if len(images) == 0 {
		return nil, nil
	}
	x := make([]float32, 0, len(images)*h*w*3)
	for i, im := range images {
		if len(im) != h*w*3 {
			return nil, fmt.Errorf("mobilenet: image %d has %d bytes, want %dx%dx3 = %d", i, len(im), w, h, h*w*3)
		}
		for _, v := range im {
			x = append(x, float32(v)/255)
		}
	}
	in := tensors.FromFlatDataAndDimensions(x, len(images), h, w, 3)
	// The backend's copy of the input lives outside the Go heap, where the
	// garbage collector neither sees nor frees it: without this, data prep
	// grew by one frame (6 MB at 960x540) per call, to 16 GB in 20 minutes.
	defer in.FinalizeAll()
	out, err := n.exec.Exec(in)
	if err != nil {
		return nil, err
	}
	defer out[0].FinalizeAll()
	flat := tensors.MustCopyFlatData[float32](out[0])
	d := FeatureDim()
	res := make([][]float32, len(images))
	for i := range res {
		res[i] = flat[i*d : (i+1)*d]
	}
	return res, nil
}

// MeanFeatures returns the features of frames (RGB, h x w, HWC bytes)
// averaged over the frames, one frame at a time so memory stays that of a
// single frame. Safe for concurrent use (calls run one after another).
func (n *Net) MeanFeatures(frames [][]byte, h, w int) ([]float64, error) {
	if len(frames) == 0 {
		return nil, fmt.Errorf("mobilenet: no frames")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	mean := make([]float64, FeatureDim())
	for _, f := range frames {
		out, err := n.Features([][]byte{f}, h, w)
		if err != nil {
			return nil, err
		}
		for i, v := range out[0] {
			mean[i] += float64(v) / float64(len(frames))
		}
	}
	return mean, nil
}

// LoadPretrained loads the weights make pretrained-deps installs
// (PretrainedDir) and builds the network on backend.
func LoadPretrained(backend compute.Backend) (*Net, error) {
	dir := PretrainedDir()
	w, err := LoadTFJS(dir)
	if err != nil {
		return nil, fmt.Errorf("pretrained MobileNetV2 (make pretrained-deps, or $%s): %w", PretrainedEnv, err)
	}
	return New(backend, w)
}
