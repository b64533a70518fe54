package train

import (
	"context"

	"github.com/cpllm/cpllm/feed"
	"github.com/cpllm/cpllm/model"
)

// mixture draws each batch of one task from one of several sources' streams,
// chosen with probability proportional to the sources' weights. The choice of
// batch d is a function of (seed, d) alone, so a position is the number of
// batches drawn plus each source stream's own position. Whole batches come
// from one source: every stream keeps its own prefetching and collation, and
// over a run the mix matches the weights.
type mixture struct {
	streams []taskStream
	cum     []float64 // cumulative normalised weights
	seed    uint64
	draws   int
}

func newMixture(streams []taskStream, weights []float64, seed uint64, pos StreamPos) *mixture {
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	m := &mixture{streams: streams, seed: seed, draws: pos.Consumed}
	acc := 0.0
	for _, w := range weights {
		acc += w / sum
		m.cum = append(m.cum, acc)
	}
	return m
}

// pick is the source of batch d.
func (m *mixture) pick(d int) int {
	u := float64(splitmix(m.seed^0x6d6978^uint64(d)*0x9e3779b97f4a7c15)>>11) / (1 << 53)
	for i, c := range m.cum {
		if u < c {
			return i
		}
	}
	return len(m.cum) - 1
}

// Batch implements taskStream.
func (m *mixture) Batch(ctx context.Context, br *feed.Bridge, n int) (*model.Batch, error) {
	s := m.streams[m.pick(m.draws)]
	b, err := s.Batch(ctx, br, n)
	if err != nil {
		return nil, err
	}
	m.draws++
	return b, nil
}

// Pos implements taskStream: the batches drawn, and each source's position.
func (m *mixture) Pos() StreamPos {
	p := StreamPos{Consumed: m.draws, Sub: make([]StreamPos, len(m.streams))}
	for i, s := range m.streams {
		p.Sub[i] = s.Pos()
	}
	return p
}

// Close implements taskStream.
func (m *mixture) Close() {
	for _, s := range m.streams {
		s.Close()
	}
}
