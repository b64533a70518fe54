package train

// HoldoutSet is the validation part of one score source of a recipe.
type HoldoutSet struct {
	Source string   // the data source's name
	Shards string   // its shard directory
	IDs    []string // its held-out records with a score label
	Fit    []string // its other records with a score label (what a run trains the score task on)
}

// HoldoutIDs draws the recipe's holdout as a run of it does: the records a
// run validates on, per score source (nil without a data section or holdout).
// Evaluations outside training (a sweep's validation-pool figures) score the
// same records with it.
func HoldoutIDs(c Config) ([]HoldoutSet, error) {
	if len(c.Data) == 0 || c.Holdout.Fraction <= 0 {
		return nil, nil
	}
	p, err := openPool(c.Data, c.Holdout, c.Seed)
	if err != nil {
		return nil, err
	}
	var out []HoldoutSet
	for i, ids := range p.valIDs {
		if len(ids) > 0 {
			out = append(out, HoldoutSet{Source: c.Data[i].Name, Shards: c.Data[i].Shards, IDs: ids, Fit: p.fitIDs[i]})
		}
	}
	return out, nil
}
