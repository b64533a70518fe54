package describe

import (
	"fmt"

	"github.com/cpllm/cpllm/data/video"
)

// MeasureVideo measures n frames spread uniformly over a clip, decoded at
// native resolution (so the 8x8 block grid is the codec's). Errors name the file.
func MeasureVideo(path string, n int) (Signals, error) {
	info, err := video.Probe(path)
	if err != nil {
		return Signals{}, err
	}
	idx := video.UniformIndices(info.Frames, n)
	if len(idx) == 0 {
		return Signals{}, fmt.Errorf("%s: measure: no frames", path)
	}
	var sum Signals
	err = video.DecodeRGB(path, video.RGBOptions{Indices: idx}, func(f video.RGBFrame) error {
		sum.add(Measure([][]byte{f.Pix}, f.Width, f.Height))
		sum.Frames++
		return nil
	})
	if err != nil {
		return Signals{}, err
	}
	sum.scale(1 / float64(sum.Frames))
	return sum, nil
}
