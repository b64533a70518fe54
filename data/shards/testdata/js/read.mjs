// Reads a data/shards dataset with apache-arrow (no Go code involved) and
// prints, per shard, its rows with the fields js_test.go compares.
// Usage: node read.mjs DIR
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { tableFromIPC, compressionRegistry, CompressionType } from 'apache-arrow';
import { decompress as zstdDecompress } from 'fzstd';
import lz4 from 'lz4js';

compressionRegistry.set(CompressionType.ZSTD, { decode: (b) => zstdDecompress(b) });
compressionRegistry.set(CompressionType.LZ4_FRAME, { decode: (b) => Uint8Array.from(lz4.decompress(b)) });

const sha256 = (b) => createHash('sha256').update(b).digest('hex');

const dir = process.argv[2];
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const out = { frame_size: Number(manifest.frame_size), shards: [] };
for (const s of manifest.shards) {
  const table = tableFromIPC(readFileSync(join(dir, s.name)));
  const col = (name) => table.getChild(name);
  const [id, mos, crf, m, k, ctx, patches, pos, seed, pw, ph, fstats] =
    ['id', 'mos', 'crf', 'm', 'k', 'context', 'patches', 'patch_pos', 'sampler_seed', 'pixel_w', 'pixel_h', 'frame_stats'].map(col);
  const rows = [];
  for (let i = 0; i < table.numRows; i++) {
    const p = pos.get(i);
    const positions = [];
    for (let j = 0; j < (p ? p.length : 0); j++) {
      const r = p.get(j);
      positions.push([r.frame, r.x, r.y]);
    }
    rows.push({
      id: id.get(i),
      mos: mos.get(i),
      crf: crf.get(i),
      m: m.get(i),
      k: k.get(i),
      pixel_w: pw.get(i),
      pixel_h: ph.get(i),
      context_sha256: sha256(ctx.get(i)),
      patches_sha256: sha256(patches.get(i)),
      positions,
      sampler_seed: seed.get(i).toString(),
      frame_stats: Array.from(fstats.get(i) ?? []),
    });
  }
  out.shards.push({ name: s.name, rows: table.numRows, batches: table.batches.length, records: rows });
}
process.stdout.write(JSON.stringify(out) + '\n');
