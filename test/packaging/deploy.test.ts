/**
 * Static checks of the deployment files: the Kubernetes manifests (parsed with PyYAML, which this
 * machine kind ships as python3-yaml), the Dockerfile and the systemd unit agree with the schema.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_FILE_ENV } from '../../src/config/load.js';
import { collectKeys } from '../../scripts/gen-config-doc.js';
import { loadExample, SECRET_PATH } from './load-example.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (rel: string) => readFileSync(join(ROOT, rel), 'utf8');

/** Every variable the watchdog reads. */
const KNOWN_ENV = new Set([...collectKeys().flatMap((k) => (k.env ? [k.env] : [])), CONFIG_FILE_ENV]);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed YAML, checked by the assertions
type Obj = Record<string, any>;

const PY = ['python3', '/usr/bin/python3'].find(
  (py) => spawnSync(py, ['-c', 'import yaml'], { encoding: 'utf8' }).status === 0,
);

function yamlDocs(rel: string): Obj[] {
  const r = spawnSync(PY!, ['-c', 'import json, sys, yaml; json.dump([d for d in yaml.safe_load_all(open(sys.argv[1])) if d], sys.stdout)', join(ROOT, rel)], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`cannot parse ${rel}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Obj[];
}

function kind(docs: Obj[], k: string): Obj[] {
  return docs.filter((d) => d['kind'] === k);
}

/** Env of a container as a plain map: literal values with $(VAR) expanded, secretKeyRef from the Secret. */
function envOf(container: Obj, secrets: Obj[], fieldRefs: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container['env'] ?? []) {
    if (typeof e.value === 'string') env[e.name] = e.value.replace(/\$\((\w+)\)/g, (_m: string, v: string) => env[v] ?? `$(${v})`);
    else if (e.valueFrom?.fieldRef) env[e.name] = fieldRefs[e.valueFrom.fieldRef.fieldPath] ?? '';
    else if (e.valueFrom?.secretKeyRef) {
      const ref = e.valueFrom.secretKeyRef;
      const secret = secrets.find((s) => s['metadata'].name === ref.name);
      const value = secret?.['stringData']?.[ref.key];
      if (value === undefined && !ref.optional) throw new Error(`secret ${ref.name}/${ref.key} missing`);
      if (value !== undefined && value !== '') env[e.name] = value;
    }
  }
  return env;
}

function watchdogContainer(workload: Obj): Obj {
  const c = (workload['spec'].template.spec.containers as Obj[]).find((x) => x['name'] === 'connect-watchdog');
  if (!c) throw new Error('no connect-watchdog container');
  return c;
}

function checkWatchdogContainer(workload: Obj, docs: Obj[]): void {
  const pod = workload['spec'].template.spec;
  const c = watchdogContainer(workload);
  const portName = (c['ports'] as Obj[]).find((p) => p['containerPort'] === 9847)?.['name'];
  expect(portName).toBeDefined();
  expect(c['livenessProbe'].httpGet).toEqual({ path: '/healthz', port: portName });
  expect(c['readinessProbe'].httpGet).toEqual({ path: '/readyz', port: portName });
  const sc = c['securityContext'];
  expect(sc.runAsNonRoot).toBe(true);
  expect(sc.runAsUser).toBeGreaterThan(0);
  expect(sc.readOnlyRootFilesystem).toBe(true);
  expect(sc.allowPrivilegeEscalation).toBe(false);
  expect(sc.capabilities.drop).toEqual(['ALL']);
  expect(c['resources'].requests.memory).toBeDefined();
  expect(c['resources'].limits.memory).toBeDefined();
  expect(pod.enableServiceLinks).toBe(false);
  const mounts = Object.fromEntries((c['volumeMounts'] as Obj[]).map((m) => [m['mountPath'], m]));
  expect(mounts['/etc/connect-watchdog']?.readOnly).toBe(true);
  expect(mounts['/var/lib/connect-watchdog']).toBeDefined();
  expect(mounts['/var/lib/connect-watchdog']?.readOnly).not.toBe(true);
  for (const e of c['env'] as Obj[]) {
    if (String(e['name']).startsWith('CONNECT_WATCHDOG_') || e['name'] === 'CONNECT_URL') expect(KNOWN_ENV, e['name']).toContain(e['name']);
  }
  // Prometheus Operator scrapes the named port.
  const monitors = kind(docs, 'PodMonitor');
  expect(monitors).toHaveLength(1);
  const endpoint = monitors[0]!['spec'].podMetricsEndpoints[0];
  expect(endpoint.port).toBe(portName);
  expect(endpoint.path).toBe('/metrics');
  expect(endpoint.relabelings).toContainEqual({ targetLabel: 'job', replacement: 'connect-watchdog' });
  const labels = workload['spec'].template.metadata.labels;
  for (const [k, v] of Object.entries(monitors[0]!['spec'].selector.matchLabels)) expect(labels[k]).toBe(v);
}

/** The config.json of the ConfigMap projected at /etc/connect-watchdog, and the secret files beside it. */
function projected(workload: Obj, docs: Obj[]): { config: string; secretFiles: string[] } {
  const mount = (watchdogContainer(workload)['volumeMounts'] as Obj[]).find((m) => m['mountPath'] === '/etc/connect-watchdog')!;
  const volume = (workload['spec'].template.spec.volumes as Obj[]).find((v) => v['name'] === mount['name'])!;
  let config = '';
  const secretFiles: string[] = [];
  for (const source of volume['projected'].sources as Obj[]) {
    if (source['configMap']) {
      const cm = kind(docs, 'ConfigMap').find((m) => m['metadata'].name === source['configMap'].name)!;
      const item = (source['configMap'].items as Obj[]).find((i) => i['path'] === 'config.json')!;
      config = cm['data'][item['key']];
    }
    if (source['secret']) {
      const secret = kind(docs, 'Secret').find((s) => s['metadata'].name === source['secret'].name)!;
      for (const item of source['secret'].items as Obj[]) {
        expect(secret['stringData'], item['key']).toHaveProperty([item['key']]);
        secretFiles.push(String(item['path']).replace(/^secrets\//, ''));
      }
    }
  }
  return { config, secretFiles };
}

function referencedSecrets(config: string): string[] {
  return [...config.matchAll(SECRET_PATH)].map((m) => m[1]!);
}

describe.skipIf(PY === undefined)('deploy/kubernetes/standalone.yaml', () => {
  const docs = PY ? yamlDocs('deploy/kubernetes/standalone.yaml') : [];

  it('runs one watchdog at a time, with its state on a volume claim', () => {
    const [deployment] = kind(docs, 'Deployment');
    expect(deployment!['spec'].replicas).toBe(1);
    expect(deployment!['spec'].strategy.type).toBe('Recreate');
    const c = watchdogContainer(deployment!);
    const stateMount = (c['volumeMounts'] as Obj[]).find((m) => m['mountPath'] === '/var/lib/connect-watchdog')!;
    const volume = (deployment!['spec'].template.spec.volumes as Obj[]).find((v) => v['name'] === stateMount['name'])!;
    expect(kind(docs, 'PersistentVolumeClaim').map((p) => p['metadata'].name)).toContain(volume['persistentVolumeClaim'].claimName);
  });

  it('is hardened, probed and scraped', () => {
    checkWatchdogContainer(kind(docs, 'Deployment')[0]!, docs);
  });

  it('ships config/example.json, and every secret file it names', () => {
    const deployment = kind(docs, 'Deployment')[0]!;
    const { config, secretFiles } = projected(deployment, docs);
    expect(JSON.parse(config)).toEqual(JSON.parse(read('config/example.json')));
    expect(secretFiles.sort()).toEqual(referencedSecrets(config).sort());
    const env = envOf(watchdogContainer(deployment), kind(docs, 'Secret'), {});
    expect(() => loadExample(config, env)).not.toThrow();
  });
});

describe.skipIf(PY === undefined)('deploy/kubernetes/sidecar.yaml', () => {
  const docs = PY ? yamlDocs('deploy/kubernetes/sidecar.yaml') : [];
  const workload = () => [...kind(docs, 'StatefulSet'), ...kind(docs, 'Deployment')][0]!;

  it('is hardened, probed and scraped', () => {
    checkWatchdogContainer(workload(), docs);
  });

  it('owns exactly the worker beside it: worker id = the advertised host and port of the Connect container', () => {
    const pod = workload()['spec'].template.spec;
    const fieldRefs = { 'status.podIP': '10.42.0.17' };
    const env = envOf(watchdogContainer(workload()), kind(docs, 'Secret'), fieldRefs);
    expect(env['CONNECT_WATCHDOG_OWNERSHIP_MODE']).toBe('worker');
    const connect = (pod.containers as Obj[]).find((c) => c['name'] !== 'connect-watchdog')!;
    const connectEnv = envOf(connect, [], fieldRefs);
    const advertised = `${connectEnv['CONNECT_REST_ADVERTISED_HOST_NAME']}:${connectEnv['CONNECT_REST_ADVERTISED_PORT']}`;
    expect(env['CONNECT_WATCHDOG_OWNERSHIP_WORKER_ID']).toBe('10.42.0.17:8083');
    expect(env['CONNECT_WATCHDOG_OWNERSHIP_WORKER_ID']).toBe(advertised);

    const { config, secretFiles } = projected(workload(), docs);
    expect(secretFiles.sort()).toEqual(referencedSecrets(config).sort());
    const { config: loaded } = loadExample(config, env);
    expect(loaded.ownership).toEqual({ mode: 'worker', workerId: '10.42.0.17:8083' });
    expect(loaded.clusters.map((c) => c.url)).toEqual(['http://127.0.0.1:8083']);
  });

  it('its config is config/example-sidecar.json less what the pod sets by env', () => {
    const { config } = projected(workload(), docs);
    const example = JSON.parse(read('config/example-sidecar.json')) as Obj;
    delete example['ownership'];
    expect(JSON.parse(config)).toEqual(example);
  });
});

describe('Dockerfile and systemd unit', () => {
  it('set only variables the watchdog reads', () => {
    const named = (text: string) => [...text.matchAll(/\b(CONNECT_WATCHDOG_[A-Z0-9_]+|CONNECT_URL)=/g)].map((m) => m[1]!);
    const docker = named(read('Dockerfile'));
    const unit = named(read('systemd/connect-watchdog.service'));
    expect(docker).toEqual(expect.arrayContaining(['CONNECT_WATCHDOG_STATE_FILE', 'CONNECT_WATCHDOG_METRICS_HOST', 'CONNECT_WATCHDOG_CONFIG']));
    expect(unit).toContain('CONNECT_WATCHDOG_STATE_FILE');
    for (const name of [...docker, ...unit]) expect(KNOWN_ENV, name).toContain(name);
  });

  it('the unit does not restart on a bad config and never denies W+X memory to Node', () => {
    const unit = read('systemd/connect-watchdog.service');
    expect(unit).toMatch(/^RestartPreventExitStatus=.*\b78\b/m);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).not.toMatch(/^MemoryDenyWriteExecute=(yes|true|1|on)/m);
    expect(unit).toMatch(/^ExecStart=\S+ \/opt\/connect-watchdog\/dist\/src\/cli\/main\.js run --config \/etc\/connect-watchdog\/config\.json$/m);
  });

  it('the image runs the package bin with its default verb', () => {
    const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string> };
    const docker = read('Dockerfile');
    expect(docker).toContain(`ENTRYPOINT ["node", "/app/${pkg.bin['connect-watchdog']}"]`);
    expect(docker).toMatch(/^CMD \["run"\]$/m);
  });
});
