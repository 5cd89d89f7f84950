// Names and a clock reading shared by the handshake suites: kernel ids as chio deployments spell
// them, and a fixed "now" (unix seconds) well inside the safe-integer range.
//
// Not a suite: uvu imports every file under test/, this one included; it registers no tests.

/** The fixed clock reading of the handshake suites (2027-01-15, unix seconds). */
export const NOW = 1_800_000_000;
export const A = "kernel.org-a";
export const B = "kernel.org-b";
export const C = "kernel.org-c";
export const X = "kernel.org-x";
export const Y = "kernel.org-y";
export const LOCAL = "kernel.org-local";
