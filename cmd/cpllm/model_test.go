package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// tinyDecoder are configs/model/tiny.yaml's decoder counts, worked out by
// hand from its sizes (vocab 512, width 128, 2 layers, 4 query heads and 1
// key/value head of 32, GeGLU 512; LoRA rank 4 on q, k, v):
//
//	base: embed 512*128 + 2 * (2 norms 2*128 + q 128*128 + k, v 2*128*32
//	      + o 128*128 + gate, up 2*128*512 + down 512*128) + norm 128 = 541312
//	adapters: 2 layers * 4 * ((128+128) + 2*(128+32)) = 4608
const tinyDecoderBase, tinyAdapters = 541312, 4608

type listRow struct {
	Name       string `json:"name"`
	Total      int64  `json:"total"`
	Trainable  int64  `json:"trainable"`
	Frozen     int64  `json:"frozen"`
	Components []struct {
		Component string `json:"component"`
		Setting   string `json:"setting"`
		Total     int64  `json:"total"`
		Trainable int64  `json:"trainable"`
	} `json:"components"`
}

func modelList(t *testing.T, sets ...string) []listRow {
	t.Helper()
	args := append([]string{"model", "list", "--json", "--set", "model_config=../../configs/model/tiny.yaml"}, sets...)
	out, err := run(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	var rows []listRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return rows
}

// `model list` counts each variant under the configured trainable setting:
// the decoder's trainable count follows trainable.decoder, a frozen encoder
// moves its parameters from trainable to frozen, and the components add up.
func TestModelListTrainable(t *testing.T) {
	want := map[string]int64{"lora": tinyAdapters, "full": tinyDecoderBase + tinyAdapters, "frozen": 0}
	var lora []listRow
	for _, setting := range []string{"lora", "full", "frozen"} {
		rows := modelList(t, "--set", "model.trainable.decoder="+setting)
		if setting == "lora" {
			lora = rows
		}
		for _, r := range rows {
			var total, trainable int64
			for _, c := range r.Components {
				total += c.Total
				trainable += c.Trainable
				if c.Component == "decoder" {
					if c.Setting != setting || c.Total != tinyDecoderBase+tinyAdapters || c.Trainable != want[setting] {
						t.Errorf("%s, decoder %s: %+v, want total %d, trainable %d", r.Name, setting, c, tinyDecoderBase+tinyAdapters, want[setting])
					}
				}
			}
			if total != r.Total || trainable != r.Trainable || r.Total-r.Trainable != r.Frozen {
				t.Errorf("%s: components %d/%d vs %+v", r.Name, trainable, total, r)
			}
		}
	}
	frozenCtx := modelList(t, "--set", "model.trainable.context_encoder=frozen")
	for i, r := range frozenCtx {
		var ctx int64
		for _, c := range r.Components {
			if c.Component == "context_encoder" {
				ctx = c.Total
				if c.Trainable != 0 || c.Setting != "frozen" {
					t.Errorf("%s: frozen context encoder %+v", r.Name, c)
				}
			}
		}
		if strings.HasPrefix(r.Name, "pixel-only") != (ctx == 0) {
			t.Errorf("%s: context encoder has %d parameters", r.Name, ctx)
		}
		if r.Trainable != lora[i].Trainable-ctx || r.Total != lora[i].Total {
			t.Errorf("%s: trainable %d with the context encoder frozen, %d without (context encoder %d)", r.Name, r.Trainable, lora[i].Trainable, ctx)
		}
	}
	if _, err := run(t, "model", "list", "--set", "model_config=../../configs/model/tiny.yaml", "--set", "model.trainable.pixel_encoder=lora"); err == nil || !strings.Contains(err.Error(), "trainable.pixel_encoder") {
		t.Errorf("lora on the pixel encoder: got %v, want an error naming trainable.pixel_encoder", err)
	}
	out, err := run(t, "model", "list", "--set", "model_config=../../configs/model/tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"decoder lora", "context+pixel/concat by component:", "component", "setting", "projectors"} {
		if !strings.Contains(out, s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}
}
