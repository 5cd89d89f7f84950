// Generates docs/protocol.md §9.1, every error class a public entry point exports with every code
// it can carry, from where each is declared (so the list is never a hand copy that drifts):
//
//  * a class whose codes are a union, `readonly code: XCode;`, declared in its own file as
//      export type XCode =
//        | "FIRST" //  what it means
//        | "LAST"; //  what it means
//    (every member needs its comment: the generator refuses a union with a member that has none);
//  * a class with one code, `readonly code = "X" as const;`, whose meaning is its doc comment;
//  * PeerHandshakeError, whose codes, meanings and fields are the hand-written protocol table at
//    the top of §9 (the reference's variants): listed by name, and the test checks that table
//    against PeerHandshakeErrorCode member for member.
//
// Which entry exports which class is test/snapshots/exports.json, which test/node/exports.test.ts
// keeps equal to the built package's exports. The block sits between
//   <!-- generated:error-codes by scripts/gen-error-codes.ts -->  and  <!-- /generated:error-codes -->
// `node --import tsx scripts/gen-error-codes.ts` rewrites it; test/node/error-codes.test.ts
// regenerates it and compares.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT, writeWhenRunAsProgram } from "./generated-file.js";

export const PROTOCOL_PATH = "docs/protocol.md";
const GENERATOR = "scripts/gen-error-codes.ts";
export const START_MARKER = `<!-- generated:error-codes by ${GENERATOR} -->`;
export const END_MARKER = "<!-- /generated:error-codes -->";
/** The class whose codes are §9's hand-written table. */
export const PROTOCOL_TABLE_CLASS = "PeerHandshakeError";
/** Codes on the wire that no class carries: the HTTP server's own answers (an error body's `code`). */
export const ANSWER_CODE_UNIONS = [{ type: "HandshakeServerAnswerCode", file: "src/http/errors.ts", entry: "chio-trust/http", title: "`createHandshakeServer`'s own answers" }] as const;

export interface CodeEntry {
  code: string;
  meaning: string;
}

export interface ErrorClass {
  name: string;
  /** Source file, relative to the repository root. */
  file: string;
  /** The class's doc comment, flattened to one line. */
  summary: string;
  /** Entry points that export it, in the snapshot's order. */
  entries: string[];
  /** Its codes; for PROTOCOL_TABLE_CLASS, meanings are empty (§9's table has them). */
  codes: CodeEntry[];
}

/** Text of a `/** … *\/` comment without its markers and leading stars, on one line. */
function flattenDocComment(comment: string): string {
  return comment
    .replace(/^\/\*\*/, "")
    .replace(/\*\/$/, "")
    .split("\n")
    .map((line) => line.replace(/^\s*\*\s?/, "").trim())
    .filter((line) => line.length > 0)
    .join(" ");
}

/**
 * The members of `export type <typeName> = | "A" // meaning …;` in `source`, each with its line
 * comment. Throws if the union is missing, or a member is not a string literal, or (unless
 * `requireMeaning` is false) has no comment.
 */
export function parseCodeUnion(source: string, typeName: string, requireMeaning = true): CodeEntry[] {
  const start = source.search(new RegExp(`^export type ${typeName} =\\s*$`, "m"));
  if (start < 0) throw new Error(`no union "export type ${typeName} =" on a line of its own`);
  const lines = source.slice(start).split("\n").slice(1);
  const entries: CodeEntry[] = [];
  for (const line of lines) {
    const member = /^\s*\|\s*"([A-Z0-9_]+)"(;?)\s*(?:\/\/\s*(\S.*))?$/.exec(line);
    if (member === null || (requireMeaning && member[3] === undefined)) {
      throw new Error(`${typeName}: a member that is not a string literal with its meaning: ${JSON.stringify(line.trim())}`);
    }
    entries.push({ code: member[1], meaning: (member[3] ?? "").trim() });
    if (member[2] === ";") return entries;
  }
  throw new Error(`${typeName}: the union does not end`);
}

/** The doc comment right above the declaration at `declarationStart` in `source` (a class or a type), flattened (empty if none). */
function docCommentAbove(source: string, declarationStart: number): string {
  const before = source.slice(0, declarationStart).trimEnd();
  if (!before.endsWith("*/")) return "";
  return flattenDocComment(before.slice(before.lastIndexOf("/**")));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(relative);
    return entry.name.endsWith(".ts") ? [relative] : [];
  });
}

/** Entry point → exported names (test/snapshots/exports.json). */
function exportsSnapshot(): Record<string, string[]> {
  return JSON.parse(readFileSync(path.join(REPO_ROOT, "test/snapshots/exports.json"), "utf8")) as Record<string, string[]>;
}

