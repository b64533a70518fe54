package model

// Independent float64 references in plain Go loops, for numerics_test.go.
// Layout conventions: activations are row-major [N, T, D]; weights [in, out].

import "math"

type mat = [][]float64 // [rows][cols]

func newMat(r, c int) mat {
	m := make(mat, r)
	for i := range m {
		m[i] = make([]float64, c)
	}
	return m
}

// toMat reshapes a flat slice to [r][c].
func toMat(flat []float64, r, c int) mat {
	m := newMat(r, c)
	for i := range r {
		copy(m[i], flat[i*c:(i+1)*c])
	}
	return m
}

// refLinear: x [T][in] W [in][out] (+ b).
func refLinear(x mat, w mat, b []float64) mat {
	out := newMat(len(x), len(w[0]))
	for t := range x {
		for o := range w[0] {
			s := 0.0
			for i := range w {
				s += x[t][i] * w[i][o]
			}
			if b != nil {
				s += b[o]
			}
			out[t][o] = s
		}
	}
	return out
}

func refAdd(a, b mat) mat {
	out := newMat(len(a), len(a[0]))
	for i := range a {
		for j := range a[i] {
			out[i][j] = a[i][j] + b[i][j]
		}
	}
	return out
}

func refLayerNorm(x mat, w, b []float64, eps float64) mat {
	out := newMat(len(x), len(x[0]))
	for t, row := range x {
		mean, v := 0.0, 0.0
		for _, a := range row {
			mean += a
		}
		mean /= float64(len(row))
		for _, a := range row {
			v += (a - mean) * (a - mean)
		}
		v /= float64(len(row))
		for i, a := range row {
			out[t][i] = (a-mean)/math.Sqrt(v+eps)*w[i] + b[i]
		}
	}
	return out
}

// refRMSNorm is Gemma's: x / sqrt(mean(x^2) + eps) * (1 + w).
func refRMSNorm(x mat, w []float64, eps float64) mat {
	out := newMat(len(x), len(x[0]))
	for t, row := range x {
		ms := 0.0
		for _, a := range row {
			ms += a * a
		}
		ms /= float64(len(row))
		for i, a := range row {
			out[t][i] = a / math.Sqrt(ms+eps) * (1 + w[i])
		}
	}
	return out
}

func refGelu(a float64) float64 {
	return 0.5 * a * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(a+0.044715*a*a*a)))
}

// refGeGLU: down(gelu(x gate) * (x up)).
func refGeGLU(x, gate, up, down mat) mat {
	g, u := refLinear(x, gate, nil), refLinear(x, up, nil)
	for t := range g {
		for i := range g[t] {
			g[t][i] = refGelu(g[t][i]) * u[t][i]
		}
	}
	return refLinear(g, down, nil)
}

// refRoPE rotates one head's [T][hd] in the rotate-half convention.
func refRoPE(x mat, theta float64) mat {
	hd := len(x[0])
	half := hd / 2
	out := newMat(len(x), hd)
	for p := range x {
		for i := range half {
			ang := float64(p) * math.Pow(theta, -2*float64(i)/float64(hd))
			c, s := math.Cos(ang), math.Sin(ang)
			x1, x2 := x[p][i], x[p][i+half]
			out[p][i] = x1*c - x2*s
			out[p][i+half] = x2*c + x1*s
		}
	}
	return out
}

// head extracts head h ([T][hd]) from [T][H*hd].
func head(x mat, h, hd int) mat {
	out := newMat(len(x), hd)
	for t := range x {
		copy(out[t], x[t][h*hd:(h+1)*hd])
	}
	return out
}

