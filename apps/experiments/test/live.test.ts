import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  LIVE_LIBRARIES,
  liveAssets,
  liveBootHtml,
  liveFigureHtml,
  liveHeadHtml,
  scriptJson,
} from '../src/pipeline/live.js';

const spec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  data: { values: [{ a: 1, b: '</script><script>alert(1)</script>' }] },
  mark: 'point',
  encoding: { x: { field: 'a', type: 'quantitative' } },
};

describe('liveFigureHtml', () => {
  it('inlines the spec so that the script element cannot be closed by the data, and keeps the SVG', () => {
    const html = liveFigureHtml({ name: 'figure-1', spec, svg: 'figures/figure-1.svg', alt: 'A & B' });
    expect(html).toContain('id="live-figure-1"');
    expect(html).toContain('data-live="pending"');
    expect(html).toContain('<img class="gcvi-live-fallback" src="figures/figure-1.svg" alt="A &#38; B">');
    // Only the closing tag of the spec's own element.
    expect(html.match(/<\/script>/g)).toHaveLength(1);
    const json = html.slice(
      html.indexOf('gcvi-live-spec">') + 'gcvi-live-spec">'.length,
      html.indexOf('</script>'),
    );
    expect(JSON.parse(json)).toEqual(spec);
  });

  it('rejects url data, naming where it is', () => {
    const bad = { layer: [{ mark: 'line' }, { data: { url: 'data.csv' }, mark: 'rule' }] };
    expect(() => liveFigureHtml({ name: 'f', spec: bad, svg: 'f.svg' })).toThrow(/layer\[1\]\.data\.url/);
    expect(() => liveFigureHtml({ name: 'f', spec: { data: { url: 'x' } }, svg: 'f.svg' })).toThrow(
      /'f'.*data\.url/,
    );
  });

  it('rejects names that are no element id, and a missing SVG', () => {
    expect(() => liveFigureHtml({ name: 'a b', spec, svg: 'f.svg' })).toThrow(/name/);
    expect(() => liveFigureHtml({ name: 'ok', spec, svg: '' })).toThrow(/svg/);
  });
});

describe('scriptJson', () => {
  it('round-trips through JSON.parse with no < > & left', () => {
    const v = { s: '<!-- </script> & \u2028 >' };
    const out = scriptJson(v);
    expect(out).not.toMatch(/[<>&\u2028]/);
    expect(JSON.parse(out)).toEqual(v);
  });
});

describe('liveAssets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gcvi-live-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('copies the three browser builds (and licences) that liveHeadHtml loads', () => {
    const copied = liveAssets(dir);
    expect(copied.map((c) => c.pkg)).toEqual(LIVE_LIBRARIES.map((l) => l.pkg));
    const head = liveHeadHtml();
    for (const c of copied) {
      expect(existsSync(c.path)).toBe(true);
      expect(head).toContain(`<script src="${c.href}"></script>`);
      expect(existsSync(join(dir, 'live', `${c.pkg}.LICENSE.txt`))).toBe(true);
      expect(c.version).toMatch(/^\d+\.\d+\.\d+/);
    }
    // UMD builds define the globals the boot script uses.
    expect(readFileSync(join(dir, 'live', 'vega-embed.min.js'), 'utf8')).toContain('vegaEmbed');
    // Copying again overwrites in place.
    expect(liveAssets(dir).map((c) => c.path)).toEqual(copied.map((c) => c.path));
  });

  it('boots every live figure and marks it ok or failed', () => {
    const boot = liveBootHtml();
    expect(boot).toContain("querySelectorAll('figure.gcvi-live')");
    expect(boot).toContain("setAttribute('data-live', 'ok')");
    expect(boot).toContain("setAttribute('data-live', 'failed')");
  });
});
