/** deploy/grafana/dashboard.json, typed just enough for the tests. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const DASHBOARD_PATH = resolve(import.meta.dirname, '../../deploy/grafana/dashboard.json');

export interface Target {
  readonly expr: string;
  readonly refId: string;
}
export interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly targets?: readonly Target[];
}
export interface Dashboard {
  readonly schemaVersion: number;
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: ReadonlyArray<{ readonly name: string; readonly type: string; readonly definition?: string }> };
}

export function dashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard;
}

export function dashboardExprs(): string[] {
  return dashboard().panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
}
