/** The repository root, whether this file runs from bench/ (tsx) or from bench/.build/bench/ (compiled). */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const marker = `${'/bench/.build/'}`;
export const REPO_ROOT = here.includes(marker) ? here.slice(0, here.indexOf(marker)) : resolve(here, '..', '..');
export const BENCH_DIR = resolve(REPO_ROOT, 'bench');
export const BUILD_DIR = resolve(BENCH_DIR, '.build');
export const repoPath = (...parts: string[]): string => resolve(REPO_ROOT, ...parts);
