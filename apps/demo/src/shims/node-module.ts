/**
 * Browser stand-in for `node:module` (see vite.config.ts): `createRequire` returns a `require`
 * that throws, naming the module, if anything ever calls it in the browser.
 */
export function createRequire(_from: string | URL): (id: string) => never {
  return (id: string) => {
    throw new Error(`require('${id}') is not available in the browser`);
  };
}
