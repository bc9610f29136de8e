/**
 * Tables of the paper as files: `tables/<name>.csv` (the numbers) and `tables/<name>.md` (the
 * displayed table with its title, the paper's claim and notes), both written atomically, and the
 * Markdown / HTML renderings the report embeds.
 */
import { join } from 'node:path';
import { toCsv } from '@gcvi/plots';
import { ConfigError } from '@gcvi/runtime';
import { writeFileAtomic } from '../store/atomic.js';
import type { TableDef } from './types.js';

export interface WrittenTable {
  readonly name: string;
  readonly csv: string;
  readonly md: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Check a table's shape: a safe file stem, at least one column, one cell per column in every row. */
export function validateTable(def: TableDef, where = 'table'): void {
  if (typeof def.name !== 'string' || !NAME.test(def.name))
    throw new ConfigError(
      `${where}.name`,
      `must be a file stem of letters, digits, '.', '-', '_' (got ${JSON.stringify(def.name)})`,
    );
  const at = `${where} '${def.name}'`;
  if (def.columns.length === 0) throw new ConfigError(`${at}.columns`, 'must name at least one column');
  if (def.align && def.align.length !== def.columns.length)
    throw new ConfigError(`${at}.align`, `has ${def.align.length} entries for ${def.columns.length} columns`);
  def.cells.forEach((row, i) => {
    if (row.length !== def.columns.length)
      throw new ConfigError(`${at}.cells[${i}]`, `has ${row.length} cells for ${def.columns.length} columns`);
  });
}

const WORD = /^[\p{L}\p{N}]$/u;

/**
 * Markdown text that shows exactly as written, on one line: no raw HTML (`<`, `>`, `&` become
 * entities, so a path holding `<script>` stays text), Markdown punctuation that could format or
 * link (`\\`, `` ` ``, `*`, `|`, `_` except inside a word, `]` before `(`, `[` or `:`, a leading `[`)
 * backslash-escaped, a leading block marker
 * (`# `, `+ `, `- `, `==`, `1. `) escaped, newlines folded. Safe in paragraphs, headings, list items,
 * image alt text and table cells.
 */
export function mdText(s: string): string {
  return (
    s
      .replace(/[\\`*|]/g, (c) => `\\${c}`)
      // brackets only where they could make a link, image or reference: `](`, `][`, `]:`, leading `[`
      .replace(/\](?=[([:])/g, '\\]')
      .replace(/^\[/, '\\[')
      // an underscore between two letters or digits (L_P, J_0) never emphasizes: left as it is
      .replace(/_/g, (c, at: number, all: string) =>
        WORD.test(all[at - 1] ?? '') && WORD.test(all[at + 1] ?? '') ? c : `\\${c}`,
      )
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/\r?\n/g, ' ')
      .replace(/^[#+=-](?=[\s#+=-]|$)/, '\\$&')
      .replace(/^(\d+)([.)])(?=\s|$)/, '$1\\$2')
  );
}

/** Escape a Markdown table cell (see `mdText`: pipes, backslashes and HTML kept literal, newlines folded). */
export function mdCell(s: string): string {
  return mdText(s);
}

/**
 * A Markdown code span showing `s` literally: fenced by more backticks than any run inside it.
 * `inTable`: also escape `|` (GFM splits table cells on it even inside code spans).
 */
export function mdCode(s: string, inTable = false): string {
  let t = s.replace(/\r?\n/g, ' ');
  if (inTable) t = t.replace(/\|/g, '\\|');
  const longest = Math.max(0, ...[...t.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = t.startsWith('`') || t.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${t}${pad}${fence}`;
}

/** Escape text for HTML content and attribute values. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const MD_ALIGN = { left: '---', right: '---:', center: ':---:' } as const;

/** The pipe table alone (header, alignment row, one line per row), without a trailing newline. */
export function tableMarkdown(def: TableDef): string {
  validateTable(def);
  const align = def.columns.map((_, i) => MD_ALIGN[def.align?.[i] ?? 'left']);
  return [
    `| ${def.columns.map(mdCell).join(' | ')} |`,
    `|${align.join('|')}|`,
    ...def.cells.map((row) => `| ${row.map(mdCell).join(' | ')} |`),
  ].join('\n');
}

/** The HTML `<table>` (every text escaped). */
export function tableHtml(def: TableDef): string {
  validateTable(def);
  const style = (i: number) => {
    const a = def.align?.[i] ?? 'left';
    return a === 'left' ? '' : ` style="text-align:${a}"`;
  };
  const head = def.columns.map((c, i) => `<th${style(i)}>${escapeHtml(c)}</th>`).join('');
  const body = def.cells.map(
    (row) => `<tr>${row.map((c, i) => `<td${style(i)}>${escapeHtml(c)}</td>`).join('')}</tr>`,
  );
  return [`<table class="data"><thead><tr>${head}</tr></thead><tbody>`, ...body, '</tbody></table>'].join(
    '\n',
  );
}

/** `tables/<name>.md`: title, table, the paper's claim, notes, and where the numbers are. */
export function tableFileMarkdown(def: TableDef): string {
  const L = [`# ${mdText(def.title)}`, '', tableMarkdown(def), ''];
  if (def.paperCaption) L.push(`*Paper:* ${mdText(def.paperCaption)}`, '');
  for (const n of def.notes ?? []) L.push(mdText(n), '');
  L.push(`Numbers: [\`${def.name}.csv\`](${def.name}.csv)`, '');
  return L.join('\n');
}

/** Write `<dir>/<name>.csv` and `<dir>/<name>.md` atomically (the table is validated first). */
export function writeTable(dir: string, def: TableDef): WrittenTable {
  validateTable(def);
  const files = { name: def.name, csv: join(dir, `${def.name}.csv`), md: join(dir, `${def.name}.md`) };
  writeFileAtomic(files.csv, toCsv(def.rows));
  writeFileAtomic(files.md, tableFileMarkdown(def));
  return files;
}
