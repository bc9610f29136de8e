/**
 * @gcvi/plots — Vega-Lite figures rendered to SVG and PNG without a browser (vega + resvg), with
 * their data written beside them, and spec builders for posterior diagnostics.
 */
export {
  type FigureDef,
  type RenderedFigure,
  renderVegaLite,
  toCsv,
  type WrittenFigure,
  writeFigure,
} from './render.js';
export {
  type CoverageInput,
  coverageSpec,
  type FigureSpec,
  type PairPlotOptions,
  pairPlotSpec,
  type SbcEcdfInput,
  type SbcEcdfOptions,
  sbcEcdfSpec,
} from './specs.js';
