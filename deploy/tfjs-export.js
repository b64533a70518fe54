// Writes a TF.js layers model that an npm package ships as JavaScript
// modules (model.min.js exporting {modelTopology, weightsManifest}, and
// one module per weight shard exporting its bytes as base64) in the plain
// TF.js format: OUT/model.json and OUT/<shard>.bin. model/mobilenet reads
// that format. usage: node tfjs-export.js MODEL_DIR OUT_DIR
"use strict";
const fs = require("fs"), path = require("path");
const [dir, out] = process.argv.slice(2);
if (!dir || !out) {
  console.error("usage: node tfjs-export.js MODEL_DIR OUT_DIR");
  process.exit(2);
}
const m = require(path.resolve(dir, "model.min.js"));
if (!m.modelTopology || !m.weightsManifest) {
  console.error(`${dir}/model.min.js: no modelTopology/weightsManifest`);
  process.exit(1);
}
fs.mkdirSync(out, { recursive: true });
for (const group of m.weightsManifest) {
  for (const p of group.paths) {
    const b64 = require(path.resolve(dir, p + ".min.js"));
    if (typeof b64 !== "string") {
      console.error(`${dir}/${p}.min.js: not a base64 string`);
      process.exit(1);
    }
    fs.writeFileSync(path.join(out, p + ".bin"), Buffer.from(b64, "base64"));
  }
}
fs.writeFileSync(path.join(out, "model.json"), JSON.stringify({ modelTopology: m.modelTopology, weightsManifest: m.weightsManifest }));
