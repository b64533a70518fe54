// Command gatecheck prints heads.level_gate's value in each checkpoint
// directory given (RUN/checkpoints/step-N, its model.yaml two levels up).
//
//	go run -tags onnx ./experiments/results/real-kernel/gatecheck runs/real-kernel-slow/fold0/seed1/checkpoints/step-00000600
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/cpllm/cpllm/model"
	"github.com/gomlx/gomlx/core/tensors"
)

func main() {
	for _, dir := range os.Args[1:] {
		if err := show(dir); err != nil {
			fmt.Fprintln(os.Stderr, "gatecheck:", err)
			os.Exit(1)
		}
	}
}

func show(dir string) error {
	mc, err := model.LoadConfig(filepath.Join(dir, "..", "..", model.ModelFile))
	if err != nil {
		return err
	}
	m, _, err := model.LoadCheckpoint(mc, dir)
	if err != nil {
		return err
	}
	v := m.Store.GetVariable("/heads/level_gate/gate")
	if v == nil {
		return fmt.Errorf("%s: no heads.level_gate", dir)
	}
	t, err := v.Value()
	if err != nil {
		return err
	}
	fmt.Printf("%s %.4f\n", dir, tensors.MustCopyFlatData[float32](t)[0])
	return nil
}
