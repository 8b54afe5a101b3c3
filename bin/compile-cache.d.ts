// Types of compile-cache.js for the TypeScript that imports it (its tests).
export declare const COMPILE_CACHE_DIR: string;
export declare function sourceFiles(dir?: string, prefix?: string): string[];
export declare function compileKey(files: string[], contents: Uint8Array[], srcDir?: string): string;
export declare function fallbackNotice(error: unknown): string;
export declare function compiledModule(
  entry: string,
  options?: { srcDir?: string; cacheDir?: string; warn?: (line: string) => void },
): Promise<URL | null>;
