package train

import (
	"reflect"
	"testing"

	"github.com/cpllm/cpllm/model"
)

// TestTaskTable: each task's entry is complete, and its TaskMix field and
// metrics.jsonl loss column are the ones named after it (yaml "score",
// json "loss_score", ...), one each.
func TestTaskTable(t *testing.T) {
	if n := reflect.TypeFor[TaskMix]().NumField(); n != numTasks {
		t.Fatalf("TaskMix has %d fields for %d tasks", n, numTasks)
	}
	for i, def := range tasks {
		task := model.Task(i)
		if def.field == nil || def.loss == nil || def.open == nil {
			t.Fatalf("task %s: incomplete entry", task)
		}
		var mix TaskMix
		*def.field(&mix) = 1
		v := reflect.ValueOf(mix)
		for f := range v.NumField() {
			tag := v.Type().Field(f).Tag.Get("yaml")
			if set := v.Field(f).Float() != 0; set != (tag == task.String()) {
				t.Fatalf("task %s sets TaskMix field %s (yaml %q)", task, v.Type().Field(f).Name, tag)
			}
		}
		var m StepMetrics
		x := 1.0
		*def.loss(&m) = &x
		sv := reflect.ValueOf(m)
		n := 0
		for f := range sv.NumField() {
			if sv.Field(f).Kind() != reflect.Pointer || sv.Field(f).IsNil() {
				continue
			}
			n++
			if tag := sv.Type().Field(f).Tag.Get("json"); tag != "loss_"+task.String()+",omitempty" {
				t.Fatalf("task %s writes its loss to %s", task, tag)
			}
		}
		if n != 1 {
			t.Fatalf("task %s sets %d loss columns", task, n)
		}
	}
}
