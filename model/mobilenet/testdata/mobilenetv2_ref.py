"""Reference for model/mobilenet: MobileNetV2 (Sandler et al. 2018, the Keras
applications layout, alpha 1.0) in PyTorch, written from the published
architecture with unfolded batch norms; loads a TF.js layers model (model.json
plus uint8/float32 shards). Checked by hand against TF.js itself on the nsfwjs
weights (class probabilities equal to 1e-6).

usage: mobilenetv2_ref.py WEIGHTS_DIR INPUT.f32 N H W  -> JSON: per-image features
(each stage's per-channel spatial mean, then population std), as model/mobilenet
orders them."""
import json, os, numpy as np, torch, torch.nn.functional as F

# (expansion t, output channels c, repeats n, first stride s): Table 2 of the paper.
CFG = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

def load_tfjs(d):
    m = json.load(open(os.path.join(d, 'model.json')))
    W = {}
    for g in m['weightsManifest']:
        buf = b''.join(open(os.path.join(d, p if os.path.splitext(p)[1] else p + '.bin'), 'rb').read() for p in g['paths'])
        off = 0
        for w in g['weights']:
            n = int(np.prod(w['shape']))
            q = w.get('quantization')
            if q:
                assert q['dtype'] == 'uint8', q
                a = np.frombuffer(buf, np.uint8, n, off).astype(np.float64) * q['scale'] + q['min']
                off += n
            else:
                a = np.frombuffer(buf, np.float32, n, off).astype(np.float64); off += 4 * n
            W[w['name']] = torch.tensor(a.reshape(w['shape']), dtype=torch.float32)
    return W

def bn(x, W, name, eps=1e-3):
    g, b, mu, var = (W[f'{name}/{k}'] for k in ('gamma', 'beta', 'moving_mean', 'moving_variance'))
    return (x - mu[None, :, None, None]) / torch.sqrt(var[None, :, None, None] + eps) * g[None, :, None, None] + b[None, :, None, None]

def conv(x, k, stride=1):  # keras kernel [kh, kw, in, out]; 'valid' padding
    return F.conv2d(x, k.permute(3, 2, 0, 1), stride=stride)

def dwconv(x, k, stride):  # keras depthwise kernel [kh, kw, in, 1]; same padding when stride 1, explicit (0,1) pad when 2
    if stride == 1:
        x = F.pad(x, (1, 1, 1, 1))
    else:
        x = F.pad(x, (0, 1, 0, 1))
    return F.conv2d(x, k.permute(2, 3, 0, 1), stride=stride, groups=x.shape[1])

relu6 = lambda x: torch.clamp(x, 0, 6)

def forward(x, W):
    """x: [N,3,H,W] in [0,1]. Returns list of (name, feature map) after each stage and the final 1280-channel map."""
    outs = []
    x = relu6(bn(conv(F.pad(x, (0, 1, 0, 1)), W['Conv1/kernel'], 2), W, 'bn_Conv1'))
    cin, blk = 32, 0
    for t, c, n, s in CFG:
        for i in range(n):
            stride = s if i == 0 else 1
            p = 'expanded_conv' if blk == 0 else f'block_{blk}'
            h = x
            if t != 1:
                h = relu6(bn(conv(h, W[f'{p}_expand/kernel']), W, f'{p}_expand_BN'))
            h = relu6(bn(dwconv(h, W[f'{p}_depthwise/depthwise_kernel'], stride), W, f'{p}_depthwise_BN'))
            h = bn(conv(h, W[f'{p}_project/kernel']), W, f'{p}_project_BN')
            x = x + h if (stride == 1 and cin == c) else h
            cin, blk = c, blk + 1
        outs.append((p, x))
    x = relu6(bn(conv(x, W['Conv_1/kernel']), W, 'Conv_1_bn'))
    outs.append(('out_relu', x))
    return outs

def classify(x224, W):
    f = forward(x224, W)[-1][1].mean((2, 3))
    h = F.relu(f @ W['dense_1/kernel'] + W['dense_1/bias'])
    h = F.relu(h @ W['dense_2/kernel'] + W['dense_2/bias'])
    return torch.softmax(h @ W['dense_3/kernel'] + W['dense_3/bias'], -1)


if __name__ == '__main__':
    import sys
    d, inp, n, h, w = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
    torch.set_num_threads(1)
    W = load_tfjs(d)
    x = torch.tensor(np.fromfile(inp, np.float32).reshape(n, h, w, 3)).permute(0, 3, 1, 2)
    with torch.no_grad():
        feats = [torch.cat([f.mean((2, 3)), f.std((2, 3), unbiased=False)], 1) for _, f in forward(x, W)]
    print(json.dumps(torch.cat(feats, 1).double().numpy().tolist()))
