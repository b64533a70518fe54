package model

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	gm "github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// TestBFloat16ContractionsWiden: on the pure-Go backend no dot product of a
// bfloat16 model, forward or backward, has a bfloat16 operand (its AVX2
// bfloat16 kernel reads past its input's end; see layers.Contract), while the
// rest of the model does compute in bfloat16. Every registered variant, the
// statistics token and every task's training graph (loss, gradients and the
// optimiser update) are checked.
func TestBFloat16ContractionsWiden(t *testing.T) {
	backend := testBackend(t)
	const b, l = 2, 6
	configs := map[string]func() (Config, error){}
	for _, name := range Variants() {
		configs[name] = func() (Config, error) { return tinyConfig(t).WithVariant(name) }
	}
	configs["stats"] = func() (Config, error) {
		c, err := tinyConfig(t).WithVariant("context+pixel/cross-attention")
		c.Stats = "nss"
		return c, err
	}
	configs["demo"] = func() (Config, error) { return LoadConfig(configPath("demo")) }
	for name, mk := range configs {
		t.Run(strings.ReplaceAll(name, "/", "_"), func(t *testing.T) {
			cfg, err := mk()
			if err != nil {
				t.Fatal(err)
			}
			cfg.DType = "bfloat16"
			m, err := Build(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Init(backend); err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			for _, task := range []Task{TaskScore, TaskDescribe, TaskPair} {
				var dots, bf16Nodes int
				var bad []string
				opt := optimizer.Adam().LearningRate(1e-3).Done()
				e, err := gm.NewExec(backend, m.Store, func(scope *gm.Scope, in []*Node) *Node {
					g := in[0].Graph()
					m.Store.SetTraining(g, true)
					out := m.TaskGraph(scope, task, in)
					opt.UpdateGraph(scope, g, out.Loss)
					for _, n := range g.Nodes() {
						if n.DType() == dtypes.BFloat16 {
							bf16Nodes++
						}
						if n.Type() != NodeTypeDotGeneral {
							continue
						}
						dots++
						for _, x := range n.Inputs() {
							if x.DType() == dtypes.BFloat16 {
								bad = append(bad, x.Shape().String()+" -> "+n.Shape().String())
							}
						}
					}
					return out.Loss
				})
				if err != nil {
					t.Fatal(err)
				}
				in, err := m.Inputs(randomBatch(m, task, b, l, rng))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.Call(in...); err != nil {
					t.Fatalf("%s: %v", task, err)
				}
				if dots == 0 || bf16Nodes == 0 {
					t.Fatalf("%s: %d dot products, %d bfloat16 nodes: the graph was not the bfloat16 model", task, dots, bf16Nodes)
				}
				if len(bad) > 0 {
					t.Errorf("%s: %d of %d dot products take bfloat16 operands on the Go backend, e.g. %s", task, len(bad), dots, bad[0])
				}
			}
		})
	}
}