// refAttention: q [Tq][H*hd], k, v [Tk][KV*hd]; query head h uses kv head h/(H/KV);
// mask[i][j] false -> excluded. Returns [Tq][H*hd].
func refAttention(q, k, v mat, heads, kvHeads, hd int, mask [][]bool, rope float64) mat {
	out := newMat(len(q), heads*hd)
	for h := range heads {
		kvh := h / (heads / kvHeads)
		qh, kh, vh := head(q, h, hd), head(k, kvh, hd), head(v, kvh, hd)
		if rope > 0 {
			qh, kh = refRoPE(qh, rope), refRoPE(kh, rope)
		}
		for i := range qh {
			logits := make([]float64, len(kh))
			mx := math.Inf(-1)
			for j := range kh {
				if mask != nil && !mask[i][j] {
					logits[j] = math.Inf(-1)
					continue
				}
				s := 0.0
				for d := range hd {
					s += qh[i][d] * kh[j][d]
				}
				logits[j] = s / math.Sqrt(float64(hd))
				mx = math.Max(mx, logits[j])
			}
			sum := 0.0
			for j := range logits {
				logits[j] = math.Exp(logits[j] - mx)
				sum += logits[j]
			}
			for j := range logits {
				for d := range hd {
					out[i][h*hd+d] += logits[j] / sum * vh[j][d]
				}
			}
		}
	}
	return out
}

func causal(t int) [][]bool {
	m := make([][]bool, t)
	for i := range m {
		m[i] = make([]bool, t)
		for j := 0; j <= i; j++ {
			m[i][j] = true
		}
	}
	return m
}

// weights gives a reference access to variables by path suffix.
type weights map[string]varValue

type varValue struct {
	data []float64
	dims []int
}

func (w weights) vec(path string) []float64 { return w[path].data }
func (w weights) mat(path string) mat {
	v := w[path]
	return toMat(v.data, v.dims[0], v.dims[1])
}

// refViTBlock: SigLIP pre-LN block on one item x [T][D].
func refViTBlock(x mat, w weights, p string, heads int, eps float64) mat {
	d := len(x[0])
	lin := func(in mat, name string) mat { return refLinear(in, w.mat(p+name+"/weight"), w.vec(p+name+"/bias")) }
	h := refLayerNorm(x, w.vec(p+"layer_norm1/weight"), w.vec(p+"layer_norm1/bias"), eps)
	a := refAttention(lin(h, "self_attn/q_proj"), lin(h, "self_attn/k_proj"), lin(h, "self_attn/v_proj"),
		heads, heads, d/heads, nil, 0)
	x = refAdd(x, lin(a, "self_attn/out_proj"))
	h = refLayerNorm(x, w.vec(p+"layer_norm2/weight"), w.vec(p+"layer_norm2/bias"), eps)
	f := lin(h, "mlp/fc1")
	for t := range f {
		for i := range f[t] {
			f[t][i] = refGelu(f[t][i])
		}
	}
	return refAdd(x, lin(f, "mlp/fc2"))
}

// refLoRALinear: x W + scale x A B (A, B may be absent).
func refLoRALinear(x mat, w weights, p string, scale float64) mat {
	y := refLinear(x, w.mat(p+"/weight"), nil)
	if _, ok := w[p+"/lora_A"]; ok {
		d := refLinear(refLinear(x, w.mat(p+"/lora_A"), nil), w.mat(p+"/lora_B"), nil)
		for t := range y {
			for i := range y[t] {
				y[t][i] += scale * d[t][i]
			}
		}
	}
	return y
}

// refDecoderBlock: Gemma block (causal self-attention with RoPE, GQA, LoRA) on one item x [T][D].
func refDecoderBlock(x mat, w weights, p string, heads, kvHeads, hd int, theta, eps, loraScale float64) mat {
	h := refRMSNorm(x, w.vec(p+"input_layernorm/weight"), eps)
	proj := func(in mat, name string) mat { return refLoRALinear(in, w, p+"self_attn/"+name, loraScale) }
	a := refAttention(proj(h, "q_proj"), proj(h, "k_proj"), proj(h, "v_proj"), heads, kvHeads, hd, causal(len(x)), theta)
	x = refAdd(x, proj(a, "o_proj"))
	h = refRMSNorm(x, w.vec(p+"post_attention_layernorm/weight"), eps)
	return refAdd(x, refGeGLU(h, w.mat(p+"mlp/gate_proj/weight"), w.mat(p+"mlp/up_proj/weight"), w.mat(p+"mlp/down_proj/weight")))
}
