package model

import "fmt"

// Sequence lays out the text of one example: the task's prompt, then the
// answer after a space (its words are word-initial pieces, "▁good"). answerPos is the position whose next-token prediction is the
// answer's first token (the last prompt token); visual tokens and [bos] are
// placed before the text by Hidden. The result is cut to input.max_text_len.
func (m *Model) Sequence(task Task, answer string) (tokens []int, answerPos int, err error) {
	var prompt string
	switch task {
	case TaskScore:
		prompt = m.Cfg.Prompts.Score
	case TaskDescribe:
		prompt = m.Cfg.Prompts.Describe
	case TaskPair:
		prompt = m.Cfg.Prompts.Pair
	default:
		return nil, 0, fmt.Errorf("sequence: unknown task %v", task)
	}
	p := m.Tok.Encode(prompt)
	if len(p) == 0 {
		return nil, 0, fmt.Errorf("sequence: empty prompt for task %v", task)
	}
	tokens = p[:len(p):len(p)]
	if answer != "" {
		tokens = append(tokens, m.Tok.Encode(answerSep+answer)...)
	}
	if task != TaskDescribe {
		tokens = append(tokens, m.EOS)
	}
	if limit := m.Cfg.Input.MaxTextLen; len(tokens) > limit {
		if len(p) >= limit {
			return nil, 0, fmt.Errorf("sequence: prompt of %d tokens does not fit input.max_text_len %d", len(p), limit)
		}
		tokens = tokens[:limit]
	}
	return tokens, len(p) - 1, nil
}
