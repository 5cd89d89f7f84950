import { copyOfRange } from "./src/bytes.js";
const src = new Uint8Array(85000); for (let i = 0; i < src.length; i++) src[i] = i * 7;
const slice = Uint8Array.prototype.slice;
const variants: [string, (s: number, e: number) => Uint8Array][] = [
  ["copyOfRange", (s, e) => copyOfRange(src, s, e)],
  ["slice.call", (s, e) => slice.call(src, s, e)],
  ["new+loop", (s, e) => { const c = new Uint8Array(e - s); for (let i = 0; i < e - s; i++) c[i] = src[s + i]; return c; }],
  ["new+set(subarray)", (s, e) => { const c = new Uint8Array(e - s); c.set(src.subarray(s, e)); return c; }],
];
let sink = 0;
for (const len of [32, 64, 169]) for (const [name, f] of variants) {
  for (let i = 0; i < 200000; i++) sink += f((i * 613) % 80000, (i * 613) % 80000 + len).length;
  const rs: number[] = [];
  for (let r = 0; r < 7; r++) { const t = performance.now(); for (let i = 0; i < 200000; i++) sink += f((i * 613) % 80000, (i * 613) % 80000 + len).length; rs.push((performance.now() - t) / 200000 * 1e6); }
  rs.sort((a, b) => a - b); console.log(len, name, rs[3].toFixed(0), "ns");
}
console.log(sink > 0);
