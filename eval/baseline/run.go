package baseline

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/cpllm/cpllm/data/describe"
	"github.com/cpllm/cpllm/data/nss"
	"github.com/cpllm/cpllm/model/mobilenet"
)

// Clip is one labelled input of ExtractAll.
type Clip struct {
	ID, Path string
	MOS      float64
	Where    string // label file:line, for errors
}

// ExtractAll returns the features of every clip, in clips' order, taking
// valid entries from cache and extracting (jobs at once) and caching the
// rest. done is called once per clip finished, cached or not. The first
// failure stops the run; what finished before it stays cached.
func ExtractAll(ctx context.Context, clips []Clip, cache *Cache, frames, jobs int, deep *Deep, done func(int)) ([]ClipFeatures, error) {
	out := make([]ClipFeatures, len(clips))
	var todo []int
	deepName := ""
	if deep != nil {
		deepName = deep.Name
	}
	for i, c := range clips {
		if cf, ok := cache.Get(c.ID, c.Path, frames, deepName); ok {
			out[i] = cf
			done(1)
			continue
		}
		todo = append(todo, i)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		next  = make(chan int)
	)
	fail := func(err error) { once.Do(func() { first = err; cancel() }) }
	for range max(1, min(jobs, len(todo))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c := clips[i]
				cf, err := ExtractDeep(c.ID, c.Path, frames, deep)
				if err == nil {
					err = cache.Put(cf)
				}
				if err != nil {
					fail(fmt.Errorf("clip %q (%s): %w", c.ID, c.Where, err))
					continue
				}
				out[i] = cf
				done(1)
			}
		}()
	}
feed:
	for _, i := range todo {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// CommonNames lists, in canonical order (bit rate, NSS, then the describe
// signals), the features every clip has: stills have no bit rate, so a set
// mixing them drops it.
func CommonNames(sets ...[]ClipFeatures) []string {
	var names []string
	for _, n := range slices.Concat(BitrateNames, nss.NSSNames, describe.SignalNames, mobilenet.FeatureNames()) {
		all := true
		for _, s := range sets {
			for _, cf := range s {
				if _, ok := cf.Features[n]; !ok {
					all = false
				}
			}
		}
		if all {
			names = append(names, n)
		}
	}
	return names
}

// NewSet arranges clips' features as rows over names, with their MOS.
func NewSet(clips []ClipFeatures, mos []float64, names []string) (Set, error) {
	if len(clips) != len(mos) {
		return Set{}, fmt.Errorf("baseline: %d clips but %d MOS values", len(clips), len(mos))
	}
	s := Set{IDs: make([]string, len(clips)), MOS: append([]float64{}, mos...), X: make([][]float64, len(clips))}
	for i, cf := range clips {
		s.IDs[i] = cf.ID
		row := make([]float64, len(names))
		for j, n := range names {
			v, ok := cf.Features[n]
			if !ok {
				return Set{}, fmt.Errorf("baseline: clip %q (%s) has no feature %q", cf.ID, cf.Path, n)
			}
			row[j] = v
		}
		s.X[i] = row
	}
	return s, nil
}

// Evaluate runs every baseline of Baselines(names) under the protocols
// asked for: train -> test when test has clips, k-fold CV over train when
// cv >= 2, leave-one-out over train when loo. Results are grouped by
// protocol, baselines in Baselines order.
func Evaluate(train, test Set, names []string, cv int, loo bool, o Options) ([]Result, error) {
	bs := Baselines(names)
	var out []Result
	add := func(r Result, err error) error {
		if err != nil {
			return err
		}
		out = append(out, r)
		return nil
	}
	if len(test.IDs) > 0 {
		for _, b := range bs {
			if err := add(TrainTest(b, names, train, test, o)); err != nil {
				return nil, err
			}
		}
	}
	if cv >= 2 {
		for _, b := range bs {
			if err := add(CrossVal(b, names, train, min(cv, len(train.IDs)), o)); err != nil {
				return nil, err
			}
		}
	}
	if loo {
		for _, b := range bs {
			if err := add(CrossVal(b, names, train, len(train.IDs), o)); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
