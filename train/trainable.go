package train

import (
	"fmt"

	"github.com/cpllm/cpllm/model"
)

// What trains is the model config's trainable section: the model marks
// each variable trainable or frozen when its graph is built, and the step
// (gradients, AdamW moments, weight decay, EMA) covers only the trainable
// ones. A checkpoint records the flags it was trained with; resuming it
// under another setting would leave the moments and averages of the old
// setting in the store, so it is refused.

// trainableFlags maps each model variable to its trainable flag.
func trainableFlags(m *model.Model) map[string]bool {
	flags := map[string]bool{}
	for _, v := range m.Variables() {
		flags[v.Path()] = v.Trainable
	}
	return flags
}

// checkTrains fails when the model config leaves nothing to train.
func checkTrains(m *model.Model) error {
	if tr, _ := m.Counts(); tr == 0 {
		t := m.Cfg.Trainable
		return fmt.Errorf("train: the model config trains nothing (trainable: context_encoder %s, pixel_encoder %s, projectors %s, decoder %s, heads %s; variant %s has no fusion variables)",
			t.ContextEncoder, t.PixelEncoder, t.Projectors, t.Decoder, t.Setting("heads"), m.Variant.Name())
	}
	return nil
}

// checkResumeFlags compares the flags of the config (want, before the
// checkpoint was read) with those the checkpoint set.
func checkResumeFlags(m *model.Model, want map[string]bool, dir string) error {
	state := map[bool]string{true: "trainable", false: "frozen"}
	for _, v := range m.Variables() {
		if w, ok := want[v.Path()]; ok && w != v.Trainable {
			comp := model.ComponentOf(v.Path())
			return fmt.Errorf("train: resume from %s: %s is %s in the checkpoint, %s under the model config (trainable.%s: %s): resume with the model config the run started with",
				dir, v.Path(), state[v.Trainable], state[w], comp, m.Cfg.Trainable.Setting(comp))
		}
	}
	return nil
}
