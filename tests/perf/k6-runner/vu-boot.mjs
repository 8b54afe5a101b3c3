// Entry of a VU worker thread: the k6 module shims, TypeScript (tsx), then the VU itself. The k6 hooks are
// registered first so that tsx's resolver (which runs first, being registered last) hands them the bare
// 'k6' specifiers and then loads the .ts shims they point at.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

register('./modules/resolve-hooks.mjs', import.meta.url, {
  data: {
    k6: new URL('./modules/k6.ts', import.meta.url).href,
    'k6/http': new URL('./modules/k6-http.ts', import.meta.url).href,
  },
});
registerTsx();
await import('./vu.ts');
