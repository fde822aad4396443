import { fileURLToPath } from 'node:url';

/** The web page's folder (this app's `static/`), served at / by `main.ts`. */
export const staticDir = fileURLToPath(new URL('../static', import.meta.url));
