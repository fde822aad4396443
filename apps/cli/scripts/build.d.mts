/** Folder of the precompiled CLI bundle (apps/cli/dist). */
export declare const distDir: string;
/** dist/inputs.json: every bundled source file with its modification time when the bundle was built. */
export declare const manifestPath: string;
/** Builds dist/ with esbuild; resolves to the number of bundled source files. */
export declare function buildCli(): Promise<number>;
/** True when dist/ exists and none of its source files changed since it was built. */
export declare function distIsFresh(): boolean;
