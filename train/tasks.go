package train

import (
	"context"

	"github.com/cpllm/cpllm/data/shards"
	"github.com/cpllm/cpllm/feed"
	"github.com/cpllm/cpllm/model"
)

// taskStream draws one task's training batches from the training shards.
type taskStream interface {
	// Batch returns the next n items collated by br.
	Batch(ctx context.Context, br *feed.Bridge, n int) (*model.Batch, error)
	Pos() StreamPos // what a checkpoint records to resume the stream
	Close()
}

// taskDef is what training knows of one task; adding a task is adding an
// entry to tasks (and its model.Task).
type taskDef struct {
	// field is the task's number in a TaskMix (mix ratio, loss weight).
	field func(*TaskMix) *float64
	// loss is the task's own loss column of a metrics.jsonl step line.
	loss func(*StepMetrics) **float64
	// open starts the task's stream at pos; seed is the recipe's seed plus
	// the task's index; records whose id is in held (the validation holdout)
	// never enter it.
	open func(ds *shards.Dataset, seed uint64, pos StreamPos, c Config, src Source, held map[string]bool) (taskStream, error)
}

const numTasks = 3

// tasks are indexed by model.Task.
var tasks = [numTasks]taskDef{
	model.TaskScore: {
		field: func(m *TaskMix) *float64 { return &m.Score },
		loss:  func(s *StepMetrics) **float64 { return &s.LossScore },
		open: func(ds *shards.Dataset, seed uint64, pos StreamPos, c Config, _ Source, held map[string]bool) (taskStream, error) {
			keep := func(r *shards.Record) bool { return feed.Usable(r) && !held[r.ID] }
			return newRecordStream(ds, seed, c.ShuffleWindow, keep, "score", pos, (*feed.Bridge).ScoreBatch), nil
		},
	},
	model.TaskDescribe: {
		field: func(m *TaskMix) *float64 { return &m.Describe },
		loss:  func(s *StepMetrics) **float64 { return &s.LossDescribe },
		open: func(ds *shards.Dataset, seed uint64, pos StreamPos, c Config, _ Source, held map[string]bool) (taskStream, error) {
			// Canonical text opens with the quality sentence, which only a
			// labelled record has; unlabelled ladder rungs (most of a
			// video pool) would teach the model to leave it out.
			hasDesc := func(r *shards.Record) bool {
				return r.Description != "" && !held[r.ID] && (c.DescribeText != "canonical" || feed.Usable(r))
			}
			return newRecordStream(ds, seed, c.ShuffleWindow, hasDesc, "describe", pos, (*feed.Bridge).DescribeBatch), nil
		},
	},
	model.TaskPair: {
		field: func(m *TaskMix) *float64 { return &m.Pair },
		loss:  func(s *StepMetrics) **float64 { return &s.LossPair },
		open: func(ds *shards.Dataset, seed uint64, pos StreamPos, c Config, src Source, held map[string]bool) (taskStream, error) {
			return newPairStream(ds, seed, pos, 2*c.BatchSize, held, src.PairKinds)
		},
	},
}

// of is the number of task in t.
func (t TaskMix) of(task model.Task) float64 { return *tasks[task].field(&t) }
