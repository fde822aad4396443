#!/usr/bin/env node
// The `movierec` executable: runs the TypeScript entry point through tsx (the workspace packages export source).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
