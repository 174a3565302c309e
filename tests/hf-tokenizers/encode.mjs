// Reference encoder for io.sparkseek.data.tokenizer parity tests: HuggingFace tokenizers (Rust, napi binding).
// Usage: node encode.mjs <tokenizer.json> <inputs.json> <out.json>
//   inputs.json: a JSON array of strings.
//   out.json: a JSON array with, per input, {ids: encode(s, add_special_tokens=false),
//             idsSpecial: encode(s, add_special_tokens=true), decoded: decode(ids, skip_special_tokens=false)}.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';

const require = createRequire(import.meta.url);
const { Tokenizer } = require('tokenizers');

const [tokenizerPath, inputsPath, outPath] = process.argv.slice(2);
if (!tokenizerPath || !inputsPath || !outPath) {
  console.error('usage: node encode.mjs <tokenizer.json> <inputs.json> <out.json>');
  process.exit(2);
}
const tok = Tokenizer.fromFile(tokenizerPath);
const inputs = JSON.parse(readFileSync(inputsPath, 'utf8'));
const out = [];
for (const text of inputs) {
  const plain = await tok.encode(text, null, { addSpecialTokens: false });
  const special = await tok.encode(text, null, { addSpecialTokens: true });
  const ids = Array.from(plain.getIds());
  const decoded = await tok.decode(ids, false);
  out.push({ ids, idsSpecial: Array.from(special.getIds()), decoded });
}
writeFileSync(outPath, JSON.stringify(out));
