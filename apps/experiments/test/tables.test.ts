import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import MarkdownIt from 'markdown-it';
import { describe, expect, it } from 'vitest';
import {
  type ExperimentResult,
  mdText,
  type ReportInput,
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
      [
        '| Method | Share |',
        '|---|---:|',
        '| a\\|b | 0.50 |',
        '| &lt;script&gt;x&lt;/script&gt; | 1.00 |',
      ].join('\n'),
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
      expect(md.startsWith('# Table 9: &lt;b&gt;shares&lt;/b&gt; &amp; more\n\n| Method | Share |\n')).toBe(
        true,
      );
      expect(md).toContain('*Paper:* The paper says a \\| b &lt; c.');
      expect(md).not.toMatch(/<\/?(b|script)>/);
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
    const i = md.indexOf('### Table 9: &lt;b&gt;shares&lt;/b&gt; &amp; more');
    expect(i).toBeGreaterThan(md.indexOf('## EX: Example'));
    const part = md.slice(i, md.indexOf('### Deviations'));
    expect(part).toContain(tableMarkdown(table));
    expect(part).toContain('- PASS: Claim about table 9. Measured: m &lt;1&gt;');
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

describe('report.md shows user-controlled text as text', () => {
  // e.g. `--generator '/tmp/<script>alert(1)</script>.ckpt'`: the path reaches a figure title, a
  // deviation, a claim and the runs table
  const evil = '/tmp/x<script>alert(1)</script>`|*_[a](javascript:b)&amp;.ckpt';
  const input = {
    profile: 'quick',
    summary: {
      profile: 'quick',
      baseProfile: 'quick' as const,
      backend: { name: 'cpu', requested: 'cpu', description: `cpu ${evil}` },
      versions: {},
      runs: { planned: 1, failed: [] },
      analysisErrors: [],
      claims: {},
    },
    invocation: {
      startedAt: '',
      finishedAt: '',
      wallSeconds: 0,
      executor: 'inline',
      counts: { planned: 1, skipped: 0, executed: 1, byOthers: 0, failed: 0 },
      runs: [
        {
          experiment: 'e3',
          id: 'abc',
          label: `L_P from 0° (${evil})`,
          seed: 0,
          outcome: 'executed',
          wallSeconds: 1,
          dir: `/out/${evil}`,
          host: null,
          timings: {},
        },
      ],
    },
    experiments: [
      {
        id: 'e3',
        title: 'Rotated MNIST',
        complete: true,
        runs: 1,
        summary: {},
        figures: [
          {
            def: {
              name: 'figure-e3-generator-samples',
              title: `Generator samples (${evil})`,
              paperCaption: `Samples of ${evil}`,
              spec: { data: { values: [] }, mark: 'point' },
              rows: [],
            },
            files: {
              name: 'figure-e3-generator-samples',
              svg: '/r/figures/figure-e3-generator-samples.svg',
              png: '/r/figures/figure-e3-generator-samples.png',
              csv: '/r/figures/figure-e3-generator-samples.csv',
              spec: '/r/figures/figure-e3-generator-samples.vl.json',
            },
          },
        ],
        tables: [],
        claims: [
          {
            id: 'c1',
            paper: `Claim about ${evil}`,
            test: '# not a heading',
            measured: `- not a list ${evil}`,
            values: {},
            status: 'fail' as const,
            figures: ['figure-e3-generator-samples'],
            note: 'too short to show: 12 L_P steps < the 600 of the default profile',
          },
        ],
        deviations: [`Generator ${evil} instead of the paper's`],
      },
    ],
  } satisfies ReportInput;

  it('no raw HTML, links or formatting from those strings when rendered by a CommonMark renderer (raw HTML on)', () => {
    const md = renderMarkdown(input);
    expect(md).not.toMatch(/<script/i);
    // render as GitHub-flavoured Markdown would, raw HTML allowed: the strings come out as text
    const html = new MarkdownIt({ html: true, linkify: false }).render(md);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/href="javascript/i);
    // the report's own emphasis is `*Paper:*`; none comes from the strings' `*` or `_`
    expect(html.replace(/<em>Paper:<\/em>/g, '')).not.toContain('<em>');
    const text = html.replace(/<[^>]+>/g, '');
    const shown = (s: string) =>
      s
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&amp;/g, '&');
    const page = shown(text);
    // every place the path went shows it exactly, as written
    expect(page.split(evil).length - 1).toBeGreaterThanOrEqual(6);
    expect(page).toContain('# not a heading');
    expect(page).toContain('- not a list');
    // the quick profile's FAIL carries its note
    expect(page).toContain(
      'FAIL (quick profile: too short to show: 12 L_P steps < the 600 of the default profile)',
    );
    // the runs table kept its seven columns (the pipes in the path did not split cells)
    const runRow = md.split('\n').find((l) => l.startsWith('| e3 |'))!;
    expect(runRow.replace(/\\\|/g, '').split('|').length - 2).toBe(7);
  });

  it('report.html says the same, escaped', () => {
    const html = renderHtml(input);
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain(
      '(quick profile: too short to show: 12 L_P steps &lt; the 600 of the default profile)',
    );
  });
});

describe('mdText', () => {
  it('keeps L_P readable (an underscore inside a word never emphasizes) and escapes the rest', () => {
    const s = 'L_P vs _ELBO_ and *x* 1. [y](z) ‖J_t − J_0‖_F';
    expect(mdText(s)).toBe('L_P vs \\_ELBO\\_ and \\*x\\* 1. [y\\](z) ‖J_t − J_0‖\\_F');
    expect(mdText('[0.00, 0.66]')).toBe('\\[0.00, 0.66]');
    expect(mdText('x [0.00, 0.66] y')).toBe('x [0.00, 0.66] y');
    expect(new MarkdownIt().render(mdText('[a]: http://evil.example'))).not.toContain('href');
    const html = new MarkdownIt().renderInline(mdText(s));
    expect(html).toBe('L_P vs _ELBO_ and *x* 1. [y](z) ‖J_t − J_0‖_F');
    expect(mdText('1. not a list')).toBe('1\\. not a list');
    expect(mdText('0.50')).toBe('0.50');
  });
});
