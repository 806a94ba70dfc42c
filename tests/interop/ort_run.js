// Runs an ONNX model with ONNX Runtime (onnxruntime-node, CPU, one thread) on raw float32 inputs.
// Usage: node ort_run.js MODEL.onnx X.f32 FEATURES OUT.f32
// Writes the logits (N × classes, float32) to OUT.f32 and prints "ort <model>: N x classes".
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, xPath, featuresText, outPath] = process.argv.slice(2);
  const features = Number(featuresText);
  const buf = fs.readFileSync(xPath);
  const x = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const n = x.length / features;
  const session = await ort.InferenceSession.create(model, {intraOpNumThreads: 1, interOpNumThreads: 1});
  const parts = [];
  const batch = 1000;
  for (let i = 0; i < n; i += batch) {
    const rows = Math.min(batch, n - i);
    const input = new ort.Tensor('float32', x.subarray(i * features, (i + rows) * features), [rows, features]);
    const result = await session.run({[session.inputNames[0]]: input});
    parts.push(Float32Array.from(result[session.outputNames[0]].data));
  }
  const classes = parts[0].length / Math.min(batch, n);
  const out = new Float32Array(n * classes);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  fs.writeFileSync(outPath, Buffer.from(out.buffer));
  console.log(`ort ${model}: ${n} x ${classes}`);
}

main().catch((e) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
