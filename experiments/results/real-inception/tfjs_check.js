// Runs nsfwjs's InceptionV3 (a TF.js layers model, exported by
// deploy/tfjs-export.js) in TF.js itself on one 299x299 RGB image (raw
// bytes) and prints the first 8 channel means of mixed0, mixed5 and mixed10
// and the class probabilities, to check probe.py's PyTorch network against:
//   npm install @tensorflow/tfjs@4   (in a scratch directory)
//   ffmpeg -i IMAGE -vf scale=299:299 -f rawvideo -pix_fmt rgb24 img299.rgb
//   node tfjs_check.js TFJS_DIR img299.rgb
const tf = require("@tensorflow/tfjs");
const fs = require("fs");
const path = require("path");
const dir = process.argv[2];
const handler = {
  load: async () => {
    const m = JSON.parse(fs.readFileSync(path.join(dir, "model.json")));
    const specs = [], bufs = [];
    for (const g of m.weightsManifest) {
      specs.push(...g.weights);
      for (const p of g.paths) bufs.push(fs.readFileSync(path.join(dir, p + ".bin")));
    }
    const all = Buffer.concat(bufs);
    return { modelTopology: m.modelTopology, weightSpecs: specs, weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.length) };
  },
};
(async () => {
  const model = await tf.loadLayersModel(handler);
  const raw = fs.readFileSync(process.argv[3]);
  const x = tf.tensor(Float32Array.from(raw, (v) => v / 255), [1, 299, 299, 3]);
  const out = {};
  for (const name of ["mixed0", "mixed5", "mixed10"]) {
    const sub = tf.model({ inputs: model.inputs, outputs: model.getLayer(name).output });
    out[name] = Array.from(sub.predict(x).mean([1, 2]).dataSync()).slice(0, 8);
  }
  out.probs = Array.from(model.predict(x).dataSync());
  console.log(JSON.stringify(out));
})();
