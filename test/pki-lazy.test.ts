/** @peculiar/x509 (and reflect-metadata) are loaded only when a PKI is generated, never by a plain synth. */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

const loads: string[] = [];
jest.mock('@peculiar/x509', () => { loads.push('@peculiar/x509'); return jest.requireActual('@peculiar/x509'); });
jest.mock('reflect-metadata', () => { loads.push('reflect-metadata'); return jest.requireActual('reflect-metadata'); });

test('a kubeadm-mode synth loads neither; pki.mode generate loads both', async () => {
  const { haSpec, render } = await import('./util');
  const { preparePki } = await import('../lib');
  expect(render(haSpec()).size).toBe(3);
  expect(loads).toEqual([]);
  const dir = mkdtempSync(join(tmpdir(), 'hacp-pki-lazy-'));
  try {
    await preparePki(haSpec({ pki: { mode: 'generate', keyAlgorithm: 'ECDSA-P256' } }), { dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  expect(loads.sort()).toEqual(['@peculiar/x509', 'reflect-metadata']);
});