/** Every error class an entry point exports, with its codes, in the order of the snapshot's entries. */
export function collectErrorClasses(): ErrorClass[] {
  const snapshot = exportsSnapshot();
  const exportedBy = new Map<string, string[]>();
  for (const [entry, names] of Object.entries(snapshot)) {
    for (const name of names) if (/Error$/.test(name)) exportedBy.set(name, [...(exportedBy.get(name) ?? []), entry]);
  }
  const found = new Map<string, ErrorClass>();
  for (const file of sourceFiles("src")) {
    const source = readFileSync(path.join(REPO_ROOT, file), "utf8");
    for (const match of source.matchAll(/^export class (\w+)(?:<[^>]*>)? extends (?:Error|TypeError|RangeError) \{$/gm)) {
      const name = match[1];
      const entries = exportedBy.get(name);
      if (entries === undefined) continue; // internal (the CLI's, the HTTP server's refusals)
      const body = source.slice(match.index!);
      const fields = body.slice(0, body.indexOf("constructor")); // the class's members before its constructor
      const single = /^\s*readonly code = "([A-Z0-9_]+)" as const;$/m.exec(fields);
      const union = /^\s*readonly code: (\w+);$/m.exec(fields);
      const summary = docCommentAbove(source, match.index!);
      if (summary === "") throw new Error(`${name} (${file}) has no doc comment`);
      let codes: CodeEntry[];
      if (name === PROTOCOL_TABLE_CLASS) codes = parseCodeUnion(source, "PeerHandshakeErrorCode", false).map(({ code }) => ({ code, meaning: "" }));
      else if (single !== null) codes = [{ code: single[1], meaning: summary }];
      else if (union !== null) codes = parseCodeUnion(source, union[1]);
      else throw new Error(`${name} (${file}): no "readonly code = \\"X\\" as const;" or "readonly code: XCode;" before its constructor`);
      found.set(name, { name, file, summary, entries, codes });
    }
  }
  const missing = [...exportedBy.keys()].filter((name) => !found.has(name));
  if (missing.length > 0) throw new Error(`exported error classes not found under src/: ${missing.join(", ")}`);
  const entryOrder = Object.keys(snapshot);
  return [...found.values()].sort((a, b) => entryOrder.indexOf(a.entries[0]) - entryOrder.indexOf(b.entries[0]) || a.name.localeCompare(b.name));
}

const cell = (text: string) => text.replace(/\|/g, "\\|");

/** The generated block, markers included. */
export function renderErrorCodes(classes: ErrorClass[] = collectErrorClasses()): string {
  const out = [
    START_MARKER,
    "",
    "### §9.1 Every error class and its codes",
    "",
    "Every error class a public entry point exports, with every `code` it can carry; codes are",
    "stable, messages are not. Generated from the declarations in `src/` (each code union's member",
    "comments, each single-code class's doc comment) by `scripts/gen-error-codes.ts`; a test",
    "regenerates it. Then the codes of the HTTP server's own answers. The command line's codes and",
    "exit statuses are in the README (The command line).",
    "",
  ];
  for (const c of classes) {
    const heading = `**\`${c.name}\`** (${c.entries.map((e) => `\`${e}\``).join(", ")}; \`${c.file}\`)`;
    if (c.codes.length === 1 && c.codes[0].meaning === c.summary) {
      out.push(`${heading}, code \`${c.codes[0].code}\`: ${c.summary}`, "");
      continue;
    }
    out.push(`${heading}: ${c.summary}`, "");
    if (c.name === PROTOCOL_TABLE_CLASS) {
      out.push(`Codes: ${c.codes.map((e) => `\`${e.code}\``).join(", ")}; meanings and fields in the table at the top of §9.`, "");
      continue;
    }
    out.push("| code | meaning |", "|---|---|");
    for (const e of c.codes) out.push(`| \`${e.code}\` | ${cell(e.meaning)} |`);
    out.push("");
  }
  for (const union of ANSWER_CODE_UNIONS) {
    const source = readFileSync(path.join(REPO_ROOT, union.file), "utf8");
    const summary = docCommentAbove(source, source.search(new RegExp(`^export type ${union.type} =`, "m")));
    out.push(`**${union.title}** (\`${union.type}\`, \`${union.entry}\`; \`${union.file}\`): ${summary}`, "");
    out.push("| code | meaning |", "|---|---|");
    for (const e of parseCodeUnion(source, union.type)) out.push(`| \`${e.code}\` | ${cell(e.meaning)} |`);
    out.push("");
  }
  out.push(END_MARKER);
  return out.join("\n");
}

/** docs/protocol.md with its generated block replaced by a fresh one. */
export function regenerateProtocol(text: string = readFileSync(path.join(REPO_ROOT, PROTOCOL_PATH), "utf8")): string {
  const start = text.indexOf(START_MARKER);
  const end = text.indexOf(END_MARKER);
  if (start < 0 || end < start) throw new Error(`${PROTOCOL_PATH} has no ${START_MARKER} … ${END_MARKER} block`);
  return text.slice(0, start) + renderErrorCodes() + text.slice(end + END_MARKER.length);
}

writeWhenRunAsProgram(import.meta.url, PROTOCOL_PATH, () => regenerateProtocol());
