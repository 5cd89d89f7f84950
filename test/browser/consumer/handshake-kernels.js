// The two kernels of the browser tier's handshake over HTTP: the page (checks.js) and the kernel
// that serves it (scripts/test-browser-consumers.mjs, chio-trust/http on the same origin). Test
// seeds, published here on purpose: each side derives the other's public key from them.
export const PAGE_KERNEL = { id: "kernel.browser-page", seed: "a2cd2b3bd0de5ae289c5f0b4fbbdf6d3f549fe450d5d68a4b40d7fcc6e098de3" };
export const SERVING_KERNEL = { id: "kernel.loopback", seed: "78a54d781af2e205b84d63585aa47144ae206aa0f963f3de2f03daa7c905b23d" };
