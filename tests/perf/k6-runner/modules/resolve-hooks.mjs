// Module resolution hooks for a VU worker: `import … from 'k6'` / 'k6/http' resolve to the runner's shims.
// data: { 'k6': fileURL, 'k6/http': fileURL } (registered by vu-boot.mjs).
let map = {};
export function initialize(data) {
  map = data;
}
export async function resolve(specifier, context, next) {
  if (Object.hasOwn(map, specifier)) return { url: map[specifier], shortCircuit: true };
  if (specifier === 'k6' || specifier.startsWith('k6/')) {
    throw new Error(
      `module "${specifier}" is not implemented by the k6 runner (it has ${Object.keys(map).join(', ')}); run the script with real k6`,
    );
  }
  return next(specifier, context);
}
