import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type ExperimentResult,
  renderHtml,
  renderMarkdown,
  type TableDef,
  tableHtml,
  tableMarkdown,
  writeTable,
} from '../src/index.js';

const table: TableDef = {
  name: 'table-9',
  title: 'Table 9: <b>shares</b> & more',
  paperCaption: 'The paper says a | b < c.',
  columns: ['Method', 'Share'],
  align: ['left', 'right'],
  cells: [
    ['a|b', '0.50'],
    ['<script>x</script>', '1.00'],
  ],
  notes: ['Note "one".'],
  rows: [
    { method: 'a|b', share: 0.5 },
    { method: 'x, "y"', share: Number.NaN },
  ],
};

describe('tables', () => {
  it('renders a pipe table with escaped pipes and the column alignment', () => {
    expect(tableMarkdown(table)).toBe(
      ['| Method | Share |', '|---|---:|', '| a\\|b | 0.50 |', '| <script>x</script> | 1.00 |'].join('\n'),
    );
  });

  it('renders an HTML table with every text escaped', () => {
    const h = tableHtml(table);
    expect(h).toContain('<th>Method</th><th style="text-align:right">Share</th>');
    expect(h).toContain('<td>&lt;script&gt;x&lt;/script&gt;</td><td style="text-align:right">1.00</td>');
    expect(h).not.toContain('<script>');
  });

  it('writes <name>.csv (the numbers) and <name>.md (title, table, paper, notes) and no temporary files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gcvi-tab-'));
    try {
      const files = writeTable(join(dir, 'tables'), table);
      expect(files.csv).toBe(join(dir, 'tables', 'table-9.csv'));
      expect(readFileSync(files.csv, 'utf8')).toBe('method,share\na|b,0.5\n"x, ""y""",\n');
      const md = readFileSync(files.md, 'utf8');
      expect(md.startsWith('# Table 9: <b>shares</b> & more\n\n| Method | Share |\n')).toBe(true);
      expect(md).toContain('*Paper:* The paper says a | b < c.');
      expect(md).toContain('Note "one".');
      expect(readdirSync(join(dir, 'tables')).sort()).toEqual(['table-9.csv', 'table-9.md']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a malformed table is one error naming the table and the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gcvi-tab-'));
    try {
      expect(() => writeTable(dir, { ...table, cells: [['only one']] })).toThrow(
        /table 'table-9'\.cells\[0\].*1 cells for 2 columns/,
      );
      expect(() => writeTable(dir, { ...table, name: '../evil' })).toThrow(/table\.name/);
      expect(() => writeTable(dir, { ...table, align: ['left'] })).toThrow(/table 'table-9'\.align/);
      expect(() => writeTable(dir, { ...table, columns: [], cells: [] })).toThrow(/columns/);
      expect(existsSync(join(dir, 'table-9.csv'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the report shows an experiment's tables in its section with the claims about them", () => {
    const exp: ExperimentResult = {
      id: 'ex',
      title: 'Example',
      complete: true,
      runs: 1,
      summary: {},
      figures: [],
      tables: [
        { def: table, files: { name: 'table-9', csv: '/r/tables/table-9.csv', md: '/r/tables/table-9.md' } },
      ],
      claims: [
        {
          id: 'c1',
          paper: 'Claim about table 9.',
          test: 't',
          measured: 'm <1>',
          values: {},
          status: 'pass',
          figures: ['table-9'],
        },
        {
          id: 'c2',
          paper: 'Claim about something else.',
          test: 't',
          measured: 'm',
          values: {},
          status: 'fail',
          figures: ['figure-3'],
        },
      ],
      deviations: [],
    };
    const input = {
      profile: 'quick',
      summary: {
        profile: 'quick',
        baseProfile: 'quick' as const,
        backend: { name: 'cpu', requested: 'cpu', description: 'cpu' },
        versions: {},
        runs: { planned: 0, failed: [] },
        analysisErrors: [],
        claims: {},
      },
      invocation: {
        startedAt: '',
        finishedAt: '',
        wallSeconds: 0,
        executor: 'inline',
        counts: { planned: 0, skipped: 0, executed: 0, byOthers: 0, failed: 0 },
        runs: [],
      },
      experiments: [exp],
    };
    const md = renderMarkdown(input);
    const i = md.indexOf('### Table 9: <b>shares</b> & more');
    expect(i).toBeGreaterThan(md.indexOf('## EX: Example'));
    const part = md.slice(i, md.indexOf('### Deviations'));
    expect(part).toContain(tableMarkdown(table));
    expect(part).toContain('- PASS: Claim about table 9. Measured: m <1>');
    expect(part).not.toContain('Claim about something else');
    expect(part).toContain('[`tables/table-9.csv`](tables/table-9.csv)');
    const html = renderHtml(input);
    expect(html).toContain('<h3>Table 9: &lt;b&gt;shares&lt;/b&gt; &amp; more</h3>');
    expect(html).toContain(tableHtml(table));
    expect(html).toContain('<p><b>Paper:</b> The paper says a | b &lt; c.</p>');
    expect(html).toContain('Claim about table 9. <i>Measured:</i> m &lt;1&gt;');
    expect(html).toContain('href="tables/table-9.md"');
    // The report's own scripts (live figures) are there; the table's text never appears raw.
    expect(html).not.toContain('<script>x</script>');
    expect(html).toContain('&lt;script&gt;x&lt;/script&gt;');
  });
});
